"""Where the eye goes in a photo without faces: the subject region a crop should keep.

The saliency estimate is OpenCV's own (``cv2.saliency.StaticSaliencySpectralResidual``, Hou &
Zhang 2007, from the opencv-contrib build that kilo depends on); kilo does not compute saliency
itself. It is run on each channel of the photo in CIELAB (lightness and both colour axes,
each weighted by how much that channel varies, so a grey photo's flat colour channels add
nothing), so a colourful kite in a blue sky stands out as much as a bright cloud. Two priors
follow, as a photographer frames: the part in focus (local Laplacian energy, ``cv2.Laplacian``:
a shallow depth of field marks the subject) and the middle of the frame (a mild centre
weight). The subject is the region around the heaviest peak of that map, grown down to a
fifth of the peak (hysteresis; less when that would take most of the frame), so it covers a
whole dandelion, not its brightest tuft.

See ``docs/models/saliency.md`` for what this finds and misses.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from kilo.errors import ModelUnavailable

log = logging.getLogger(__name__)

#: the long side of the copy the map is computed on (OpenCV's spectral residual itself works
#: on 64x64)
MAP_SIDE = 256
#: the peak region: cells at least this share of the map's maximum ...
PEAK = 0.7
#: ... grown through the cells at least one of these shares of it (the first that keeps the
#: region's box to MAX_AREA of the frame)
EXTENTS = (0.2, 0.3, 0.4, 0.5)
MAX_AREA = 0.7
#: how much a cell in a corner is worth against one in the middle (1 - CENTRE)
CENTRE = 0.6
#: Gaussian smoothing of the saliency map, as a share of its long side
SMOOTH = 0.02


@dataclass(frozen=True, slots=True)
class SalientRegion:
    """The salient subject as fractions of the photo's width and height."""

    cx: float
    cy: float
    box: tuple[float, float, float, float]  # x0, y0, x1, y1


def saliency_available() -> bool:
    """True when OpenCV's saliency module (opencv-contrib) is installed."""
    import cv2

    return hasattr(cv2, "saliency")


def _small(rgb: np.ndarray, side: int) -> np.ndarray:
    import cv2

    h, w = rgb.shape[:2]
    scale = min(1.0, side / max(h, w))
    if scale >= 1.0:
        return rgb
    size = (max(8, round(w * scale)), max(8, round(h * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def spectral_residual(rgb: np.ndarray) -> np.ndarray:
    """OpenCV's spectral-residual saliency of an RGB uint8 array, summed over its CIELAB
    channels (each weighted by its spread), at the array's size; :class:`ModelUnavailable`
    without opencv-contrib."""
    import cv2

    if not saliency_available():
        raise ModelUnavailable(
            "OpenCV's saliency module is not installed (opencv-contrib-python-headless)"
        )
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    spread = [float(lab[:, :, c].std()) for c in range(3)]
    top = max(spread)
    out = np.zeros(rgb.shape[:2], dtype=np.float64)
    if top <= 0:
        return out
    contrib: Any = cv2.saliency  # its stubs lack the factory functions
    detector = contrib.StaticSaliencySpectralResidual_create()
    for c in range(3):
        if spread[c] < 0.02 * top:
            continue
        ok, sal = detector.computeSaliency(np.ascontiguousarray(lab[:, :, c]))
        if ok:
            out += np.asarray(sal, dtype=np.float64) * (spread[c] / top)
    return out


def focus_map(rgb: np.ndarray) -> np.ndarray:
    """Local detail (root of the smoothed squared Laplacian) of an RGB uint8 array."""
    import cv2

    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    lap = cv2.Laplacian(gray, cv2.CV_32F, ksize=3)
    energy = cv2.GaussianBlur(lap * lap, (0, 0), 0.02 * max(gray.shape))
    return np.sqrt(np.maximum(energy, 0)).astype(np.float64)


def _normalised(m: np.ndarray) -> np.ndarray:
    peak = float(m.max())
    return m / peak if peak > 0 else np.zeros_like(m)


def subject_map(rgb: np.ndarray, side: int = MAP_SIDE) -> np.ndarray:
    """Saliency x focus x centre weight on a ``side``-pixel copy of ``rgb``, in [0, 1]."""
    import cv2

    small = _small(rgb, side)
    sal = _normalised(spectral_residual(small))
    sal = _normalised(cv2.GaussianBlur(sal, (0, 0), SMOOTH * max(sal.shape)))
    m = sal * _normalised(focus_map(small))
    h, w = m.shape
    yy, xx = np.mgrid[0:h, 0:w]
    dist = np.hypot((xx + 0.5) / w - 0.5, (yy + 0.5) / h - 0.5) / np.sqrt(0.5)
    return _normalised(m * (1.0 - CENTRE * dist))


def salient_region(m: np.ndarray) -> SalientRegion | None:
    """The region around the strongest peak of a subject map (None for an empty map): the
    cells above :data:`PEAK` that weigh most, grown through the cells above the first of
    :data:`EXTENTS` that keeps its box to at most :data:`MAX_AREA` of the frame."""
    import cv2

    if float(m.max()) <= 0:
        return None
    m = _normalised(m)
    h, w = m.shape
    n, peaks = cv2.connectedComponents((m >= PEAK).astype(np.uint8), None, 8)
    # the peak that weighs most, its highest cells counting most (a tall kite beats a wide
    # cloud bank, a large sharp leaf beats one bright speck)
    weight = np.bincount(peaks.ravel(), weights=(m**4).ravel(), minlength=n)
    weight[0] = -1.0
    seed = peaks == int(np.argmax(weight))
    top = np.unravel_index(int(np.argmax(np.where(seed, m, -1.0))), m.shape)
    region = seed
    for level in EXTENTS:
        _, grown = cv2.connectedComponents((m >= level).astype(np.uint8), None, 8)
        candidate = grown == grown[top]
        ys, xs = np.nonzero(candidate)
        if (xs.max() + 1 - xs.min()) * (ys.max() + 1 - ys.min()) <= MAX_AREA * h * w:
            region = candidate
            break
    ys, xs = np.nonzero(region)
    weights = np.where(region, m, 0.0)
    total = float(weights.sum())
    cx = float(weights.sum(axis=0) @ (np.arange(w) + 0.5)) / total
    cy = float(weights.sum(axis=1) @ (np.arange(h) + 0.5)) / total
    box = (xs.min() / w, ys.min() / h, (xs.max() + 1) / w, (ys.max() + 1) / h)
    return SalientRegion(cx / w, cy / h, box)


def find_salient_region(rgb: np.ndarray) -> SalientRegion | None:
    """The salient subject of an RGB uint8 array; :class:`ModelUnavailable` without
    OpenCV's saliency module."""
    return salient_region(subject_map(rgb))
