"""The render pipeline: applies :class:`EditParams` to pixels, vectorised float32.

Order of work (what a raw converter does, with the geometric steps moved first because every
pixel-wise step commutes with them; this way a 1024 px render of a 24 MP photo costs 1024 px
of color work):

1. straighten (rotation about the centre, auto-cropped to the largest upright rectangle of the
   photo's shape), crop (normalised rect), aspect preset, resize to ``max_px`` (area filter);
2. noise reduction (edge-preserving luminance smoothing, chroma blur), on the 8-bit sRGB input;
3. sRGB decode to linear light, white balance (von Kries gains from the temperature/tint the
   photo is corrected from) and exposure (a gain of 2^EV): one per-channel 256-entry table;
4. tone: blacks, shadows, highlights, whites, contrast, as one monotone curve on a perceptual
   (gamma 2.2) luminance, applied as a luminance ratio so hues are kept (a table indexed by
   sqrt(Y));
5. color: HSL per band (hue rotation about the grey axis, chroma scale, luminance; the bands
   are looked up by hue in 1/4 degree tables), vibrance (boosts the less saturated more),
   saturation;
6. back to sRGB through one 65536-entry table that also holds the tone curve (ToneCurvePV2012,
   a monotone cubic through the points, applied per channel on display values as Lightroom
   does);
7. output sharpening (unsharp mask, radius 1 px).

Speed: steps 3 to 6 run on strips of rows (so intermediates stay in cache) with OpenCV's
element-wise kernels, and every per-pixel factor of steps 4 and 5 is folded into one
multiply-add per channel (``lin * A + cross(lin) * B + C``); geometry, noise reduction and
sharpening are OpenCV filters. The result equals the plain float64 definition up to table
resolution (``tests/edit/test_render.py::test_fast_path_matches_reference``: mean ΔE2000 < 0.1).

Deterministic (strips are independent). The defaults reproduce the input exactly.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from kilo.edit.color import ENCODE_STEPS, LUMA, decode_lut, encode_table, wb_gains
from kilo.edit.geometry import apply_geometry
from kilo.edit.params import AS_SHOT_K, HSL_BANDS, IDENTITY_CURVE, EditParams
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


# -- color -----------------------------------------------------------------------------------
# Steps 3 to 8 run on interleaved HxWx3 float32 with OpenCV's element-wise kernels (C, SIMD,
# threaded), and every per-pixel scalar (tone ratio, HSL factors, vibrance) is folded into one
# multiply-add per channel: out = lin * A + D(lin) * B + C, with A, B, C per pixel.
_STRIP_PX = 65536  # pixels per strip of the color steps
_HUE_STEPS = 4  # table entries per degree of (hexagonal) hue
_GREY_MEAN = np.full((1, 3), 1 / 3, np.float32)
_LUMA_ROW = LUMA.reshape(1, 3).astype(np.float32)
#: the chroma rotation's cross term: (b - g, r - b, g - r)
_CROSS = np.array([[0, -1, 1], [1, 0, -1], [-1, 1, 0]], np.float32)


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
def _decode_gain_lut(gains: tuple[float, float, float]) -> F32:
    """uint8 sRGB code -> linear light x white balance x exposure, per channel (256x1x3)."""
    lut = decode_lut()[:, None] * np.array(gains, np.float32)
    return np.ascontiguousarray(lut.reshape(256, 1, 3), dtype=np.float32)


def opponent_hue(hsv_hue: NDArray[np.floating]) -> NDArray[np.float64]:
    """The angle (degrees) of a color's chroma about the grey axis, (r - (g+b)/2, √3/2 (g-b)),
    from its HSV hue: both depend only on the chroma's direction, so one is a fixed monotone
    function of the other."""
    h = np.asarray(hsv_hue, dtype=np.float64) / 60.0
    rgb = [1.0 - np.clip(np.minimum((n + h) % 6, 4 - (n + h) % 6), 0, 1) for n in (5, 3, 1)]
    a = rgb[0] - 0.5 * (rgb[1] + rgb[2])
    b = math.sqrt(3) / 2 * (rgb[1] - rgb[2])
    return np.asarray(np.degrees(np.arctan2(b, a)) % 360.0, dtype=np.float64)


@lru_cache(maxsize=64)
def _hsl_tables(hsl_key: tuple[float, ...]) -> tuple[F32, F32, F32, F32]:
    """cos, sin/sqrt(3), chroma gain and luminance exponent per 1/4 degree of HSV hue."""
    hues = np.array([*_BAND_HUES, 360.0])
    theta = opponent_hue(np.arange(360 * _HUE_STEPS + 1) / _HUE_STEPS)
    theta[-1] = 360.0
    out = []
    for j in range(3):
        vals = [hsl_key[3 * i + j] / 100.0 for i in range(len(HSL_BANDS))]
        out.append(np.interp(theta, hues, np.array([*vals, vals[0]])))
    rot = np.radians(out[0] * 30.0)
    return (
        np.cos(rot).astype(np.float32),
        (np.sin(rot) / math.sqrt(3)).astype(np.float32),
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
    import cv2

    return np.asarray(cv2.transform(lin, _LUMA_ROW), np.float32).reshape(lin.shape[:2])


def _hue_saturation(lin: F32) -> tuple[F32, F32]:
    """HSV hue (degrees) and saturation (max - min) / max of linear RGB."""
    import cv2

    hsv = cv2.cvtColor(lin, cv2.COLOR_RGB2HSV)
    hue = np.asarray(cv2.extractChannel(hsv, 0), np.float32).reshape(lin.shape[:2])
    sat = np.asarray(cv2.extractChannel(hsv, 1), np.float32).reshape(lin.shape[:2])
    return hue, sat


def _tone_ratio(y: F32, params: EditParams) -> F32:
    """Per-pixel gain of the tone curve, looked up by sqrt(luminance)."""
    import cv2

    table = _tone_ratio_table(
        (params.shadows, params.highlights, params.whites, params.blacks, params.contrast)
    )
    t = np.asarray(cv2.sqrt(y), np.float32).reshape(y.shape)
    t *= np.float32(_TONE_STEPS / math.sqrt(_TONE_YMAX))
    np.minimum(t, np.float32(_TONE_STEPS - 1), out=t)
    return np.take(table, t.astype(np.int32))


def _multiply_add(lin: F32, a: F32 | None, c: F32 | None, cross: F32 | None = None) -> F32:
    """lin * a + D(lin) * cross + c, with a, cross, c per pixel (HxW), in place on ``lin``."""
    import cv2

    d = cv2.transform(lin, _CROSS) if cross is not None else None
    if a is not None:
        cv2.multiply(lin, cv2.merge([a, a, a]), dst=lin)
    if d is not None and cross is not None:
        cv2.multiply(d, cv2.merge([cross, cross, cross]), dst=d)
        cv2.add(lin, d, dst=lin)
    if c is not None:
        cv2.add(lin, cv2.merge([c, c, c]), dst=lin)
    return lin


def _apply_hsl(lin: F32, params: EditParams, ratio: F32 | None) -> F32:
    """HSL per band (then the tone ``ratio``, folded in) on interleaved linear RGB.

    Per pixel: rotate the chroma about the grey axis by the band's hue shift, scale it by the
    band's saturation gain (weighted by how saturated the pixel is), scale the result by
    2^(band luminance x saturation).
    """
    import cv2

    key = _hsl_key(params)
    t_cos, t_sin, t_sat, t_lum = _hsl_tables(key)
    hue, sat = _hue_saturation(lin)  # both invariant to the tone ratio (a grey-axis scale)
    hue *= np.float32(_HUE_STEPS)
    hue += np.float32(0.5)
    idx = hue.astype(np.int32)
    scale = ratio
    if any(key[2::3]):
        lum = np.take(t_lum, idx)
        lum *= sat
        lum *= np.float32(math.log(2))
        lum = np.asarray(cv2.exp(lum), np.float32).reshape(sat.shape)
        scale = lum if scale is None else np.multiply(scale, lum, out=lum)
    gain: F32 | None = None
    if any(key[1::3]):
        gain = np.minimum(sat * np.float32(4), np.float32(1))
        gain *= np.take(t_sat, idx)
        gain += np.float32(1)
    cross: F32 | None = None
    if any(key[0::3]):
        cos = np.take(t_cos, idx)
        cross = np.take(t_sin, idx)
        if gain is not None:
            cos *= gain
            cross *= gain
        gain = cos
    if gain is None:  # luminance only: a plain per-pixel scale
        return _multiply_add(lin, scale, None)
    mean = np.asarray(cv2.transform(lin, _GREY_MEAN), np.float32).reshape(sat.shape)
    offset = np.float32(1) - gain
    offset *= mean  # out = gain * (lin - mean) + mean (+ the cross term)
    if scale is not None:
        gain *= scale
        offset *= scale
        if cross is not None:
            cross *= scale
    return _multiply_add(lin, gain, offset, cross)


def _apply_vibrance(lin: F32, params: EditParams, ratio: F32 | None, y: F32 | None) -> F32:
    """Vibrance and saturation about luminance (tone ``ratio`` folded in): r(k lin + (1-k) Y)."""
    if y is None:
        y = _luma(lin)
    factor = np.float32(1.0 + params.saturation / 100.0)
    if params.vibrance:
        _, sat = _hue_saturation(lin)  # invariant to the tone ratio
        np.clip(sat, 0, 1, out=sat)
        k = np.float32(1) - sat
        k *= k
        k *= np.float32(params.vibrance / 100.0)
        k += np.float32(1)
        k *= factor
    else:
        k = np.full(y.shape, factor, np.float32)
    c = np.float32(1) - k
    c *= y
    if ratio is not None:
        k *= ratio
        c *= ratio
    return _multiply_add(lin, k, c)


def _encode(lin: F32, curve: tuple[tuple[float, float], ...]) -> U8:
    """Clip to [0, 1], quantise to 65536 steps, sRGB encode and tone curve in one lookup."""
    import cv2

    h, w = lin.shape[:2]
    # a scalar factor (fine on one channel); rounds and saturates to 0 .. 65535, i.e. clips
    scale = float(ENCODE_STEPS - 1)
    steps = cv2.multiply(lin.reshape(h, w * 3), scale, dtype=cv2.CV_16U)  # type: ignore[call-overload]
    return np.asarray(_encode_table(curve)[steps], np.uint8).reshape(h, w, 3)


def apply_color(arr: U8, params: EditParams) -> U8:
    """Steps 3 to 8: decode, white balance, exposure, tone, color, curve, encode.

    Runs in strips of about :data:`_STRIP_PX` pixels so each step's intermediates stay in the
    CPU cache (every step is per pixel, so the strips are independent)."""
    import cv2

    gains = wb_gains(params.temperature, params.tint) * np.float32(2.0**params.exposure)
    lut = _decode_gain_lut(tuple(float(g) for g in gains))
    h, w = arr.shape[:2]
    rows = max(1, _STRIP_PX // max(w, 1))
    if rows >= h:
        return _color_block(np.asarray(cv2.LUT(arr, lut), np.float32).reshape(arr.shape), params)
    out = np.empty_like(arr)
    for r0 in range(0, h, rows):
        block = arr[r0 : r0 + rows]
        lin = np.asarray(cv2.LUT(block, lut), np.float32).reshape(block.shape)
        out[r0 : r0 + rows] = _color_block(lin, params)
    return out


def _color_block(lin: F32, params: EditParams) -> U8:
    y: F32 | None = None
    ratio: F32 | None = None
    if _has_tone(params):
        y = _luma(lin)
        ratio = _tone_ratio(y, params)
    if not params.hsl.is_identity():
        lin = _apply_hsl(lin, params, ratio)
        y = ratio = None
    if params.vibrance or params.saturation:
        lin = _apply_vibrance(lin, params, ratio, y)
    elif ratio is not None:
        lin = _multiply_add(lin, ratio, None)
    return _encode(lin, params.tone_curve)


def compose_before_after(
    before: Image.Image,
    after: Image.Image,
    *,
    gap: int = 8,
    background: tuple[int, int, int] = (24, 24, 24),
    labels: tuple[str, str] | None = ("Before", "After"),
) -> Image.Image:
    """Side by side (before left, after right) on one canvas, each scaled to the same height,
    each labelled in its top-left corner (``labels=None`` for none)."""
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
    if labels is not None:
        _label(canvas, labels[0], 0)
        _label(canvas, labels[1], b.width + gap)
    return canvas


def _label(canvas: Image.Image, text: str, x0: int) -> None:
    """``text`` in white on a dark box at the top-left of the half starting at ``x0``."""
    from PIL import ImageDraw

    from kilo.export.watermark import load_font

    size = max(12, canvas.height // 28)
    font = load_font(size)
    draw = ImageDraw.Draw(canvas)
    pad = max(4, size // 3)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    box = (x0 + pad, pad, x0 + pad * 3 + right - left, pad * 3 + bottom - top)
    draw.rectangle(box, fill=(0, 0, 0))
    draw.text((x0 + pad * 2 - left, pad * 2 - top), text, font=font, fill=(255, 255, 255))
