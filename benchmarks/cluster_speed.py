"""Clustering + ranking speed for 10,000 assets, and signal CPU time per preview.

Synthetic signals, hashes and embeddings (as the issue allows for this part): 10,000 frames in
bursts of 1 to 8 at 0.1-0.5 s, bursts 10-90 s apart, moments every 10-40 min, two bodies, 5 %
undated copies; 512-d unit embeddings around a per-scene centre.

    .venv/bin/python benchmarks/cluster_speed.py [--n 10000]
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import time
from pathlib import Path

import numpy as np

from kilo.group import ClusterItem, cluster_items
from kilo.group.rank import RankInput, rank_members

PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "photos"


def make_items(
    n: int, seed: int = 0
) -> tuple[list[ClusterItem], np.ndarray, list[dict[str, float]]]:
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    items: list[ClusterItem] = []
    sigs: list[dict[str, float]] = []
    vecs = []
    t = 1.7e9
    while len(items) < n:
        scene = rng.getrandbits(64)
        centre = nrng.normal(size=512)
        body = rng.choice(["A|1", "B|2"])
        for _ in range(rng.randint(1, 8)):
            if len(items) >= n:
                break
            ph = scene
            for b in rng.sample(range(64), rng.randint(0, 8)):
                ph ^= 1 << b
            undated = rng.random() < 0.05
            items.append(
                ClusterItem(
                    id=f"a{len(items)}",
                    time=None if undated else t,
                    camera=None if undated else body,
                    phash=ph,
                    dhash=ph ^ rng.getrandbits(4),
                    order=len(items),
                )
            )
            v = centre + nrng.normal(scale=0.3, size=512)
            vecs.append(v / np.linalg.norm(v))
            sigs.append(
                {
                    k: rng.random()
                    for k in ("sharpness", "sharpness_global", "exposure", "noise", "brightness")
                }
            )
            t += rng.uniform(0.1, 0.5)
        t += rng.uniform(10, 90) if rng.random() < 0.8 else rng.uniform(600, 2400)
    return items, np.asarray(vecs, dtype=np.float32), sigs


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def bench(n: int, use_emb: bool) -> None:
    items, emb, sigs = make_items(n)
    t0 = time.perf_counter()
    res = cluster_items(items, emb if use_emb else None)
    t_cluster = time.perf_counter() - t0
    groups = [(g, False) for g in res.bursts] + [(g, True) for g in res.duplicates]
    per: list[float] = []
    t1 = time.perf_counter()
    for g, dup in groups:
        s = time.perf_counter()
        rank_members([RankInput(items[i].id, sigs[i], 1000) for i in g], duplicate_group=dup)
        per.append((time.perf_counter() - s) * 1000)
    t_rank = time.perf_counter() - t1
    label = "with embeddings" if use_emb else "fallback (hashes)"
    print(
        f"{n} assets, {label}: {len(res.moments)} moments, {len(res.bursts)} bursts, "
        f"{len(res.duplicates)} duplicate groups | clustering {t_cluster:.2f} s | ranking "
        f"{t_rank:.3f} s total, {statistics.mean(per):.3f} ms/cluster (max {max(per):.2f} ms)"
        f" | clustering + ranking {t_cluster + t_rank:.2f} s (target < 10 s)"
    )


def signal_cpu() -> None:
    from PIL import Image

    from kilo.measure.hashing import compute_hashes
    from kilo.measure.signals import compute_signals

    names = [
        "Kleiber_by_Lukas_Baubkus.jpg",
        "group_t1.jpg",
        "sony_a6000_night.jpg",
        "Dragonfly_by_Bolly.jpg",
        "people_zidane.jpg",
    ]
    previews = []
    for name in names:
        im = Image.open(PHOTOS / name)
        im.draft("RGB", (2048, 2048))
        im = im.convert("RGB")
        im.thumbnail((2048, 2048))
        previews.append(im)
    compute_signals(previews[0])  # load cascades once
    times = []
    for im in previews:
        c0 = _cpu()
        compute_signals(im)
        compute_hashes(im)
        times.append((_cpu() - c0) * 1000)
    print(
        f"signals + hashes CPU per 2048 px preview: mean {statistics.mean(times):.0f} ms "
        f"(min {min(times):.0f}, max {max(times):.0f}) over {len(times)} real photos"
    )


def catalog_write(n: int) -> None:
    """build_clusters + store_clusters into a real DuckDB catalog, first run and re-run."""
    import tempfile
    from datetime import datetime

    from kilo.catalog import open_catalog
    from kilo.group import store_clusters
    from kilo.group.build import AssetRow, ClusterInput, build_clusters
    from kilo.projects import create_project
    from kilo.settings import load_settings

    items, _, sigs = make_items(n)
    rows = [
        AssetRow(
            id=f"{i:08d}-0000-4000-8000-000000000000",
            captured_at=datetime.fromtimestamp(it.time) if it.time else None,
            camera=it.camera,
            filename=f"f{i}.jpg",
            pixels=24_000_000,
            exposure_bias=None,
            focus_distance=None,
            signals=sigs[i],
            phash=it.phash,
            dhash=it.dhash,
        )
        for i, it in enumerate(items)
    ]
    with tempfile.TemporaryDirectory() as home:
        cat = open_catalog(load_settings(home=home))
        project = create_project(cat, "speed")
        start = time.perf_counter()
        computed = build_clusters(ClusterInput(project_id=project.id, assets=rows))
        built = time.perf_counter()
        store_clusters(cat, project.id, computed)
        stored = time.perf_counter()
        store_clusters(cat, project.id, computed)
        again = time.perf_counter()
        cat.close()
    print(
        f"{n} assets into the catalog: build (cluster + rank) {built - start:.2f} s, "
        f"store {len(computed)} clusters {stored - built:.2f} s, re-store {again - stored:.2f} s "
        f"| total {stored - start:.2f} s (target < 10 s)"
    )


def vector_pair_recall(n: int, copies: int = 2000, sample: int = 2000) -> None:
    """Recall of the vector rule's candidate search (:func:`close_pairs`) against the full
    matrix: the generated embeddings plus ``copies`` edited copies (cosine about 0.97 to
    their original), every pair at cosine >= 0.96 that touches ``sample`` rows (half of them
    copies) found by one matrix product."""
    from kilo.group.algorithms import ClusterParams
    from kilo.group.neighbours import close_pairs

    cos_min = ClusterParams().dup_cos_min
    _, emb, _ = make_items(n)
    rng = np.random.default_rng(1)
    dim = emb.shape[1]
    edited = emb[rng.choice(n, copies, replace=False)]
    edited = edited + rng.normal(scale=0.25 / np.sqrt(dim), size=edited.shape).astype(np.float32)
    vecs = np.concatenate([emb, edited / np.linalg.norm(edited, axis=1, keepdims=True)])
    rows = np.concatenate(
        [
            rng.choice(n, sample // 2, replace=False),
            n + rng.choice(copies, sample // 2, replace=False),
        ]
    )
    sims = vecs[rows] @ vecs.T
    sims[np.arange(len(rows)), rows] = -1.0
    qi, j = np.nonzero(sims >= cos_min)
    exact = {(min(a, b), max(a, b)) for a, b in zip(rows[qi].tolist(), j.tolist(), strict=True)}
    start = time.perf_counter()
    a, b, _ = close_pairs(vecs, np.arange(len(vecs)), cos_min)
    took = time.perf_counter() - start
    found = set(zip(a.tolist(), b.tolist(), strict=True))
    recall = len(found & exact) / len(exact)
    print(
        f"vector pairs at cosine >= {cos_min} among {len(vecs)} embeddings ({copies} edited "
        f"copies): found {len(found)} in {took:.2f} s | recall {recall:.3f}"
        f" of the {len(exact)} pairs the full matrix gives for {len(rows)} sampled rows"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    args = ap.parse_args()
    bench(args.n, use_emb=False)
    bench(args.n, use_emb=True)
    vector_pair_recall(args.n)
    catalog_write(args.n)
    signal_cpu()


if __name__ == "__main__":
    main()
