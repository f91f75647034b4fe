"""The 100% loupe: a photo at its full size, from the original's pixels, upright, with no
metadata, made once and kept in the store as the asset's ``loupe`` rendition (the second
look is a file read).

Where the pixels come from: a plain upright JPEG is its own loupe, its metadata segments
dropped (no decode, no generation loss); a camera RAW gives its embedded full-size JPEG
preview (turned upright) when it has one as large as the sensor's picture, else a render
through :func:`kilo.imaging.decode.decode_image`, as every other format does (HEIC, PNG,
TIFF, a rotated JPEG)."""

from __future__ import annotations

import hashlib
import io
import logging
import threading
from typing import Any, NamedTuple

from kilo.catalog import Catalog
from kilo.catalog.assets_repo import find_rendition, record_rendition
from kilo.catalog.file_reads import original_source
from kilo.errors import NotFound
from kilo.imaging.sniff import RAW_CONTENT_TYPE, SNIFF_BYTES, sniff_content_type

__all__ = ["LOUPE_KIND", "LOUPE_QUALITY", "LoupeFile", "ensure_loupe", "render_loupe"]

log = logging.getLogger(__name__)
LOUPE_KIND = "loupe"
LOUPE_QUALITY = 92
#: an embedded RAW preview at least this share of the picture's long edge is "full size"
FULL_SIZE_SHARE = 0.9
#: EXIF orientation -> the PIL transpose that makes the picture upright
_TRANSPOSE = {2: 0, 3: 3, 4: 1, 5: 5, 6: 4, 7: 6, 8: 2}
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


class LoupeFile(NamedTuple):
    file_id: str
    uri: str
    byte_size: int | None


def _lock(asset_id: str) -> threading.Lock:
    with _LOCKS_GUARD:
        if len(_LOCKS) > 1024:
            _LOCKS.clear()
        return _LOCKS.setdefault(asset_id, threading.Lock())


def _encode(image: Any) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=LOUPE_QUALITY, optimize=False, progressive=False)
    return buf.getvalue()


def _upright_jpeg(data: bytes) -> bytes | None:
    """A plain JPEG that needs no turn, without its metadata; None otherwise."""
    from PIL import Image

    from kilo.imaging.renditions import strip_jpeg_metadata

    try:
        with Image.open(io.BytesIO(data), formats=["JPEG"]) as im:
            if im.mode not in ("RGB", "L") or int(im.getexif().get(0x0112) or 1) != 1:
                return None
    except Exception:
        return None
    return strip_jpeg_metadata(data)


def _raw_preview(data: bytes) -> tuple[bytes, str] | None:
    """A RAW file's embedded full-size JPEG, upright and re-encoded (no metadata)."""
    from PIL import Image

    from kilo.imaging.decode import embedded_jpeg

    found = embedded_jpeg(data)
    if found is None:
        return None
    jpeg, full, orientation = found
    try:
        opened = Image.open(io.BytesIO(jpeg), formats=["JPEG"])
        if max(opened.size) < FULL_SIZE_SHARE * max(full):
            return None
        opened.load()
        im: Image.Image = opened
    except Exception:
        log.debug("embedded preview unreadable", exc_info=True)
        return None
    turn = _TRANSPOSE.get(orientation)
    if turn is not None:
        im = im.transpose(Image.Transpose(turn))
    return _encode(im.convert("RGB")), "embedded preview"


def render_loupe(data: bytes, *, name: str = "", frame: int = 0) -> tuple[bytes, str]:
    """(JPEG bytes, how they were made) of the full-size upright picture in ``data``."""
    from kilo.imaging.decode import decode_image

    kind = sniff_content_type(data[:SNIFF_BYTES], name)
    if kind == "image/jpeg" and frame == 0:
        plain = _upright_jpeg(data)
        if plain is not None:
            return plain, "original JPEG"
    if kind in (RAW_CONTENT_TYPE, "image/tiff"):
        preview = _raw_preview(data)
        if preview is not None:
            return preview
    decoded = decode_image(data, name=name, content_type=kind, max_px=None, frame=frame)
    return _encode(decoded.image), f"render ({decoded.method})"


def ensure_loupe(catalog: Catalog, asset_id: str) -> LoupeFile:
    """The asset's loupe rendition, made from its original on first use. NotFound when
    there is no such asset (or its project is deleted); DecodeError when the original
    cannot be read."""
    from kilo.imaging.decode import read_source
    from kilo.ingest.process import rendition_key
    from kilo.store import Store

    found = find_rendition(catalog, asset_id, LOUPE_KIND)
    if found is not None:
        return LoupeFile(str(found[0]), str(found[1]), found[2])
    with _lock(asset_id):
        found = find_rendition(catalog, asset_id, LOUPE_KIND)
        if found is not None:
            return LoupeFile(str(found[0]), str(found[1]), found[2])
        source = original_source(catalog, asset_id)
        project = catalog.table("assets").value(asset_id, "project_id")
        if source is None or project is None:
            raise NotFound(f"no asset with id {asset_id}")
        data = read_source(source.uri, catalog.settings)
        jpeg, how = render_loupe(data, name=source.uri, frame=source.frame_index)
        size = _jpeg_size(jpeg)
        uri = Store(catalog.settings).write_bytes(
            rendition_key(str(project), asset_id, LOUPE_KIND), jpeg
        )
        file_id = record_rendition(
            catalog,
            asset_id,
            LOUPE_KIND,
            uri,
            byte_size=len(jpeg),
            sha256=hashlib.sha256(jpeg).hexdigest(),
            size=size,
        )
        log.info("loupe of %s made (%s, %dx%d)", asset_id, how, *size)
        return LoupeFile(file_id, uri, len(jpeg))


def _jpeg_size(jpeg: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(jpeg)) as im:
        return im.size
