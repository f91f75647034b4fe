"""Photo metadata through libraries, never a hand-written EXIF parser.

* JPEG, MPO, WebP, PNG: piexif (exifread as the fallback).
* TIFF, camera RAW, HEIC/HEIF: exifread (piexif on pillow-heif's EXIF block as the fallback:
  exifread raises ``AssertionError`` on some valid iPhone HEICs).
* IPTC: Pillow's IPTC reader; XMP (embedded or a sidecar): the XML packet with ElementTree.

Both EXIF libraries are flattened to one ``{TagName: value}`` dict (rationals as floats), from
which the catalog columns are derived. A failing reader is recorded in ``Metadata.errors``;
it never stops the pixels from being used.
"""

from __future__ import annotations

import io
import logging
import math
import re
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kilo.imaging.iptc import iptc_from_jpeg, read_xmp
from kilo.imaging.sniff import RAW_CONTENT_TYPE, SNIFF_BYTES, sniff_content_type

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from kilo.settings import Settings

# exifread logs "File format not recognized" and such: keep the core silent
logging.getLogger("exifread").addHandler(logging.NullHandler())

_MAX_VALUE_BYTES = 512
_SKIP_TAGS = frozenset({"MakerNote", "JPEGThumbnail", "TIFFThumbnail", "PrintIM", "XMLPacket"})


@dataclass
class Metadata:
    """What a file says about itself; every field optional."""

    captured_at: datetime | None = None  # naive UTC (wall clock when the offset is unknown)
    captured_offset_min: int | None = None
    captured_at_source: str | None = None
    camera_make: str | None = None
    camera_model: str | None = None
    camera_serial: str | None = None
    lens_model: str | None = None
    focal_length_mm: float | None = None
    shutter_speed: str | None = None
    exposure_time_s: float | None = None
    aperture: float | None = None
    iso: int | None = None
    exposure_bias_ev: float | None = None
    gps_lat: float | None = None
    gps_lon: float | None = None
    gps_alt_m: float | None = None
    orientation: int | None = None
    exif: dict[str, Any] = field(default_factory=dict)
    iptc: dict[str, Any] = field(default_factory=dict)
    keywords: list[str] = field(default_factory=list)
    reader: str | None = None
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict (shallow: the nested values are this object's own)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


# -- flattening the two EXIF libraries -------------------------------------------------------
def _clean(value: Any) -> Any:
    """A JSON-safe form of an EXIF value (None when it is not worth keeping)."""
    if isinstance(value, bytes):
        if len(value) > _MAX_VALUE_BYTES:
            return None
        for prefix in (b"ASCII\x00\x00\x00", b"UNICODE\x00", b"\x00" * 8):
            if value.startswith(prefix):
                value = value[8:]
        text = value.split(b"\x00", 1)[0].decode("utf-8", errors="replace").strip()
        return text if text.isprintable() else None
    if isinstance(value, str):
        return value.replace("\x00", "").strip()
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
        num, den = value
        return None if den == 0 else round(num / den, 6)
    if isinstance(value, list | tuple):
        items = [_clean(v) for v in value]
        if len(items) > 64:
            return None
        return items[0] if len(items) == 1 else items
    if isinstance(value, Fraction) or hasattr(value, "denominator"):
        try:
            den = int(value.denominator)
            return None if den == 0 else round(float(Fraction(int(value.numerator), den)), 6)
        except (TypeError, ValueError, ZeroDivisionError):
            return None
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, int | bool):
        return value
    return str(value)


def _flat_from_piexif(data: bytes) -> dict[str, Any]:
    import piexif

    loaded = piexif.load(data)
    flat: dict[str, Any] = {}
    for ifd in ("0th", "Exif", "GPS", "Interop"):
        for tag, value in (loaded.get(ifd) or {}).items():
            name = piexif.TAGS.get(ifd, {}).get(tag, {}).get("name", f"Tag{tag:#06x}")
            if name in _SKIP_TAGS:
                continue
            cleaned = _clean(value)
            if cleaned is not None and cleaned != "":
                flat.setdefault(name, cleaned)
    return flat


def _flat_from_exifread(data: bytes) -> dict[str, Any]:
    import exifread

    tags = exifread.process_file(io.BytesIO(data), details=False, extract_thumbnail=False)
    flat: dict[str, Any] = {}
    for key, tag in tags.items():
        group, _, name = key.partition(" ")
        if not name or group in ("Thumbnail", "MakerNote") or name in _SKIP_TAGS:
            continue
        values = getattr(tag, "values", tag)
        cleaned = _clean(values)
        if cleaned is not None and cleaned != "":
            flat.setdefault(name, cleaned)
    return flat


def _heif_exif(data: bytes, frame: int) -> tuple[bytes | None, bytes | None]:
    import pillow_heif

    heif = pillow_heif.open_heif(io.BytesIO(data))
    info = heif[min(frame, len(heif) - 1)].info
    exif = info.get("exif")
    xmp = info.get("xmp")
    return (exif if isinstance(exif, bytes) else None, xmp if isinstance(xmp, bytes) else None)


# -- derived columns ------------------------------------------------------------------------
def _num(value: Any) -> float | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(Fraction(value.strip()))
        except (ValueError, ZeroDivisionError):
            return None
    return None


def _text(value: Any) -> str | None:
    if isinstance(value, list):
        value = " ".join(str(v) for v in value)
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


_DT_RE = re.compile(r"^\s*(\d{4})[:\-](\d{2})[:\-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_OFFSET_RE = re.compile(r"^\s*([+-])(\d{2}):?(\d{2})\s*$")


def _parse_datetime(value: Any, subsec: Any) -> datetime | None:
    match = _DT_RE.match(str(value or ""))
    if not match:
        return None
    try:
        y, mo, d, h, mi, sec = (int(g) for g in match.groups())
        dt = datetime(y, mo, d, h, mi, sec)
    except ValueError:
        return None
    digits = re.sub(r"\D", "", str(subsec or ""))[:6]
    if digits:
        dt = dt.replace(microsecond=int(digits.ljust(6, "0")))
    return dt


def _parse_offset(value: Any) -> int | None:
    match = _OFFSET_RE.match(str(value or ""))
    if not match:
        return None
    sign, hh, mm = match.groups()
    minutes = int(hh) * 60 + int(mm)
    return -minutes if sign == "-" else minutes


def _gps_utc(flat: dict[str, Any]) -> datetime | None:
    date_s, time_v = flat.get("GPSDateStamp"), flat.get("GPSTimeStamp")
    if not date_s or not isinstance(time_v, list) or len(time_v) != 3:
        return None
    try:
        day = datetime.strptime(str(date_s).strip()[:10].replace("-", ":"), "%Y:%m:%d")
        h, m, s = (float(v) for v in time_v)
        return day + timedelta(hours=h, minutes=m, seconds=s)
    except (ValueError, TypeError):
        return None


def _set_capture_time(meta: Metadata, flat: dict[str, Any]) -> None:
    for tag, subsec_tag, offset_tag in (
        ("DateTimeOriginal", "SubSecTimeOriginal", "OffsetTimeOriginal"),
        ("DateTimeDigitized", "SubSecTimeDigitized", "OffsetTimeDigitized"),
        ("DateTime", "SubSecTime", "OffsetTime"),
    ):
        local = _parse_datetime(flat.get(tag), flat.get(subsec_tag))
        if local is None:
            continue
        offset = _parse_offset(flat.get(offset_tag))
        source = f"exif:{tag}"
        if offset is None:
            gps = _gps_utc(flat)
            if gps is not None:
                minutes = (local - gps).total_seconds() / 60
                if abs(minutes) <= 14 * 60 + 5:
                    offset = int(round(minutes / 15) * 15)
                    source += "+gps_offset"
        if offset is None:
            meta.captured_at = local
            meta.captured_at_source = source + " (no offset)"
        else:
            meta.captured_at = local - timedelta(minutes=offset)
            meta.captured_offset_min = offset
            meta.captured_at_source = source
        return


def _gps_coord(value: Any, ref: Any, negative: str) -> float | None:
    if isinstance(value, list) and len(value) == 3:
        try:
            deg = float(value[0]) + float(value[1]) / 60 + float(value[2]) / 3600
        except (TypeError, ValueError):
            return None
    else:
        num = _num(value)
        if num is None:
            return None
        deg = num
    if str(ref or "").strip().upper().startswith(negative):
        deg = -deg
    return round(deg, 7)


def _shutter(seconds: float | None) -> str | None:
    if seconds is None or seconds <= 0:
        return None
    if seconds >= 0.3:
        return f"{seconds:g}s" if seconds >= 1 else f"{seconds:.1f}s"
    return f"1/{round(1 / seconds)}"


def _apply_exif(meta: Metadata, flat: dict[str, Any]) -> None:
    meta.exif = flat
    _set_capture_time(meta, flat)
    meta.camera_make = _text(flat.get("Make"))
    meta.camera_model = _text(flat.get("Model"))
    meta.camera_serial = _text(flat.get("BodySerialNumber") or flat.get("SerialNumber"))
    meta.lens_model = _text(flat.get("LensModel"))
    focal = _num(flat.get("FocalLength"))
    meta.focal_length_mm = round(focal, 2) if focal else None
    exposure = _num(flat.get("ExposureTime"))
    meta.exposure_time_s = exposure if exposure and exposure > 0 else None
    meta.shutter_speed = _shutter(meta.exposure_time_s)
    fnum = _num(flat.get("FNumber"))
    meta.aperture = round(fnum, 1) if fnum else None
    iso = _num(flat.get("ISOSpeedRatings") or flat.get("PhotographicSensitivity"))
    meta.iso = int(iso) if iso else None
    bias = _num(flat.get("ExposureBiasValue"))
    meta.exposure_bias_ev = round(bias, 2) if bias is not None else None
    meta.gps_lat = _gps_coord(flat.get("GPSLatitude"), flat.get("GPSLatitudeRef"), "S")
    meta.gps_lon = _gps_coord(flat.get("GPSLongitude"), flat.get("GPSLongitudeRef"), "W")
    alt = _num(flat.get("GPSAltitude"))
    if alt is not None:
        below = flat.get("GPSAltitudeRef") in (1, "1", b"\x01")
        meta.gps_alt_m = round(-alt if below else alt, 2)
    orientation = _num(flat.get("Orientation"))
    meta.orientation = int(orientation) if orientation and 1 <= orientation <= 8 else None


def _merge_iptc(meta: Metadata, found: dict[str, Any], source: str) -> None:
    for key, value in found.items():
        if key == "keywords":
            for kw in value:
                if kw not in meta.keywords:
                    meta.keywords.append(kw)
        else:
            meta.iptc.setdefault(key, value)
    if found:
        meta.iptc.setdefault("sources", []).append(source)


def _pillow_info(data: bytes, opened: Any = None) -> tuple[bytes | None, bytes | None]:
    from PIL import Image

    if opened is not None:
        exif = opened.info.get("exif")
        xmp = opened.info.get("xmp") or opened.info.get("XML:com.adobe.xmp")
    else:
        with Image.open(io.BytesIO(data)) as im:
            exif = im.info.get("exif")
            xmp = im.info.get("xmp") or im.info.get("XML:com.adobe.xmp")
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8")
    return (exif if isinstance(exif, bytes) else None, xmp if isinstance(xmp, bytes) else None)


def _failed(meta: Metadata, name: str, reader: str, exc: BaseException) -> None:
    """Keep one reader's failure as a reason on ``meta`` (and its traceback in the log)."""
    log.debug("%s: %s failed", name, reader, exc_info=exc)
    text = " ".join(str(exc).split()) or "no message"
    meta.errors.append(f"{reader}: {type(exc).__name__}: {text}"[:300])


def _exif_readers(
    meta: Metadata, data: bytes, name: str, ctype: str | None, frame: int
) -> tuple[list[tuple[str, Any]], bytes | None]:
    """The EXIF readers to try for this kind of file, best first, and any XMP packet found
    on the way (HEIF and PNG keep theirs beside the EXIF block)."""
    is_heif = bool(ctype) and any(k in str(ctype) for k in ("heic", "heif", "avif"))
    readers: list[tuple[str, Any]] = []
    exif_block: bytes | None = None
    xmp: bytes | None = None
    if is_heif:
        try:
            exif_block, xmp = _heif_exif(data, frame)
        except Exception as exc:
            _failed(meta, name, "pillow-heif", exc)
        if frame == 0:
            readers.append(("exifread", lambda: _flat_from_exifread(data)))
        if exif_block:
            block = exif_block if exif_block.startswith(b"Exif") else b"Exif\x00\x00" + exif_block
            readers.append(("piexif", lambda: _flat_from_piexif(block)))
    elif ctype in ("image/tiff", RAW_CONTENT_TYPE):
        readers.append(("exifread", lambda: _flat_from_exifread(data)))
    elif ctype in ("image/jpeg", "image/webp"):
        readers.append(("piexif", lambda: _flat_from_piexif(data)))
        readers.append(("exifread", lambda: _flat_from_exifread(data)))
    elif ctype == "image/png":
        try:
            exif_block, xmp = _pillow_info(data)
        except Exception as exc:
            _failed(meta, name, "pillow", exc)
        if exif_block:
            png_block = exif_block
            readers.append(("piexif", lambda: _flat_from_piexif(png_block)))
    return readers, xmp


def extract_metadata(
    data: bytes,
    *,
    name: str = "",
    content_type: str | None = None,
    frame: int = 0,
    sidecar: bytes | None = None,
    opened: Any = None,
) -> Metadata:
    """Metadata of a file's bytes (one frame of it). Never raises: failures go to ``errors``.
    ``opened``: a JPEG's bytes already parsed by Pillow (the caller closes it)."""
    meta = Metadata()
    ctype = content_type or sniff_content_type(data[:SNIFF_BYTES], name)
    readers, xmp = _exif_readers(meta, data, name, ctype, frame)
    for reader, fn in readers:
        try:
            flat: dict[str, Any] = fn()
        except Exception as exc:  # libraries raise anything on odd files (AssertionError...)
            _failed(meta, name, reader, exc)
            continue
        _apply_exif(meta, flat)
        meta.reader = reader
        break
    own = opened is None and ctype == "image/jpeg"
    if own:
        from kilo.imaging.renditions import open_jpeg

        opened = open_jpeg(data)  # one parse for XMP + IPTC
    if ctype in ("image/jpeg", "image/webp", "image/tiff") and xmp is None:
        try:
            _, xmp = _pillow_info(data, opened)
        except Exception as exc:
            _failed(meta, name, "pillow", exc)
    if ctype == "image/jpeg":
        try:
            _merge_iptc(meta, iptc_from_jpeg(data, opened), "iptc")
        except Exception as exc:
            _failed(meta, name, "iptc", exc)
    if own and opened is not None:
        opened.close()
    for packet, source in ((xmp, "xmp"), (sidecar, "sidecar")):
        if packet:
            try:
                _merge_iptc(meta, read_xmp(packet), source)
            except Exception as exc:
                _failed(meta, name, source, exc)
    return meta


def read_metadata(
    source: str | Path | bytes,
    *,
    name: str = "",
    content_type: str | None = None,
    frame: int = 0,
    settings: Settings | None = None,
) -> Metadata:
    """Metadata of a local path, fsspec URL or bytes. Raises DecodeError if it cannot be read."""
    from kilo.imaging.decode import read_source

    if not name and not isinstance(source, bytes | bytearray | memoryview):
        name = str(source)
    return extract_metadata(
        read_source(source, settings), name=name, content_type=content_type, frame=frame
    )
