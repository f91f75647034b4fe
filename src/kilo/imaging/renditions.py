"""Resizing and JPEG encoding of renditions (thumbnail, preview).

Measured on 2 cores (``benchmarks/ingest.py``): after a Pillow draft-mode decode, resizing
with OpenCV (``INTER_LINEAR`` below a 2x reduction, ``INTER_AREA`` above) plus Pillow's
libjpeg-turbo encoder costs about 15-30% of the decode, against 70-100% for Pillow's own
``resize`` (bicubic with reducing gap). OpenCV is imported lazily; without it Pillow is used.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

JPEG_QUALITY = 85


@dataclass(frozen=True, slots=True)
class Rendition:
    kind: str
    data: bytes
    width: int
    height: int
    content_type: str = "image/jpeg"


def fit_size(size: tuple[int, int], max_px: int | None) -> tuple[int, int]:
    """``size`` scaled so that its long edge is at most ``max_px`` (never enlarged)."""
    w, h = size
    if max_px is None or max(w, h) <= max_px:
        return w, h
    scale = max_px / max(w, h)
    return max(1, round(w * scale)), max(1, round(h * scale))


def resize_long_edge(image: Image.Image, max_px: int | None) -> Image.Image:
    """``image`` with its long edge at most ``max_px`` (good quality, fast)."""
    target = fit_size(image.size, max_px)
    if target == image.size:
        return image
    if image.mode in ("RGB", "L"):
        try:
            import cv2
            import numpy as np
        except ImportError:  # pragma: no cover - opencv is a dependency
            pass
        else:
            factor = image.size[0] / target[0]
            interp = cv2.INTER_LINEAR if factor < 2 else cv2.INTER_AREA
            arr = cv2.resize(np.asarray(image), target, interpolation=interp)
            return Image.fromarray(arr, mode=image.mode)
    return image.resize(target, Image.Resampling.BICUBIC, reducing_gap=2.0)


def encode_jpeg(image: Image.Image, quality: int = JPEG_QUALITY) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def make_renditions(preview: Image.Image, sizes: dict[str, int]) -> list[Rendition]:
    """JPEG renditions of an RGB, oriented, sRGB image, largest first, each made from the last.

    ``sizes`` maps kind to long edge, e.g. ``{"preview": 2048, "thumbnail": 512}``.
    """
    out: list[Rendition] = []
    current = preview
    for kind, px in sorted(sizes.items(), key=lambda kv: -kv[1]):
        current = resize_long_edge(current, px)
        out.append(Rendition(kind, encode_jpeg(current), current.width, current.height))
    return out
