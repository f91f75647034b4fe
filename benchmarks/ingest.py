"""Ingest speed and memory: prints ratios, asserts nothing.

    .venv/bin/python benchmarks/ingest.py [--count 1000] [--photos ../shared/photos]

1. Rendition path choice, 1 core: Pillow (draft decode, resize, encode) vs kilo's path
   (OpenCV DCT-scaled decode, halving resize, libjpeg-turbo encode), re-encoding every
   preview and with lossless previews (a JPEG that already fits is its own preview).
2. Full ingest of the shared JPEGs vs the decode floor (draft-scale decode, both cores, warm
   pool; ingest includes starting its own pool), and the rendition work alone (the worker
   side of asset.process on both cores, warm pool, no catalog): the ceiling of the ratio.
3. A generated set of COUNT JPEGs: ingest vs floor, unchanged re-ingest speedup, RSS of the
   main process + its workers sampled from /proc every 0.1 s during the ingest (the max at
   25/50/75/100% of the run shows whether it grows with the file count).
4. RAW: half-size demosaic (the fallback when there is no embedded preview) vs full
   postprocess(); the embedded-preview path is timed when a RAW with a preview is at hand.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
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


def _render_chunk(args: tuple[str, list[str]]) -> None:
    """The worker side of asset.process (decode, renditions, metadata, two atomic writes)
    over some files, without any catalog work."""
    import uuid

    from kilo.ingest.process import process_asset

    store, paths = args
    for path in paths:
        process_asset(
            {
                "asset_id": uuid.uuid4().hex,
                "project_id": "bench",
                "source_uri": path,
                "uri": path,
                "frame_index": 0,
                "sha256": "-",
                "content_type": "image/jpeg",
                "replaces": False,
                "settings": {"store_url": store, "preview_px": 2048, "thumbnail_px": 512},
            }
        )


def rendition_work_time(paths: list[str], store: Path, workers: int = 2) -> float:
    """The renditions alone on both cores (warm pool, no catalog, no registration): the
    ceiling of what the whole ingest can reach against the floor."""
    import multiprocessing

    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(_render_chunk, [(str(store / "warm"), paths[:2])] * workers))
        chunks = [paths[i : i + 4] for i in range(0, len(paths), 4)]
        t = time.perf_counter()
        list(pool.map(_render_chunk, [(str(store / "run"), c) for c in chunks]))
        return time.perf_counter() - t


def resize_choice(paths: list[str]) -> None:
    from PIL import Image

    import kilo.imaging.renditions as rend

    sizes = {"preview": 2048, "thumbnail": 512}
    datas = [Path(p).read_bytes() for p in paths]

    def pillow(d: bytes) -> None:
        with Image.open(io.BytesIO(d)) as src:
            src.draft("RGB", _fit(src.size, 2048))
            im = src.convert("RGB")
        prev = im.resize(_fit(im.size, 2048), Image.Resampling.BICUBIC, reducing_gap=2.0)
        rend.encode_jpeg(prev)
        rend.encode_jpeg(
            prev.resize(_fit(prev.size, 512), Image.Resampling.BICUBIC, reducing_gap=2.0)
        )

    def kilo(d: bytes) -> None:
        rend.render_renditions(d, sizes, content_type="image/jpeg")

    def decode(d: bytes) -> None:
        with Image.open(io.BytesIO(d)) as im:
            im.draft("RGB", _fit(im.size, 2048))
            im.load()

    def best(fn: object) -> float:
        times = []
        for _ in range(3):
            t = time.process_time()
            for d in datas:
                fn(d)  # type: ignore[operator]
            times.append(time.process_time() - t)
        return min(times)

    floor = best(decode)
    pil = best(pillow)
    keep = rend.MAX_LOSSLESS_BYTES_PER_PX
    rend.MAX_LOSSLESS_BYTES_PER_PX = 0.0  # every preview re-encoded
    cv_all = best(kilo)
    rend.MAX_LOSSLESS_BYTES_PER_PX = keep
    cv = best(kilo)
    print(
        f"rendition path (1 core CPU, {len(paths)} JPEGs): draft decode alone {floor:.2f}s; "
        f"Pillow decode+resize+encode {pil:.2f}s (floor/x {floor / pil:.2f}); kilo OpenCV path "
        f"re-encoding every preview {cv_all:.2f}s (floor/x {floor / cv_all:.2f}), with lossless "
        f"previews {cv:.2f}s (floor/x {floor / cv:.2f}) -> chosen: OpenCV (pyvips not installed)"
    )


class RssSampler:
    """RSS of this process and all its descendants (fork server, workers) from /proc."""

    def __init__(self, every: float = 0.1) -> None:
        import threading

        self.every = every
        self.samples: list[tuple[float, int, int]] = []  # (t, total bytes, largest process)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self.t0 = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.t1 = time.perf_counter()

    def _run(self) -> None:
        page = os.sysconf("SC_PAGE_SIZE")
        while not self._stop.is_set():
            children: dict[int, list[int]] = {}
            for d in os.listdir("/proc"):
                if d.isdigit():
                    try:
                        stat = Path(f"/proc/{d}/stat").read_text()
                    except OSError:
                        continue
                    children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(d))
            todo, rss = [os.getpid()], []
            while todo:
                pid = todo.pop()
                todo += children.get(pid, [])
                with contextlib.suppress(OSError):
                    rss.append(int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page)
            self.samples.append((time.perf_counter() - self.t0, sum(rss), max(rss, default=0)))
            self._stop.wait(self.every)

    def quartiles(self) -> list[tuple[float, float]]:
        """(max total MB, max single process MB) over each quarter of the run."""
        span = max(1e-9, self.t1 - self.t0)
        out = []
        for q in range(4):
            part = [s for s in self.samples if q * span / 4 <= s[0] <= (q + 1) * span / 4]
            out.append(
                (
                    max((s[1] for s in part), default=0) / 2**20,
                    max((s[2] for s in part), default=0) / 2**20,
                )
            )
        return out


Outcome = tuple[float, float, list[tuple[float, float]], int, int]


def run_ingest(folder: Path, home: Path) -> Outcome:
    """First ingest (RSS sampled), unchanged re-ingest; RSS quartiles, sample count and how
    many previews are lossless. Run in a fresh process (see ``fresh``)."""
    import hashlib

    from kilo.catalog import open_catalog
    from kilo.imaging.renditions import strip_jpeg_metadata
    from kilo.ingest import ingest
    from kilo.projects import create_project
    from kilo.settings import load_settings

    settings = load_settings(home=home, workers=2, clip_enabled=False)
    with open_catalog(settings) as cat:
        project = create_project(cat, "bench")
        t = time.perf_counter()
        with RssSampler() as sampler:
            rep = ingest(cat, project.id, [folder])
        first = time.perf_counter() - t
        assert rep.ready == rep.discovered - rep.ignored, rep.counts
        t = time.perf_counter()
        again = ingest(cat, project.id, [folder])
        second = time.perf_counter() - t
        assert again.skipped == rep.discovered - rep.ignored, again.counts
        lossless = 0
        for src, sha in cat.fetchall(
            "SELECT a.source_uri, f.sha256 FROM assets a JOIN asset_files f "
            "ON f.asset_id = a.id AND f.kind = 'preview' WHERE a.project_id = ?",
            [project.id],
        ):
            stripped = strip_jpeg_metadata(Path(src).read_bytes())
            lossless += stripped is not None and hashlib.sha256(stripped).hexdigest() == sha
        return first, second, sampler.quartiles(), len(sampler.samples), lossless


def fresh(folder: Path, home: Path) -> Outcome:
    """``run_ingest`` in a new interpreter, like a ``kilo ingest`` command: it pays for
    starting its worker pool (fork server included), as the CLI does."""
    import multiprocessing

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(run_ingest, folder, home).result()


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
        base = decoded[i % len(decoded)]
        scale = 0.35 + 0.65 * ((i * 7919) % 100) / 100
        size = (max(64, int(base.width * scale)), max(64, int(base.height * scale)))
        path = dest / f"IMG_{i:05d}.jpg"
        base.resize(size, Image.Resampling.BILINEAR).save(path, quality=70 + i % 25)
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
        work = rendition_work_time(jpegs, tmp / "work1")
        first, _, _, _, lossless = fresh(shared, tmp / "home1")
        mp = megapixels(jpegs)
        print(
            f"shared JPEGs ({len(jpegs)} files, {mp:.0f} MP; {lossless} previews lossless, "
            f"{len(jpegs) - lossless} re-encoded): ingest {first:.2f}s = "
            f"{len(jpegs) / first:.1f} files/s, {mp / first:.1f} MP/s; decode floor {floor:.2f}s; "
            f"ingest/floor throughput ratio {floor / first:.2f} (target >= 0.7); the renditions "
            f"alone (no catalog) {work:.2f}s, ratio {floor / work:.2f}"
        )

        gen = make_set(photos, tmp / "gen", args.count)
        gmp = megapixels(gen)
        gfloor = floor_time(gen)
        gwork = rendition_work_time(gen, tmp / "work2")
        first, second, quarters, n_samples, lossless = fresh(tmp / "gen", tmp / "home2")
        print(
            f"generated set ({args.count} files, {gmp:.0f} MP; {lossless} previews lossless, "
            f"{args.count - lossless} re-encoded): ingest {first:.2f}s = "
            f"{args.count / first:.1f} files/s, {gmp / first:.1f} MP/s; decode floor "
            f"{gfloor:.2f}s; ingest/floor ratio {gfloor / first:.2f} (target >= 0.7); the "
            f"renditions alone (no catalog) {gwork:.2f}s, ratio {gfloor / gwork:.2f}"
        )
        print(
            f"re-ingest unchanged {args.count} files: {second:.3f}s -> {first / second:.0f}x "
            f"faster than the first ingest (target >= 50x)"
        )
        print(
            f"RSS during the {args.count}-file ingest, main process + workers, "
            f"{n_samples} samples; max at 25/50/75/100% of the run: "
            + " / ".join(f"{total:.0f}" for total, _ in quarters)
            + " MB (largest single process "
            + " / ".join(f"{one:.0f}" for _, one in quarters)
            + " MB); target < 1024 MB and flat"
        )
        raw_ratio(photos)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
