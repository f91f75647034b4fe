"""The render pipeline: applies :class:`EditParams` to pixels, vectorised float32 numpy.

Order of work (what a raw converter does, with the geometric steps moved first because every
pixel-wise step commutes with them; this way a 1024 px render of a 24 MP photo costs 1024 px
of colour work):

1. straighten (rotation about the centre, auto-cropped to the largest upright rectangle of the
   photo's shape), crop (normalised rect), aspect preset, resize to ``max_px`` (area filter);
2. noise reduction (edge-preserving luminance smoothing, chroma blur), on the 8-bit sRGB input;
3. sRGB decode to linear light (LUT);
4. white balance (von Kries gains from the temperature/tint the photo is corrected from);
5. exposure (a gain of 2^EV);
6. tone: blacks, shadows, highlights, whites, contrast, as one monotone curve on a perceptual
   (gamma 2.2) luminance, applied as a luminance ratio so hues are kept;
7. colour: HSL per band (hue rotation about the grey axis, chroma scale, luminance), vibrance
   (boosts the less saturated more), saturation;
8. back to sRGB through one 65536-entry table that also holds the tone curve (ToneCurvePV2012,
   a monotone cubic through the points, applied per channel on display values as Lightroom
   does);
9. output sharpening (unsharp mask, radius 1 px).

Deterministic (no randomness, no threads whose order matters). The defaults reproduce the
input exactly.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from kilo.edit.color import ENCODE_STEPS, LUMA, decode_lut, encode_table, wb_gains
from kilo.edit.params import AS_SHOT_K, ASPECTS, HSL_BANDS, IDENTITY_CURVE, EditParams
from kilo.errors import InvalidInput

U8 = NDArray[np.uint8]
F32 = NDArray[np.float32]
_BAND_HUES = (0.0, 30.0, 60.0, 120.0, 180.0, 240.0, 270.0, 300.0)
_TONE_STEPS = 65536
_TONE_YMAX = 4.0
_PIVOT = 0.46


def render_image(
    img: Image.Image | NDArray[Any], params: EditParams, *, max_px: int | None = None
) -> Image.Image:
    """Apply ``params`` to an RGB image (PIL or HxWx3 uint8/float array) and return RGB."""
    arr = to_rgb8(img)
    if max_px is not None and max_px < 1:
        raise InvalidInput("max_px must be at least 1")
    arr = apply_geometry(arr, params, max_px=max_px)
    if params.luminance_smoothing > 0 or params.color_noise_reduction > 0:
        arr = reduce_noise(arr, params.luminance_smoothing, params.color_noise_reduction)
    if not _pixelwise_identity(params):
        arr = apply_color(arr, params)
    if params.sharpness > 0:
        arr = sharpen(arr, params.sharpness)
    return Image.fromarray(arr, "RGB")


def to_rgb8(img: Image.Image | NDArray[Any]) -> U8:
    """An HxWx3 uint8 array from a PIL image (any mode) or an array (uint8, or float 0..1)."""
    if isinstance(img, Image.Image):
        if img.mode != "RGB":
            img = img.convert("RGB")
        return np.asarray(img, dtype=np.uint8)
    arr = np.asarray(img)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise InvalidInput(f"expected an HxWx3 image array, got shape {arr.shape}")
    arr = arr[:, :, :3]
    if arr.dtype == np.uint8:
        return np.ascontiguousarray(arr)
    if np.issubdtype(arr.dtype, np.floating):
        return np.asarray(np.clip(arr, 0.0, 1.0) * 255.0 + 0.5, dtype=np.uint8)
    raise InvalidInput(f"unsupported image array dtype {arr.dtype}")


def _pixelwise_identity(p: EditParams) -> bool:
    return (
        p.exposure == 0
        and p.contrast == 0
        and p.highlights == 0
        and p.shadows == 0
        and p.whites == 0
        and p.blacks == 0
        and p.temperature == AS_SHOT_K
        and p.tint == 0
        and p.vibrance == 0
        and p.saturation == 0
        and p.hsl.is_identity()
        and p.tone_curve == IDENTITY_CURVE
    )


# -- geometry ---------------------------------------------------------------------------------
def straighten_scale(width: int, height: int, degrees: float) -> float:
    """Scale of the largest upright rectangle of the photo's shape inside it rotated."""
    a = math.radians(abs(degrees))
    c, s = math.cos(a), math.sin(a)
    return min(width / (width * c + height * s), height / (width * s + height * c))


def crop_box(width: int, height: int, params: EditParams) -> tuple[float, float, float, float]:
    """(x0, y0, w, h) of the output region in the straightened frame, in source pixels."""
    k = straighten_scale(width, height, params.straighten) if params.straighten else 1.0
    fw, fh = width * k, height * k
    c = params.crop
    x0, y0 = c.left * fw, c.top * fh
    cw, ch = (c.right - c.left) * fw, (c.bottom - c.top) * fh
    ratio = width / height if params.aspect == "original" else ASPECTS[params.aspect]
    if ratio is not None:
        if cw / ch > ratio:
            nw = ch * ratio
            x0 += (cw - nw) / 2
            cw = nw
        else:
            nh = cw / ratio
            y0 += (ch - nh) / 2
            ch = nh
    return x0, y0, cw, ch


def output_size(width: int, height: int, params: EditParams, max_px: int | None) -> tuple[int, int]:
    """Width and height of the render of a ``width`` x ``height`` photo."""
    x0, y0, cw, ch = crop_box(width, height, params)
    if not params.straighten:  # whole pixels are cut out, then scaled
        cw = max(round(x0) + 1, round(x0 + cw)) - round(x0)
        ch = max(round(y0) + 1, round(y0 + ch)) - round(y0)
    scale = 1.0 if max_px is None else min(1.0, max_px / max(cw, ch))
    return max(1, round(cw * scale)), max(1, round(ch * scale))


def apply_geometry(arr: U8, params: EditParams, *, max_px: int | None = None) -> U8:
    """Straighten, crop, aspect and resize (uint8 in, uint8 out)."""
    import cv2

    h, w = arr.shape[:2]
    x0, y0, cw, ch = crop_box(w, h, params)
    ow, oh = output_size(w, h, params, max_px)
    if not params.straighten:
        xa, ya = round(x0), round(y0)
        xb, yb = max(xa + 1, round(x0 + cw)), max(ya + 1, round(y0 + ch))
        region = arr[ya:yb, xa:xb]
        if region.shape[1] == ow and region.shape[0] == oh:
            return np.ascontiguousarray(region)
        return np.asarray(cv2.resize(region, (ow, oh), interpolation=cv2.INTER_AREA), np.uint8)
    scale = ow / cw  # output px per source px
    src = arr
    q = 1.0
    if scale < 0.5:  # pre-shrink with an area filter so the rotation does not alias
        q = scale * 1.5
        src = np.asarray(
            cv2.resize(
                arr, (max(1, round(w * q)), max(1, round(h * q))), interpolation=cv2.INTER_AREA
            ),
            np.uint8,
        )
        q = src.shape[1] / w
    k = straighten_scale(w, h, params.straighten)
    fw, fh = w * k, h * k
    a = math.radians(params.straighten)
    cos, sin = math.cos(a), math.sin(a)
    rinv = np.array([[cos, -sin], [sin, cos]])
    lin = rinv / scale
    off = rinv @ np.array([x0 + 0.5 / scale - fw / 2, y0 + 0.5 / scale - fh / 2]) + np.array(
        [w / 2, h / 2]
    )
    m = np.hstack([lin * q, (off * q - 0.5)[:, None]])
    out = cv2.warpAffine(
        src,
        m,
        (ow, oh),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REFLECT_101,
    )
    return np.asarray(out, np.uint8)


# -- noise and sharpening ---------------------------------------------------------------------
def reduce_noise(arr: U8, luminance: float, color: float) -> U8:
    """Edge-preserving luminance smoothing and chroma blur (amounts 0 .. 100)."""
    import cv2

    ycc = cv2.cvtColor(arr, cv2.COLOR_RGB2YCrCb)
    if luminance > 0:
        y = ycc[:, :, 0]
        smooth = cv2.bilateralFilter(y, 5, 4.0 + 0.3 * luminance, 2.0 + 0.02 * luminance)
        t = min(1.0, luminance / 40.0)
        ycc[:, :, 0] = cv2.addWeighted(y, 1.0 - t, smooth, t, 0.0)
    if color > 0:
        sigma = 0.5 + 4.0 * color / 100.0
        for ch in (1, 2):
            ycc[:, :, ch] = cv2.GaussianBlur(ycc[:, :, ch], (0, 0), sigma)
    return np.asarray(cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB), np.uint8)


def sharpen(arr: U8, sharpness: float) -> U8:
    """Unsharp mask, radius 1 px, amount from Lightroom's 0 .. 150 slider."""
    import cv2

    amount = sharpness / 100.0
    blurred = cv2.GaussianBlur(arr, (0, 0), 1.0)
    return np.asarray(cv2.addWeighted(arr, 1.0 + amount, blurred, -amount, 0.0), np.uint8)


# -- tone -------------------------------------------------------------------------------------
def tone_map(p: F32, params: EditParams) -> F32:
    """The tone curve on perceptual luminance ``p`` (= Y^(1/2.2)), before monotone repair."""
    inside = p < 1.0
    pc = np.minimum(p, 1.0)
    q = 1.0 - pc
    out = p.copy()
    out += np.float32(params.shadows / 100 * 0.12) * (6.75 * pc * q * q)
    out += np.where(inside, np.float32(params.highlights / 100 * 0.12) * (6.75 * pc * pc * q), 0)
    # above white (after a positive exposure): highlights < 0 pull the overshoot back
    over = np.maximum(p - 1.0, 0.0)
    out += over * np.float32(min(0.0, params.highlights) / 100 * 0.8)
    out += np.float32(params.blacks / 100 * 0.10) * (q**3)
    out += np.float32(params.whites / 100 * 0.10) * (pc**3)
    k = np.float32(params.contrast / 100 * 0.3)
    out += k * np.where(
        inside, (out - _PIVOT) * 4 * np.clip(out, 0, 1) * (1 - np.clip(out, 0, 1)), 0
    )
    return out.astype(np.float32)


@lru_cache(maxsize=64)
def _tone_ratio_table(key: tuple[float, ...]) -> F32:
    shadows, highlights, whites, blacks, contrast = key
    params = EditParams(
        shadows=shadows, highlights=highlights, whites=whites, blacks=blacks, contrast=contrast
    )
    # indexed by sqrt(Y): fine steps near black, where the ratio changes fastest
    t = (np.arange(_TONE_STEPS, dtype=np.float64) + 0.5) * (math.sqrt(_TONE_YMAX) / _TONE_STEPS)
    y = t * t
    p = np.power(y, 1 / 2.2).astype(np.float32)
    mapped = np.maximum.accumulate(np.maximum(tone_map(p, params), 0.0))
    ratio = np.power(mapped.astype(np.float64), 2.2) / y
    return ratio.astype(np.float32)


def _has_tone(p: EditParams) -> bool:
    return bool(p.shadows or p.highlights or p.whites or p.blacks or p.contrast)


# -- colour -----------------------------------------------------------------------------------
@lru_cache(maxsize=64)
def _encode_table(curve: tuple[tuple[float, float], ...]) -> U8:
    enc = encode_table().astype(np.float64) * 255.0
    if curve != IDENTITY_CURVE:
        from scipy.interpolate import PchipInterpolator  # type: ignore[import-untyped]

        xs = np.array([x for x, _ in curve])
        ys = np.array([y for _, y in curve])
        inner = np.clip(enc, xs[0], xs[-1])
        enc = np.clip(PchipInterpolator(xs, ys)(inner), 0, 255)
    return np.asarray(np.clip(enc + 0.5, 0, 255), dtype=np.uint8)


@lru_cache(maxsize=64)
def _hsl_tables(hsl_key: tuple[float, ...]) -> tuple[F32, F32, F32, F32]:
    """cos, sin/sqrt(3), chroma gain and luminance exponent per half degree of hue."""
    hues = np.array([*_BAND_HUES, 360.0])
    grid = np.arange(721) / 2.0
    out = []
    for j in range(3):
        vals = [hsl_key[3 * i + j] / 100.0 for i in range(len(HSL_BANDS))]
        out.append(np.interp(grid, hues, np.array([*vals, vals[0]])))
    theta = np.radians(out[0] * 30.0)
    return (
        np.cos(theta).astype(np.float32),
        (np.sin(theta) / math.sqrt(3)).astype(np.float32),
        out[1].astype(np.float32),
        out[2].astype(np.float32),
    )


def _hsl_key(params: EditParams) -> tuple[float, ...]:
    key: list[float] = []
    for name in HSL_BANDS:
        band = params.hsl.band(name)
        key += [band.hue, band.sat, band.lum]
    return tuple(key)


def _luma(lin: F32) -> F32:
    y = lin[0] * np.float32(LUMA[0]) + lin[1] * np.float32(LUMA[1]) + lin[2] * np.float32(LUMA[2])
    return np.asarray(y, dtype=np.float32)


def _saturation(lin: F32) -> F32:
    mx = np.maximum(np.maximum(lin[0], lin[1]), lin[2])
    mn = np.minimum(np.minimum(lin[0], lin[1]), lin[2])
    return np.asarray((mx - mn) / np.maximum(mx, np.float32(1e-6)), np.float32)


def _apply_hsl(lin: F32, params: EditParams) -> F32:
    """HSL per band on planar (3, H, W) linear RGB."""
    key = _hsl_key(params)
    t_cos, t_sin, t_sat, t_lum = _hsl_tables(key)
    mean = (lin[0] + lin[1] + lin[2]) * np.float32(1 / 3)
    c = lin - mean
    opp_a = c[0] - np.float32(0.5) * (c[1] + c[2])
    opp_b = np.float32(math.sqrt(3) / 2) * (c[1] - c[2])
    hue = np.arctan2(opp_b, opp_a)
    hue *= np.float32(360 / math.pi)  # half degrees, -360 .. 360
    hue[hue < 0] += np.float32(720.0)
    idx = (hue + np.float32(0.5)).astype(np.int16)
    sat = _saturation(lin)
    out = c
    if any(key[0::3]):
        cos, sin = t_cos[idx], t_sin[idx]
        out = np.empty_like(c)
        out[0] = c[0] * cos + (c[2] - c[1]) * sin
        out[1] = c[1] * cos + (c[0] - c[2]) * sin
        out[2] = c[2] * cos + (c[1] - c[0]) * sin
    if any(key[1::3]):
        out *= np.float32(1.0) + t_sat[idx] * np.minimum(np.float32(1.0), sat * np.float32(4))
    out += mean
    if any(key[2::3]):
        out *= np.exp2(t_lum[idx] * sat)
    return np.asarray(out, dtype=np.float32)


def apply_color(arr: U8, params: EditParams) -> U8:
    """Steps 3 to 8: decode, white balance, exposure, tone, colour, curve, encode."""
    lin = decode_lut()[arr.transpose(2, 0, 1)]  # planar (3, H, W) float32, linear light
    gains = wb_gains(params.temperature, params.tint) * np.float32(2.0**params.exposure)
    if not np.all(gains == 1.0):
        lin *= gains[:, None, None]
    if _has_tone(params):
        table = _tone_ratio_table(
            (params.shadows, params.highlights, params.whites, params.blacks, params.contrast)
        )
        y = np.sqrt(_luma(lin))
        y *= np.float32(_TONE_STEPS / math.sqrt(_TONE_YMAX))
        np.minimum(y, np.float32(_TONE_STEPS - 1), out=y)
        lin *= table[y.astype(np.int32)]
    if not params.hsl.is_identity():
        lin = _apply_hsl(lin, params)
    if params.vibrance or params.saturation:
        y = _luma(lin)
        lin -= y
        factor = np.float32(1.0 + params.saturation / 100.0)
        if params.vibrance:
            sat = _saturation(lin + y)
            np.clip(sat, 0, 1, out=sat)
            vib = np.float32(params.vibrance / 100.0) * (1.0 - sat) ** 2
            lin *= factor * (1.0 + vib)
        else:
            lin *= factor
        lin += y
    np.clip(lin, 0.0, 1.0, out=lin)
    lin *= np.float32(ENCODE_STEPS - 1)
    lin += np.float32(0.5)
    planar = _encode_table(params.tone_curve)[lin.astype(np.uint16)]
    return np.ascontiguousarray(planar.transpose(1, 2, 0))


def compose_before_after(
    before: Image.Image,
    after: Image.Image,
    *,
    gap: int = 8,
    background: tuple[int, int, int] = (24, 24, 24),
) -> Image.Image:
    """Side by side (before left, after right) on one canvas, each scaled to the same height."""
    height = max(before.height, after.height)

    def fit(im: Image.Image) -> Image.Image:
        if im.height == height:
            return im.convert("RGB")
        w = max(1, round(im.width * height / im.height))
        return im.convert("RGB").resize((w, height), Image.Resampling.LANCZOS)

    b, a = fit(before), fit(after)
    canvas = Image.new("RGB", (b.width + gap + a.width, height), background)
    canvas.paste(b, (0, 0))
    canvas.paste(a, (b.width + gap, 0))
    return canvas
