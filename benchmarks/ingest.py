"""Ingest speed and memory: prints ratios, asserts nothing.

    .venv/bin/python benchmarks/ingest.py [--count 1000] [--photos ../shared/photos]

1. Resize path choice (Pillow resize vs OpenCV resize after a Pillow draft decode).
2. Full ingest of the shared JPEGs vs the decode floor (draft-scale decode, both cores).
3. A generated set of COUNT JPEGs: ingest vs floor, unchanged re-ingest speedup, peak RSS.
4. RAW: half-size demosaic (the fallback when there is no embedded preview) vs full
   postprocess(); the embedded-preview path is timed when a RAW with a preview is at hand.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))


def _fit(size: tuple[int, int], px: int) -> tuple[int, int]:
    w, h = size
    s = min(1.0, px / max(w, h))
    return max(1, round(w * s)), max(1, round(h * s))


def decode_floor_one(path: str) -> float:
    """Decode at the draft scale a 2048 px preview needs; returns megapixels of the file."""
    from PIL import Image

    with Image.open(path) as im:
        full = im.size
        im.draft("RGB", _fit(full, 2048))
        im.load()
    return full[0] * full[1] / 1e6


def floor_time(paths: list[str], workers: int = 2) -> float:
    import multiprocessing

    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(decode_floor_one, paths[: workers * 2]))  # warm the workers
        t = time.perf_counter()
        list(pool.map(decode_floor_one, paths, chunksize=4))
        return time.perf_counter() - t


def resize_choice(paths: list[str]) -> None:
    from PIL import Image

    from kilo.imaging.renditions import encode_jpeg, resize_long_edge

    def pillow(p: str) -> None:
        with Image.open(p) as im:
            im.draft("RGB", _fit(im.size, 2048))
            im = im.convert("RGB")
        prev = im.resize(_fit(im.size, 2048), Image.Resampling.BICUBIC, reducing_gap=2.0)
        encode_jpeg(prev)
        encode_jpeg(prev.resize(_fit(prev.size, 512), Image.Resampling.BICUBIC, reducing_gap=2.0))

    def opencv(p: str) -> None:
        with Image.open(p) as im:
            im.draft("RGB", _fit(im.size, 2048))
            im = im.convert("RGB")
        prev = resize_long_edge(im, 2048)
        encode_jpeg(prev)
        encode_jpeg(resize_long_edge(prev, 512))

    def decode(p: str) -> None:
        decode_floor_one(p)

    best: dict[str, float] = {}
    for name, fn in (("decode only", decode), ("pillow resize", pillow), ("opencv resize", opencv)):
        times = []
        for _ in range(2):
            t = time.perf_counter()
            for p in paths:
                fn(p)
            times.append(time.perf_counter() - t)
        best[name] = min(times)
    floor = best["decode only"]
    pil, cv = best["pillow resize"], best["opencv resize"]
    chosen = "OpenCV" if cv < pil else "Pillow"
    print(
        f"resize choice (1 core, {len(paths)} JPEGs): decode {floor:.2f}s; decode+renditions "
        f"with Pillow resize {pil:.2f}s (floor/x {floor / pil:.2f}), with OpenCV resize "
        f"{cv:.2f}s (floor/x {floor / cv:.2f}) -> chosen: {chosen} resize after a Pillow "
        "draft decode (pyvips not installed)"
    )


def run_ingest(folder: Path, home: Path) -> tuple[float, float, object]:
    from kilo.catalog import open_catalog
    from kilo.ingest import ingest
    from kilo.projects import create_project
    from kilo.settings import load_settings

    settings = load_settings(home=home, workers=2, clip_enabled=False)
    with open_catalog(settings) as cat:
        project = create_project(cat, "bench")
        t = time.perf_counter()
        rep = ingest(cat, project.id, [folder])
        first = time.perf_counter() - t
        t = time.perf_counter()
        again = ingest(cat, project.id, [folder])
        second = time.perf_counter() - t
        assert again.skipped == rep.discovered - rep.ignored, again.counts
        return first, second, rep


def megapixels(paths: list[str]) -> float:
    from PIL import Image

    total = 0.0
    for p in paths:
        with Image.open(p) as im:
            total += im.size[0] * im.size[1] / 1e6
    return total


def make_set(photos: Path, dest: Path, count: int) -> list[str]:
    from PIL import Image

    sources = sorted(p for p in photos.glob("*.jpg") if p.stat().st_size > 200_000)
    decoded = []
    for p in sources:
        with Image.open(p) as im:
            im.draft("RGB", (im.width // 2, im.height // 2))
            decoded.append(im.convert("RGB"))
    dest.mkdir(parents=True)
    out = []
    for i in range(count):
        im = decoded[i % len(decoded)]
        scale = 0.35 + 0.65 * ((i * 7919) % 100) / 100
        size = (max(64, int(im.width * scale)), max(64, int(im.height * scale)))
        path = dest / f"IMG_{i:05d}.jpg"
        im.resize(size, Image.Resampling.BILINEAR).save(path, quality=70 + i % 25)
        out.append(str(path))
    return out


def raw_ratio(photos: Path) -> None:
    import rawpy

    from kilo.imaging import decode_image

    dng = photos / "raw" / "plasma_Kite.dng"
    data = dng.read_bytes()
    t = time.perf_counter()
    for _ in range(3):
        decoded = decode_image(data, max_px=512)
    fast = (time.perf_counter() - t) / 3
    t = time.perf_counter()
    for _ in range(3):
        with rawpy.imread(io.BytesIO(data)) as raw:
            raw.postprocess(use_camera_wb=True, output_bps=8)
    full = (time.perf_counter() - t) / 3
    print(
        f"RAW {dng.name}: {decoded.method} for a 512 px thumbnail {fast * 1000:.0f} ms vs full "
        f"postprocess() {full * 1000:.0f} ms -> {full / fast:.1f}x faster (these DNGs carry no "
        "embedded preview; with one, rawpy extract_thumb() is used instead)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--photos", type=Path, default=REPO.parent / "shared" / "photos")
    args = parser.parse_args()
    photos: Path = args.photos
    jpegs = sorted(str(p) for p in photos.glob("*.jpg"))
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    resize_choice(jpegs[:12])

    tmp = Path(tempfile.mkdtemp(prefix="kilo-bench-"))
    try:
        shared = tmp / "shared"
        shared.mkdir()
        for p in jpegs:
            shutil.copy2(p, shared)
        floor = floor_time(jpegs)
        first, _, _ = run_ingest(shared, tmp / "home1")
        mp = megapixels(jpegs)
        print(
            f"shared JPEGs ({len(jpegs)} files, {mp:.0f} MP): ingest {first:.2f}s = "
            f"{len(jpegs) / first:.1f} files/s, {mp / first:.1f} MP/s; decode floor {floor:.2f}s; "
            f"ingest/floor throughput ratio {floor / first:.2f} (target >= 0.7)"
        )

        gen = make_set(photos, tmp / "gen", args.count)
        gmp = megapixels(gen)
        gfloor = floor_time(gen)
        first, second, _ = run_ingest(tmp / "gen", tmp / "home2")
        self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(
            f"generated set ({args.count} files, {gmp:.0f} MP): ingest {first:.2f}s = "
            f"{args.count / first:.1f} files/s, {gmp / first:.1f} MP/s; decode floor "
            f"{gfloor:.2f}s; ingest/floor ratio {gfloor / first:.2f} (target >= 0.7)"
        )
        print(
            f"re-ingest unchanged {args.count} files: {second:.3f}s -> {first / second:.0f}x "
            f"faster than the first ingest (target >= 50x)"
        )
        print(
            f"peak RSS: main process {self_rss:.0f} MB, largest worker {child_rss:.0f} MB "
            "(target < 1024 MB)"
        )
        raw_ratio(photos)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
