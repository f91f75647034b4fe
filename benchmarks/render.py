"""Render speed: a 2048 px preview (p50 ms) and applying one version to 1,000 photos.

Prints:
* p50/p90 ms of render_image on 2048 px previews of real photos, for a typical edit (white
  balance, exposure, tone, vibrance, curve, sharpening) and with HSL and noise reduction too;
* a same-process baseline (one numpy pass: the float32 sRGB decode of the same previews) and
  each render's p50 as a multiple of it, a figure that moves less with the machine's load;
* the edit.apply job writing a version to 1,000 assets (versions/s, catalog only);
* rendering 1,000 previews (512 px long edge) with that version (previews/s), and the
  2048 px throughput implied by the p50.

Run: .venv/bin/python benchmarks/render.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from kilo.edit.params import EditParams
from kilo.edit.render import render_image

PHOTOS = Path(__file__).resolve().parents[1].parent / "shared" / "photos"
FILES = ("Kleiber_by_Lukas_Baubkus.jpg", "sony_a6000_night.jpg", "plasma_Kite.jpg")
TYPICAL = EditParams(
    exposure=0.35,
    contrast=15,
    highlights=-30,
    shadows=20,
    whites=5,
    blacks=-5,
    temperature=5600,
    tint=5,
    vibrance=15,
    tone_curve=[[0, 0], [64, 58], [192, 198], [255, 255]],
    sharpness=40,
)
FULL = TYPICAL.with_changes(
    hsl={"blue": {"sat": -15, "hue": -5}, "orange": {"lum": 10}, "green": {"hue": 10}},
    luminance_smoothing=20,
    straighten=1.5,
    saturation=5,
)


def preview(path: Path, px: int) -> Image.Image:
    im: Image.Image = Image.open(path)
    im.draft("RGB", (px, px))
    im = im.convert("RGB")
    im.thumbnail((px, px), Image.Resampling.LANCZOS)
    return im


def time_renders(images: list[Image.Image], params: EditParams, rounds: int) -> list[float]:
    render_image(images[0], params)  # tables and lazy imports
    out = []
    for _ in range(rounds):
        for im in images:
            t0 = time.perf_counter()
            render_image(im, params)
            out.append((time.perf_counter() - t0) * 1000)
    return out


def time_baseline(images: list[Image.Image], rounds: int) -> list[float]:
    """One plain numpy pass per preview: uint8 sRGB -> float32 linear through a LUT."""
    from kilo.edit.color import decode_lut

    arrays = [np.asarray(im) for im in images]
    out = []
    for _ in range(rounds):
        for arr in arrays:
            t0 = time.perf_counter()
            decode_lut()[arr]
            out.append((time.perf_counter() - t0) * 1000)
    return out


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main() -> int:
    images = [preview(PHOTOS / f, 2048) for f in FILES]
    sizes = ", ".join(f"{im.width}x{im.height}" for im in images)
    print(f"previews: {sizes}")
    base = statistics.median(time_baseline(images, 5))
    print(f"baseline (numpy float32 decode of the preview): p50 {base:.1f} ms")
    for label, params in (("typical edit", TYPICAL), ("+HSL +NR +straighten", FULL)):
        ms = time_renders(images, params, 5)
        p50 = statistics.median(ms)
        print(
            f"render 2048 px {label}: p50 {p50:.0f} ms, "
            f"p90 {pct(ms, 90):.0f} ms (n={len(ms)}, {p50 / base:.1f}x baseline)"
        )
    # the edit.apply job over 1,000 assets (catalog writes only)
    from kilo.catalog import open_catalog
    from kilo.clock import new_id, utcnow
    from kilo.edit.versions import apply_version, create_version
    from kilo.projects import create_project
    from kilo.settings import load_settings

    with tempfile.TemporaryDirectory() as home:
        settings = load_settings(home=Path(home), workers=1, clip_enabled=False)
        cat = open_catalog(settings)
        project = create_project(cat, "bench")
        now = utcnow()
        ids = [new_id() for _ in range(1000)]
        cat.executemany(
            "INSERT INTO assets (id, project_id, filename, source_uri, ingested_at, state, "
            "updated_at) VALUES (?, ?, ?, ?, ?, 'ready', ?)",
            [[a, project.id, f"{i}.jpg", f"/x/{i}.jpg", now, now] for i, a in enumerate(ids)],
        )
        hero = create_version(cat, ids[0], {"params": TYPICAL.dump()}, learn=False)
        t0 = time.perf_counter()
        apply_version(cat, hero.id, ids[1:], wait=True)
        dt = time.perf_counter() - t0
        n = int(cat.scalar("SELECT count(*) FROM edit_versions"))
        cat.close()
    print(
        f"edit.apply job, 999 assets, create_versions: {dt:.2f} s "
        f"({999 / dt:.0f} versions/s, {n} rows)"
    )
    small = [preview(PHOTOS / f, 512) for f in FILES]
    t0 = time.perf_counter()
    for i in range(1000):
        render_image(small[i % len(small)], TYPICAL)
    dt = time.perf_counter() - t0
    print(f"render 1,000 previews at 512 px: {dt:.1f} s ({1000 / dt:.0f} previews/s)")
    p50 = statistics.median(time_renders(images, TYPICAL, 2))
    print(
        f"implied 1,000 previews at 2048 px: {p50:.0f} s one at a time "
        f"({1000 / p50:.1f} previews/s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
