"""Decoding any supported photo to an RGB, sRGB, upright PIL image, as cheaply as the size
asked for allows.

* JPEG/MPO: Pillow draft mode (libjpeg DCT scaling), so a 24 MP file decoded for a 2048 px
  preview is only decoded at 1/2 scale. MPO: the first frame.
* HEIC/HEIF/AVIF: pillow-heif; every top-level image of the container is a frame.
* RAW: rawpy. The embedded JPEG preview when it is at least as large as asked for, else a
  half-size demosaic when that is large enough, else a full ``postprocess()``.
* PNG, TIFF, WebP, GIF, BMP: Pillow.

EXIF orientation is applied and ICC profiles are converted to sRGB, after resizing (cheaper).
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageFile

from kilo.errors import DecodeError, KiloError
from kilo.imaging.budget import CONVERTED_FIRST, check_budget, pillow_peak_bytes
from kilo.imaging.resize import fit_size, resize_long_edge
from kilo.imaging.sniff import RAW_CONTENT_TYPE, SNIFF_BYTES, sniff_content_type

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from kilo.settings import Settings
    from kilo.store import StoreConfig

_HEIF_TYPES = ("image/heic", "image/heif", "image/heic-sequence", "image/heif-sequence")
_HEIF_ALL = (*_HEIF_TYPES, "image/avif")


@dataclass(slots=True)
class Decoded:
    """A decoded frame and what was learnt on the way."""

    image: Image.Image
    width: int  # full resolution, after orientation
    height: int
    format: str
    frame_count: int
    orientation: int | None
    method: str  # how the pixels were obtained (draft 1/2, embedded preview, ...)


def _one_line(exc: BaseException) -> str:
    text = re.sub(r"\s*<[^>]* object at 0x[0-9a-f]+>", "", " ".join(str(exc).split()))
    if isinstance(exc, KiloError):
        return exc.reason
    return text or type(exc).__name__


def read_source(source: str | Path | bytes, settings: StoreConfig | None = None) -> bytes:
    """The bytes of a local path, an fsspec URL (``s3://...``) or bytes as is."""
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source)
    text = str(source)
    try:
        if "://" in text and not text.startswith("file://"):
            from kilo.settings import load_settings
            from kilo.store import read_bytes

            return read_bytes(text, settings or load_settings())
        from kilo.store import local_path

        return local_path(text).read_bytes()
    except KiloError as exc:
        raise DecodeError(f"cannot read: {exc.reason}", path=text) from None
    except IsADirectoryError:
        raise DecodeError("is a directory", path=text) from None
    except OSError as exc:
        raise DecodeError(f"cannot read: {exc.strerror or exc}", path=text) from None


@lru_cache(maxsize=32)
def _icc_transform(icc_sha: str, icc: bytes, mode: str) -> Any:
    """A transform from an embedded profile to sRGB, or None when it is sRGB already."""
    from PIL import ImageCms

    src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    desc = (ImageCms.getProfileDescription(src) or "").lower()
    if mode == "RGB" and "srgb" in desc:
        return None
    return ImageCms.buildTransform(
        src, ImageCms.createProfile("sRGB"), mode, "RGB", ImageCms.Intent.PERCEPTUAL
    )


def to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """``image`` as RGB in sRGB: ICC-aware when it carries a profile, alpha on white."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        import numpy as np

        arr = np.asarray(image, dtype=np.float64)
        peak = float(arr.max()) or 1.0
        image = Image.fromarray((arr * (255.0 / max(peak, 255.0))).clip(0, 255).astype("uint8"))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(bg, rgba)
    if icc and image.mode in ("RGB", "CMYK", "L"):
        try:
            transform = _icc_transform(hashlib.sha1(icc).hexdigest(), icc, image.mode)
        except Exception:  # a broken profile: fall back to a plain conversion
            log.debug("ICC profile unusable; plain conversion", exc_info=True)
            transform = None
        else:
            if transform is not None:
                from PIL import ImageCms

                return ImageCms.applyTransform(image, transform)  # type: ignore[return-value]
    return image if image.mode == "RGB" else image.convert("RGB")


def _finish(image: Image.Image, max_px: int | None, orientation: int | None) -> Image.Image:
    icc = image.info.get("icc_profile")
    image = resize_long_edge(image, max_px) if image.mode in ("RGB", "L") else image
    image = to_srgb(image, icc if isinstance(icc, bytes) else None)
    image = resize_long_edge(image, max_px)
    if orientation and orientation != 1:
        method = {
            2: Image.Transpose.FLIP_LEFT_RIGHT,
            3: Image.Transpose.ROTATE_180,
            4: Image.Transpose.FLIP_TOP_BOTTOM,
            5: Image.Transpose.TRANSPOSE,
            6: Image.Transpose.ROTATE_270,
            7: Image.Transpose.TRANSVERSE,
            8: Image.Transpose.ROTATE_90,
        }.get(orientation)
        if method is not None:
            image = image.transpose(method)
    return image


def _shrunk(image: Image.Image, max_px: int | None) -> Image.Image:
    """A large decoded image cheaply reduced (integer box filter, in its own mode where
    Pillow can) to at most twice ``max_px`` before any color conversion, so no full-size
    RGB copy is ever made of it."""
    if max_px is None:
        return image
    factor = min(image.size) // max(1, min(fit_size(image.size, 2 * max_px)))
    if factor < 2:
        return image
    if image.mode == "1":
        image = image.convert("L")
    elif image.mode in CONVERTED_FIRST:  # converted whole later, as the budget counted
        return image
    return image.reduce(factor)


def _oriented(size: tuple[int, int], orientation: int | None) -> tuple[int, int]:
    return (size[1], size[0]) if orientation in (5, 6, 7, 8) else size


def _decode_pillow(data: bytes, max_px: int | None, frame: int) -> Decoded:
    im = Image.open(io.BytesIO(data))
    fmt = im.format or "unknown"
    frames = int(getattr(im, "n_frames", 1) or 1)
    if fmt == "MPO":
        frames = 1  # MPO: the first (left/main) frame is the photo; the rest are ignored
    elif frame:
        if frame >= frames:
            raise DecodeError(f"frame {frame} out of range ({frames} frames)")
        im.seek(frame)
    try:
        orientation = int(im.getexif().get(0x0112) or 1)
    except Exception:
        orientation = 1
    full = im.size
    method = "full"
    if fmt in ("JPEG", "MPO") and max_px is not None:
        want = fit_size(full, max_px)
        im.draft("RGB" if im.mode == "RGB" else None, want)
        scale = full[0] / im.size[0]
        method = f"draft 1/{scale:.0f}" if scale > 1 else "full"
    check_budget(full, pillow_peak_bytes(im.mode, im.size))  # before any pixel is decoded
    im.load()
    image = _finish(_shrunk(im, max_px), max_px, orientation)
    w, h = _oriented(full, orientation)
    return Decoded(image, w, h, fmt, frames, orientation, method)


def isobmff_truncation(data: bytes) -> str | None:
    """Why an ISO-BMFF file (HEIC, HEIF, AVIF) is cut short, or None. libheif decodes what
    is there and fills the rest with green, so the box sizes are checked first: the boxes
    must add up to no more than the file."""
    pos, end = 0, len(data)
    while pos + 8 <= end:
        size = int.from_bytes(data[pos : pos + 4], "big")
        if size == 1:  # a 64-bit size follows the type
            if pos + 16 > end:
                break
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
        elif size == 0:  # the last box runs to the end of the file
            return None
        if size < 8:
            return f"corrupt file: a box of {size} bytes at byte {pos}"
        pos += size
    if pos > end:
        return f"truncated file: {end} bytes of at least {pos}"
    return None


def _decode_heif(data: bytes, max_px: int | None, frame: int) -> Decoded:
    import pillow_heif

    cut = isobmff_truncation(data)
    if cut is not None:
        raise DecodeError(cut)

    heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True)
    frames = len(heif)
    if frame >= frames:
        raise DecodeError(f"frame {frame} out of range ({frames} frames)")
    size = heif[frame].size
    check_budget(size, size[0] * size[1] * 3 * 2)  # libheif's frame and Pillow's copy
    im = heif[frame].to_pillow()  # libheif applies the container's rotation/mirror
    original = heif[frame].info.get("original_orientation")
    orientation = original if isinstance(original, int) else None
    full = im.size
    image = _finish(im, max_px, None)
    fmt = "AVIF" if heif.mimetype == "image/avif" else "HEIF"
    return Decoded(image, full[0], full[1], fmt, frames, orientation, "full")


_RAW_FLIP_TO_EXIF = {0: 1, 3: 3, 5: 8, 6: 6}


def _decode_raw(data: bytes, max_px: int | None) -> Decoded:
    import rawpy

    with rawpy.imread(io.BytesIO(data)) as raw:
        orientation, full = _raw_geometry(raw)
        if max_px is not None:
            thumb = _embedded_preview(raw, min(max_px, max(full)))
            if thumb is not None:
                image = _finish(_shrunk(thumb, max_px), max_px, orientation)
                return Decoded(image, full[0], full[1], "RAW", 1, orientation, "embedded preview")
        half = max_px is not None and max(full) // 2 >= max_px
        rgb = raw.postprocess(
            half_size=half, use_camera_wb=True, output_bps=8, no_auto_bright=False
        )
    image = Image.fromarray(rgb)  # postprocess() applies the flip and outputs sRGB
    image = resize_long_edge(image, max_px)
    method = "half-size demosaic" if half else "full demosaic"
    return Decoded(image, full[0], full[1], "RAW", 1, orientation, method)


def embedded_jpeg(data: bytes) -> tuple[bytes, tuple[int, int], int] | None:
    """A RAW file's embedded JPEG preview: (its bytes, the photo's full upright size, the
    orientation to apply to it), or None (no JPEG preview, or not a file LibRaw opens: the
    general decoder then says why)."""
    import rawpy

    try:
        with rawpy.imread(io.BytesIO(data)) as raw:
            orientation, full = _raw_geometry(raw)
            thumb = _extract_thumb(raw)
    except Exception:  # not a file LibRaw opens
        log.debug("no embedded preview", exc_info=True)
        return None
    if thumb is None or thumb.format != rawpy.ThumbFormat.JPEG:
        return None
    return bytes(thumb.data), full, orientation


def _raw_geometry(raw: Any) -> tuple[int, tuple[int, int]]:
    """(EXIF orientation, full upright size) of an opened raw file."""
    orientation = _RAW_FLIP_TO_EXIF.get(int(raw.sizes.flip), 1)
    return orientation, _oriented((int(raw.sizes.width), int(raw.sizes.height)), orientation)


def _extract_thumb(raw: Any) -> Any:
    """The raw file's embedded thumbnail (rawpy's), or None: none, unsupported or broken."""
    import rawpy

    try:
        return raw.extract_thumb()
    except rawpy.LibRawError:
        return None


def _embedded_preview(raw: Any, need_px: int) -> Image.Image | None:
    """The camera's embedded preview when its long edge is at least ``need_px``, decoded no
    larger than that needs (a JPEG preview through libjpeg's DCT scaling); else None."""
    import rawpy

    thumb = _extract_thumb(raw)
    if thumb is None:
        return None
    try:
        if thumb.format == rawpy.ThumbFormat.JPEG:
            im = Image.open(io.BytesIO(thumb.data), formats=["JPEG"])
            if max(im.size) < need_px:
                return None
            im.draft("RGB", fit_size(im.size, need_px))
            check_budget(im.size, pillow_peak_bytes(im.mode, im.size))
            im.load()
            return im
        if thumb.format == rawpy.ThumbFormat.BITMAP and max(thumb.data.shape[:2]) >= need_px:
            return Image.fromarray(thumb.data)
    except Exception:
        log.debug("embedded preview unreadable; developing the raw data", exc_info=True)
        return None
    return None


def decode_image(
    data: bytes,
    *,
    name: str = "",
    content_type: str | None = None,
    max_px: int | None = None,
    frame: int = 0,
) -> Decoded:
    """Decode ``data`` (one frame of it) to an RGB sRGB upright image, long edge <= max_px.

    Raises :class:`DecodeError` with a one-line reason (empty, truncated, corrupt,
    unsupported).
    """
    if not data:
        raise DecodeError("empty file (0 bytes)", path=name or None)
    ctype = content_type or sniff_content_type(data[:SNIFF_BYTES], name)
    if ctype is None:
        raise DecodeError("not a supported image (unknown content)", path=name or None)
    # Another library may have switched Pillow to accept truncated files process-wide
    # (WeasyPrint does on import); kilo never does: a truncated photo is quarantined.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        if ctype in _HEIF_ALL:
            return _decode_heif(data, max_px, frame)
        if ctype == RAW_CONTENT_TYPE:
            return _decode_raw(data, max_px)
        if ctype == "image/tiff":
            try:
                return _decode_pillow(data, max_px, frame)
            except Exception:  # a DNG or other TIFF-based RAW without its extension
                return _decode_raw(data, max_px)
        return _decode_pillow(data, max_px, frame)
    except DecodeError as exc:
        if exc.path is None and name:
            exc.path = name
        raise
    except Image.DecompressionBombError as exc:
        raise DecodeError(f"too many pixels: {_one_line(exc)}", path=name or None) from None
    except MemoryError:
        raise DecodeError("too large to decode in memory", path=name or None) from None
    except Exception as exc:
        log.debug("%s: cannot decode", name or ctype, exc_info=True)
        text = _one_line(exc)
        if "truncated" in text.lower():
            reason = f"truncated file: {text}"
        else:
            reason = f"corrupt or unsupported {ctype}: {text}"
        raise DecodeError(reason, path=name or None) from None


def count_frames(data: bytes, content_type: str | None) -> int:
    """How many assets a file yields: the top-level images of a HEIF container, else 1."""
    if content_type not in _HEIF_TYPES:
        return 1
    try:
        import pillow_heif

        return max(1, len(pillow_heif.open_heif(io.BytesIO(data))))
    except Exception:
        log.debug("cannot count frames", exc_info=True)
        return 1  # decoding will quarantine it with the real reason


def load_image(
    source: str | Path | bytes,
    *,
    max_px: int | None = None,
    settings: Settings | None = None,
    frame: int = 0,
) -> Image.Image:
    """An RGB, sRGB, EXIF-orientation-applied image whose long edge is at most ``max_px``.

    ``source`` is a local path, an fsspec URL (``s3://bucket/key``) or the file's bytes.
    Raises :class:`DecodeError`.
    """
    name = "" if isinstance(source, bytes | bytearray | memoryview) else str(source)
    data = read_source(source, settings)
    return decode_image(data, name=name, max_px=max_px, frame=frame).image


__all__ = ["Decoded", "count_frames", "decode_image", "load_image", "read_source", "to_srgb"]
