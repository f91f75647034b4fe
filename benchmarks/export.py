"""Export speed: the ``web`` preset against libvips and ImageMagick at their best, and a
500-photo contact sheet.

    .venv/bin/python benchmarks/export.py [--photos ../shared/photos] [--camera 40] [--workers 2]

Every peer makes the same output from the same files with the same number of processes
(one thread each), in rounds alternated in one run (kilo, libvips, ImageMagick, twice; the
better round of each counts): a JPEG of at most 2048 px on the long edge, never enlarged,
quality 85.

* kilo: its export renderer (``render_photo``: decode at the scale the output needs, resize,
  output sharpening, sRGB profile, minimal EXIF) in a warm process pool;
* libvips (pyvips with the pyvips-binary wheel, the ``bench`` extra), ``VIPS_CONCURRENCY=1``:
  ``thumbnail(path, 2048, size="down")`` (shrink-on-load) + ``jpegsave(Q=85)``;
* ImageMagick's fast path: ``convert -define jpeg:size=4096x4096 IN -resize '2048x2048>'
  -quality 85 OUT`` (the DCT-scaled decode and no enlarging), one process per file.

Two sets: the JPEGs of ../shared/photos (mostly small: many need no resize), and CAMERA
generated 24 MP camera-like JPEGs (``camera_like.py``). Prints images/s per peer, the
ratios (> 1: kilo is faster; target >= 1.0 against each) and each baseline's exact command.
Then the time to lay out a contact sheet of 500 photos, target < 30 s.

What it does not show: kilo's output is sharpened and carries a profile and EXIF, the peers'
are not (kilo does more work per file); sizes are the same, bytes differ.
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
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))

from kilo.export.contact_sheet import SheetItem, SheetSpec, render_contact_sheet  # noqa: E402
from kilo.export.presets import PhotoTask, render_photo  # noqa: E402

_SETTINGS: list[Any] = []


def _kilo_one(args: tuple[int, str, str]) -> int:
    index, src, out_dir = args
    if not _SETTINGS:  # as an export job does: one settings object, sent with every task
        from kilo.settings import load_settings

        _SETTINGS.append(load_settings())
    task = PhotoTask(
        index=index,
        asset_id=str(index),
        source_uri=src,
        preset="web",
        settings={},
        staging_dir=out_dir,
        meta={"filename": Path(src).name},
        settings_obj=_SETTINGS[0],
    )
    return sum(f.byte_size for f in render_photo(task))


def bench_kilo(files: list[Path], workers: int, out_dir: Path) -> float:
    jobs = [(i, str(f), str(out_dir)) for i, f in enumerate(files)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_kilo_one, jobs[:workers]))  # warm the workers (imports)
        start = time.perf_counter()
        list(pool.map(_kilo_one, jobs, chunksize=1))
        return time.perf_counter() - start


def magick_command(convert: str, src: str, out: str) -> list[str]:
    """ImageMagick at its best for this job: decode at the scale needed, never enlarge."""
    return [
        convert,
        "-define",
        "jpeg:size=4096x4096",
        src,
        "-resize",
        "2048x2048>",
        "-quality",
        "85",
        out,
    ]


#: Debian's ImageMagick policy caps the pixel cache at 256 MiB, so resizing a 24 MP photo
#: spills to disk (12.8 s instead of 2.0 s for one 20 MP file here): ImageMagick at its best
#: gets a policy with room (MAGICK_CONFIGURE_PATH), as a user who exports with it would set
MAGICK_POLICY = """<policymap>
  <policy domain="resource" name="memory" value="2GiB"/>
  <policy domain="resource" name="map" value="4GiB"/>
  <policy domain="resource" name="area" value="1GP"/>
  <policy domain="resource" name="disk" value="8GiB"/>
</policymap>
"""


def bench_convert(convert: str, files: list[Path], workers: int, out_dir: Path) -> float:
    config = out_dir / "magick-config"
    config.mkdir(exist_ok=True)
    (config / "policy.xml").write_text(MAGICK_POLICY)
    env = dict(os.environ, MAGICK_CONFIGURE_PATH=str(config), MAGICK_THREAD_LIMIT="1")

    def one(i_f: tuple[int, Path]) -> None:
        i, f = i_f
        subprocess.run(
            magick_command(convert, str(f), str(out_dir / f"{i}.jpg")),
            check=True,
            capture_output=True,
            env=env,
        )

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, enumerate(files)))
    return time.perf_counter() - start


def _vips_init() -> None:
    os.environ["VIPS_CONCURRENCY"] = "1"  # before libvips loads: its fastest setting here


def _vips_one(args: tuple[int, str, str]) -> int:
    import pyvips

    index, src, out_dir = args
    image = pyvips.Image.thumbnail(src, 2048, size="down")
    out = f"{out_dir}/{index}.jpg"
    image.jpegsave(out, Q=85)
    return os.path.getsize(out)


VIPS_COMMAND = 'pyvips.Image.thumbnail(path, 2048, size="down").jpegsave(out, Q=85)'


def bench_vips(files: list[Path], workers: int, out_dir: Path) -> float | None:
    try:
        import pyvips  # noqa: F401
    except ImportError:
        return None
    jobs = [(i, str(f), str(out_dir)) for i, f in enumerate(files)]
    with ProcessPoolExecutor(max_workers=workers, initializer=_vips_init) as pool:
        list(pool.map(_vips_one, jobs[:workers]))  # warm the workers (imports)
        start = time.perf_counter()
        list(pool.map(_vips_one, jobs, chunksize=1))
        return time.perf_counter() - start


def find_imagemagick() -> str | None:
    """The real ImageMagick binary: the first ``magick`` or ``convert`` on PATH that is an
    executable (ELF) and not a script standing in for it (this machine has a shell/Python
    wrapper at /usr/local/bin/convert that would distort the timing)."""
    candidates: list[str] = []
    for name in ("magick", "convert", "convert-im6.q16"):
        for folder in [*os.environ.get("PATH", "").split(os.pathsep), "/usr/bin"]:
            path = Path(folder) / name
            if path.is_file() and os.access(path, os.X_OK):
                candidates.append(str(path.resolve()))
    for path in dict.fromkeys(candidates):
        with open(path, "rb") as fh:
            if fh.read(4) == b"\x7fELF":
                return path
    return None


def magick_version(convert: str) -> str:
    out = subprocess.run([convert, "-version"], capture_output=True, text=True).stdout
    return out.splitlines()[0] if out else "unknown"


def compare(label: str, files: list[Path], workers: int, tmp: Path) -> None:
    """The alternated rounds on one set of files, and the ratio lines."""
    convert = find_imagemagick()
    best: dict[str, float] = {}
    tag = "".join(c if c.isalnum() else "_" for c in label)[:40]
    for _round in range(2):
        for name in ("kilo", "libvips", "ImageMagick"):
            out = tmp / f"{tag}-{name}"
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir()
            took: float | None
            if name == "kilo":
                took = bench_kilo(files, workers, out)
            elif name == "libvips":
                took = bench_vips(files, workers, out)
            else:
                took = bench_convert(convert, files, workers, out) if convert else None
            if took is not None:
                best[name] = min(best.get(name, took), took)
    n = len(files)
    print(f"== {label}: {n} files, {workers} processes, best of 2 alternated rounds")
    for name, took in best.items():
        print(f"{name:<12} {n / took:7.2f} images/s")
    for peer in ("libvips", "ImageMagick"):
        if peer in best:
            print(f"kilo / {peer}: {best[peer] / best['kilo']:.2f}x (target >= 1.0)")
        else:
            print(f"kilo / {peer}: not run ({peer} is not installed)")


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
    parser.add_argument("--camera", type=int, default=40, help="generated 24 MP JPEGs (0: none)")
    args = parser.parse_args()
    files = sorted(p for p in args.photos.glob("*.jpg") if p.is_file())
    if not files:
        print(f"no JPEGs in {args.photos}")
        return 1
    convert = find_imagemagick()
    print(
        "ImageMagick: "
        + (
            f"{convert} ({magick_version(convert)}); command: "
            + " ".join(magick_command("convert", "IN", "OUT"))
            + " with MAGICK_THREAD_LIMIT=1 and a policy.xml allowing a 2 GiB pixel cache"
            if convert
            else "not installed (Debian package imagemagick)"
        )
    )
    print(f"libvips: {VIPS_COMMAND}, VIPS_CONCURRENCY=1")
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        mp = sum(_megapixels(f) for f in files)
        compare(f"../shared/photos JPEGs ({mp:.0f} MP in all)", files, args.workers, tmp)
        if args.camera:
            from camera_like import make_camera_jpegs

            cam = make_camera_jpegs(tmp / "camera", args.camera)
            compare("24 MP camera-like JPEGs", cam, args.workers, tmp)
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
