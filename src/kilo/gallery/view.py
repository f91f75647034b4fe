"""What a visitor sees: the gallery's photos in order with their counts, and the images
themselves as the gallery serves them: re-encoded from the renditions, without EXIF, GPS or
any other metadata, the file name only when the photographer shows file names, and the
watermark burned in when the gallery has one.

Metadata is kept out twice: the decoded image's own ``info`` (where Pillow keeps what it
read: a JPEG comment it would otherwise write back, XMP, EXIF, ICC) is dropped before
encoding, and the encoded JPEG keeps only the segments kilo writes (JFIF, tables, frame,
scan); no comment, EXIF, XMP, IPTC, maker notes or ICC profile reaches a visitor, whatever
the original carried or the size served (thumb, preview, download, the download-all zip)."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from kilo.catalog import Catalog
from kilo.errors import KiloError, NotFound
from kilo.gallery.visitors import Visit, gallery_asset, list_view_rows, log_activity
from kilo.text import frame_name

ImageSize = Literal["thumb", "preview", "download"]
_LONG_EDGE = {"thumb": 512, "preview": 2048, "web": 2048}
#: what a zip entry's name keeps (\w: letters and digits of any script, and _)
_SAFE = re.compile(r"[^\w.-]+")


@dataclass(frozen=True)
class ViewItem:
    asset_id: str
    width: int | None
    height: int | None
    #: the name the page shows (:func:`kilo.text.frame_name`: ``bird_burst.heic [2/4]`` for
    #: a frame of a multi-frame file); None when the gallery does not show file names
    filename: str | None
    favorites: int
    comments: int
    mine: bool
    #: its name in the download-all zip (:func:`zip_entry_name`; ``photo-0003.jpg`` when
    #: file names are not shown)
    zip_name: str = ""


def view_items(catalog: Catalog, v: Visit) -> list[ViewItem]:
    """The gallery's photos in its order, each with its favorite and comment counts and
    whether this visitor favorited it."""
    rows = list_view_rows(catalog, v.gallery_id, v.visitor_id)
    show = bool(v.gallery["show_filenames"])
    out = []
    used: set[str] = set()
    for n, row in enumerate(rows, 1):
        aid, w, h, orient, name, favs, comments, mine, frame, frames = row
        if orient in (5, 6, 7, 8) and w and h:  # stored as shot; shown upright
            w, h = h, w
        shown = frame_name(str(name), frame, frames) if show and name else None
        zipped = zip_entry_name(name if show else None, frame, frames, n, used)
        out.append(ViewItem(str(aid), w, h, shown, int(favs), int(comments), bool(mine), zipped))
    return out


def gallery_image(
    catalog: Catalog, v: Visit, asset_id: str, size: ImageSize, *, log: bool = True
) -> bytes:
    """The JPEG a visitor is served for one photo: ``thumb`` (512 px), ``preview`` (2048 px)
    or ``download`` (the gallery's download size: web, or the original's pixels), with no
    metadata, and the watermark when the gallery has one. NotFound when a download is not
    allowed."""
    aid = gallery_asset(catalog, v, asset_id)
    if size == "download" and not v.gallery["allow_downloads"]:
        raise NotFound("no such image, or its link has ended")
    img = _source(catalog, aid, size, v.gallery["download_size"] or "web")
    if v.gallery["watermark"]:
        img = _watermarked(img, v.gallery["watermark_text"], v.gallery["watermark_logo"])
    data = encode_clean_jpeg(
        img, quality=90 if size == "download" else 85, progressive=size != "thumb"
    )
    if size == "download" and log:
        log_activity(catalog, v.gallery_id, v.visitor_id, "download", aid)
    return data


def encode_clean_jpeg(img: Any, *, quality: int, progressive: bool) -> bytes:
    """``img`` as a JPEG with no metadata at all: Pillow writes back a JPEG comment it read
    (``info["comment"]``) unless told otherwise, so the image goes without its ``info``,
    and the bytes keep only the segments that draw the picture."""
    from kilo.imaging.renditions import strip_jpeg_metadata

    img.info = {}
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, optimize=True, progressive=progressive)
    data = buf.getvalue()
    stripped = strip_jpeg_metadata(data)
    if stripped is None:  # not reached: Pillow writes plain Huffman JPEGs
        raise KiloError("the served JPEG could not be cleaned of metadata")
    return stripped


class _Sink(io.RawIOBase):
    """Where a streamed zip is written: what has been written since the last ``take``."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out, self._chunks = b"".join(self._chunks), []
        return out


def gallery_zip(catalog: Catalog, v: Visit) -> Iterator[bytes]:
    """Every photo of the gallery at its download size, as a zip streamed photo by photo
    (nothing is held but the photo being added; JPEGs are stored, not compressed again).
    NotFound when downloads are off."""
    if not v.gallery["allow_downloads"]:
        raise NotFound("no such image, or its link has ended")
    items = view_items(catalog, v)
    log_activity(
        catalog, v.gallery_id, v.visitor_id, "download", None, {"all": True, "count": len(items)}
    )
    return _zip_stream(catalog, v, items)


def _zip_stream(catalog: Catalog, v: Visit, items: list[ViewItem]) -> Iterator[bytes]:
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:
        for item in items:
            name = item.zip_name
            data = gallery_image(catalog, v, item.asset_id, "download", log=False)
            archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
            yield sink.take()
    yield sink.take()  # the zip's directory, written on close


def zip_entry_name(
    filename: str | None, frame_index: int | None, frame_count: int | None, n: int, used: set[str]
) -> str:
    """The name of the ``n``-th photo in a download-all zip, unique among ``used`` (which it
    joins; compared without case, as Windows and macOS do): the file's stem as a JPEG
    (``cv_leuvenA.jpg``), a frame of a multi-frame file with which of how many
    (``bird_burst_2of4.jpg`` for ``bird_burst.heic [2/4]``), ``photo-0003.jpg`` without a
    name; a name taken already gets ``-0003`` (its position). Only letters, digits, ``-``,
    ``_`` and ``.`` are kept (a run of anything else, a space or a bracket included, is one
    ``_``), so no entry has a path, a space or a character a file system refuses."""
    stem = _SAFE.sub("_", (filename or "").rsplit(".", 1)[0]).strip("._") if filename else ""
    count = int(frame_count or 1)
    if stem and count > 1:
        stem = f"{stem}_{int(frame_index or 0) + 1}of{count}"
    name = f"{stem or f'photo-{n:04d}'}.jpg"
    if name.lower() in used:
        name = f"{stem or 'photo'}-{n:04d}.jpg"
    used.add(name.lower())
    return name


def _source(catalog: Catalog, asset_id: str, size: ImageSize, download_size: str) -> Any:
    from PIL import Image

    from kilo.assets import open_rendition

    if size == "download" and download_size == "original":
        img = open_rendition(catalog, asset_id, "original")
    else:
        img = open_rendition(catalog, asset_id, "thumbnail" if size == "thumb" else "preview")
        edge = _LONG_EDGE["thumb" if size == "thumb" else "preview"]
        if max(img.size) > edge:
            img.thumbnail((edge, edge), Image.Resampling.LANCZOS)
    return img  # open_rendition gives RGB (NotFound itself when there is nothing)


def _watermarked(img: Any, text: str | None, logo: str | None) -> Any:
    """The export watermark tiled across the photo (a proof must not be croppable): the
    gallery's logo, else its text (PROOF by default)."""
    from kilo.export.watermark import apply_watermark, parse_watermark

    source = {"image": logo, "scale": 0.12} if logo else {"text": text or "PROOF"}
    spec = parse_watermark({**source, "opacity": 0.3, "position": "tiled"})
    return apply_watermark(img, spec)
