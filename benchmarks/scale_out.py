"""Scale-out: the local pool against Dask, and the ceiling of the one catalog writer.

    .venv/bin/python benchmarks/scale_out.py [--copies 3] [--total 10000] [--s3]

1. Images/s per stage (ingest = read, hash, decode, two renditions; analyze = signals,
   faces, hashes) with the local pool of 2 processes and with Dask (``LocalCluster``, one
   thread per worker) at 1 and 2 workers, the same files for each, alternated: local, dask 1,
   dask 2. The files are ../shared/photos, each COPIES times with different trailing bytes
   (so each copy is a new photo to kilo). With ``--s3`` sources and store are on a moto S3
   server on this machine (its HTTP serving shares the 2 cores).
2. The engine's cost: start-up and shutdown of the pool, RSS per worker after the run.
3. The catalog write ceiling: the writer alone (``apply_batch`` of asset.process plus
   ``complete_jobs``, one transaction per batch, as the job runner writes) on synthetic
   results at batch sizes 1, 10, 100, 1,000 and 10,000: results/s and commits/s; and the
   share of the ingest run the writer was busy (time inside ``_Runner.write``).
4. From 1 and 3: how many workers of this machine's speed the writer keeps up with.

What it does not show: a real cluster's network (here all processes share 2 cores, so Dask
at 2 workers competes with the driver and the scheduler for CPU); object-store latency of a
real S3 (moto on loopback answers in well under a millisecond); a catalog on a slow disk.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
PHOTOS = REPO.parent / "shared" / "photos"
SUFFIXES = {".jpg", ".jpeg", ".heic", ".png", ".tif", ".tiff", ".dng", ".mpo"}


def make_files(dest: Path, copies: int) -> int:
    """COPIES of every shared photo, each with its own trailing bytes (decoders ignore them;
    the sha256 differs, so kilo sees a new photo)."""
    n = 0
    for src in sorted(PHOTOS.iterdir()):
        if src.suffix.lower() not in SUFFIXES:
            continue
        data = src.read_bytes()
        for k in range(copies):
            (dest / f"{src.stem}_{k}{src.suffix}").write_bytes(data + b"\0" * (k + 1))
            n += 1
    return n


class WriteTimer:
    """Time spent in the job runner's batch writes (the one writer), summed."""

    def __init__(self) -> None:
        from kilo.jobs import runner

        self.busy = 0.0
        self.batches = 0
        original: Callable[[Any], None] = runner._Runner.write

        def timed(run: Any) -> None:
            t = time.perf_counter()
            try:
                original(run)
            finally:
                self.busy += time.perf_counter() - t
                self.batches += 1

        runner._Runner.write = timed  # type: ignore[method-assign]


def thread_cpu() -> dict[str, float]:
    """CPU seconds of each thread of this process, by thread name (Linux /proc)."""
    import threading

    names = {t.native_id: t.name for t in threading.enumerate()}
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = names.get(int(task.name), "other")
        if name.startswith(("ThreadPoolExecutor", "Dask-Offload")):
            name = name.split("-")[0] if name.startswith("Thread") else "Dask-Offload"
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


def rss_mb(pids: list[int]) -> list[float]:
    import psutil

    return [round(psutil.Process(p).memory_info().rss / 2**20) for p in pids]


def run_stage(
    label: str,
    executor: str,
    workers: int,
    src: str,
    settings_kw: dict[str, Any],
    timer: WriteTimer,
) -> dict[str, Any]:
    from kilo.analyze import analyze
    from kilo.catalog import open_catalog
    from kilo.executors import open_pool
    from kilo.ingest import ingest
    from kilo.projects import create_project
    from kilo.settings import load_settings

    home = Path(tempfile.mkdtemp(prefix="kilo-scale-"))
    store = settings_kw.pop("store", None) or str(home / "store")
    settings = load_settings(
        home=home,
        store=store,
        workers=workers,
        executor=executor,
        clip_enabled=False,
        **settings_kw,
    )
    t0 = time.perf_counter()
    pool = open_pool(executor, workers)
    start_s = time.perf_counter() - t0
    out: dict[str, Any] = {"label": label, "start_s": start_s}
    try:
        with open_catalog(settings) as cat:
            project = create_project(cat, label)
            timer.busy, timer.batches = 0.0, 0
            t, cpu, threads = time.perf_counter(), time.process_time(), thread_cpu()
            rep = ingest(cat, project.id, [src], pool=pool)
            out["ingest_s"] = time.perf_counter() - t
            out["driver_ms"] = (time.process_time() - cpu) * 1000 / max(1, rep.ready)
            after = thread_cpu()
            per_img = {
                k: (v - threads.get(k, 0.0)) * 1000 / max(1, rep.ready) for k, v in after.items()
            }
            out["threads"] = {k: round(v, 1) for k, v in per_img.items() if v >= 0.05}
            out["writer_share"] = timer.busy / out["ingest_s"]
            out["n"] = rep.ready
            t = time.perf_counter()
            arep = analyze(cat, project.id, pool=pool, embed=False)
            out["analyze_s"] = time.perf_counter() - t
            out["analyzed"] = arep.analyzed
        pids = (
            pool.worker_pids()
            if hasattr(pool, "worker_pids")  # type: ignore[attr-defined]
            else [p.pid for p in getattr(pool, "_processes", {}).values()]
        )
        out["rss_mb"] = rss_mb(pids)
    finally:
        t = time.perf_counter()
        pool.shutdown(wait=True)
        out["stop_s"] = time.perf_counter() - t
        shutil.rmtree(home, ignore_errors=True)
    return out


def write_ceiling(batch: int, total: int) -> tuple[float, float]:
    """Results/s and commits/s of the writer alone: ``total`` synthetic asset.process
    results applied ``batch`` at a time, one transaction each, as the runner does."""
    from kilo.catalog import open_catalog
    from kilo.clock import new_id, utcnow
    from kilo.ingest.handlers import ProcessHandler
    from kilo.ingest.process import FileRow, ProcessResult
    from kilo.jobs import enqueue_many
    from kilo.jobs.queue import claim_jobs, complete_jobs
    from kilo.projects import create_project
    from kilo.settings import load_settings

    home = Path(tempfile.mkdtemp(prefix="kilo-writer-"))
    try:
        with open_catalog(load_settings(home=home, clip_enabled=False)) as cat:
            pid = create_project(cat, "writer").id
            now = utcnow()
            ids = [new_id() for _ in range(total)]
            cols = [
                ("id", "VARCHAR"),
                ("project_id", "VARCHAR"),
                ("filename", "VARCHAR"),
                ("source_uri", "VARCHAR"),
                ("ingested_at", "TIMESTAMP"),
                ("updated_at", "TIMESTAMP"),
                ("state", "VARCHAR"),
            ]
            cat.insert_many(
                "assets",
                cols,
                [[a, pid, f"{a}.jpg", f"/card/{a}.jpg", now, now, "registered"] for a in ids],
            )
            enqueue_many(
                cat, [{"job_type": "asset.process", "project_id": pid, "asset_id": a} for a in ids]
            )
            jobs = claim_jobs(cat, limit=total, project_id=pid)
            handler = ProcessHandler()

            def result(aid: str) -> ProcessResult:
                files = [
                    FileRow(
                        kind,
                        f"/store/{aid}/{kind}.jpg",
                        "image/jpeg",
                        200_000,
                        "0" * 64,
                        2048,
                        1365,
                    )
                    for kind in ("preview", "thumbnail")
                ]
                return ProcessResult(
                    asset_id=aid,
                    source_uri=f"/card/{aid}.jpg",
                    replaces=False,
                    sha256="1" * 64,
                    byte_size=6_000_000,
                    format="JPEG",
                    width=6000,
                    height=4000,
                    metadata={"camera_make": "Canon", "iso": 400},
                    files=files,
                )

            items = [(j, result(str(j.asset_id))) for j in jobs]
            t = time.perf_counter()
            commits = 0
            for i in range(0, len(items), batch):
                part = items[i : i + batch]
                with cat.transaction():
                    handler.apply_batch(cat, part)
                    complete_jobs(cat, [(j, None) for j, _ in part])
                commits += 1
            dt = time.perf_counter() - t
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return len(items) / dt, commits / dt


def s3_sources(folder: Path) -> tuple[Any, dict[str, Any], str]:
    """A moto S3 server with the files uploaded; (server, settings, source URL)."""
    import socket

    import boto3
    from moto.server import ThreadedMotoServer

    os.environ.update(
        AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1"
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
    client.create_bucket(Bucket="bench")
    for p in folder.iterdir():
        client.put_object(Bucket="bench", Key=f"card/{p.name}", Body=p.read_bytes())
    return server, {"s3_endpoint_url": url}, "s3://bench/card"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=3)
    ap.add_argument("--total", type=int, default=10_000, help="results per writer batch size")
    ap.add_argument("--s3", action="store_true", help="sources and store on a moto S3 server")
    args = ap.parse_args()
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    timer = WriteTimer()
    with tempfile.TemporaryDirectory() as tmp:
        n = make_files(Path(tmp), args.copies)
        server, extra, src = s3_sources(Path(tmp)) if args.s3 else (None, {}, tmp)
        print(
            f"{n} files ({args.copies} copies of ../shared/photos), sources "
            f"{'on moto S3' if args.s3 else 'in a local folder'}, {os.cpu_count()} cores"
        )
        configs = [
            ("local pool x2", "local", 2),
            ("dask x1", "dask:local", 1),
            ("dask x2", "dask:local", 2),
        ]
        rows = []
        for label, executor, workers in configs:
            kw = dict(extra)
            if args.s3:
                kw["store"] = f"s3://bench/store-{label.replace(' ', '-')}"
            rows.append(run_stage(label, executor, workers, src, kw, timer))
        if server is not None:
            server.stop()
    base = rows[0]
    print(
        "executor        ingest img/s  analyze img/s  vs local  start s  stop s  "
        "writer busy  driver CPU ms/img  RSS/worker MB"
    )
    for r in rows:
        ing, ana = r["n"] / r["ingest_s"], r["analyzed"] / r["analyze_s"]
        ratio = (r["n"] / r["ingest_s"]) / (base["n"] / base["ingest_s"])
        print(
            f"{r['label']:<15} {ing:12.1f}  {ana:13.1f}  {ratio:7.2f}x  {r['start_s']:7.2f}  "
            f"{r['stop_s']:6.2f}  {r['writer_share']:10.1%}  {r['driver_ms']:16.1f}  "
            f"{r['rss_mb']}"
        )
    for r in rows:
        print(f"  driver CPU ms/img by thread, {r['label']}: {r['threads']}")
    print("catalog writer alone (asset.process results: asset row, 2 file rows, job, events)")
    ceilings = {}
    for batch in (1, 10, 100, 1000, 10_000):
        total = min(args.total, max(batch, 1000 if batch < 100 else args.total))
        per_s, commits = write_ceiling(batch, total)
        ceilings[batch] = per_s
        print(
            f"batch {batch:>6}: {per_s:9.0f} results/s  {commits:8.1f} commits/s ({total} results)"
        )
    per_worker = rows[2]["n"] / rows[2]["ingest_s"] / 2
    ceiling = ceilings[1000]
    driver = 1000 / rows[2]["driver_ms"]
    print(
        f"one worker here ingests {per_worker:.1f} img/s; the writer alone at batch 1,000 "
        f"takes {ceiling:.0f} results/s (the bottleneck at ~{ceiling / per_worker:.0f} "
        f"workers); the whole driver (claims, payloads, writes, the scheduler) "
        f"{driver:.0f} img/s on one core (~{driver / per_worker:.0f} workers)"
    )


if __name__ == "__main__":
    main()
