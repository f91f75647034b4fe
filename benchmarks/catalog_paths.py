"""Listing and bulk paths of the catalog, this tree against an earlier commit, in one run.

    .venv/bin/python benchmarks/catalog_paths.py [--against REF] [--n 20000] [--repeat 5]
                                                 [--rounds 2]

Both trees run the same workload in their own process (``PYTHONPATH=<tree>/src``) over
their own copy of one catalog, so the only difference is the code: list every asset page
by page, one asset by id 500 times, the cull queue, the three selections, a bulk cull
action over 2,000 photos, the cluster list, the job list, a filter-only search. The catalog
is filled with plain SQL rows (photos from 20 cameras over a year, 1% picked, bursts of
five, a job per photo), not by the functions measured. Each tree runs in ``--rounds``
processes, old and new alternating which goes first; prints the best of all runs per path
and new/old ratios (below 1.00: the new tree is faster; run-to-run noise is about 5%).

What it does not show: decoding, rendering and ingest (``benchmarks/ingest.py``), or a
catalog on a slow disk; each path runs warm, after one untimed call.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

WORKLOAD = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from kilo.settings import Settings
    from kilo.catalog import open_catalog

    home, repeat, pid = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    settings = Settings(home=home)
    import importlib

    def find(*names):  # the first module:function this tree has (older ones moved some)
        for name in names:
            mod, fn = name.split(":")
            try:
                return getattr(importlib.import_module(mod), fn)
            except (ImportError, AttributeError):
                continue
        return None

    get_asset = find("kilo.assets:get_asset")
    list_assets = find("kilo.assets:list_assets")
    select_assets = find("kilo.assets:select_assets")
    load_queue = find("kilo.cull.review_order:load_queue", "kilo.cull.queue:load_queue")
    apply_bulk = find("kilo.cull.ratings:apply_bulk")
    list_clusters = find(
        "kilo.group.clusters:list_clusters",
        "kilo.cluster.store:list_clusters",
        "kilo.clusters:list_clusters",
    )
    list_jobs = find("kilo.jobs:list_jobs")
    search = find("kilo.search.engine:search", "kilo.search:search")
    from kilo.models import BulkCullActionRequest

    def all_pages(fn, *a, **kw):
        cursor, n = None, 0
        while True:
            page = fn(*a, cursor=cursor, limit=200, **kw)
            n += len(page.items)
            cursor = page.page_info.next_cursor
            if not cursor:
                return n

    with open_catalog(settings) as cat:
        ids = [r[0] for r in cat.fetchall("SELECT id FROM assets ORDER BY id")]
        flip = [False]

        def bulk():
            flip[0] = not flip[0]
            req = BulkCullActionRequest.model_validate({"actions": [
                {"assetId": a, "picked": flip[0]} for a in ids[:2000]]})
            apply_bulk(cat, pid, req)

        paths = {
            "list_assets, every page of 200": lambda: all_pages(list_assets, cat, pid),
            "get_asset x 500": lambda: [get_asset(cat, a) for a in ids[:500]],
            "load_queue (cull order)": lambda: load_queue(cat, pid),
            "select_assets picked": lambda: select_assets(cat, pid, "picked"),
            "select_assets cluster_winners": lambda: select_assets(cat, pid, "cluster_winners"),
            "select_assets all": lambda: select_assets(cat, pid, "all"),
            "apply_bulk, 2000 picks": bulk,
            "list_clusters, every page": lambda: all_pages(list_clusters, cat, pid),
            "list_jobs, every page": lambda: all_pages(list_jobs, cat, pid),
            "search, filters only": lambda: search(cat, pid, "camera:Model-3"),
        }
        needs = {"list_assets, every page of 200": list_assets, "get_asset x 500": get_asset,
                 "load_queue (cull order)": load_queue, "apply_bulk, 2000 picks": apply_bulk,
                 "list_clusters, every page": list_clusters, "list_jobs, every page": list_jobs,
                 "search, filters only": search}
        out = {}
        for name, fn in paths.items():
            if needs.get(name, select_assets) is None:
                continue  # this tree has no such function
            fn()
            best = float("inf")
            for _ in range(repeat):
                t = time.perf_counter()
                fn()
                best = min(best, time.perf_counter() - t)
            out[name] = best
    print(json.dumps(out))
    """
)


def fill(home: Path, src: Path, n: int) -> str:
    """A catalog of ``n`` photos made with plain SQL by the tree at ``src``; the project id."""
    code = textwrap.dedent(
        f"""
        import uuid, random, datetime
        from pathlib import Path
        from kilo.settings import Settings
        from kilo.catalog import open_catalog
        from kilo.projects import create_project
        rng = random.Random(7)
        with open_catalog(Settings(home=Path({str(home)!r}))) as cat:
            pid = create_project(cat, "bench").id
            user = cat.local_user_id
            t0 = datetime.datetime(2025, 1, 1)
            now = datetime.datetime(2026, 1, 1)
            ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range({n})]
            when = sorted(t0 + datetime.timedelta(seconds=rng.randrange(365 * 86400))
                          for _ in ids)
            cat.insert_many("assets", [("id", "VARCHAR"), ("project_id", "VARCHAR"),
                ("filename", "VARCHAR"), ("source_uri", "VARCHAR"), ("ingested_at", "TIMESTAMP"),
                ("captured_at", "TIMESTAMP"), ("camera_model", "VARCHAR"), ("width_px", "INTEGER"),
                ("height_px", "INTEGER"), ("state", "VARCHAR"), ("updated_at", "TIMESTAMP")],
                [[a, pid, f"IMG_{{i:05d}}.jpg", f"file:///shoot/IMG_{{i:05d}}.jpg", now, when[i],
                  f"Model-{{i % 20}}", 6000, 4000, "ready", now] for i, a in enumerate(ids)])
            cat.insert_many("ratings", [("asset_id", "VARCHAR"), ("user_id", "VARCHAR"),
                ("picked", "BOOLEAN"), ("updated_at", "TIMESTAMP")],
                [[a, user, True, now] for a in ids[::100]])
            clusters, members = [], []
            for b in range(0, len(ids) - 5, 10):
                cid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                clusters.append([cid, pid, "burst", ids[b], "auto", when[b], when[b + 4], now, now])
                members += [[cid, ids[b + k], k + 1, "winner" if k == 0 else "alt"]
                            for k in range(5)]
            cat.insert_many("clusters", [("id", "VARCHAR"), ("project_id", "VARCHAR"),
                ("kind", "VARCHAR"), ("winner_asset_id", "VARCHAR"), ("winner_source", "VARCHAR"),
                ("start_time", "TIMESTAMP"), ("end_time", "TIMESTAMP"),
                ("created_at", "TIMESTAMP"), ("updated_at", "TIMESTAMP")], clusters)
            cat.insert_many("cluster_members", [("cluster_id", "VARCHAR"),
                ("asset_id", "VARCHAR"), ("rank", "INTEGER"), ("role", "VARCHAR")], members)
            cat.insert_many("jobs", [("id", "VARCHAR"), ("project_id", "VARCHAR"),
                ("asset_id", "VARCHAR"), ("type", "VARCHAR"), ("status", "VARCHAR"),
                ("created_at", "TIMESTAMP"), ("updated_at", "TIMESTAMP")],
                [[str(uuid.UUID(int=rng.getrandbits(128), version=4)), pid, a, "analyze",
                  "done", now, now] for a in ids])
            print(pid)
        """
    )
    return run_python(src, code).strip()


def run_python(src: Path, code: str, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(src / "src"), "KILO_LOG": "error"}
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode:
        sys.exit(f"workload failed in {src}:\n{done.stderr}")
    return done.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--against", default="HEAD", help="the commit to compare with (old)")
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2, help="processes per tree, alternating")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="kilo-bench-") as tmp:
        base = Path(tmp)
        old = base / "old"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old), args.against],
            check=True,
            capture_output=True,
        )
        try:
            seed_home = base / "seed"
            pid = fill(seed_home, old, args.n)
            results: dict[str, dict[str, float]] = {"old": {}, "new": {}}
            order = [("old", old), ("new", ROOT)]
            for n in range(args.rounds):  # alternate, so neither tree always runs first
                for label, tree in order if n % 2 == 0 else order[::-1]:
                    home = base / f"home-{label}-{uuid.uuid4().hex[:6]}"
                    shutil.copytree(seed_home, home)
                    out = run_python(tree, WORKLOAD, str(home), str(args.repeat), pid)
                    for name, secs in json.loads(out.strip().splitlines()[-1]).items():
                        results[label][name] = min(secs, results[label].get(name, secs))
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)],
                check=False,
                capture_output=True,
            )
    runs = args.repeat * args.rounds
    print(f"{args.n} photos; old = {args.against}, new = this tree; best of {runs} runs")
    print(f"{'path':<34} {'old ms':>9} {'new ms':>9} {'new/old':>8}")
    for name, new_s in results["new"].items():
        old_s = results["old"].get(name)
        if old_s is None:
            print(f"{name:<34} {'n/a':>9} {new_s * 1000:9.1f} {'':>8}")
            continue
        print(f"{name:<34} {old_s * 1000:9.1f} {new_s * 1000:9.1f} {new_s / old_s:8.2f}")


if __name__ == "__main__":
    main()
