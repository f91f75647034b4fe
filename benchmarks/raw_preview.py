"""RAW files through the camera's embedded JPEG preview, against developing the raw data.

    .venv/bin/python benchmarks/raw_preview.py [--camera 4] [--rounds 3]

Files: COUNT camera-sized DNGs (6000 x 4000, 12-bit RGGB) made from the generated 24 MP
camera-like JPEGs (``camera_like.py``), each carrying that JPEG as its full-size embedded
preview, as Nikon, Canon and Pentax RAW files do, twice: uncompressed (the cheapest raw data
to develop) and as lossless JPEG (how cameras and Adobe's converter store it); and the
four DNGs of ../shared/photos/raw (at most 2400 px) with their source photo embedded. The
DNG writer and the preview IFD are ``tests/support/dng.py``: the file is built by plain TIFF
writing, not by any code the benchmark measures.

Per file, one process, the best of ROUNDS, alternated:

* kilo, embedded: ``render_renditions`` of the DNG with its preview (what ingest calls): the
  thumbnail and the preview, decoded, resized, encoded;
* kilo, no preview: the same DNG without the preview IFD (kilo's fallback: a half-size
  demosaic when it is large enough, else a full one);
* rawpy half-size demosaic alone (``postprocess(half_size=True)``, no resize, no encode): the
  cheapest development there is.

Prints ms per file, the speed-up over the half-size demosaic (target >= 10x), and the mean
absolute difference between the renditions made both ways (same photo, same orientation,
same colours: a few grey levels, from kilo's development of the raw data against the
camera's own rendering).

What it does not show: a camera whose preview is smaller than the 2048 px preview rendition
(Sony's 1616 px) gets the demosaic path; these previews are quality 90 JPEGs at full size.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO / "tests"))
PHOTOS = REPO.parent / "shared" / "photos"


def _files(count: int) -> list[tuple[str, bytes, bytes]]:
    """(name, DNG with its preview, the same DNG without)."""
    from PIL import Image

    from camera_like import make_camera_jpegs
    from support.dng import camera_preview, mosaic_dng, with_embedded_preview

    out = []
    cache = Path(tempfile.gettempdir()) / "kilo-bench-camera"
    for path in make_camera_jpegs(cache, count):
        jpeg = path.read_bytes()
        for compressed in (False, True):
            with Image.open(io.BytesIO(jpeg)) as im:
                plain = mosaic_dng(im, compressed=compressed)
            name = path.stem + ("-lossless-jpeg" if compressed else "") + ".dng"
            out.append((name, with_embedded_preview(plain, jpeg), plain))
    for dng in sorted((PHOTOS / "raw").glob("*.dng")):
        import rawpy

        plain = dng.read_bytes()
        with rawpy.imread(io.BytesIO(plain)) as raw:
            size = (int(raw.sizes.width), int(raw.sizes.height))
        preview = camera_preview((PHOTOS / f"{dng.stem}.jpg").read_bytes(), size)
        out.append((dng.name, with_embedded_preview(plain, preview), plain))
    return out


def _preview(renditions: list) -> bytes:  # type: ignore[type-arg]
    return next(r.data for r in renditions if r.kind == "preview")


def _best(fn: object, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return min(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--camera", type=int, default=4, help="camera-sized DNGs to make")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    import numpy as np
    import rawpy
    from PIL import Image

    from kilo.imaging.renditions import render_renditions
    from kilo.settings import load_settings

    settings = load_settings(home=Path(tempfile.mkdtemp(prefix="kilo-bench-raw-")))
    sizes = {"thumbnail": settings.thumbnail_px, "preview": settings.preview_px}

    def develop(data: bytes) -> None:
        with rawpy.imread(io.BytesIO(data)) as raw:
            raw.postprocess(half_size=True, use_camera_wb=True, output_bps=8)

    print(f"renditions {sizes}, one process, best of {args.rounds}")
    print(
        f"{'file':<32} {'MP':>5} {'embedded ms':>12} {'no preview ms':>14} "
        f"{'half demosaic ms':>17} {'vs half':>8} {'vs fallback':>12} {'MAD':>5}  method without"
    )
    ratios: dict[str, list[float]] = {
        "camera, uncompressed": [],
        "camera, lossless JPEG": [],
        "shared": [],
    }
    for name, with_preview, plain in _files(args.camera):
        emb = _best(lambda d=with_preview, n=name: render_renditions(d, sizes, name=n), args.rounds)
        fall = _best(lambda d=plain, n=name: render_renditions(d, sizes, name=n), args.rounds)
        half = _best(lambda d=plain: develop(d), args.rounds)
        a = render_renditions(with_preview, sizes, name=name)
        b = render_renditions(plain, sizes, name=name)
        assert a.method.startswith("embedded preview"), a.method
        pa, pb = (Image.open(io.BytesIO(_preview(r.renditions))) for r in (a, b))
        mad = float(np.abs(np.asarray(pa, np.float32) - np.asarray(pb, np.float32)).mean())
        mp = a.width * a.height / 1e6
        kind = "shared"
        if name.startswith("cam_"):
            kind = "camera, lossless JPEG" if "lossless" in name else "camera, uncompressed"
        ratios[kind].append(half / emb)
        print(
            f"{name:<32} {mp:>5.1f} {emb:>12.1f} {fall:>14.1f} {half:>17.1f} "
            f"{half / emb:>7.1f}x {fall / emb:>11.1f}x {mad:>5.1f}  {b.method}"
        )
    for kind, values in ratios.items():
        if values:
            print(
                f"{kind} DNGs: embedded preview {statistics.median(values):.1f}x faster than a "
                f"half-size demosaic (median of {len(values)}; target >= 10x)"
            )


if __name__ == "__main__":
    main()
