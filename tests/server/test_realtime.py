"""/realtime over a real server: events as the design document writes them, replay after a
reconnect, a slow client that cannot hold the others back, nothing of another's project."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx

from support.api import LiveServer, Mailbox


def _login(server: LiveServer, box: Mailbox, email: str) -> dict[str, str]:
    with httpx.Client(base_url=server.url) as c:
        challenge = c.post("/auth/login", json={"email": email}).json()["challengeId"]
        body = {"challengeId": challenge, "code": box.code_for(email)}
        token = c.post("/auth/verify", json=body).json()["accessToken"]
    return {"Authorization": f"Bearer {token}"}


def _project(server: LiveServer, auth: dict[str, str]) -> str:
    r = httpx.post(f"{server.url}/projects", json={"title": "Live"}, headers=auth)
    return str(r.json()["id"])


def _events(response: httpx.Response) -> Iterator[dict[str, Any]]:
    """Parse an SSE stream into {event, id, data} dicts (comments skipped)."""
    current: dict[str, Any] = {}
    for line in response.iter_lines():
        if not line:
            if "event" in current:
                yield current
            current = {}
        elif not line.startswith(":"):
            key, _, value = line.partition(":")
            current[key] = value.strip()


def _progress(server: LiveServer, pid: str, n: int) -> None:
    server.catalog.emit_event(
        "job.progress",
        project_id=pid,
        job_id=None,
        data={
            "jobId": "j",
            "progress": n / 10,
            "status": "running",
            "type": "asset.process",
            "n": n,
        },
    )


def test_events_replay_and_isolation(live_server: LiveServer, mailbox: tuple[Mailbox, int]) -> None:
    box, _ = mailbox
    a = _login(live_server, box, "a@example.com")
    b = _login(live_server, box, "b@example.com")
    pid = _project(live_server, a)
    url = f"{live_server.url}/realtime"
    assert httpx.get(url, params={"projectId": pid}).status_code == 401
    got: list[dict[str, Any]] = []
    with httpx.stream("GET", url, params={"projectId": pid}, headers=a, timeout=10) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        threading.Timer(0.3, lambda: [_progress(live_server, pid, n) for n in (1, 2)]).start()
        for event in _events(r):
            if event["event"] == "job.progress":
                got.append(event)
            if len(got) == 2:
                break
    first, second = got
    assert json.loads(first["data"])["n"] == 1 and int(second["id"]) > int(first["id"])
    assert {"jobId", "progress", "status", "type"} <= set(json.loads(first["data"]))
    # reconnect after the first: the second is replayed (header or query)
    for how in (
        {"headers": {**a, "Last-Event-ID": first["id"]}},
        {"headers": a, "params": {"lastEventId": first["id"]}},
    ):
        params = {"projectId": pid, **how.get("params", {})}  # type: ignore[dict-item]
        with httpx.stream("GET", url, params=params, headers=how["headers"], timeout=10) as r:
            replayed = next(e for e in _events(r) if e["event"] == "job.progress")
        assert replayed["id"] == second["id"]
    # B follows A's project: the stream opens, and nothing of A's arrives
    seen: list[dict[str, Any]] = []

    def follow() -> None:
        try:
            with httpx.stream(
                "GET", url, params={"projectId": pid, "lastEventId": "0"}, headers=b, timeout=3
            ) as r:
                for event in _events(r):
                    seen.append(event)
        except httpx.ReadTimeout:
            pass

    t = threading.Thread(target=follow)
    t.start()
    time.sleep(0.3)
    _progress(live_server, pid, 3)
    t.join()
    assert seen == []


def test_a_slow_client_does_not_hold_back_the_others(
    live_server: LiveServer, mailbox: tuple[Mailbox, int]
) -> None:
    box, _ = mailbox
    a = _login(live_server, box, "a@example.com")
    pid = _project(live_server, a)
    url = f"{live_server.url}/realtime"
    with httpx.stream("GET", url, params={"projectId": pid}, headers=a, timeout=10) as stalled:
        assert stalled.status_code == 200  # opened, then never read
        time.sleep(0.3)
        last: dict[str, Any] = {}
        with httpx.stream("GET", url, params={"projectId": pid}, headers=a, timeout=10) as r:
            threading.Timer(
                0.3, lambda: [_progress(live_server, pid, n) for n in range(400)]
            ).start()
            started = time.monotonic()
            for event in _events(r):
                if event["event"] == "job.progress" and json.loads(event["data"])["n"] == 399:
                    last = event
                    break
        assert last and time.monotonic() - started < 10
