"""Attacks on the server's secrets by real concurrent requests against a live uvicorn: login
codes, refresh tokens, idempotency keys and gallery passwords raced (each is counted and
used once, however many requests arrive together), a gallery's password budget spent from
many client addresses (the right client still gets in), and the rate limiter flooded with
keys (bounded memory, one key's work per hit).

Client addresses are real: each attacker sends from its own loopback address (127.0.0.x as
the source of the TCP connection), which is what the server reads (no proxy is trusted)."""

from __future__ import annotations

import random
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from kilo.clock import new_id, utcnow
from kilo.errors import RateLimited, Unauthorized
from kilo.gallery import create_gallery, update_gallery
from kilo.projects import create_project
from kilo_server.auth import MAX_CODE_ATTEMPTS
from kilo_server.limits import RateLimiter
from support.api import LiveServer, Mailbox

Call = Callable[[httpx.Client], httpx.Response]


def _client(server: LiveServer, address: str = "127.0.0.1") -> httpx.Client:
    """A client whose connections leave from ``address`` (any of 127.0.0.0/8 on Linux)."""
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=server.url, transport=transport, timeout=120)


def _together(server: LiveServer, lanes: list[tuple[str, list[Call]]]) -> list[httpx.Response]:
    """Each lane (an address and its calls, made in turn) on its own thread and connection;
    the lanes start at once (their connections are opened first, so the first requests
    reach the server together). The answers in the order of the calls."""
    barrier = threading.Barrier(len(lanes))

    def run(address: str, calls: list[Call]) -> list[httpx.Response]:
        with _client(server, address) as c:
            c.get("/projects")  # opens the connection: a 401, charged to no budget
            barrier.wait()
            return [call(c) for call in calls]

    with ThreadPoolExecutor(len(lanes)) as pool:
        futures = [pool.submit(run, address, calls) for address, calls in lanes]
        return [r for f in futures for r in f.result()]


def _each(address: str, calls: list[Call]) -> list[tuple[str, list[Call]]]:
    """One lane per call."""
    return [(address, [call]) for call in calls]


def _post(path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Call:
    return lambda c: c.post(path, json=body, headers=headers)


def _challenge(server: LiveServer, box: Mailbox, email: str) -> tuple[str, str]:
    """(challenge id, the code mailed for it)."""
    with _client(server) as c:
        r = c.post("/auth/login", json={"email": email})
        assert r.status_code == 200, r.text
    return str(r.json()["challengeId"]), box.code_for(email)


def _attempts(server: LiveServer, challenge: str) -> tuple[int, bool]:
    row = server.catalog.fetchone(
        "SELECT attempts, consumed_at FROM login_challenges WHERE id = ?", [challenge]
    )
    return int(row[0]), row[1] is not None


# -- login codes ---------------------------------------------------------------------------
TRIALS = 6


@pytest.mark.slow
def test_parallel_guesses_are_each_counted_and_the_code_works_only_among_the_first_five(
    live_server: LiveServer, mailbox: tuple[Mailbox, int]
) -> None:
    box, _ = mailbox
    rng = random.Random(29)
    for trial in range(TRIALS):
        email = f"guess{trial}@example.com"
        challenge, code = _challenge(live_server, box, email)
        wrong = [f"{(int(code) + k) % 10**6:06d}" for k in range(1, 25)]
        codes = [*wrong, code]
        rng.shuffle(codes)
        answers = _together(
            live_server,
            _each(
                "127.0.0.1",
                [_post("/auth/verify", {"challengeId": challenge, "code": c}) for c in codes],
            ),
        )
        status = {c: r.status_code for c, r in zip(codes, answers, strict=True)}
        attempts, consumed = _attempts(live_server, challenge)
        assert all(status[w] == 401 for w in wrong), status
        # every try is counted while the challenge lives, and never past the limit: the
        # right code gets in only as one of the first MAX_CODE_ATTEMPTS tries counted
        if status[code] == 200:
            assert consumed and attempts < MAX_CODE_ATTEMPTS, (trial, attempts)
        else:
            assert status[code] == 401 and not consumed
            assert attempts == MAX_CODE_ATTEMPTS, (trial, attempts)


def test_one_code_sent_twelve_times_at_once_opens_one_session(
    live_server: LiveServer, mailbox: tuple[Mailbox, int]
) -> None:
    box, _ = mailbox
    for trial in range(TRIALS):
        email = f"twelve{trial}@example.com"
        challenge, code = _challenge(live_server, box, email)
        body = {"challengeId": challenge, "code": code}
        answers = _together(live_server, _each("127.0.0.1", [_post("/auth/verify", body)] * 12))
        assert sorted(r.status_code for r in answers) == [200] + [401] * 11, trial
        sessions = live_server.catalog.scalar(
            "SELECT count(*) FROM refresh_tokens r JOIN users u ON u.id = r.user_id "
            "WHERE u.email = ?",
            [email],
        )
        assert sessions == 1 and _attempts(live_server, challenge) == (0, True)


def test_a_refresh_token_presented_ten_times_at_once_rotates_once(
    live_server: LiveServer, mailbox: tuple[Mailbox, int]
) -> None:
    box, _ = mailbox
    for trial in range(TRIALS):
        challenge, code = _challenge(live_server, box, f"refresh{trial}@example.com")
        with _client(live_server) as c:
            r = c.post("/auth/verify", json={"challengeId": challenge, "code": code})
        token = r.json()["refreshToken"]
        answers = _together(
            live_server,
            _each("127.0.0.1", [_post("/x-kilo/auth/refresh", {"refreshToken": token})] * 10),
        )
        assert sorted(r.status_code for r in answers) == [200] + [401] * 9, trial
        # the nine repeats are a reused token: the one new token dies with them
        new = next(r for r in answers if r.status_code == 200).json()["refreshToken"]
        with _client(live_server) as c:
            assert c.post("/x-kilo/auth/refresh", json={"refreshToken": new}).status_code == 401


def test_one_idempotency_key_sent_ten_times_at_once_acts_once(
    live_server: LiveServer, mailbox: tuple[Mailbox, int]
) -> None:
    box, _ = mailbox
    challenge, code = _challenge(live_server, box, "keys@example.com")
    with _client(live_server) as c:
        r = c.post("/auth/verify", json={"challengeId": challenge, "code": code})
        auth = {"Authorization": f"Bearer {r.json()['accessToken']}"}
        pid = c.post("/projects", json={"title": "Keys"}, headers=auth).json()["id"]
    assets = _fake_assets(live_server, pid, 2)
    for trial in range(TRIALS):
        headers = {**auth, "Idempotency-Key": f"gallery-key-{trial}"}
        body = {"title": f"Gallery {trial}", "assetIds": assets}
        answers = _together(
            live_server,
            _each("127.0.0.1", [_post(f"/projects/{pid}/galleries", body, headers)] * 10),
        )
        assert {r.status_code for r in answers} == {201}, [r.text for r in answers]
        assert len({r.json()["id"] for r in answers}) == 1
        made = live_server.catalog.scalar(
            "SELECT count(*) FROM galleries WHERE title = ?", [f"Gallery {trial}"]
        )
        assert made == 1


def _fake_assets(server: LiveServer, pid: str, n: int) -> list[str]:
    now = utcnow()
    ids = [new_id() for _ in range(n)]
    server.catalog.table("assets").insert_all(
        [
            {
                "id": a,
                "project_id": pid,
                "filename": f"{i}.jpg",
                "source_uri": f"/x/{i}.jpg",
                "ingested_at": now,
                "state": "ready",
                "updated_at": now,
            }
            for i, a in enumerate(ids)
        ]
    )
    return ids


# -- gallery passwords -----------------------------------------------------------------------
@pytest.fixture
def protected(live_server: LiveServer) -> Iterator[str]:
    """The link of a gallery whose password is ``rings``."""
    catalog = live_server.catalog
    project = create_project(catalog, "Wedding")
    assets = _fake_assets(live_server, project.id, 2)
    gallery = create_gallery(catalog, project.id, title="Smith", asset_ids=assets, password="rings")
    yield gallery.share_slug


ATTACKERS = [f"127.0.0.{n}" for n in range(2, 14)]  # 12 addresses
CLIENT = "127.0.1.50"


@pytest.mark.slow
def test_wrong_passwords_from_many_addresses_never_lock_the_right_client_out(
    live_server: LiveServer, protected: str
) -> None:
    """12 addresses each spend their whole minute on the link at once (60 requests from 3
    connections each: wrong passwords past their limit, and views); then the client, from
    an address of its own, opens the gallery and gets in with the password."""
    auth, share = f"/share/{protected}/auth", f"/share/{protected}"
    lanes: list[tuple[str, list[Call]]] = []
    for n, address in enumerate(ATTACKERS):
        for lane in range(3):
            guesses = [_post(auth, {"password": f"guess-{n}-{lane}-{k}"}) for k in range(10)]
            views: list[Call] = [lambda c: c.get(share)] * 10
            lanes.append((address, [x for pair in zip(guesses, views, strict=True) for x in pair]))
    answers = _together(live_server, lanes)
    with _client(live_server, CLIENT) as c:
        first = c.get(share)
        assert first.status_code == 200 and first.json()["requiresAuth"] is True, first.text
        r = c.post(auth, json={"password": "rings"})
        assert r.status_code == 200, r.text
        inside = c.get(share, headers={"Authorization": f"Bearer {r.json()['token']}"})
        assert inside.status_code == 200 and inside.json()["requiresAuth"] is False
    posts = [r.status_code for r in answers if r.request.method == "POST"]
    gets = [r.status_code for r in answers if r.request.method == "GET"]
    assert set(posts) == {401, 429} and set(gets) == {200}
    assert posts.count(401) <= 10 * len(ATTACKERS)  # each address tried at most its 10
    with _client(live_server, ATTACKERS[0]) as c:  # the attackers stay refused
        refused = c.post(auth, json={"password": "rings"})
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1


@pytest.mark.slow
def test_once_the_links_wrong_tries_are_spent_each_address_gets_one_try(
    live_server: LiveServer, protected: str
) -> None:
    """Past the link's budget of wrong tries, an address that already failed is refused
    before any argon2 work, even with its tries sent at once; a fresh address is still
    checked (one wrong try each, or the right password)."""
    from kilo_server.routes.share import Limits

    live_server.app.state.share_limits = Limits(wrong_per_link=20)
    auth = f"/share/{protected}/auth"
    spenders = [f"127.0.2.{n}" for n in range(1, 3)]
    first = _together(
        live_server,
        [(a, [_post(auth, {"password": f"x{a}{k}"})]) for a in spenders for k in range(10)],
    )
    assert [r.status_code for r in first] == [401] * 20
    late = [f"127.0.3.{n}" for n in range(1, 7)]
    second = _together(
        live_server, [(a, [_post(auth, {"password": f"y{a}{k}"})]) for a in late for k in range(5)]
    )
    per_address = {
        a: sorted(r.status_code for r in second[i * 5 : i * 5 + 5]) for i, a in enumerate(late)
    }
    assert all(codes == [401, 429, 429, 429, 429] for codes in per_address.values()), per_address
    with _client(live_server, "127.0.3.200") as c:
        assert c.post(auth, json={"password": "rings"}).status_code == 200


def test_a_password_checked_before_it_changed_opens_no_session(live_server: LiveServer) -> None:
    """The photographer changes the password while a visitor's old password is being
    checked: the visitor gets no session (a new password ends every session let in by the
    old one, and one that was on its way too)."""
    import kilo.gallery.visitors as visitors

    catalog = live_server.catalog
    project = create_project(catalog, "Race")
    gallery = create_gallery(
        catalog,
        project.id,
        title="Race",
        password="old",
        asset_ids=_fake_assets(live_server, project.id, 1),
    )
    checked, changed = threading.Event(), threading.Event()
    from kilo.gallery.passwords import check_password as real

    def slow_check(stored: str | None, given: str) -> bool:
        ok = real(stored, given)
        checked.set()
        assert changed.wait(30)
        return ok

    result: list[object] = []

    def visitor() -> None:
        try:
            result.append(visitors.authenticate(catalog, gallery.share_slug, "old"))
        except Unauthorized as exc:
            result.append(exc)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(visitors, "check_password", slow_check)
        thread = threading.Thread(target=visitor)
        thread.start()
        assert checked.wait(30)
        update_gallery(catalog, gallery.id, password="new")
        changed.set()
        thread.join(30)
    assert isinstance(result[0], Unauthorized), result
    sessions = catalog.scalar(
        "SELECT count(*) FROM gallery_sessions WHERE gallery_id = ?", [gallery.id]
    )
    assert sessions == 0


# -- the rate limiter ---------------------------------------------------------------------
class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class _NoScan(OrderedDict[str, Any]):
    """A key store that refuses to be walked: a hit may touch its own key, never all."""

    def _scan(self, *_: object) -> Any:
        raise AssertionError("the limiter walked all its keys")

    __iter__ = keys = values = items = copy = _scan


def test_the_limiter_keeps_at_most_its_cap_and_touches_one_key_per_hit() -> None:
    clock = _Clock()
    limiter = RateLimiter(3, max_keys=10_000, clock=clock)
    limiter._windows = _NoScan()  # the store the limiter keeps its keys in
    refused = 0
    for n in range(300_000):
        limiter.hit(f"198.51.{n}")
        if n % 500 == 0:  # a hot key among the churn keeps its limit
            try:
                limiter.hit("hot")
            except RateLimited:
                refused += 1
        if n % 50_000 == 0:
            clock.now += 0.5
    assert len(limiter) <= 10_000
    assert refused == 600 - 3  # 600 hits of the hot key within a minute: 3 let through
    clock.now += 66  # a minute on: the hot key has its budget again
    limiter.hit("hot")


def test_the_limiter_allows_its_limit_in_any_minute_and_says_when_to_retry() -> None:
    clock = _Clock()
    limiter = RateLimiter(10, clock=clock)
    for _ in range(10):  # at 1000 .. 1009
        limiter.hit("a")
        clock.now += 1
    for _ in range(50):  # refused until the first hits are a minute old
        with pytest.raises(RateLimited) as refused:
            limiter.hit("a")
        assert 1 <= refused.value.details["retryAfter"] <= 66
        assert clock.now + refused.value.details["retryAfter"] >= 1060
        clock.now += 1
    limiter.hit("b")  # other keys were never charged
    clock.now = 1009 + 66
    for _ in range(10):
        limiter.hit("a")


def test_the_limiter_never_lets_a_key_past_its_limit_in_any_sixty_seconds() -> None:
    clock = _Clock()
    limiter = RateLimiter(5, clock=clock)
    rng = random.Random(6)
    let: list[float] = []
    for _ in range(5000):
        clock.now += rng.random() * 3
        try:
            limiter.hit("k")
            let.append(clock.now)
        except RateLimited:
            pass
    for i, t in enumerate(let):
        assert sum(1 for u in let[i:] if u - t < 60.0) <= 5
    assert len(let) > 5000 * 1.5 / 65 * 5 * 0.7  # and not much fewer than allowed


def test_an_attacker_cannot_lock_the_real_user_out_of_login(
    live_server: LiveServer, mailbox: tuple[Mailbox, int]
) -> None:
    """Addresses that spend their whole budget on /auth/login and /auth/verify (the
    victim's address, guessed challenges) leave the real user's own budget whole."""
    box, _ = mailbox
    live_server.app.state.rate_limiter = RateLimiter(5)
    email = "victim@example.com"
    start, guess = (
        _post("/auth/login", {"email": email}),
        _post("/auth/verify", {"challengeId": new_id(), "code": "123456"}),
    )
    lanes = [
        lane for address in ATTACKERS[:6] for lane in _each(address, [start] * 4 + [guess] * 4)
    ]
    codes = [r.status_code for r in _together(live_server, lanes)]
    assert codes.count(429) == 6 * 3 and set(codes) == {200, 401, 429}
    sent = codes.count(200)
    _wait_for_mail(box, email, sent)  # the attackers' codes went to the victim too
    with _client(live_server, CLIENT) as c:
        started = c.post("/auth/login", json={"email": email})
        assert started.status_code == 200
        _wait_for_mail(box, email, sent + 1)
        body = {"challengeId": started.json()["challengeId"], "code": box.code_for(email)}
        assert c.post("/auth/verify", json=body).status_code == 200


def _wait_for_mail(box: Mailbox, email: str, count: int) -> None:
    import time

    deadline = time.monotonic() + 20
    while sum(1 for to, _, _ in box.messages if to == email) < count:
        assert time.monotonic() < deadline, f"{count} mails for {email} never came"
        time.sleep(0.05)
