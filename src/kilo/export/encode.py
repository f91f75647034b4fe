"""Encoders for exported files: JPEG with EXIF and an sRGB ICC profile, 16-bit TIFF.

EXIF comes from the original (piexif), with the orientation set to 1 (the pixels are already
upright), the pixel dimensions set to the output's, the embedded thumbnail dropped, and GPS
removed when asked. ``minimal`` keeps only what a web image needs (date, artist, copyright).
"""

from __future__ import annotations

import io
import struct
import zlib
from functools import lru_cache
from typing import Any

import numpy as np
from PIL import Image

SOFTWARE = "kilo"
#: tags of the 0th IFD that describe the file's own structure: written by the encoder
_STRUCTURAL_0TH = {256, 257, 258, 259, 262, 273, 277, 278, 279, 284, 513, 514, 530, 531, 34665}
#: descriptive 0th-IFD tags copied from the original (the rest describe its own encoding:
#: tiles, strips, CFA and DNG colour data, which would corrupt the new file)
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
_MAKER_NOTE = 37500


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
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 9: 4, 10: 8}
_TYPE_FORMATS = {1: "B", 3: "H", 4: "I", 5: "II", 9: "i", 10: "ii"}


def _entry_bytes(typ: int, value: Any) -> tuple[int, bytes] | None:
    """(count, little-endian payload) of one TIFF field, None when it cannot be written."""
    try:
        if typ in (2,):
            raw = value if isinstance(value, bytes) else str(value).encode("utf-8", "replace")
            raw = raw.rstrip(b"\0") + b"\0"
            return len(raw), raw
        if typ == 7:
            raw = value if isinstance(value, bytes) else bytes(value)
            return len(raw), raw
        fmt = _TYPE_FORMATS.get(typ)
        if fmt is None:
            return None
        if typ in (5, 10):
            pairs = [value] if isinstance(value[0], int) else list(value)
            flat = [int(x) for pair in pairs for x in pair]
            return len(pairs), struct.pack(f"<{len(flat)}{fmt[0]}", *flat)
        values = [value] if isinstance(value, int) else list(value)
        return len(values), struct.pack(f"<{len(values)}{fmt}", *[int(v) for v in values])
    except (TypeError, ValueError, IndexError, struct.error):
        return None


class _IfdWriter:
    """Lays out IFDs and their out-of-line values after the pixel data."""

    def __init__(self, start: int) -> None:
        self.offset = start
        self.blob = bytearray()

    def _alloc(self, data: bytes) -> int:
        if len(self.blob) % 2:
            self.blob += b"\0"
        pos = self.offset + len(self.blob)
        self.blob += data
        return pos

    def write_ifd(self, entries: dict[int, tuple[int, Any]], pointers: dict[int, int]) -> int:
        """Write one IFD (``pointers``: LONG tags holding offsets); returns its offset."""
        fields: list[tuple[int, int, int, bytes]] = []
        for tag, (typ, value) in entries.items():
            packed = _entry_bytes(typ, value)
            if packed is not None:
                fields.append((tag, typ, packed[0], packed[1]))
        for tag, offset in pointers.items():
            fields.append((tag, 4, 1, struct.pack("<I", offset)))
        fields.sort(key=lambda f: f[0])
        out_of_line = {}
        for tag, _typ, _count, payload in fields:
            if len(payload) > 4:
                out_of_line[tag] = self._alloc(payload)
        ifd = bytearray(struct.pack("<H", len(fields)))
        for tag, typ, count, payload in fields:
            value = (
                struct.pack("<I", out_of_line[tag])
                if tag in out_of_line
                else payload.ljust(4, b"\0")
            )
            ifd += struct.pack("<HHI", tag, typ, count) + value
        ifd += struct.pack("<I", 0)
        return self._alloc(bytes(ifd))


def _typed(ifd: str, entries: dict[int, Any]) -> dict[int, tuple[int, Any]]:
    import piexif

    out: dict[int, tuple[int, Any]] = {}
    for tag, value in entries.items():
        info = piexif.TAGS.get(ifd, {}).get(tag)
        if info is None or tag == _MAKER_NOTE:
            continue
        out[tag] = (int(info["type"]), value)
    return out


def encode_tiff16(
    rgb16: np.ndarray, *, exif: dict[str, Any] | None = None, icc: bytes | None = None
) -> bytes:
    """A 16-bit RGB TIFF (deflate with horizontal predictor) with EXIF and an ICC profile."""
    arr = np.ascontiguousarray(rgb16, dtype="<u2")
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError("encode_tiff16 needs an HxWx3 array")
    height, width, _ = arr.shape
    rows_per_strip = max(1, min(height, 65536 // max(1, width * 6) or 1))
    diff = arr.astype(np.int32)
    diff[:, 1:, :] -= arr[:, :-1, :].astype(np.int32)
    pred = (diff & 0xFFFF).astype("<u2")
    strips, offsets, counts = bytearray(), [], []
    header = 8
    for y in range(0, height, rows_per_strip):
        data = zlib.compress(pred[y : y + rows_per_strip].tobytes(), 3)
        offsets.append(header + len(strips))
        counts.append(len(data))
        strips += data
        if len(strips) % 2:
            strips += b"\0"
    writer = _IfdWriter(header + len(strips))
    exif = exif or {}
    pointers0: dict[int, int] = {}
    exif_entries = _typed("Exif", {k: v for k, v in (exif.get("Exif") or {}).items()})
    if exif_entries:
        pointers0[34665] = writer.write_ifd(exif_entries, {})
    gps_entries = _typed("GPS", dict(exif.get("GPS") or {}))
    if gps_entries:
        pointers0[34853] = writer.write_ifd(gps_entries, {})
    zeroth = _typed("Image", {k: v for k, v in (exif.get("0th") or {}).items()})
    for tag in _STRUCTURAL_0TH | {34853, 34675}:
        zeroth.pop(tag, None)
    zeroth.update(
        {
            256: (4, width),
            257: (4, height),
            258: (3, [16, 16, 16]),
            259: (3, 8),
            262: (3, 2),
            273: (4, offsets),
            277: (3, 3),
            278: (4, rows_per_strip),
            279: (4, counts),
            284: (3, 1),
            317: (3, 2),
            274: (3, 1),
            34675: (7, icc or srgb_icc()),
        }
    )
    ifd0 = writer.write_ifd(zeroth, pointers0)
    head = b"II" + struct.pack("<HI", 42, ifd0)
    return head + bytes(strips) + bytes(writer.blob)
