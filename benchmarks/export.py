"""Export speed: the ``web`` preset against ImageMagick, and a 500-photo contact sheet.

    .venv/bin/python benchmarks/export.py [--photos ../shared/photos] [--workers 2]

Both sides process the same JPEGs of the photos folder on the same number of cores in the
same run: kilo through its export renderer (decode in JPEG draft mode, resize, output
sharpening, sRGB profile, minimal EXIF, quality 85) in a process pool; ImageMagick as
``convert IN -resize 2048x2048 -quality 85 OUT``, that many processes at a time. Prints
images/s for each and kilo's speed ratio (> 1: kilo is faster). Target: ratio >= 1.0.
Then the time to lay out a contact sheet of 500 photos (the set repeated), target < 30 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from kilo.export.contact_sheet import SheetItem, SheetSpec, render_contact_sheet  # noqa: E402
from kilo.export.presets import PhotoTask, render_photo  # noqa: E402


def _kilo_one(args: tuple[int, str, str]) -> int:
    index, src, out_dir = args
    task = PhotoTask(
        index=index,
        asset_id=str(index),
        source_uri=src,
        preset="web",
        settings={},
        staging_dir=out_dir,
        meta={"filename": Path(src).name},
    )
    return sum(f.byte_size for f in render_photo(task))


def bench_kilo(files: list[Path], workers: int, out_dir: Path) -> float:
    jobs = [(i, str(f), str(out_dir)) for i, f in enumerate(files)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_kilo_one, jobs[:workers]))  # warm the workers (imports)
        start = time.perf_counter()
        list(pool.map(_kilo_one, jobs, chunksize=1))
        return time.perf_counter() - start


def bench_convert(convert: str, files: list[Path], workers: int, out_dir: Path) -> float:
    def one(i_f: tuple[int, Path]) -> None:
        i, f = i_f
        subprocess.run(
            [convert, str(f), "-resize", "2048x2048", "-quality", "85", str(out_dir / f"{i}.jpg")],
            check=True,
            capture_output=True,
        )

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, enumerate(files)))
    return time.perf_counter() - start


def bench_sheet(files: list[Path], count: int, tmp: Path) -> tuple[float, int, float]:
    from PIL import Image

    thumbs = []
    for i, f in enumerate(files):
        im = Image.open(f)
        im.draft("RGB", (512, 512))
        im = im.convert("RGB")
        im.thumbnail((512, 512))
        path = tmp / f"thumb{i}.jpg"
        im.save(path, quality=85)
        thumbs.append((f.name, path))
    items = [
        SheetItem(
            filename=thumbs[i % len(thumbs)][0],
            thumbnail=thumbs[i % len(thumbs)][1],
            rating=i % 6 or None,
            picked=i % 5 == 0,
            rejected=i % 7 == 3,
            group=f"Moment {1 + i // 24}",
        )
        for i in range(count)
    ]
    start = time.perf_counter()
    pdf = render_contact_sheet(items, SheetSpec(title="Benchmark"))
    elapsed = time.perf_counter() - start
    return elapsed, len(pdf), elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=Path, default=REPO.parent / "shared" / "photos")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--sheet", type=int, default=500)
    args = parser.parse_args()
    files = sorted(p for p in args.photos.glob("*.jpg") if p.is_file())
    if not files:
        print(f"no JPEGs in {args.photos}")
        return 1
    mp = sum(_megapixels(f) for f in files)
    print(f"photos: {len(files)} JPEGs, {mp:.0f} MP in total, workers: {args.workers}")
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        (tmp / "kilo").mkdir()
        (tmp / "im").mkdir()
        kilo_s = bench_kilo(files, args.workers, tmp / "kilo")
        kilo_ips = len(files) / kilo_s
        print(f"kilo web preset: {kilo_s:.2f} s, {kilo_ips:.2f} images/s")
        convert = shutil.which("convert")
        if convert is None:
            print("ImageMagick convert: not installed (Debian package imagemagick); no ratio")
        else:
            im_s = bench_convert(convert, files, args.workers, tmp / "im")
            im_ips = len(files) / im_s
            print(
                f"ImageMagick convert -resize 2048x2048 -quality 85: {im_s:.2f} s, "
                f"{im_ips:.2f} images/s"
            )
            print(f"ratio kilo/ImageMagick: {kilo_ips / im_ips:.2f}x (target >= 1.0)")
        (tmp / "sheet").mkdir()
        elapsed, size, _ = bench_sheet(files, args.sheet, tmp / "sheet")
        print(
            f"contact sheet of {args.sheet} photos: {elapsed:.2f} s, "
            f"{size / 1e6:.1f} MB PDF (target < 30 s)"
        )
    return 0


def _megapixels(path: Path) -> float:
    from PIL import Image

    with Image.open(path) as im:
        return im.width * im.height / 1e6


if __name__ == "__main__":
    sys.exit(main())
