"""Technical quality signals of a photo, each a float in [0, 1], computed from its preview.

Every signal is measured on the image scaled so its long edge is :data:`ANALYSIS_PX` (so
values are comparable between a 24 MP original and its 2048 px preview). Meanings:

``sharpness``
    Is the subject in focus, free of motion blur: the blur width of the sharpest region's
    strongest edges (:mod:`kilo.measure.focus`, the re-blur gradient ratio), 1 at or below
    0.5 px of blur at the analysis size, 0 at 1.6 px or more, log-linear between (about 0.5 =
    edges 0.9 px wide: soft but usable), capped at ``1 - smear`` where the gradients are far
    more one-way at full size than at a quarter of it (a straight motion smear, whose faint
    edges the width cannot see: :func:`kilo.measure.focus.smear_excess`). Independent of
    brightness, contrast and how much detail the scene has; a small subject in focus on a
    blurred background scores high. The photos it was checked on and its AUC beside peers:
    docs/culling.md, "Sharpness on real photos".
``detail``
    The amount of fine detail in the most detailed region: the 90th percentile, over a 6x6
    grid of tiles, of the noise-corrected variance of the Laplacian, on a log scale (0 = none,
    1 = crisp fine detail). Depends on content (a busy scene has more) and so means little
    across photos; the winner ranker compares it between frames of one burst.
``sharpness_global``
    ``detail`` over the whole frame (mean of the tiles).
``motion_blur`` / ``defocus``
    How much of the blur looks directional (motion) or isotropic (defocus): the blur amount
    ``1 - sharpness`` split by the anisotropy of the gradient structure tensor. Both near 0 on
    a sharp frame. Rough: strongly striped scenes (blinds, text lines) look like motion.
``brightness``
    Mean luminance (Rec. 709, gamma-encoded), 0 black to 1 white.
``highlights_clipped`` / ``shadows_crushed``
    Share of pixels at >= 250/255 or <= 5/255 luminance.
``exposure``
    Exposure quality: 1 when the mean sits in the mid-tones and nothing clips; lowered by
    clipped highlights, crushed shadows and a mean far from mid-grey. Night scenes and high-key
    photos score lower on purpose-neutral grounds; the ranker compares frames of one cluster.
``noise``
    Estimated noise standard deviation (Immerkaer's method on flat areas), 1 = sigma >= 20/255.
``contrast``
    RMS contrast: luminance standard deviation / 0.3, capped at 1.
``blockiness``
    JPEG block artefacts: how much stronger the steps are on the 8x8 block grid of the image
    given than between other pixels, on a log scale (0 = none, 1 = four times stronger). A
    frame compressed hard has more "detail" at block edges; this signal lets the ranker see
    it for what it is. Measured at the image's own resolution: the blocks of an original
    that was downscaled into the preview are no longer on its 8-pixel grid.
``faces``
    Number of faces found, divided by 20 and capped at 1 (0.05 = one face).
``face_sharpness``
    Mean ``detail`` (same scale) inside the prominent faces (at least 40 %
    as wide as the largest one). Absent without faces.
``eye_sharpness``
    The same inside the eyes of the prominent faces whose eyes were judged: where focus
    matters most in a portrait. Absent when no eye was judged.
``eyes_open``
    Share of the prominent faces whose eyes could be judged that have them open (1 = all
    open; any blink lowers it). Absent when no face could be judged.
``faces_judged``
    How many faces ``eyes_open`` is over, divided by 20 (what the reasons count: "all 6
    faces have eyes open").

Faces come from :mod:`kilo.measure.faces`: MediaPipe's BlazeFace, face mesh and iris models when
installed, else OpenCV's Haar cascades (frontal only; "fewer than two eyes found" as the
closed-eye test).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from kilo.imaging.resize import shrink_array
from kilo.measure.faces import haar
from kilo.measure.faces.haar import DETECT_PX, FaceBox
from kilo.measure.focus import edge_blur_sigma, focus_score, smear_excess, smear_score

if TYPE_CHECKING:
    from kilo.measure.faces import Face

__all__ = [
    "ANALYSIS_PX",
    "SIGNALS_VERSION",
    "SIGNAL_NAMES",
    "FaceBox",
    "compute_signals",
    "detect_faces",
    "detect_faces_haar",
    "measure_image",
    "to_rgb_array",
]

SIGNALS_VERSION = "signals-4"
ANALYSIS_PX = 1024
_GRID = 6
# log10 of a noise-corrected Laplacian variance that counts as "fully sharp" at ANALYSIS_PX
_SHARP_LOG_MAX = 3.6
SIGNAL_NAMES: tuple[str, ...] = (
    "sharpness",
    "detail",
    "sharpness_global",
    "motion_blur",
    "defocus",
    "brightness",
    "highlights_clipped",
    "shadows_crushed",
    "exposure",
    "noise",
    "contrast",
    "blockiness",
    "faces",
    "face_sharpness",
    "eye_sharpness",
    "eyes_open",
    "faces_judged",
)
#: a face at least this share of the largest one's width is prominent (judged)
PROMINENT = 0.4


def to_rgb_array(img: Image.Image | np.ndarray) -> np.ndarray:
    """An ``HxWx3`` uint8 RGB array from a PIL image or an array (gray, RGB or RGBA)."""
    if isinstance(img, Image.Image):
        return np.asarray(img.convert("RGB"))
    arr = np.asarray(img)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.shape[2] == 4:
        arr = arr[:, :, :3]
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    return arr


def _luma(rgb: np.ndarray) -> np.ndarray:
    f = rgb.astype(np.float32)
    out: np.ndarray = 0.2126 * f[:, :, 0] + 0.7152 * f[:, :, 1] + 0.0722 * f[:, :, 2]
    return out


def _noise_sigma(gray: np.ndarray) -> float:
    """Immerkaer's noise estimate (in 0..255 units) on the flatter half of the image."""
    import cv2

    if min(gray.shape) < 8:
        return 0.0
    kernel = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)
    resp = np.abs(cv2.filter2D(gray, cv2.CV_32F, kernel))[1:-1, 1:-1]
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)[1:-1, 1:-1]
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)[1:-1, 1:-1]
    grad = np.abs(gx) + np.abs(gy)
    flat = grad <= np.percentile(grad, 50)
    if not flat.any():
        return 0.0
    return float(math.sqrt(math.pi / 2.0) * resp[flat].mean() / 6.0)


def _detail_map(luma: np.ndarray) -> tuple[np.ndarray, float]:
    """Squared Laplacian of the contrast-normalised, lightly smoothed luminance, and its floor.

    Normalising the luminance to a fixed standard deviation makes the measure independent of
    exposure (a brighter frame is not "sharper"); the 1 px Gaussian pre-blur and subtracting
    the response of the flattest 30 % of the frame (its noise floor) keep noise from counting
    as detail.
    """
    import cv2

    base = cv2.GaussianBlur(luma, (0, 0), 2.0)
    scale = 50.0 / max(1.0, float(base.std()))
    scale = min(8.0, max(0.25, scale))
    norm = luma * scale
    lap = cv2.Laplacian(cv2.GaussianBlur(norm, (0, 0), 1.0), cv2.CV_32F, ksize=1)
    energy: np.ndarray = lap * lap
    gx = cv2.Sobel(base, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(base, cv2.CV_32F, 0, 1, ksize=3)
    grad = np.abs(gx) + np.abs(gy)
    flat = grad <= np.percentile(grad, 30)
    floor = float(energy[flat].mean()) if flat.any() else 0.0
    return energy, floor


def _tile_detail(energy: np.ndarray, floor: float) -> np.ndarray:
    """Mean detail energy above the noise floor per tile of a ``_GRID`` x ``_GRID`` grid."""
    h, w = energy.shape
    ys = np.linspace(0, h, _GRID + 1, dtype=int)
    xs = np.linspace(0, w, _GRID + 1, dtype=int)
    out = np.zeros((_GRID, _GRID), dtype=np.float64)
    for i in range(_GRID):
        for j in range(_GRID):
            tile = energy[ys[i] : ys[i + 1], xs[j] : xs[j + 1]]
            if tile.size:
                out[i, j] = max(0.0, float(tile.mean()) - floor)
    return out


def _sharp_score(variance: float) -> float:
    return float(min(1.0, max(0.0, math.log10(1.0 + variance) / _SHARP_LOG_MAX)))


def _anisotropy(gray: np.ndarray) -> float:
    """0 for isotropic gradients, 1 when all gradient energy points one way."""
    import cv2

    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
    jxx = float((gx * gx).mean())
    jyy = float((gy * gy).mean())
    jxy = float((gx * gy).mean())
    tr = jxx + jyy
    if tr <= 1e-9:
        return 0.0
    disc = math.sqrt(max(0.0, (jxx - jyy) ** 2 + 4.0 * jxy * jxy))
    return float(disc / tr)


def detect_faces(rgb: np.ndarray) -> list[Face]:
    """Faces in an ``HxWx3`` RGB array, in that array's pixel coordinates
    (:mod:`kilo.measure.faces`)."""
    from kilo.measure.faces import find_faces

    return find_faces(to_rgb_array(rgb))


def detect_faces_haar(rgb: np.ndarray, *, max_px: int = DETECT_PX) -> list[FaceBox]:
    """Frontal faces in an RGB (or gray, or RGBA) array by OpenCV's Haar cascades, the
    fallback detector (:func:`kilo.measure.faces.haar.detect_faces_haar`)."""
    return haar.detect_faces_haar(to_rgb_array(rgb), max_px=max_px)


def _region_sharpness(
    energy: np.ndarray, floor: float, box: tuple[int, int, int, int], k: float
) -> float:
    """``sharpness`` inside a box given in full-image pixels (``k``: analysis / full scale)."""
    x, y, w, h = box
    y0, x0 = max(0, round(y * k)), max(0, round(x * k))
    y1, x1 = max(y0 + 1, round((y + h) * k)), max(x0 + 1, round((x + w) * k))
    region = energy[y0:y1, x0:x1]
    return _sharp_score(max(0.0, float(region.mean()) - floor)) if region.size else 0.0


def _face_signals(
    found: list[Face], k: float, energy: np.ndarray, floor: float
) -> dict[str, float]:
    """faces, face_sharpness, eye_sharpness, eyes_open and faces_judged (module docstring)."""
    out: dict[str, float] = {"faces": min(1.0, len(found) / 20.0)}
    if not found:
        return out
    largest = max(f.w for f in found)
    prominent = [f for f in found if f.w >= PROMINENT * largest]
    boxes = [(f.x, f.y, f.w, f.h) for f in prominent]
    out["face_sharpness"] = float(np.mean([_region_sharpness(energy, floor, b, k) for b in boxes]))
    judged = [f for f in prominent if f.eyes != "unknown"]
    if judged:
        out["eyes_open"] = sum(1 for f in judged if f.eyes == "open") / len(judged)
        out["faces_judged"] = min(1.0, len(judged) / 20.0)
    eyes = [b for f in judged for b in f.eye_boxes]
    if eyes:
        out["eye_sharpness"] = float(
            np.mean([_region_sharpness(energy, floor, b, k) for b in eyes])
        )
    return out


def _blockiness(luma: np.ndarray) -> float:
    """Mean step on the 8-pixel block grid over the mean step elsewhere, both directions."""
    if min(luma.shape) < 32:
        return 0.0
    ratios = []
    for a in (luma, luma.T):
        steps = np.abs(np.diff(a, axis=1)).mean(axis=0, dtype=np.float64)
        on = np.arange(len(steps)) % 8 == 7
        ratios.append((float(steps[on].mean()) + 0.5) / (float(steps[~on].mean()) + 0.5))
    return max(0.0, math.log(float(np.mean(ratios))) / math.log(4.0))


def compute_signals(img: Image.Image | np.ndarray, *, faces: bool = True) -> dict[str, float]:
    """All signals of one image (see the module docstring), rounded to 4 decimals."""
    return measure_image(img, faces=faces)[0]


def measure_image(
    img: Image.Image | np.ndarray, *, faces: bool = True
) -> tuple[dict[str, float], list[Face]]:
    """The signals of one image and the faces found in it (in its pixel coordinates)."""
    import cv2

    full_rgb = to_rgb_array(img)
    blockiness = _blockiness(cv2.cvtColor(full_rgb, cv2.COLOR_RGB2GRAY).astype(np.int16))
    rgb = shrink_array(full_rgb, ANALYSIS_PX)
    luma = _luma(rgb)
    noise_sigma = _noise_sigma(luma)
    energy, floor = _detail_map(luma)
    tiles = _tile_detail(energy, floor)
    flat_tiles = np.sort(tiles.flatten())
    best = float(np.percentile(flat_tiles, 90))
    detail = _sharp_score(best)
    sharp_global = _sharp_score(float(flat_tiles.mean()))
    sharpness = min(
        focus_score(edge_blur_sigma(luma, noise_sigma)), 1.0 - smear_score(smear_excess(luma))
    )
    blur = 1.0 - sharpness
    aniso = _anisotropy(cv2.GaussianBlur(luma, (0, 0), 1.0))
    # natural scenes show some anisotropy; only the excess over ~0.15 counts as directional
    direction = min(1.0, max(0.0, (aniso - 0.15) / 0.6))

    lum01 = luma / 255.0
    brightness = float(lum01.mean())
    high = float((luma >= 250.0).mean())
    low = float((luma <= 5.0).mean())
    mid_penalty = min(1.0, abs(brightness - 0.45) / 0.45)
    exposure = max(0.0, 1.0 - 0.6 * mid_penalty - 2.0 * high - 2.0 * low)
    contrast = min(1.0, float(lum01.std()) / 0.3)

    values: dict[str, float] = {
        "sharpness": sharpness,
        "detail": detail,
        "sharpness_global": sharp_global,
        "motion_blur": blur * direction,
        "defocus": blur * (1.0 - direction),
        "brightness": brightness,
        "highlights_clipped": high,
        "shadows_crushed": low,
        "exposure": exposure,
        "noise": min(1.0, noise_sigma / 20.0),
        "contrast": contrast,
        "blockiness": blockiness,
    }
    found = detect_faces(full_rgb) if faces else []
    if faces:
        values.update(_face_signals(found, rgb.shape[1] / full_rgb.shape[1], energy, floor))
    return {k: round(min(1.0, max(0.0, float(v))), 4) for k, v in values.items()}, found
