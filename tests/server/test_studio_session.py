"""The browser studio's sign-in, attacked as real requests to a live server: ``kilo open``'s
one-time link used by 10 requests at once (one session), used again, pointed elsewhere
(``next``); the session cookie without the studio's header on unsafe methods (a cross-site
form post), logout; and the local-folder ingest, which only the photographer at this
machine may start (not an e-mail user, not a forwarded request, not a missing path)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from kilo_server.auth import mint_open_token
from kilo_server.routes.studio import safe_next
from support.api import EXAMPLES, LiveServer, Mailbox, login


def _open_url(live: LiveServer, next_path: str = "/projects/x/cull") -> str:
    token = mint_open_token(live.catalog, live.catalog.local_user_id)
    return f"{live.url}/x-kilo/auth/open?token={token}&next={next_path}"


def _signed_in(live: LiveServer) -> httpx.Client:
    """A client holding a studio session of the local user (its cookie jar)."""
    http = httpx.Client(base_url=live.url, timeout=30)
    got = http.get(_open_url(live))
    assert got.status_code == 303, got.text
    return http


def test_ten_parallel_uses_of_one_link_give_exactly_one_session(live_server: LiveServer) -> None:
    url = _open_url(live_server)
    barrier = threading.Barrier(10)
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def use() -> None:
        with httpx.Client(timeout=30) as http:
            barrier.wait()
            got = http.get(url)
        with lock:
            answers.append(got)

    threads = [threading.Thread(target=use) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [303] + [401] * 9
    winner = next(a for a in answers if a.status_code == 303)
    cookie = winner.headers["set-cookie"]
    assert "kilo_studio=" in cookie and "HttpOnly" in cookie and "Path=/" in cookie
    assert "samesite=strict" in cookie.lower()
    assert winner.headers["location"] == "/projects/x/cull"
    for loser in answers:
        if loser.status_code == 401:
            assert loser.json()["code"] == "unauthorized" and "set-cookie" not in loser.headers
    count = live_server.catalog.scalar("SELECT count(*) FROM studio_sessions")
    assert count == 1


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/projects/abc/cull", "/projects/abc/cull"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("/a\r\nSet-Cookie: x=1", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_next_is_only_a_path_of_this_site(given: str | None, expected: str) -> None:
    assert safe_next(given) == expected


def test_the_cookie_signs_in_and_unsafe_methods_need_the_studio_header(
    live_server: LiveServer,
) -> None:
    http = _signed_in(live_server)
    me = http.get("/x-kilo/me")
    assert me.status_code == 200, me.text
    assert me.json()["studioSession"] is True and me.json()["local"] is True
    assert me.json()["user"]["id"] == live_server.catalog.local_user_id
    assert http.get(_open_url(live_server).replace(live_server.url, "")).status_code == 303
    # a link used once is spent
    url = _open_url(live_server)
    assert http.get(url).status_code == 303
    again = httpx.get(url)
    assert again.status_code == 401 and again.json()["code"] == "unauthorized"
    # a cross-site form post rides the cookie but cannot send the header: refused
    form = http.post(
        "/projects",
        data={"title": "forged"},
        headers={
            "Origin": "http://evil.example",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert form.status_code == 403 and form.json()["code"] == "forbidden"
    plain = http.post("/projects", json={"title": "forged too"})
    assert plain.status_code == 403
    made = http.post("/projects", json={"title": "Studio"}, headers={"X-Kilo-Studio": "1"})
    assert made.status_code == 201, made.text
    titles = [p["title"] for p in http.get("/projects").json()["items"]]
    assert titles == ["Studio"]


def test_logout_ends_the_session_and_clears_the_cookie(live_server: LiveServer) -> None:
    http = _signed_in(live_server)
    refused = http.post("/x-kilo/auth/logout")
    assert refused.status_code == 403
    out = http.post("/x-kilo/auth/logout", headers={"X-Kilo-Studio": "1"})
    assert out.status_code == 200, out.text
    assert "kilo_studio=" in out.headers["set-cookie"] and "Max-Age=0" in out.headers["set-cookie"]
    assert http.get("/x-kilo/me").status_code == 401


def _project(http: httpx.Client, headers: dict[str, str]) -> str:
    got = http.post("/projects", json={"title": "Card"}, headers=headers)
    assert got.status_code == 201, got.text
    return str(got.json()["id"])


def test_only_the_local_photographer_ingests_a_local_folder(
    live_server: LiveServer, mailbox: tuple[Mailbox, int], tmp_path: Path
) -> None:
    studio = {"X-Kilo-Studio": "1"}
    http = _signed_in(live_server)
    pid = _project(http, studio)
    card = tmp_path / "DCIM"
    card.mkdir()
    for name in ("cv_leuvenA.jpg", "cv_leuvenB.jpg"):
        (card / name).write_bytes((EXAMPLES / name).read_bytes())
    path = f"/x-kilo/projects/{pid}/ingest-local"

    # an e-mail user, even with their own project: 403
    with httpx.Client(base_url=live_server.url, timeout=30) as other:
        client: Any = other
        client.headers.update(_email_login(other, mailbox[0]))
        theirs = _project(other, {})
        got = other.post(f"/x-kilo/projects/{theirs}/ingest-local", json={"path": str(card)})
        assert got.status_code == 403 and got.json()["code"] == "forbidden"
    # the local session through a proxy (or claiming another address): 403
    forged = http.post(
        path, json={"path": str(card)}, headers={**studio, "X-Forwarded-For": "127.0.0.1"}
    )
    assert forged.status_code == 403
    # a path that is not there: 400, without repeating it
    missing = http.post(path, json={"path": "/nonexistent/secret-folder-name"}, headers=studio)
    assert missing.status_code == 400 and "secret-folder-name" not in missing.text
    relative = http.post(path, json={"path": "../../etc"}, headers=studio)
    assert relative.status_code == 400

    # the page follows the ingest on /realtime, signed in by the cookie (as EventSource is)
    seen: list[str] = []
    with http.stream("GET", "/realtime", params={"projectId": pid}) as stream:
        assert stream.status_code == 200
        started = http.post(path, json={"path": str(card)}, headers=studio)
        assert started.status_code == 202, started.text
        assert started.json() == {"projectId": pid, "accepted": True}
        for line in stream.iter_lines():
            if line.startswith("event: "):
                seen.append(line.removeprefix("event: "))
            if "job.queued" in seen or "assets.registered" in seen:
                break
    jobs = _wait_for_jobs(http, pid, 2)
    assert {j["type"] for j in jobs} == {"asset.process"}


def _email_login(http: httpx.Client, box: Mailbox) -> dict[str, str]:
    return login(http, box, "someone@example.com")  # type: ignore[arg-type]


def _wait_for_jobs(http: httpx.Client, pid: str, n: int) -> list[dict[str, Any]]:
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        items = http.get(f"/projects/{pid}/jobs").json()["items"]
        if len(items) >= n:
            return list(items)
        time.sleep(0.2)
    raise AssertionError("the local ingest queued no jobs")
