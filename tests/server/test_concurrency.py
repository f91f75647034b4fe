"""50 clients culling at once over loopback for 20 s (async httpx against a real uvicorn):
no 5xx, no lost write, every action in the undo log exactly once."""

from __future__ import annotations

import asyncio
import random
import time

import httpx
import pytest

from kilo.clock import new_id, utcnow
from support.api import LiveServer, Mailbox

CLIENTS, SECONDS, PER_CLIENT = 50, 20.0, 2


@pytest.mark.slow
def test_fifty_clients_cull_at_once(live_server: LiveServer, mailbox: tuple[Mailbox, int]) -> None:
    box, _ = mailbox
    with httpx.Client(base_url=live_server.url) as c:
        challenge = c.post("/auth/login", json={"email": "busy@example.com"}).json()
        body = {"challengeId": challenge["challengeId"], "code": box.code_for("busy@example.com")}
        auth = {
            "Authorization": f"Bearer {c.post('/auth/verify', json=body).json()['accessToken']}"
        }
        pid = c.post("/projects", json={"title": "Busy"}, headers=auth).json()["id"]
    now = utcnow()
    ids = [new_id() for _ in range(CLIENTS * PER_CLIENT)]
    live_server.catalog.table("assets").insert_all(
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
    statuses: list[int] = []
    last: dict[str, bool] = {}

    async def client(n: int) -> int:
        mine = ids[n * PER_CLIENT : (n + 1) * PER_CLIENT]  # each client its own photos
        rng = random.Random(n)
        sent = 0
        async with httpx.AsyncClient(base_url=live_server.url, headers=auth, timeout=30) as http:
            deadline = time.monotonic() + SECONDS
            while time.monotonic() < deadline:
                value = rng.random() < 0.5
                r = await http.post(
                    f"/projects/{pid}/cull:applyAction",
                    json={"actions": [{"assetId": a, "picked": value} for a in mine]},
                )
                statuses.append(r.status_code)
                if r.status_code == 200:
                    sent += 1
                    for a in mine:
                        last[a] = value
        return sent

    async def everyone() -> list[int]:
        return await asyncio.gather(*(client(n) for n in range(CLIENTS)))

    done = sum(asyncio.run(everyone()))
    assert done > CLIENTS and set(statuses) == {200}, sorted(set(statuses))
    print(f"{done} bulk cull actions by {CLIENTS} clients in {SECONDS:.0f} s")
    cat = live_server.catalog
    rows = cat.table("ratings").rows_where(
        "list_contains(?, asset_id)", [ids], select=("asset_id", "picked")
    )
    stored = {r["asset_id"]: bool(r["picked"]) for r in rows}
    assert {a: stored.get(a, False) for a in last} == last  # no lost write
    logged = cat.scalar("SELECT count(*) FROM cull_actions WHERE project_id = ?", [pid])
    assert logged == done  # every action in the undo log once
