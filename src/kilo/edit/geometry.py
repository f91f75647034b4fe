"""The geometric steps of an edit, done first on the 8-bit pixels: straighten (rotate and
scale to the largest upright rectangle), crop to a box or an aspect, resize to the output."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from kilo.edit.params import ASPECTS, EditParams

U8 = NDArray[np.uint8]


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
