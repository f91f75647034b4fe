"""The objective "Fix": auto white balance and auto exposure/tone from image statistics.

Deterministic (a function of the pixels only) and conservative: it corrects most of a
measured cast or exposure error, never all of it, because a grey-world estimate cannot tell a
blue sky from a blue cast. Style DNA learns the photographer's own layer on top of it.

>>> params = fix_image(Image.open("photo.jpg"))   # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from kilo.edit.color import LUMA, REF_K, decode_lut, white_rgb
from kilo.edit.params import AS_SHOT_K, EditParams

STATS_PX = 256
WB_STRENGTH = 0.6
WB_MAX_MIRED = 50.0
WB_MAX_TINT = 30.0
EXPOSURE_STRENGTH = 0.8
EXPOSURE_TARGET = 0.18  # linear log-average luminance of a well exposed photo
EXPOSURE_DEAD_ZONE = 0.5  # stops of key error left alone (low- and high-key photos)
MAX_FIX_EV = 1.5


@dataclass(frozen=True, slots=True)
class ImageStats:
    """Color and tone statistics of a photo (of a small copy, linear light)."""

    #: illuminant color estimate (linear RGB, luminance 1) and its temperature/tint reading
    illuminant: tuple[float, float, float]
    kelvin: float
    tint: float
    #: log2 of the log-average luminance, and its spread (stops)
    log_key: float
    log_spread: float
    #: perceptual luminance (Y^(1/2.2)) percentiles 1, 10, 50, 90, 99
    percentiles: tuple[float, float, float, float, float]
    clipped: float  # share of pixels with a channel at 254+
    crushed: float  # share of pixels with luminance below 1 %
    saturation: float  # mean chroma / luminance (linear)
    #: mean log chromaticities log(r/g), log(b/g)
    chroma_rg: float
    chroma_bg: float


def _small_linear(img: Image.Image | NDArray[Any], max_px: int) -> NDArray[np.float32]:
    from kilo.edit.render import to_rgb8

    if isinstance(img, Image.Image) and max(img.size) > max_px:
        small = img.convert("RGB")
        small.thumbnail((max_px, max_px), Image.Resampling.BOX)
        arr = to_rgb8(small)
    else:
        arr = to_rgb8(img)
        if max(arr.shape[:2]) > max_px:
            import cv2

            scale = max_px / max(arr.shape[:2])
            size = (max(1, round(arr.shape[1] * scale)), max(1, round(arr.shape[0] * scale)))
            arr = np.asarray(cv2.resize(arr, size, interpolation=cv2.INTER_AREA), np.uint8)
    clipped = arr.max(axis=-1) >= 254
    lin = decode_lut()[arr].reshape(-1, 3)
    return np.concatenate([lin, clipped.reshape(-1, 1).astype(np.float32)], axis=1)


@lru_cache(maxsize=1)
def _rb_table() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """log(white_r / white_b) over a mired grid (monotone in temperature)."""
    mireds = np.arange(20.0, 500.5, 0.5)
    whites = np.array([white_rgb(1e6 / m) for m in mireds])
    return mireds, np.log(whites[:, 0] / whites[:, 2])


def reading_of(illuminant: NDArray[np.float64]) -> tuple[float, float]:
    """The (kelvin, tint) whose white-balance gains (:func:`kilo.edit.color.wb_gains`)
    neutralise light of color ``illuminant``; a neutral illuminant reads 6500 K, tint 0."""
    mireds, log_rb = _rb_table()
    ref = white_rgb(REF_K)
    # gains = ref / white(K) must be proportional to 1 / illuminant
    target = math.log(max(illuminant[0], 1e-9) / max(illuminant[2], 1e-9)) + math.log(
        ref[0] / ref[2]
    )
    order = np.argsort(log_rb)
    m = float(np.interp(target, log_rb[order], mireds[order]))
    white = white_rgb(1e6 / m)
    gain_gr = (ref[1] / white[1]) / (ref[0] / white[0])
    # green factor f so that f * gain_gr = e_r / e_g; + tint = magenta = less green
    log_f = math.log2(max(illuminant[0], 1e-9) / max(illuminant[1], 1e-9)) - math.log2(gain_gr)
    tint = -log_f / 0.6 * 150.0
    return 1e6 / m, float(np.clip(tint, -150, 150))


def measure_image(img: Image.Image | NDArray[Any], *, max_px: int = STATS_PX) -> ImageStats:
    """Statistics of a photo: illuminant estimate, tone percentiles, clipping, colorfulness."""
    data = _small_linear(img, max_px)
    lin, clipped = data[:, :3].astype(np.float64), data[:, 3] > 0.5
    y = lin @ LUMA.astype(np.float64)
    valid = (~clipped) & (y > 0.01)
    if valid.sum() < 16:
        valid = np.ones_like(valid)
    # shades of grey (Minkowski p = 4) over the unclipped, not-black pixels
    est = np.power(np.mean(np.power(lin[valid], 4.0), axis=0), 0.25) + 1e-9
    est = est / float(LUMA.astype(np.float64) @ est)
    kelvin, tint = reading_of(est)
    logy = np.log2(np.maximum(y, 1e-4))
    perc = np.percentile(np.power(np.clip(y, 0, 1), 1 / 2.2), [1, 10, 50, 90, 99])
    chroma = np.abs(lin - y[:, None]).sum(axis=1) / np.maximum(y, 1e-3)
    safe = np.maximum(lin, 1e-4)
    return ImageStats(
        illuminant=(float(est[0]), float(est[1]), float(est[2])),
        kelvin=float(kelvin),
        tint=float(tint),
        log_key=float(np.mean(logy[valid])),
        log_spread=float(np.std(logy[valid])),
        percentiles=(
            float(perc[0]),
            float(perc[1]),
            float(perc[2]),
            float(perc[3]),
            float(perc[4]),
        ),
        clipped=float(np.mean(clipped)),
        crushed=float(np.mean(y < 0.01)),
        saturation=float(np.clip(np.median(chroma), 0, 10)),
        chroma_rg=float(np.mean(np.log(safe[valid, 0] / safe[valid, 1]))),
        chroma_bg=float(np.mean(np.log(safe[valid, 2] / safe[valid, 1]))),
    )


def fix_from_stats(stats: ImageStats) -> EditParams:
    """The Fix parameters for a photo with these statistics."""
    # white balance: move part of the way from as-shot to neutral, bounded
    ref_mired = 1e6 / REF_K
    d_mired = float(
        np.clip((1e6 / stats.kelvin - ref_mired) * WB_STRENGTH, -WB_MAX_MIRED, WB_MAX_MIRED)
    )
    kelvin = 1e6 / (ref_mired + d_mired)
    kelvin = float(np.clip(round(kelvin / 50.0) * 50.0, 2000, 50000))
    tint = float(np.clip(round(stats.tint * WB_STRENGTH), -WB_MAX_TINT, WB_MAX_TINT))
    if abs(kelvin - AS_SHOT_K) < 100 and abs(tint) < 2:
        kelvin, tint = AS_SHOT_K, 0.0
    # exposure: bring the log-average luminance towards the target, keep highlights
    err = math.log2(EXPOSURE_TARGET) - stats.log_key
    ev = math.copysign(max(0.0, abs(err) - EXPOSURE_DEAD_ZONE), err) * EXPOSURE_STRENGTH
    p99_lin = stats.percentiles[4] ** 2.2
    if ev > 0 and p99_lin > 0:
        ev = min(ev, max(0.0, math.log2(1.0 / p99_lin) + 0.5))
    if ev < 0 and stats.clipped < 0.005:
        ev = 0.0  # a bright photo that clips nothing is high key, not over-exposed
    ev = float(np.clip(round(ev * 20) / 20, -MAX_FIX_EV, MAX_FIX_EV))
    gain = 2.0**ev
    # tone from the percentiles after that exposure (perceptual scale)
    p1, p10, _, _, p99 = (min(1.5, p * gain ** (1 / 2.2)) for p in stats.percentiles)
    clipped = stats.clipped
    highlights = 0.0
    if clipped > 0.002 or p99 > 0.97:
        highlights = -min(60.0, 15.0 + clipped * 1500.0 + max(0.0, p99 - 0.97) * 200)
    shadows = min(50.0, max(0.0, (0.18 - p10) * 250.0))
    blacks = -min(30.0, max(0.0, (p1 - 0.06) * 150.0))
    whites = min(40.0, max(0.0, (0.88 - p99) * 150.0)) if clipped < 0.001 else 0.0
    contrast = min(30.0, max(0.0, (1.6 - stats.log_spread) * 25.0))
    return EditParams(
        exposure=ev,
        temperature=kelvin,
        tint=tint,
        highlights=round(highlights),
        shadows=round(shadows),
        whites=round(whites),
        blacks=round(blacks),
        contrast=round(contrast),
    )


def fix_image(img: Image.Image | NDArray[Any]) -> EditParams:
    """Fix for a photo (PIL image or HxWx3 array): white balance, exposure and tone."""
    return fix_from_stats(measure_image(img))
