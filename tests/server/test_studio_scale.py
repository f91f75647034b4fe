"""The cull view at a wedding's size and before the AI is ready: 3,000 frames (the catalog
built by :func:`support.studio.build_big_project`) come back whole, in review order, each
once, in a bounded number of catalog queries (not one per frame); a project that is not
analysed yet is one filmstrip in capture order; a bulk cull replayed after a dropped
connection is answered from the stored result."""

from __future__ import annotations

import time
from typing import Any

import httpx
from fastapi.testclient import TestClient

from support.api import EXAMPLES, LiveServer, Mailbox, login
from support.studio import build_big_project


def _count_queries(catalog: Any) -> tuple[list[str], Any]:
    seen: list[str] = []
    real = catalog._rows

    def counting(sql: str, *args: Any, **kwargs: Any) -> Any:
        if "FROM events" not in sql:  # the realtime poller's, on its own thread
            seen.append(sql)
        return real(sql, *args, **kwargs)

    return seen, counting


def test_a_3000_frame_view_is_whole_in_order_and_a_few_queries(
    client: TestClient, mailbox: tuple[Mailbox, int], monkeypatch: Any
) -> None:
    a = login(client, mailbox[0], "a@example.com")
    pid = client.post("/projects", json={"title": "Wedding"}, headers=a).json()["id"]
    catalog = client.app.state.catalog  # type: ignore[attr-defined]
    user = client.get("/x-kilo/me", headers=a).json()["user"]["id"]
    ids = build_big_project(catalog, pid, user, n=3000)

    seen, counting = _count_queries(catalog)
    monkeypatch.setattr(catalog, "_rows", counting)
    started = time.perf_counter()
    got = client.get(f"/x-kilo/projects/{pid}/cull", headers=a)
    elapsed = time.perf_counter() - started
    assert got.status_code == 200, got.text
    view = got.json()
    print(f"cull view of 3,000 frames: {elapsed * 1000:.0f} ms, {len(got.content) / 1e6:.2f} MB")
    # not one per frame: a fixed few (the order's zone and shoot offset are two of them,
    # read once and written into the order's SQL)
    assert len(seen) <= 10, seen
    frames = [m["assetId"] for s in view["stacks"] for m in s["members"]]
    assert sorted(frames) == sorted(ids) and len(frames) == 3000
    bursts = [s for s in view["stacks"] if s["kind"] == "burst"]
    assert len(bursts) == 300 and all(len(s["memberIds"]) == 5 for s in bursts)
    assert bursts[0]["reasons"] == ["Sharpest", "Eyes open", "Best framed"]
    portrait = next(m for s in bursts for m in s["members"] if m["fileName"] == "IMG_00000.CR3")
    assert (portrait["displayWidth"], portrait["displayHeight"]) == (4000, 6000)
    assert (portrait["width"], portrait["height"]) == (6000, 4000)


def test_before_analysis_the_view_is_one_filmstrip_in_capture_order(
    client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    from kilo.ingest import ingest

    a = login(client, mailbox[0], "a@example.com")
    pid = client.post("/projects", json={"title": "Fresh"}, headers=a).json()["id"]
    catalog = client.app.state.catalog  # type: ignore[attr-defined]
    names = ["cv_leuvenA.jpg", "cv_leuvenB.jpg", "cv_aloeL.jpg"]
    ingest(catalog, pid, [EXAMPLES / n for n in names], process=False)
    waiting = client.get(f"/x-kilo/projects/{pid}/cull", headers=a).json()
    assert waiting["aiReady"] is False and [s["kind"] for s in waiting["stacks"]] == ["filmstrip"]
    assert {m["state"] for m in waiting["stacks"][0]["members"]} == {"processing"}

    from kilo.ingest import process_project

    process_project(catalog, pid)  # previews, then signals (and, with frames enough, stacks)
    catalog.execute(
        "DELETE FROM cluster_members WHERE cluster_id IN "
        "(SELECT id FROM clusters WHERE project_id = ?)",
        [pid],
    )
    catalog.execute("DELETE FROM clusters WHERE project_id = ?", [pid])
    view = client.get(f"/x-kilo/projects/{pid}/cull", headers=a).json()
    assert view["dataVersion"] != waiting["dataVersion"]  # the photos were processed
    assert view["aiReady"] is False and len(view["stacks"]) == 1
    members = view["stacks"][0]["members"]
    times = [m["capturedAt"] for m in members]
    assert times == sorted(times) and len(members) == 3
    assert all(m["state"] == "ready" and m["sharpness"] is not None for m in members)


def test_a_replayed_bulk_cull_is_answered_from_the_stored_result(
    live_server: LiveServer, mailbox: tuple[Mailbox, int]
) -> None:
    from kilo.ingest import ingest

    http = httpx.Client(base_url=live_server.url, timeout=30)
    http.headers.update(login(http, mailbox[0], "a@example.com"))  # type: ignore[arg-type]
    pid = http.post("/projects", json={"title": "Replay"}, headers={}).json()["id"]
    aid = ingest(live_server.catalog, pid, [EXAMPLES / "cv_leuvenA.jpg"]).asset_ids[0]
    body = {"actions": [{"assetId": aid, "picked": True, "rating": 5}]}
    key = {"Idempotency-Key": "studio-replay-0001"}
    first = http.post(f"/projects/{pid}/cull:applyAction", json=body, headers=key)
    assert first.status_code == 200, first.text
    # the connection dropped before the answer arrived: the client sends the same again
    again = http.post(f"/projects/{pid}/cull:applyAction", json=body, headers=key)
    assert again.status_code == 200 and again.json() == first.json()
    actions = live_server.catalog.scalar(
        "SELECT count(*) FROM cull_actions WHERE project_id = ?", [pid]
    )
    assert actions == 1
    other = http.post(
        f"/projects/{pid}/cull:applyAction",
        json={"actions": [{"assetId": aid, "rejected": True}]},
        headers=key,
    )
    assert other.status_code == 409 and other.json()["code"] == "conflict"
