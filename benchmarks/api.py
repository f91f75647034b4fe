"""HTTP API speed at 10,000 photos: a real ``kilo serve`` process, a loopback load generator
(async httpx) in this one, and the same library calls made in-process as the baseline.

    .venv/bin/python benchmarks/api.py [--n 10000] [--requests 300] [--concurrency 1 8]

Prints p50/p95 of ``GET /projects/{id}/assets`` (a page of 50, walking the pages), of a
bulk cull action on 100 photos, and of SSE delivery (from a cull action's commit, i.e. its
response, to its ``ratings.updated`` event arriving on ``/realtime``), each with the
in-process library call as baseline and the ratio.

The catalog is filled with plain SQL rows (not through the API being measured): each photo
with the three files an ingest gives it. What the figures do not show: TLS, a network, a
cold disk, photos decoded (no pixels are touched), or many projects; one server process is
the catalog's one writer, so concurrent writes queue behind each other (the concurrency
column shows what that costs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

KILO = Path(sys.executable).parent / "kilo"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] * 1000


def start_server(home: Path, port: int) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "KILO_HOME": str(home),
        "KILO_DEV_LOGIN_CODES": "true",
        "KILO_CLIP_ENABLED": "false",
        "KILO_RATE_LIMIT_PER_MIN": "100000",
        # the rows are not real photos: the server must not try to analyse them
        "KILO_AUTO_ANALYZE": "false",
    }
    cmd = [str(KILO), "serve", "--port", str(port)]
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/v1/openapi.json", timeout=1)
            return proc
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"kilo serve did not start: {proc.stderr.read() if proc.stderr else ''}")
            time.sleep(0.2)


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(timeout=30)


def login(proc: subprocess.Popen[str], base: str) -> dict[str, str]:
    challenge = httpx.post(f"{base}/auth/login", json={"email": "bench@example.com"}).json()
    assert proc.stderr is not None
    while True:
        line = proc.stderr.readline()
        found = re.search(r"dev login code for bench@example.com: (\d{6})", line)
        if found:
            break
    body = {"challengeId": challenge["challengeId"], "code": found.group(1)}
    token = httpx.post(f"{base}/auth/verify", json=body).json()["accessToken"]
    return {"Authorization": f"Bearer {token}"}


def fill(home: Path, project_id: str, n: int) -> list[str]:
    from kilo.catalog import open_catalog
    from kilo.catalog.assets_repo import refresh_previews
    from kilo.clock import utcnow
    from kilo.settings import Settings

    with open_catalog(Settings(home=home, clip_enabled=False)) as cat:
        now = utcnow()
        ids = [str(uuid.UUID(int=i + 1, version=4)) for i in range(n)]
        cat.insert_many(
            "assets",
            [
                ("id", "VARCHAR"),
                ("project_id", "VARCHAR"),
                ("filename", "VARCHAR"),
                ("source_uri", "VARCHAR"),
                ("ingested_at", "TIMESTAMP"),
                ("width_px", "INTEGER"),
                ("height_px", "INTEGER"),
                ("state", "VARCHAR"),
                ("updated_at", "TIMESTAMP"),
            ],
            [
                [
                    a,
                    project_id,
                    f"IMG_{i:05d}.jpg",
                    f"/card/IMG_{i:05d}.jpg",
                    now,
                    6000,
                    4000,
                    "ready",
                    now,
                ]
                for i, a in enumerate(ids)
            ],
        )
        # the three files each ingested photo has, and its preview pointer
        cat.execute(
            "INSERT INTO asset_files (id, asset_id, kind, uri, content_type, created_at) "
            "SELECT uuid(), a.id, k.kind, '/library/' || a.id || '/' || k.kind || '.jpg', "
            "'image/jpeg', now() FROM assets a, (VALUES ('original'), ('thumbnail'), "
            "('preview')) k(kind)"
        )
        refresh_previews(cat, ids)
    return ids


def baseline(home: Path, project_id: str, ids: list[str], requests: int) -> dict[str, list[float]]:
    """The same work in-process: the library functions the routes call."""
    from kilo.assets import list_assets
    from kilo.catalog import open_catalog
    from kilo.cull.ratings import apply_bulk
    from kilo.models import BulkCullActionRequest
    from kilo.settings import Settings

    out: dict[str, list[float]] = {"assets": [], "cull": []}
    with open_catalog(Settings(home=home, clip_enabled=False)) as cat:
        owner = str(cat.scalar("SELECT owner_user_id FROM projects WHERE id = ?", [project_id]))
        # culls first: the listings then join decisions, as they do over HTTP below
        for i in range(requests):
            chunk = ids[(i * 100) % len(ids) :][:100]
            req = BulkCullActionRequest.model_validate(
                {"actions": [{"assetId": a, "picked": i % 2 == 0} for a in chunk]}
            )
            t = time.perf_counter()
            apply_bulk(cat, project_id, req, user_id=owner)
            out["cull"].append(time.perf_counter() - t)
        cursor = None
        for _ in range(requests):
            t = time.perf_counter()
            page = list_assets(cat, project_id, cursor=cursor, limit=50, user_id=owner)
            out["assets"].append(time.perf_counter() - t)
            cursor = page.page_info.next_cursor
    return out


async def over_http(
    base: str, auth: dict[str, str], pid: str, ids: list[str], requests: int, concurrency: int
) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"assets": [], "cull": []}
    async with httpx.AsyncClient(base_url=base, headers=auth, timeout=60) as http:

        async def pages(worker: int) -> None:
            cursor = None
            for _ in range(requests // concurrency):
                params = {"limit": 50, **({"cursor": cursor} if cursor else {})}
                t = time.perf_counter()
                r = await http.get(f"/projects/{pid}/assets", params=params)
                out["assets"].append(time.perf_counter() - t)
                cursor = r.json()["pageInfo"]["nextCursor"]

        async def culls(worker: int) -> None:
            for i in range(requests // concurrency):
                chunk = ids[((worker * 1000 + i) * 100) % len(ids) :][:100]
                body = {"actions": [{"assetId": a, "picked": i % 2 == 0} for a in chunk]}
                t = time.perf_counter()
                r = await http.post(f"/projects/{pid}/cull:applyAction", json=body)
                out["cull"].append(time.perf_counter() - t)
                assert r.status_code == 200, r.text

        await asyncio.gather(*(pages(w) for w in range(concurrency)))
        await asyncio.gather(*(culls(w) for w in range(concurrency)))
    return out


async def sse_latency(
    base: str, auth: dict[str, str], pid: str, ids: list[str], samples: int
) -> list[float]:
    lat: list[float] = []
    async with (
        httpx.AsyncClient(base_url=base, headers=auth, timeout=60) as http,
        http.stream("GET", "/realtime", params={"projectId": pid}) as stream,
    ):
        lines = stream.aiter_lines()
        await asyncio.sleep(0.5)
        for i in range(samples):
            body = {"actions": [{"assetId": ids[i], "starred": True}]}
            r = await http.post(f"/projects/{pid}/cull:applyAction", json=body)
            committed = time.perf_counter()
            assert r.status_code == 200
            async for line in lines:
                if line.startswith("data:") and ids[i] in line and "assetIds" in line:
                    lat.append(time.perf_counter() - committed)
                    break
    return lat


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="kilo-api-bench-") as tmp:
        home, port = Path(tmp) / "home", 18080 + os.getpid() % 1000
        base = f"http://127.0.0.1:{port}/v1"
        proc = start_server(home, port)
        auth = login(proc, base)
        pid = httpx.post(f"{base}/projects", json={"title": "Bench"}, headers=auth).json()["id"]
        stop(proc)
        ids = fill(home, pid, args.n)
        base_times = baseline(home, pid, ids, args.requests)
        proc = start_server(home, port)
        try:
            results = {
                c: asyncio.run(over_http(base, auth, pid, ids, args.requests, c))
                for c in args.concurrency
            }
            sse = asyncio.run(sse_latency(base, auth, pid, ids, 100))
        finally:
            stop(proc)
    print(f"{args.n} photos, {args.requests} requests per figure, loopback, one server process")
    print(f"{'operation':<40} {'p50 ms':>8} {'p95 ms':>8} {'in-process p50':>15} {'ratio':>6}")
    for key, label in (("assets", "GET assets (page of 50)"), ("cull", "bulk cull, 100 photos")):
        b50 = pct(base_times[key], 50)
        for c, res in results.items():
            p50, p95 = pct(res[key], 50), pct(res[key], 95)
            name = f"{label}, {c} client{'s' if c > 1 else ''}"
            print(f"{name:<40} {p50:8.1f} {p95:8.1f} {b50:15.1f} {p50 / b50:6.2f}")
    print(
        f"{'SSE delivery after commit':<40} {pct(sse, 50):8.1f} {pct(sse, 95):8.1f}"
        f" {'':>15} {'':>6}"
    )
    print(json.dumps({"sse_samples": len(sse), "sse_mean_ms": statistics.mean(sse) * 1000}))


if __name__ == "__main__":
    main()
