"""Camera-like 24 MP JPEGs for the speed benchmarks: real photos of ../shared/photos upscaled
to 6000 x 4000 (or 4000 x 6000), with luminance-dependent sensor-like noise so the pixels are
not smooth interpolation (which JPEG compresses and decodes unusually fast), quality 90,
4:2:0, carrying the source's EXIF (a camera's files always have some).

    make_camera_jpegs(dest, count) -> list[Path]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "photos"
LONG, SHORT = 6000, 4000


def make_camera_jpegs(dest: Path, count: int, photos: Path = PHOTOS, seed: int = 7) -> list[Path]:
    """``count`` files in ``dest`` (made once: existing ones are kept)."""
    dest.mkdir(parents=True, exist_ok=True)
    sources = sorted(p for p in photos.glob("*.jpg") if p.stat().st_size > 100_000)
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        path = dest / f"cam_{i:04d}.jpg"
        out.append(path)
        if path.exists():
            continue
        src = sources[i % len(sources)]
        with Image.open(src) as im:
            exif = im.info.get("exif", b"")
            rgb = im.convert("RGB")
        size = (LONG, SHORT) if rgb.width >= rgb.height else (SHORT, LONG)
        big = np.asarray(rgb.resize(size, Image.Resampling.BICUBIC), dtype=np.float32)
        sigma = 1.5 + 3.0 * np.sqrt(big.mean(axis=2, keepdims=True) / 255.0)  # shot noise
        noisy = big + rng.standard_normal(big.shape, dtype=np.float32) * sigma
        Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(
            path, quality=90, subsampling=2, exif=exif
        )
    return out
