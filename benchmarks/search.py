"""Search speed at library scale: ANN latency and recall, filtered search, build and incremental
add, text encoding, end-to-end in-process ``kilo.search.search``, index memory.

    .venv/bin/python benchmarks/search.py [--n 100000] [--dim 512] [--queries 200]

Synthetic data with structure: vectors drawn around 2,000 cluster centres (real CLIP
embeddings are clustered, uniform random ones are not), plus catalog rows with realistic
metadata (20 camera models, capture times over a year, 1% picked). Prints one line per figure.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def clustered(n: int, dim: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    assign = rng.integers(0, k, size=n)
    x = centres[assign] + rng.normal(scale=0.6 / np.sqrt(dim), size=(n, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32), centres


def rss_bytes() -> int:
    """This process's resident set size (Linux)."""
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values) * 1000, q))


def exact_top(x: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    s = x @ q
    top = np.argpartition(-s, k - 1)[:k]
    return top[np.argsort(-s[top])]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--only-end-to-end", action="store_true")
    ap.add_argument(
        "--profile", action="store_true", help="print where end-to-end search() spends its time"
    )
    ap.add_argument(
        "--skip-end-to-end", action="store_true", help="index figures only (e.g. at --n 1000000)"
    )
    args = ap.parse_args()
    n, dim = args.n, args.dim
    if args.only_end_to_end:
        x, _ = clustered(n, dim, 2000, seed=1)
        ids = [f"{i:08d}-0000-4000-8000-000000000000" for i in range(n)]
        bench_end_to_end(x, ids, np.random.default_rng(2), profile=args.profile)
        return

    from kilo.search.index import VectorIndex

    x, _centres = clustered(n + 1000, dim, 2000, seed=1)
    extra, x = x[n:], x[:n]
    ids = [f"{i:08d}-0000-4000-8000-000000000000" for i in range(n)]
    rng = np.random.default_rng(2)
    queries = x[rng.choice(n, args.queries, replace=False)] + rng.normal(
        scale=0.5 / np.sqrt(dim), size=(args.queries, dim)
    ).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)

    rss_before = rss_bytes()
    t = time.perf_counter()
    idx = VectorIndex("bench", dim)
    idx.add(ids, x)
    build_s = time.perf_counter() - t
    rss_index = rss_bytes() - rss_before
    print(
        f"index build from scratch: {n:,} x {dim}-d in {build_s:.1f} s ({n / build_s:,.0f}/s), "
        f"graph of {idx.graph_dim} dimensions"
    )

    lat, rec = [], []
    for q in queries:
        t = time.perf_counter()
        got, _ = idx.query(q, 10)
        lat.append(time.perf_counter() - t)
        want = {ids[i] for i in exact_top(x, q, 10)}
        rec.append(len(want & set(got)) / 10)
    print(
        f"ANN k=10 unfiltered: p50 {pct(lat, 50):.2f} ms, p95 {pct(lat, 95):.2f} ms, "
        f"recall@10 {np.mean(rec):.3f} (target p95 < 20 ms, recall >= 0.98)"
    )

    # 1% filter: exact scoring of the subset vs filtered ANN
    sub = np.sort(rng.choice(n, n // 100, replace=False))
    allowed = set(sub.tolist())
    lat_e, lat_f, rec_e, rec_f = [], [], [], []
    for q in queries:
        want = {ids[sub[i]] for i in exact_top(x[sub], q, 10)}
        t = time.perf_counter()
        got, _ = idx.exact(q, sub, 10)
        lat_e.append(time.perf_counter() - t)
        rec_e.append(len(want & set(got)) / 10)
        t = time.perf_counter()
        got, _ = idx.query(q, 10, allowed=allowed)
        lat_f.append(time.perf_counter() - t)
        rec_f.append(len(want & set(got)) / 10)
    print(
        f"1% filter ({len(sub)} rows), exact path: p50 {pct(lat_e, 50):.2f} ms, "
        f"p95 {pct(lat_e, 95):.2f} ms, recall@10 {np.mean(rec_e):.3f}"
    )
    print(
        f"1% filter, filtered-ANN path: p50 {pct(lat_f, 50):.2f} ms, "
        f"p95 {pct(lat_f, 95):.2f} ms, recall@10 {np.mean(rec_f):.3f}"
    )
    crossover = None
    for frac in (0.02, 0.05, 0.1, 0.2, 0.5):
        s = np.sort(rng.choice(n, int(n * frac), replace=False))
        al = set(s.tolist())
        te, tf, rf = [], [], []
        for q in queries[:40]:
            t = time.perf_counter()
            idx.exact(q, s, 10)
            te.append(time.perf_counter() - t)
            t = time.perf_counter()
            got, _ = idx.query(q, 10, allowed=al)
            tf.append(time.perf_counter() - t)
            want = {ids[s[i]] for i in exact_top(x[s], q, 10)}
            rf.append(len(want & set(got)) / 10)
        me, mf = pct(te, 50), pct(tf, 50)
        print(
            f"filter {frac:.0%} ({len(s)} rows): exact p50 {me:.2f} ms, filtered-ANN p50 "
            f"{mf:.2f} ms (recall@10 {np.mean(rf):.3f})"
        )
        if crossover is None and mf < me:
            crossover = len(s)
    print(f"measured crossover (filtered ANN faster from): {crossover or 'not reached'} rows")

    mem = idx.memory_bytes()
    print(
        f"index memory at {n:,}: {rss_index / 2**30:.2f} GiB resident (the process's RSS growth "
        f"over the build), {mem / 2**30:.2f} GiB by the index's own count; at 1M by that "
        f"count: {mem / n * 1_000_000 / 2**30:.2f} GiB (target <= 2.5 GiB)"
    )
    t = time.perf_counter()
    idx.add([f"x{i}" for i in range(len(extra))], extra)
    print(f"incremental add of {len(extra)} vectors: {(time.perf_counter() - t) * 1000:.0f} ms")

    if not args.skip_end_to_end:
        bench_text_encode()
        bench_end_to_end(x, ids, rng, profile=args.profile)


def bench_text_encode() -> None:
    import open_clip
    import torch

    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    t = time.perf_counter()
    model = open_clip.create_model("ViT-B-32", pretrained=None).eval()
    tok = open_clip.get_tokenizer("ViT-B-32")
    build = time.perf_counter() - t
    times = []
    with torch.inference_mode():
        for i in range(20):
            t = time.perf_counter()
            model.encode_text(tok([f"the bride laughing at golden hour {i}"]))
            times.append(time.perf_counter() - t)
    print(
        f"text encode ViT-B-32 (random weights, 1 query): p50 {pct(times[2:], 50):.1f} ms, "
        f"p95 {pct(times[2:], 95):.1f} ms (model build {build:.1f} s)"
    )


_SHARES: dict[float, tuple[object, object]] = {}


def _date_share(cat: object, share: float, extra_days: int = 0) -> dict[str, str]:
    """A dateRange from the first capture day holding about ``share`` of the assets (moved
    ``extra_days`` later: a different filter of about the same size)."""
    import datetime

    if share not in _SHARES:
        _SHARES[share] = cat.fetchone(  # type: ignore[attr-defined]
            "SELECT min(CAST(captured_at AS DATE)), "
            "quantile_disc(CAST(captured_at AS DATE), ?) FROM assets",
            [share],
        )
    first, day = _SHARES[share]
    shift = datetime.timedelta(days=extra_days)
    return {"start": str(first + shift), "end": str(day + shift)}  # type: ignore[operator]


def bench_end_to_end(
    x: np.ndarray, ids: list[str], rng: np.random.Generator, *, profile: bool = False
) -> None:
    """``kilo.search.search`` on a real catalog of len(ids) assets, warm, in-process."""
    import copy

    import open_clip
    import torch

    from kilo.catalog import open_catalog
    from kilo.measure.embed import load_embedder
    from kilo.measure.embed.clip import save_checkpoint
    from kilo.measure.embed.vectors import write_vectors
    from kilo.projects import create_project
    from kilo.search import search
    from kilo.settings import load_settings

    n, dim = x.shape
    tmp = Path(tempfile.mkdtemp(prefix="kilo-bench-search-"))
    cfg = {
        "embed_dim": dim,
        "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "patch_size": 16},
        "text_cfg": {
            "context_length": 32,
            "vocab_size": 49408,
            "width": 64,
            "heads": 2,
            "layers": 2,
        },
    }
    torch.manual_seed(0)
    ckpt = save_checkpoint(
        open_clip.CLIP(**copy.deepcopy(cfg)), copy.deepcopy(cfg), tmp / "m.pt", arch="bench-512"
    )
    settings = load_settings(home=tmp / "home", clip_enabled=True, clip_checkpoint=ckpt)
    emb = load_embedder(settings)
    assert emb is not None
    cat = open_catalog(settings)
    pid = create_project(cat, "Bench").id
    t = time.perf_counter()
    with cat.locked() as con:
        con.execute("SELECT 1").fetchall()  # finish any half-read result before register()
        con.register("bench_ids", np.array(ids, dtype=object))
        con.execute(
            "INSERT INTO assets (id, project_id, filename, source_uri, captured_at, "
            "captured_offset_min, ingested_at, camera_make, camera_model, lens_model, keywords, "
            "state, updated_at) SELECT column0, ?, 'IMG_' || row_number() OVER () || '.jpg', "
            "'/photos/' || column0, TIMESTAMP '2024-01-01' + to_seconds(CAST(random() * 3e7 "
            "AS BIGINT)), 60, now(), 'SONY', 'ILCE-' || CAST(floor(random() * 20) AS INT), "
            "'FE 24-70mm F2.8 GM', ['wedding'], 'ready', now() FROM bench_ids",
            [pid],
        )
        con.unregister("bench_ids")
    picked = [ids[i] for i in rng.choice(n, n // 100, replace=False)]
    with cat.locked() as con:
        con.execute(
            "INSERT INTO ratings (asset_id, user_id, picked, rejected, updated_at) "
            "SELECT unnest(?::VARCHAR[]), ?, true, false, now()",
            [picked, cat.local_user_id],
        )
    for start in range(0, n, 20_000):
        write_vectors(cat, emb.model_id, ids[start : start + 20_000], x[start : start + 20_000])
    print(f"catalog rows + vectors written for {n:,} assets in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    search(cat, pid, "warm up", limit=50)  # builds and saves the index
    print(f"first search (index built from the catalog and saved): {time.perf_counter() - t:.1f} s")
    words = ["bride", "cake", "dance", "rings", "veil", "flowers", "car", "church", "sunset"]
    cases: list[tuple[str, dict[str, object] | None]] = [
        ("no filter", None),
        ("1% filter (picked)", {"picked": True}),
        ("10% filter (dates)", {"dateRange": _date_share(cat, 0.10)}),
        ("50% filter (dates)", {"dateRange": _date_share(cat, 0.50)}),
        ("1% filter, new each query", None),
        ("10% filter, new each query", None),
        ("50% filter, new each query", None),
    ]
    print(
        "(the first four: the same filters each time, as when paging or trying other words, "
        "so their matches are kept between searches; 'new each query': a date range of the same "
        "length moved a day later each time, so every search asks DuckDB again; capture times "
        "are spread evenly over a year)"
    )
    for label, filters in cases:
        prof = None
        if profile:
            import cProfile

            prof = cProfile.Profile()
            prof.enable()
        lat = []
        for i in range(105):
            if label.endswith("new each query"):
                share = {"1%": 0.01, "10%": 0.10, "50%": 0.50}[label.split()[0]]
                filters = {"dateRange": _date_share(cat, share, extra_days=i)}
            t = time.perf_counter()
            resp = search(cat, pid, f"{words[i % len(words)]} {i}", filters=filters, limit=50)
            lat.append(time.perf_counter() - t)
        print(
            f"end-to-end search() warm, {label}: p50 {pct(lat[5:], 50):.1f} ms, "
            f"p95 {pct(lat[5:], 95):.1f} ms (mode {resp.mode}, {len(resp.results)} results; "
            "512-d text tower of 2 layers: add the ViT-B-32 text encode above for a real model; "
            "target p95 < 20 ms)"
        )
        if prof is not None:
            import pstats

            prof.disable()
            pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
    cat.close()


if __name__ == "__main__":
    main()
