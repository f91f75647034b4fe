"""Attacks on the upload flow over a real uvicorn (and a real ``kilo serve``): a PUT still in
flight when finalize runs, a client that goes away mid-PUT, a server killed mid-PUT, and the
same file uploaded over HTTP or ingested from disk giving the same assets."""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from support.api import EXAMPLES, LiveServer, Mailbox, _free_port, start_kilo_serve
from support.shared import SHARED_PHOTOS as PHOTOS


def _log_in(c: httpx.Client, box: Mailbox, email: str) -> dict[str, str]:
    challenge = c.post("/auth/login", json={"email": email}).json()
    body = {"challengeId": challenge["challengeId"], "code": box.code_for(email)}
    token = c.post("/auth/verify", json=body).json()["accessToken"]
    return {"Authorization": f"Bearer {token}"}


def _prepare(c: httpx.Client, auth: dict[str, str], pid: str, files: list[tuple[str, int]]) -> Any:
    body = {"files": [{"filename": name, "byteSize": size} for name, size in files]}
    made = c.post(f"/projects/{pid}/assets:prepareUpload", json=body, headers=auth)
    assert made.status_code == 200, made.text
    return made.json()["uploads"]


def _finalize(c: httpx.Client, auth: dict[str, str], pid: str, items: list[Any]) -> httpx.Response:
    return c.post(f"/projects/{pid}/assets:finalizeUpload", json={"assets": items}, headers=auth)


def _staging(home: Path) -> list[Path]:
    folder = home / "uploads-staging"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def _wait_for(what: Callable[[], object], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.02)


def _half_put(base: str, url: str, data: bytes) -> socket.socket:
    """A raw PUT that declares the whole file and sends half of it (the socket stays open)."""
    where = urlsplit(base)
    sock = socket.create_connection((where.hostname, where.port))
    head = (
        f"PUT {where.path}{url} HTTP/1.1\r\nHost: {where.netloc}\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {len(data)}\r\n\r\n"
    )
    sock.sendall(head.encode() + data[: len(data) // 2])
    return sock


def _stored_sums(catalog: Any, aid: str) -> tuple[str, str, str]:
    """(assets.sha256, asset_files.sha256 of the original, SHA-256 of the stored bytes)."""
    from kilo.store import local_path

    row = catalog.fetchone(
        "SELECT a.sha256, f.sha256, f.uri FROM assets a JOIN asset_files f "
        "ON f.asset_id = a.id AND f.kind = 'original' WHERE a.id = ?",
        [aid],
    )
    assert row is not None
    stored = hashlib.sha256(local_path(row[2]).read_bytes()).hexdigest()
    return str(row[0]), str(row[1]), stored


@pytest.fixture
def session(
    live_server: LiveServer, mailbox: tuple[Mailbox, int]
) -> Iterator[tuple[httpx.Client, dict[str, str], str]]:
    with httpx.Client(base_url=live_server.url, timeout=60) as c:
        auth = _log_in(c, mailbox[0], "uploader@example.com")
        pid = c.post("/projects", json={"title": "Uploads"}, headers=auth).json()["id"]
        yield c, auth, pid


def test_a_put_in_flight_when_finalize_runs_cannot_replace_the_verified_original(
    live_server: LiveServer, session: tuple[httpx.Client, dict[str, str], str]
) -> None:
    c, auth, pid = session
    home = live_server.catalog.settings.home
    data = (EXAMPLES / "cv_aloeL.jpg").read_bytes()
    other = data[:-3] + b"xyz"  # the same size, other bytes
    (up,) = _prepare(c, auth, pid, [("aloe.jpg", len(data))])
    url, aid = up["uploadUrl"].removeprefix("/v1"), up["assetId"]
    assert c.put(url, content=data).status_code == 200
    release = threading.Event()

    def slow_body() -> Iterator[bytes]:
        yield other[: len(other) // 2]
        release.wait(60)
        yield other[len(other) // 2 :]

    with ThreadPoolExecutor(1) as pool:
        late = pool.submit(httpx.put, live_server.url + url, content=slow_body(), timeout=60)
        try:
            _wait_for(lambda: _staging(home))  # the late PUT passed its check and is streaming
            sums = [{"assetId": aid, "checksumSha256": hashlib.sha256(data).hexdigest()}]
            done = _finalize(c, auth, pid, sums)
        finally:
            release.set()
        answer = late.result()
    assert done.status_code == 200, done.text
    assert answer.status_code == 409, answer.text
    assert answer.json()["code"] == "conflict" and "finalized" in answer.json()["message"]
    expected = hashlib.sha256(data).hexdigest()
    assert _stored_sums(live_server.catalog, aid) == (expected, expected, expected)
    assert _staging(home) == []


def test_bytes_sent_again_while_finalize_reads_them_are_not_registered_unchecked(
    live_server: LiveServer,
    session: tuple[httpx.Client, dict[str, str], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Finalize reads and hashes the files before its transaction: a PUT that lands in
    between (other bytes, still allowed: the asset is pending) makes finalize refuse, and
    the asset keeps the bytes that were sent last, with their own SHA-256."""
    import kilo_server.uploads

    c, auth, pid = session
    data = (EXAMPLES / "cv_leuvenA.jpg").read_bytes()
    other = data[:-3] + b"xyz"
    (up,) = _prepare(c, auth, pid, [("leuven.jpg", len(data))])
    url, aid = up["uploadUrl"].removeprefix("/v1"), up["assetId"]
    assert c.put(url, content=data).status_code == 200
    identify = kilo_server.uploads._identify
    sent: list[int] = []

    def identify_then_put(found: Any, settings: Any) -> Any:
        checked = identify(found, settings)
        if not sent:  # a real PUT, served while finalize is between reading and registering
            sent.append(httpx.put(live_server.url + url, content=other, timeout=60).status_code)
        return checked

    monkeypatch.setattr(kilo_server.uploads, "_identify", identify_then_put)
    sums = [{"assetId": aid, "checksumSha256": hashlib.sha256(data).hexdigest()}]
    refused = _finalize(c, auth, pid, sums)
    assert sent == [200]
    assert refused.status_code == 409, refused.text
    row = live_server.catalog.table("assets").get(aid, ("state", "sha256"))
    assert row == {"state": "pending_upload", "sha256": hashlib.sha256(other).hexdigest()}
    sums = [{"assetId": aid, "checksumSha256": hashlib.sha256(other).hexdigest()}]
    key = {"Idempotency-Key": "finalize-0001", **auth}
    done = c.post(f"/projects/{pid}/assets:finalizeUpload", json={"assets": sums}, headers=key)
    assert done.status_code == 200, done.text
    again = c.post(f"/projects/{pid}/assets:finalizeUpload", json={"assets": sums}, headers=key)
    assert again.status_code == 200 and again.json() == done.json()  # the first answer
    assert _finalize(c, auth, pid, sums).status_code == 409  # without the key: done already
    expected = hashlib.sha256(other).hexdigest()
    assert _stored_sums(live_server.catalog, aid) == (expected, expected, expected)


def test_a_client_that_goes_away_mid_put_is_one_log_line_and_can_send_again(
    live_server: LiveServer,
    session: tuple[httpx.Client, dict[str, str], str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    c, auth, pid = session
    catalog, home = live_server.catalog, live_server.catalog.settings.home
    caplog.set_level(logging.INFO)
    uvicorn_log = logging.getLogger("uvicorn")  # it does not pass records on to the root
    uvicorn_log.addHandler(caplog.handler)
    try:
        data = (EXAMPLES / "cv_leuvenA.jpg").read_bytes()
        (up,) = _prepare(c, auth, pid, [("leuven.jpg", len(data))])
        url, aid = up["uploadUrl"].removeprefix("/v1"), up["assetId"]
        sock = _half_put(live_server.url, url, data)
        _wait_for(lambda: _staging(home))
        sock.close()  # the client goes away with half the file sent
        _wait_for(
            lambda: (
                not _staging(home)
                and any(r.name.startswith(("kilo", "uvicorn")) for r in caplog.records)
            )
        )
        time.sleep(0.5)  # anything the server logs after its first line lands too
    finally:
        uvicorn_log.removeHandler(caplog.handler)
    served = [r for r in caplog.records if r.name.startswith(("kilo", "uvicorn"))]
    assert [r.levelno for r in served] in ([logging.INFO], [logging.WARNING]), caplog.text
    assert aid in served[0].getMessage() and not served[0].exc_info
    assert "Traceback" not in caplog.text
    row = catalog.table("assets").get(aid, ("state", "sha256"))
    assert row == {"state": "pending_upload", "sha256": None}
    assert c.put(url, content=data).status_code == 200
    sums = [{"assetId": aid, "checksumSha256": hashlib.sha256(data).hexdigest()}]
    assert _finalize(c, auth, pid, sums).status_code == 200
    assert _staging(home) == []


def test_the_staging_sweep_leaves_a_put_in_flight_alone(
    live_server: LiveServer, session: tuple[httpx.Client, dict[str, str], str]
) -> None:
    """A second server on the same library sweeps at its start: a PUT the first one is still
    receiving keeps its file (the sweep takes only files nobody holds)."""
    from kilo_server.uploads import clean_upload_staging

    c, auth, pid = session
    home = live_server.catalog.settings.home
    data = (EXAMPLES / "cv_aloeR.jpg").read_bytes()
    (up,) = _prepare(c, auth, pid, [("aloe.jpg", len(data))])
    url = up["uploadUrl"].removeprefix("/v1")
    release = threading.Event()

    def slow_body() -> Iterator[bytes]:
        yield data[:1000]
        release.wait(60)
        yield data[1000:]

    with ThreadPoolExecutor(1) as pool:
        put = pool.submit(httpx.put, live_server.url + url, content=slow_body(), timeout=60)
        try:
            _wait_for(lambda: _staging(home))
            in_flight = _staging(home)
            assert clean_upload_staging(live_server.catalog.settings) == 0
            assert _staging(home) == in_flight
        finally:
            release.set()
        assert put.result().status_code == 200
    assert _staging(home) == []


def _serve(home: Path, port: int) -> subprocess.Popen[str]:
    proc: subprocess.Popen[str] = start_kilo_serve(home, port)
    return proc


@pytest.mark.slow
def test_a_server_killed_mid_put_leaves_no_staging_file_after_a_restart(home: Path) -> None:
    from kilo.catalog import open_catalog
    from kilo.projects import create_project
    from kilo.settings import Settings
    from kilo_server.tokens import mint_access_token

    settings = Settings(home=home, clip_enabled=False)
    with open_catalog(settings) as cat:
        pid = create_project(cat, "Killed").id
        owner = str(cat.scalar("SELECT owner_user_id FROM projects WHERE id = ?", [pid]))
    auth = {"Authorization": f"Bearer {mint_access_token(settings, owner)}"}
    port = _free_port()
    base = f"http://127.0.0.1:{port}/v1"
    data = (EXAMPLES / "cv_leuvenB.jpg").read_bytes()
    proc = _serve(home, port)
    try:
        with httpx.Client(base_url=base, timeout=60) as c:
            (up,) = _prepare(c, auth, pid, [("leuven.jpg", len(data))])
        url, aid = up["uploadUrl"].removeprefix("/v1"), up["assetId"]
        sock = _half_put(base, url, data)
        _wait_for(lambda: any(p.stat().st_size > 0 for p in _staging(home)))
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # mid-PUT
        proc.wait()
    sock.close()
    assert _staging(home), "the killed server left no partial file (nothing to test)"
    proc = _serve(home, port)
    try:
        with httpx.Client(base_url=base, timeout=60) as c:
            again = c.put(url, content=data)
            assert again.status_code == 200, again.text
            assert _staging(home) == []
            sums = [{"assetId": aid, "checksumSha256": hashlib.sha256(data).hexdigest()}]
            assert _finalize(c, auth, pid, sums).status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert "Traceback" not in err, err


def _assets_by_file(catalog: Any, pid: str) -> dict[str, list[tuple[Any, ...]]]:
    """filename -> [(frame index, sha256, content type, state, kinds of its files)]."""
    rows = catalog.fetchall(
        "SELECT a.filename, a.frame_index, a.sha256, a.content_type, a.state, "
        "list_sort(list(f.kind)) FROM assets a LEFT JOIN asset_files f ON f.asset_id = a.id "
        "WHERE a.project_id = ? GROUP BY ALL ORDER BY a.filename, a.frame_index",
        [pid],
    )
    out: dict[str, list[tuple[Any, ...]]] = {}
    for name, *rest in rows:
        out.setdefault(name, []).append(tuple(rest))
    return out


@pytest.mark.slow
@pytest.mark.shared_photos
@pytest.mark.timeout(900)  # every shared photo, uploaded and ingested
def test_every_test_photo_uploaded_makes_the_assets_ingest_makes(
    live_server: LiveServer, session: tuple[httpx.Client, dict[str, str], str]
) -> None:
    if not PHOTOS.is_dir():
        pytest.skip(f"test photos not found at {PHOTOS} (set KILO_TEST_PHOTOS)")
    from kilo.ingest import ingest
    from kilo.jobs import run_jobs
    from kilo.projects import create_project

    c, auth, pid = session
    catalog = live_server.catalog
    files = sorted(p for p in PHOTOS.rglob("*") if p.is_file())
    uploads = _prepare(c, auth, pid, [(p.name, p.stat().st_size) for p in files])

    def send(pair: tuple[Any, Path]) -> dict[str, str]:
        up, path = pair
        data = path.read_bytes()
        put = httpx.put(
            live_server.url + up["uploadUrl"].removeprefix("/v1"), content=data, timeout=60
        )
        assert put.status_code == 200, put.text
        return {"assetId": up["assetId"], "checksumSha256": hashlib.sha256(data).hexdigest()}

    with ThreadPoolExecutor(4) as pool:
        items = list(pool.map(send, zip(uploads, files, strict=True)))
    done = _finalize(c, auth, pid, items)
    assert done.status_code == 200, done.text
    assert run_jobs(catalog, pid).failed == 0
    other = create_project(catalog, "Ingested").id
    ingest(catalog, other, [PHOTOS])
    uploaded, ingested = _assets_by_file(catalog, pid), _assets_by_file(catalog, other)
    assert len(uploaded["bird_burst.heic"]) == 4  # a 4-frame burst: four assets
    assert [r[0] for r in uploaded["bird_burst.heic"]] == [0, 1, 2, 3]
    assert uploaded == ingested
    assert _staging(catalog.settings.home) == []
