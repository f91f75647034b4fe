"""Culling quality on a seeded synthetic shoot (see synth.py), five seeds, plus real photos.

Prints burst and moment adjusted Rand index, duplicate-pair precision/recall/F1, winner
Top-1/Top-3 and ranking ms per cluster, with embeddings and in the fallback (hashes + signals
only). Then what the signals say about the real 4-frame bird_burst.heic and the real blur
photos.

No CLIP weights ship with any registry package, so when ``kilo.embed`` cannot load a real model
the "with embeddings" rows use a labelled stand-in: a colour-layout vector (16x16 Lab thumbnail,
mean-centred, L2-normalised). Say which one ran when quoting the figures.

    .venv/bin/python benchmarks/cull_quality.py [--seeds 0 1 2 3 4] [--sources N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from itertools import combinations
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kilo.cluster import ClusterItem, cluster_items
from kilo.hashing import compute_hashes
from kilo.rank import RankInput, rank_members
from kilo.signals import compute_signals
from synth import PHOTOS, Shoot, make_shoot


def _analyse(path: str) -> tuple[dict[str, float], int, int, np.ndarray]:
    im = Image.open(path).convert("RGB")
    sig = compute_signals(im)
    h = compute_hashes(im)
    return sig, h.phash, h.dhash, layout_vector(im)


def layout_vector(im: Image.Image) -> np.ndarray:
    """Stand-in embedding: 16x16 Lab thumbnail, mean-centred per channel, L2-normalised."""
    small = im.convert("RGB").resize((16, 16), Image.Resampling.BOX).convert("LAB")
    v = np.asarray(small, dtype=np.float32).reshape(-1, 3)
    v = v - v.mean(axis=0, keepdims=True)
    flat = v.flatten()
    return flat / max(float(np.linalg.norm(flat)), 1e-6)


def ari(labels_true: list[int], labels_pred: list[int]) -> float:
    """Adjusted Rand index of two labelings of the same items."""
    from math import comb

    n = len(labels_true)
    pairs: dict[tuple[int, int], int] = {}
    a: dict[int, int] = {}
    b: dict[int, int] = {}
    for t, p in zip(labels_true, labels_pred, strict=True):
        pairs[(t, p)] = pairs.get((t, p), 0) + 1
        a[t] = a.get(t, 0) + 1
        b[p] = b.get(p, 0) + 1
    index = sum(comb(v, 2) for v in pairs.values())
    sa = sum(comb(v, 2) for v in a.values())
    sb = sum(comb(v, 2) for v in b.values())
    expected = sa * sb / comb(n, 2) if n > 1 else 0.0
    max_index = (sa + sb) / 2
    if max_index == expected:
        return 1.0
    return (index - expected) / (max_index - expected)


def _labels(groups: list[list[int]], n: int) -> list[int]:
    lab = list(range(n, 2 * n))  # singletons get unique labels
    for g, members in enumerate(groups):
        for i in members:
            lab[i] = g
    return lab


def evaluate(
    shoot: Shoot, data: list[tuple[dict[str, float], int, int, np.ndarray]], *, use_emb: bool
) -> dict[str, float]:
    frames = shoot.frames
    n = len(frames)
    items = [
        ClusterItem(
            id=str(i),
            time=f.time,
            camera=f.camera,
            phash=data[i][1],
            dhash=data[i][2],
            exposure_bias=f.exposure_bias,
            order=i,
        )
        for i, f in enumerate(frames)
    ]
    emb = np.stack([d[3] for d in data]) if use_emb else None
    t0 = time.perf_counter()
    res = cluster_items(items, emb)
    cluster_s = time.perf_counter() - t0
    # bursts
    true_b = [f.burst if f.burst is not None else n + i for i, f in enumerate(frames)]
    burst_ari = ari(true_b, _labels(res.bursts, n))
    dated = [i for i, f in enumerate(frames) if f.moment is not None]
    pred_m = _labels(res.moments, n)
    moment_ari = ari([frames[i].moment or 0 for i in dated], [pred_m[i] for i in dated])
    # duplicate pairs
    true_pairs = {
        (i, j)
        for i, j in combinations(range(n), 2)
        if frames[i].dup_group is not None and frames[i].dup_group == frames[j].dup_group
    }
    pred_pairs = {(min(i, j), max(i, j)) for g in res.duplicates for i, j in combinations(g, 2)}
    tp = len(true_pairs & pred_pairs)
    prec = tp / len(pred_pairs) if pred_pairs else 1.0
    rec = tp / len(true_pairs) if true_pairs else 1.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    # winners: rank each ground-truth burst (ranking quality alone) ...
    top1 = top3 = 0
    rank_ms: list[float] = []
    for b, wi in shoot.winners.items():
        members = [i for i, f in enumerate(frames) if f.burst == b]
        inputs = [RankInput(str(i), data[i][0], frames[i].pixels) for i in members]
        t1 = time.perf_counter()
        r = rank_members(inputs)
        rank_ms.append((time.perf_counter() - t1) * 1000)
        top1 += r.order[0] == str(wi)
        top3 += str(wi) in r.order[:3]
    # ... and end to end: the predicted burst holding the true winner ranks it first
    e2e = 0
    pred_burst = {i: k for k, g in enumerate(res.bursts) for i in g}
    for _b, wi in shoot.winners.items():
        k = pred_burst.get(wi)
        if k is None:
            continue
        g = res.bursts[k]
        r = rank_members([RankInput(str(i), data[i][0], frames[i].pixels) for i in g])
        e2e += r.order[0] == str(wi)
    nb = len(shoot.winners)
    return {
        "burst_ari": burst_ari,
        "moment_ari": moment_ari,
        "dup_p": prec,
        "dup_r": rec,
        "dup_f1": f1,
        "top1": top1 / nb,
        "top3": top3 / nb,
        "e2e_top1": e2e / nb,
        "rank_ms": statistics.mean(rank_ms),
        "cluster_ms": cluster_s * 1000,
    }


def _fmt(name: str, rows: list[dict[str, float]]) -> str:
    def ms(key: str) -> str:
        vals = [r[key] for r in rows]
        return f"{statistics.mean(vals):.3f}±{statistics.pstdev(vals):.3f}"

    return (
        f"{name}: burst ARI {ms('burst_ari')} | moment ARI {ms('moment_ari')} | dup P {ms('dup_p')}"
        f" R {ms('dup_r')} F1 {ms('dup_f1')} | winner top1 {ms('top1')} top3 {ms('top3')}"
        f" (end-to-end top1 {ms('e2e_top1')}) | rank {ms('rank_ms')} ms/cluster"
    )


def _real(photos: Path) -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()
    bird = Image.open(photos / "bird_burst.heic")
    inputs = []
    for k in range(getattr(bird, "n_frames", 1)):
        bird.seek(k)
        frame = bird.convert("RGB")
        s = compute_signals(frame)
        print(
            f"bird_burst.heic frame {k}: sharpness {s['sharpness']:.3f} exposure "
            f"{s['exposure']:.3f} noise {s['noise']:.3f} brightness {s['brightness']:.3f}"
        )
        inputs.append(RankInput(f"frame {k}", s, frame.width * frame.height))
    r = rank_members(inputs)
    print(
        f"bird_burst.heic ranking: {r.order} winner {r.winner} confidence {r.confidence}"
        f" low={r.low_confidence} why={r.why_winner}"
    )
    for name in ("cv_text_defocus.jpg", "cv_text_motion.jpg", "cv_licenseplate_motion.jpg"):
        s = compute_signals(Image.open(photos / name).convert("RGB"))
        print(
            f"{name}: sharpness {s['sharpness']:.3f} motion_blur {s['motion_blur']:.3f}"
            f" defocus {s['defocus']:.3f}"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2, 3, 4])
    ap.add_argument("--sources", type=int, default=None, help="source photos per seed")
    args = ap.parse_args()
    with_emb: list[dict[str, float]] = []
    without: list[dict[str, float]] = []
    emb_name = "colour-layout stand-in (no CLIP weights on this machine)"
    with tempfile.TemporaryDirectory() as tmp, ProcessPoolExecutor(2) as pool:
        for seed in args.seeds:
            shoot = make_shoot(seed, Path(tmp) / f"seed{seed}", n_sources=args.sources)
            data = list(pool.map(_analyse, [str(f.path) for f in shoot.frames], chunksize=4))
            a = evaluate(shoot, data, use_emb=True)
            b = evaluate(shoot, data, use_emb=False)
            with_emb.append(a)
            without.append(b)
            print(
                f"seed {seed}: {len(shoot.frames)} files, {len(shoot.winners)} bursts | "
                f"emb top1 {a['top1']:.3f} burst ARI {a['burst_ari']:.3f} | fallback top1 "
                f"{b['top1']:.3f} burst ARI {b['burst_ari']:.3f} moment ARI {b['moment_ari']:.3f}"
                f" dup F1 {b['dup_f1']:.3f}"
            )
    print(f"embeddings = {emb_name}")
    print(_fmt("with embeddings", with_emb))
    print(_fmt("fallback (hashes + signals)", without))
    _real(PHOTOS)


_unused: Callable[[], None] | None = None

if __name__ == "__main__":
    main()
