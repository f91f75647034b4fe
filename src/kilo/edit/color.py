"""Color science the render pipeline and Fix share: sRGB transfer, white points, Lab, ΔE2000."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

F32 = NDArray[np.float32]
REF_K = 6500.0
#: linear sRGB -> XYZ (D65) and back
RGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ],
    dtype=np.float64,
)
XYZ_TO_RGB = np.linalg.inv(RGB_TO_XYZ)
LUMA = RGB_TO_XYZ[1].astype(np.float32)


def srgb_to_linear(v: NDArray[np.floating]) -> F32:
    v = np.asarray(v, dtype=np.float32)
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(v: NDArray[np.floating]) -> F32:
    v = np.clip(np.asarray(v, dtype=np.float32), 0.0, 1.0)
    return np.where(v <= 0.0031308, v * 12.92, 1.055 * np.power(v, 1 / 2.4) - 0.055).astype(
        np.float32
    )


@lru_cache(maxsize=1)
def decode_lut() -> F32:
    """uint8 sRGB code -> linear float32."""
    return srgb_to_linear(np.arange(256, dtype=np.float32) / 255.0)


ENCODE_STEPS = 65536


@lru_cache(maxsize=1)
def encode_table() -> F32:
    """Linear [0,1] quantised to 65536 steps -> sRGB [0,1]."""
    return linear_to_srgb(np.linspace(0.0, 1.0, ENCODE_STEPS, dtype=np.float32))


def cct_to_xy(kelvin: float) -> tuple[float, float]:
    """Chromaticity of a black body (Kim et al. cubic fit, 1667 .. 25000 K)."""
    t = float(np.clip(kelvin, 1667.0, 25000.0))
    if t <= 4000:
        x = -0.2661239e9 / t**3 - 0.2343589e6 / t**2 + 0.8776956e3 / t + 0.179910
    else:
        x = -3.0258469e9 / t**3 + 2.1070379e6 / t**2 + 0.2226347e3 / t + 0.240390
    if t <= 2222:
        y = -1.1063814 * x**3 - 1.34811020 * x**2 + 2.18555832 * x - 0.20219683
    elif t <= 4000:
        y = -0.9549476 * x**3 - 1.37418593 * x**2 + 2.09137015 * x - 0.16748867
    else:
        y = 3.0817580 * x**3 - 5.87338670 * x**2 + 3.75112997 * x - 0.37001483
    return x, y


def white_rgb(kelvin: float) -> NDArray[np.float64]:
    """Linear sRGB of a black body's white, normalised to luminance 1."""
    x, y = cct_to_xy(kelvin)
    xyz = np.array([x / y, 1.0, (1 - x - y) / y])
    return np.asarray(XYZ_TO_RGB @ xyz, dtype=np.float64)


@lru_cache(maxsize=4096)
def _wb_gains_cached(kelvin: float, tint: float) -> tuple[float, float, float]:
    g = white_rgb(REF_K) / white_rgb(kelvin)
    g[1] *= 2.0 ** (-tint / 150.0 * 0.6)  # + tint = magenta = less green
    g /= float(LUMA.astype(np.float64) @ g)  # keep luminance of grey unchanged
    return float(g[0]), float(g[1]), float(g[2])


def wb_gains(kelvin: float, tint: float) -> NDArray[np.float32]:
    """Per-channel linear gains that correct light of ``kelvin``/``tint`` to the 6500 K render."""
    return np.array(_wb_gains_cached(round(float(kelvin), 1), round(float(tint), 2)), np.float32)


def mired(kelvin: float) -> float:
    return 1e6 / float(kelvin)


# -- Lab and ΔE2000 (for benchmarks and tests) -----------------------------------------------
def srgb8_to_lab(rgb: NDArray[np.uint8]) -> NDArray[np.float64]:
    lin = decode_lut()[rgb].astype(np.float64)
    xyz = lin @ RGB_TO_XYZ.T
    white = RGB_TO_XYZ @ np.ones(3)
    t = xyz / white
    d = 6 / 29
    f = np.where(t > d**3, np.cbrt(t), t / (3 * d * d) + 4 / 29)
    lab_l = 116 * f[..., 1] - 16
    lab_a = 500 * (f[..., 0] - f[..., 1])
    lab_b = 200 * (f[..., 1] - f[..., 2])
    return np.stack([lab_l, lab_a, lab_b], axis=-1)


def delta_e2000(lab1: NDArray[np.float64], lab2: NDArray[np.float64]) -> NDArray[np.float64]:
    """CIEDE2000 color difference, element-wise over the last axis (L, a, b)."""
    l1, a1, b1 = lab1[..., 0], lab1[..., 1], lab1[..., 2]
    l2, a2, b2 = lab2[..., 0], lab2[..., 1], lab2[..., 2]
    c1 = np.hypot(a1, b1)
    c2 = np.hypot(a2, b2)
    cm = (c1 + c2) / 2
    g = 0.5 * (1 - np.sqrt(cm**7 / (cm**7 + 25.0**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    dl = l2 - l1
    dc = c2p - c1p
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(c1p * c2p == 0, 0, dh)
    dhh = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))
    lm = (l1 + l2) / 2
    cmp_ = (c1p + c2p) / 2
    hs = h1p + h2p
    hm = np.where(
        c1p * c2p == 0,
        hs,
        np.where(
            np.abs(h1p - h2p) <= 180, hs / 2, np.where(hs < 360, (hs + 360) / 2, (hs - 360) / 2)
        ),
    )
    t = (
        1
        - 0.17 * np.cos(np.radians(hm - 30))
        + 0.24 * np.cos(np.radians(2 * hm))
        + 0.32 * np.cos(np.radians(3 * hm + 6))
        - 0.20 * np.cos(np.radians(4 * hm - 63))
    )
    d_theta = 30 * np.exp(-(((hm - 275) / 25) ** 2))
    rc = 2 * np.sqrt(cmp_**7 / (cmp_**7 + 25.0**7))
    sl = 1 + 0.015 * (lm - 50) ** 2 / np.sqrt(20 + (lm - 50) ** 2)
    sc = 1 + 0.045 * cmp_
    sh = 1 + 0.015 * cmp_ * t
    rt = -np.sin(np.radians(2 * d_theta)) * rc
    total = (dl / sl) ** 2 + (dc / sc) ** 2 + (dhh / sh) ** 2 + rt * (dc / sc) * (dhh / sh)
    return np.asarray(np.sqrt(total), dtype=np.float64)


def mean_delta_e(rgb1: NDArray[np.uint8], rgb2: NDArray[np.uint8]) -> float:
    """Mean CIEDE2000 between two same-sized sRGB uint8 images."""
    return float(np.mean(delta_e2000(srgb8_to_lab(rgb1), srgb8_to_lab(rgb2))))
