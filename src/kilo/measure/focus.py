"""Is the subject in focus: the blur width of the sharpest region's edges, and a 0..1 score of it.

The measure (``sharpness`` in :mod:`kilo.measure.signals`) is the re-blur ratio of Zhuo and Sim
("Defocus map estimation from a single image", Pattern Recognition 2011): at an edge blurred by a
Gaussian of width ``sigma``, blurring again by a known ``s0`` lowers the gradient by a ratio that
depends only on ``sigma``, not on the edge's contrast. So the estimate does not depend on how
bright, how contrasty or how busy a photo is, only on how wide its edges are.

Steps, on the luminance at the analysis size (long edge 1024 px):

1. edges: Canny on the gradient of the re-blurred image, its thresholds a multiple of the
   estimated noise (so noise and JPEG grain are not edges), at least 1.5 grey levels per pixel;
2. at each edge pixel, ``sigma`` from the ratio of the gradient magnitudes before and after
   re-blurring (the analysis itself blurs by ``S1`` to tame aliasing; the formula accounts for it);
3. per tile of a ``GRID`` x ``GRID`` grid with at least ``MIN_EDGES`` edge pixels: the median
   ``sigma`` of its strongest edges (the top ``1 - STRONG`` share by gradient, so the silhouette of
   an in-focus subject counts and its soft inner texture does not), taken per edge orientation
   and the blurriest orientation kept (motion blur widens only the edges across its path);
4. the frame's blur is its sharpest tile's: a small subject in focus on a blurred background
   (macro, portrait) is "in focus", as a photographer judges it.

A frame with too few edges to judge (fog, a plain wall) gets :data:`NO_EDGES_SIGMA`.

Edge width alone misses motion blur: a straight smear is a box, not a Gaussian, so the smeared
strokes keep crisp sides and crisp ends, and the edges across the smear grow too faint to be
found at all (``cv_text_motion.jpg``: every edge its sharpest tiles keep runs along the smear).
What such a smear does leave is direction: at full size the gradients that remain all point
across the path, while at a quarter of the size, where the smear is a few pixels, the scene's
own mix of directions returns. :func:`smear_excess` is that difference of the gradient
structure tensor's coherence (0 = gradients in every direction, 1 = all one way), fine minus
coarse: near 0 for a sharp or defocused frame, whatever its content (a striped or grassy scene
is as directional at both sizes), and :func:`smear_score` turns it into a 0..1 amount.
``sharpness`` is the lower of :func:`focus_score` and ``1 - smear_score``. Blind spots: a smear
along the way the scene's gradients already point makes the frame less one-way and is not seen;
a smear of a small subject (one bird in a burst) leaves the frame's directions as they were.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "BLUR_PX",
    "GRID",
    "MIN_EDGES",
    "NO_EDGES_SIGMA",
    "SHARP_PX",
    "SMEAR_FROM",
    "SMEAR_SPAN",
    "STRONG",
    "edge_blur_sigma",
    "focus_score",
    "smear_excess",
    "smear_score",
]

#: pre-smoothing of the analysis (px) and the re-blur (px)
S1 = 0.5
S0 = 1.0
GRID = 8
#: share of a tile's edge pixels, weakest first, left out
STRONG = 0.7
MIN_EDGES = 40
#: edge orientations told apart (0, 45, 90, 135 degrees) and the edges one needs to count
ORIENTATIONS = 4
MIN_PER_ORIENTATION = 8
#: Canny's high threshold in noise units of the re-blurred gradient, and its floor (levels / px)
NOISE_K = 5.0
MIN_GRADIENT = 1.5
#: the blur width (px at the analysis size) that scores 1 and the one that scores 0
SHARP_PX = 0.5
BLUR_PX = 1.6
NO_EDGES_SIGMA = 10.0
_SIGMA_CAP = 10.0
#: the coarse view of :func:`smear_excess` is the analysis image shrunk by this factor
COARSE = 4
#: the coherence excess where a smear starts to count, and the further excess that makes it total
SMEAR_FROM = 0.25
SMEAR_SPAN = 0.25


def _gradients(gray: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    import cv2

    smooth = cv2.GaussianBlur(gray, (0, 0), sigma)
    gx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3) / 8.0
    gy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    return gx, gy


_NOISE_GAIN: dict[float, float] = {}


def _noise_gain(sigma: float) -> float:
    """Mean + one standard deviation of the gradient magnitude of unit white noise after the
    same smoothing: converts a noise sigma into a gradient level noise rarely exceeds."""
    if sigma not in _NOISE_GAIN:
        noise = np.random.default_rng(0).standard_normal((256, 256)).astype(np.float32)
        gx, gy = _gradients(noise, sigma)
        mag = np.hypot(gx, gy)[8:-8, 8:-8]
        _NOISE_GAIN[sigma] = float(mag.mean() + mag.std())
    return _NOISE_GAIN[sigma]


def _edge_sigmas(
    gray: np.ndarray, noise_sigma: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Blur width, gradient, orientation bin and (row, col) of every edge pixel."""
    import cv2

    s2 = math.hypot(S1, S0)
    gx1, gy1 = _gradients(gray, S1)
    gx2, gy2 = _gradients(gray, s2)
    high = max(MIN_GRADIENT, NOISE_K * noise_sigma * _noise_gain(s2))
    scale = 64.0  # Canny takes int16 gradients
    edges = (
        cv2.Canny(
            np.clip(gx2 * scale, -32767, 32767).astype(np.int16),
            np.clip(gy2 * scale, -32767, 32767).astype(np.int16),
            high * scale * 0.5,
            high * scale,
            L2gradient=True,
        )
        > 0
    )
    edges[:6, :] = False
    edges[-6:, :] = False
    edges[:, :6] = False
    edges[:, -6:] = False
    m1 = np.hypot(gx1, gy1)[edges]
    m2 = np.hypot(gx2, gy2)[edges]
    r2 = (m1 / np.maximum(m2, 1e-6)) ** 2
    sig2 = (s2 * s2 - r2 * S1 * S1) / np.maximum(r2 - 1.0, 1e-6)
    sigma = np.sqrt(np.clip(sig2, 0.0, _SIGMA_CAP**2))
    angle = np.arctan2(gy2[edges], gx2[edges]) % math.pi
    orient = (angle / (math.pi / ORIENTATIONS) + 0.5).astype(int) % ORIENTATIONS
    return sigma, m2, orient, np.argwhere(edges)


def _tile_sigma(sigma: np.ndarray, orient: np.ndarray) -> float:
    """The blurriest orientation's median: motion blur widens the edges across its path only."""
    per = [
        float(np.median(sigma[orient == k]))
        for k in range(ORIENTATIONS)
        if int((orient == k).sum()) >= MIN_PER_ORIENTATION
    ]
    return max(per) if per else float(np.median(sigma))


def edge_blur_sigma(
    gray: np.ndarray, noise_sigma: float, *, grid: int = GRID, strong: float = STRONG
) -> float:
    """Blur width in pixels (Gaussian sigma) of the sharpest tile's strongest edges.

    ``gray``: float32 luminance 0..255 at the analysis size; ``noise_sigma`` in the same units.
    """
    sigma, strength, orient, rc = _edge_sigmas(gray.astype(np.float32), noise_sigma)
    if sigma.size < MIN_EDGES:
        return NO_EDGES_SIGMA
    h, w = gray.shape
    tile = np.minimum(rc[:, 0] * grid // h, grid - 1) * grid + np.minimum(
        rc[:, 1] * grid // w, grid - 1
    )
    best = NO_EDGES_SIGMA
    for t in np.unique(tile):
        inside = tile == t
        if int(inside.sum()) < MIN_EDGES:
            continue
        s, g, o = sigma[inside], strength[inside], orient[inside]
        if strong > 0:
            keep = g >= np.quantile(g, strong)
            s, o = s[keep], o[keep]
        best = min(best, _tile_sigma(s, o))
    return best


def focus_score(sigma: float) -> float:
    """1 at or below :data:`SHARP_PX` of blur, 0 at :data:`BLUR_PX` or more, log-linear between."""
    if sigma <= SHARP_PX:
        return 1.0
    value = math.log(BLUR_PX / sigma) / math.log(BLUR_PX / SHARP_PX)
    return float(min(1.0, max(0.0, value)))


def _coherence(gray: np.ndarray) -> float:
    """0 when the gradients point every way, 1 when all point one way (structure tensor)."""
    gx, gy = _gradients(gray, 1.0)
    jxx, jyy, jxy = float((gx * gx).mean()), float((gy * gy).mean()), float((gx * gy).mean())
    trace = jxx + jyy
    if trace <= 1e-9:
        return 0.0
    return math.sqrt((jxx - jyy) ** 2 + 4.0 * jxy * jxy) / trace


def smear_excess(gray: np.ndarray) -> float:
    """How much more one-way the gradients are at the analysis size than at 1/:data:`COARSE`
    of it (0 when not more): the mark a straight smear (camera or subject motion) leaves."""
    import cv2

    h, w = gray.shape
    if min(h, w) < 16 * COARSE:
        return 0.0
    coarse = cv2.resize(
        gray.astype(np.float32), (w // COARSE, h // COARSE), interpolation=cv2.INTER_AREA
    )
    return max(0.0, _coherence(gray.astype(np.float32)) - _coherence(coarse))


def smear_score(excess: float) -> float:
    """0 up to :data:`SMEAR_FROM` of excess, 1 from ``SMEAR_FROM + SMEAR_SPAN``, linear between."""
    return float(min(1.0, max(0.0, (excess - SMEAR_FROM) / SMEAR_SPAN)))
