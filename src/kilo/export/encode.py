"""Encoders for exported files: JPEG with EXIF and an sRGB ICC profile, 16-bit TIFF
(tifffile).

EXIF comes from the original (piexif), with the orientation set to 1 (the pixels are already
upright), the pixel dimensions set to the output's, the embedded thumbnail dropped, and GPS
removed when asked. ``minimal`` keeps only what a web image needs (date, artist, copyright).
"""

from __future__ import annotations

import io
import logging
from functools import lru_cache
from typing import Any

import numpy as np
from PIL import Image

log = logging.getLogger(__name__)

SOFTWARE = "kilo"
#: descriptive 0th-IFD tags copied from the original (the rest describe its own encoding:
#: tiles, strips, CFA and DNG color data, which would corrupt the new file)
_DESCRIPTIVE_0TH = {
    270,  # ImageDescription
    271,  # Make
    272,  # Model
    274,  # Orientation
    282,  # XResolution
    283,  # YResolution
    296,  # ResolutionUnit
    305,  # Software
    306,  # DateTime
    315,  # Artist
    33432,  # Copyright
    18246,  # Rating
    18249,  # RatingPercent
    40091,  # XPTitle
    40092,  # XPComment
    40093,  # XPAuthor
    40094,  # XPKeywords
    40095,  # XPSubject
    42016,  # ImageUniqueID (in 0th by some writers)
}
_MINIMAL_0TH = {270, 315, 33432}  # ImageDescription, Artist, Copyright
_MINIMAL_EXIF = {36867, 36868, 36880, 36881, 36882}  # DateTimeOriginal/Digitized, offsets
_ORIENTATION = 274


@lru_cache(maxsize=1)
def srgb_icc() -> bytes:
    """An sRGB ICC profile (littleCMS's built-in sRGB)."""
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    data: bytes = profile.tobytes()
    return data


def load_exif(source: bytes | None) -> dict[str, Any] | None:
    """piexif's dict of an EXIF block (``Exif\\0\\0...`` or a whole JPEG), None when unreadable."""
    if not source:
        return None
    import piexif

    try:
        data: dict[str, Any] = piexif.load(source)
    except Exception:  # piexif raises bare errors on odd vendor blocks: treat as no EXIF
        log.debug("EXIF unreadable: exported without it", exc_info=True)
        return None
    return data


def prepare_exif(
    exif: dict[str, Any] | None,
    *,
    size: tuple[int, int],
    strip_gps: bool = False,
    minimal: bool = False,
) -> dict[str, Any]:
    """A copy of ``exif`` ready to write with pixels of ``size`` (upright, no thumbnail)."""
    src = exif or {}
    zeroth = {
        k: v
        for k, v in dict(src.get("0th") or {}).items()
        if k in _DESCRIPTIVE_0TH and (not minimal or k in _MINIMAL_0TH)
    }
    zeroth[_ORIENTATION] = 1
    zeroth[305] = SOFTWARE.encode()
    exif_ifd = {
        k: v for k, v in dict(src.get("Exif") or {}).items() if not minimal or k in _MINIMAL_EXIF
    }
    exif_ifd.pop(40965, None)  # interoperability pointer: rebuilt by piexif only if present
    exif_ifd[40962] = int(size[0])  # PixelXDimension
    exif_ifd[40963] = int(size[1])  # PixelYDimension
    gps = {} if (strip_gps or minimal) else dict(src.get("GPS") or {})
    return {
        "0th": zeroth,
        "Exif": exif_ifd,
        "GPS": gps,
        "Interop": {},
        "1st": {},
        "thumbnail": None,
    }


def dump_exif(exif: dict[str, Any]) -> bytes | None:
    """EXIF bytes for Pillow's ``exif=``; drops tags piexif cannot write rather than failing."""
    import piexif

    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in exif.items()}
    for _ in range(64):
        try:
            dumped: bytes = piexif.dump(data)
            return dumped
        except ValueError as exc:
            bad = _bad_tag(str(exc))
            if bad is None or not _drop_tag(data, bad):
                break
        except Exception:
            log.debug("EXIF cannot be written whole; essentials only", exc_info=True)
            break
    # last resort: only the essentials
    try:
        essentials = {
            "0th": {_ORIENTATION: 1, 305: SOFTWARE.encode()},
            "Exif": {k: v for k, v in data.get("Exif", {}).items() if k in _MINIMAL_EXIF},
        }
        dumped = piexif.dump(essentials)
        return dumped
    except Exception:
        log.debug("EXIF cannot be written: exported without it", exc_info=True)
        return None


def _bad_tag(text: str) -> int | None:
    import re

    match = re.search(r'"(\d+)"|tag (\d+)|\((\d+)\)', text)
    if not match:
        return None
    return int(next(g for g in match.groups() if g))


def _drop_tag(data: dict[str, Any], tag: int) -> bool:
    dropped = False
    for ifd in ("0th", "Exif", "GPS", "Interop"):
        if tag in data.get(ifd, {}):
            del data[ifd][tag]
            dropped = True
    return dropped


def encode_jpeg(
    img: Image.Image,
    *,
    quality: int,
    exif: bytes | None = None,
    icc: bytes | None = None,
    optimize: bool = False,
) -> bytes:
    """JPEG bytes; 4:4:4 chroma at quality >= 90, 4:2:0 below."""
    buf = io.BytesIO()
    kwargs: dict[str, Any] = {
        "quality": int(quality),
        "subsampling": 0 if quality >= 90 else 2,
        "optimize": optimize,
        "icc_profile": icc or srgb_icc(),
    }
    if exif:
        kwargs["exif"] = exif
    img.convert("RGB").save(buf, "JPEG", **kwargs)
    return buf.getvalue()


# -- 16-bit TIFF --------------------------------------------------------------------------
#: 0th-IFD tags tifffile writes from its own arguments (resolution, software)
_TIFF_OWN = {282, 283, 296, 305}


def _extratag(tag: int, typ: int, value: Any) -> tuple[int, int, int, Any, bool] | None:
    """tifffile's ``extratags`` tuple of one piexif 0th-IFD value, None when not writable."""
    try:
        if typ == 2:  # ASCII
            raw = value if isinstance(value, bytes) else str(value).encode("utf-8", "replace")
            return tag, 2, 0, raw.rstrip(b"\0"), True
        if typ in (1, 7):  # BYTE (Windows XP* tags), UNDEFINED
            raw = value if isinstance(value, bytes) else bytes(value)
            return tag, typ, len(raw), raw, True
        if typ in (5, 10):  # (S)RATIONAL: one (num, den) pair or several
            pairs = [value] if isinstance(value[0], int) else list(value)
            return tag, typ, len(pairs), tuple(int(x) for p in pairs for x in p), True
        if typ in (3, 4, 9):  # SHORT, LONG, SLONG
            values = [value] if isinstance(value, int) else list(value)
            return tag, typ, len(values), tuple(int(v) for v in values), True
    except (TypeError, ValueError, IndexError):
        return None
    return None


def _rational(value: Any) -> tuple[int, int] | None:
    try:
        num, den = (value[0] if isinstance(value[0], tuple | list) else value)[:2]
        return (int(num), int(den)) if den else None
    except (TypeError, ValueError, IndexError):
        return None


def encode_tiff16(
    rgb16: np.ndarray, *, exif: dict[str, Any] | None = None, icc: bytes | None = None
) -> bytes:
    """A 16-bit RGB TIFF (deflate with horizontal predictor, written by tifffile) with an ICC
    profile and the descriptive 0th-IFD tags of ``exif`` (make, model, date, artist,
    copyright, resolution...). tifffile cannot write the EXIF and GPS sub-IFDs, so capture
    settings and GPS are not carried into TIFF exports."""
    import piexif
    import tifffile

    arr = np.ascontiguousarray(rgb16, dtype=np.uint16)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError("encode_tiff16 needs an HxWx3 array")
    zeroth = dict((exif or {}).get("0th") or {})
    extratags = []
    for tag, value in sorted(zeroth.items()):
        info = piexif.TAGS["Image"].get(tag)
        if info is None or tag not in _DESCRIPTIVE_0TH or tag in _TIFF_OWN | {_ORIENTATION}:
            continue
        entry = _extratag(tag, int(info["type"]), value)
        if entry is not None:
            extratags.append(entry)
    extratags.append((_ORIENTATION, 3, 1, (1,), True))  # the pixels are upright
    xres, yres = _rational(zeroth.get(282)), _rational(zeroth.get(283))
    unit = zeroth.get(296)
    if unit not in (1, 2, 3):  # none, inch, cm; cameras also write 0 and other values
        unit = None
    buf = io.BytesIO()
    tifffile.imwrite(
        buf,
        arr,
        photometric="rgb",
        compression="adobe_deflate",
        compressionargs={"level": 3},
        predictor=True,
        iccprofile=icc or srgb_icc(),
        software=SOFTWARE,
        resolution=(xres, yres) if xres and yres else None,
        resolutionunit=unit if xres and yres else None,
        metadata=None,
        extratags=extratags,
    )
    return buf.getvalue()
