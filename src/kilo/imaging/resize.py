"""Sizing images: the size that fits a long edge, and images brought down to it."""

from __future__ import annotations

from typing import Any

from PIL import Image

__all__ = ["fit_size", "resize_array", "resize_long_edge", "shrink_array"]


def fit_size(size: tuple[int, int], max_px: int | None) -> tuple[int, int]:
    """``size`` scaled so that its long edge is at most ``max_px`` (never enlarged)."""
    w, h = size
    if max_px is None or max(w, h) <= max_px:
        return w, h
    scale = max_px / max(w, h)
    return max(1, round(w * scale)), max(1, round(h * scale))


def resize_array(arr: Any, max_px: int | None) -> Any:
    """A numpy image (H x W [x C], uint8) with its long edge at most ``max_px``: exact 2x2
    box halvings while at least 2x too large, then one bilinear step."""
    import cv2

    h, w = arr.shape[:2]
    target = fit_size((w, h), max_px)
    while w >= 2 * target[0] and h >= 2 * target[1] and (w, h) != target:
        w, h = w // 2, h // 2
        arr = cv2.resize(arr, (w, h), interpolation=cv2.INTER_LINEAR)
    if (w, h) != target:
        arr = cv2.resize(arr, target, interpolation=cv2.INTER_LINEAR)
    return arr


def resize_long_edge(image: Image.Image, max_px: int | None) -> Image.Image:
    """``image`` with its long edge at most ``max_px`` (good quality, fast)."""
    target = fit_size(image.size, max_px)
    if target == image.size:
        return image
    if image.mode in ("RGB", "L"):
        import numpy as np

        return Image.fromarray(resize_array(np.asarray(image), max_px), mode=image.mode)
    return image.resize(target, Image.Resampling.BICUBIC, reducing_gap=2.0)


def shrink_array(rgb: Any, max_px: int) -> Any:
    """A numpy image with its long edge at most ``max_px`` by area averaging (OpenCV's
    ``INTER_AREA``, in one step): slower than :func:`resize_array`, what measurements use."""
    import cv2
    import numpy as np

    h, w = rgb.shape[:2]
    scale = max_px / max(h, w)
    if scale >= 1.0:
        return rgb
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA))
