"""Pixels for an export: the original decoded and the latest edit applied.

This is ``kilo.edit.render_asset`` split so that it runs in a worker process without the
catalog: the main process reads the source URI and the latest edit's parameters, a worker
reads the original once (its bytes also give the EXIF to copy), decodes it with
``kilo.imaging.decode_image`` (JPEG draft mode when shrinking, HEIC, RAW via rawpy) and applies
``kilo.edit.render_image``.
"""

from __future__ import annotations

import io
import logging
import math
from typing import Any

import numpy as np
from PIL import Image

from kilo.errors import DecodeError
from kilo.imaging.sniff import is_raw_name
from kilo.settings import Settings

log = logging.getLogger(__name__)


def crop_fraction(edit_params: dict[str, Any] | None) -> float:
    """The smaller side fraction the edit's crop keeps (1.0 without a crop)."""
    crop = (edit_params or {}).get("crop") or {}
    if not isinstance(crop, dict):
        return 1.0
    try:
        fw = float(crop.get("right", 1.0)) - float(crop.get("left", 0.0))
        fh = float(crop.get("bottom", 1.0)) - float(crop.get("top", 0.0))
    except (TypeError, ValueError):
        return 1.0
    return max(0.01, min(1.0, fw, fh))


def read_original(uri: str, settings: Settings) -> bytes:
    """The bytes of an original (local path or fsspec URL); :class:`DecodeError` if unreadable."""
    from kilo.imaging import read_source

    return read_source(uri, settings)


def render_source(
    data: bytes,
    name: str,
    edit_params: dict[str, Any] | None,
    *,
    max_px: int | None,
    frame: int = 0,
) -> tuple[Image.Image, tuple[int, int]]:
    """The photo in ``data`` with its edit applied (long edge at most ~``max_px``), and the
    original's full size."""
    from kilo.imaging import decode_image

    if max_px and not edit_params and frame == 0:  # a plain JPEG: straight to the size needed
        from kilo.imaging.renditions import decode_jpeg_fitted

        fitted = decode_jpeg_fitted(data, max_px)
        if fitted is not None:
            import cv2

            return Image.fromarray(cv2.cvtColor(fitted[0], cv2.COLOR_BGR2RGB)), fitted[1]
    decode_px = max_px
    if max_px and edit_params:
        decode_px = math.ceil(max_px / crop_fraction(edit_params)) + 2
    decoded = decode_image(data, name=name, max_px=decode_px, frame=frame)
    img = decoded.image
    if edit_params:
        img = apply_edit(img, edit_params)
    return img, (decoded.width, decoded.height)


def apply_edit(img: Image.Image, edit_params: dict[str, Any]) -> Image.Image:
    """Apply an edit version's parameters with ``kilo.edit.render_image``."""
    from kilo.edit import EditParams, render_image

    out: Image.Image = render_image(img, EditParams.model_validate(edit_params))
    return out if out.mode == "RGB" else out.convert("RGB")


def load_raw16(data: bytes, name: str) -> np.ndarray | None:
    """A RAW file developed at full size to 16-bit sRGB (None when it is not a RAW)."""
    if not is_raw_name(name):
        return None
    import rawpy

    try:
        with rawpy.imread(io.BytesIO(data)) as raw:
            rgb: np.ndarray = raw.postprocess(
                output_bps=16, use_camera_wb=True, no_auto_bright=False
            )
            return rgb
    except Exception as exc:  # LibRaw raises its own error types
        log.debug("%s: RAW development failed", name, exc_info=True)
        raise DecodeError(f"cannot develop the RAW file: {exc}", path=name) from None
