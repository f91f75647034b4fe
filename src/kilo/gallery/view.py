"""What a visitor sees: the gallery's photos in order with their counts, and the images
themselves as the gallery serves them: re-encoded from the renditions, without EXIF, GPS or
any other metadata, the file name only when the photographer shows file names, and the
watermark burned in when the gallery has one."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, Literal

from kilo.catalog import Catalog
from kilo.errors import NotFound
from kilo.gallery.visitors import Visit, gallery_asset, log_activity

ImageSize = Literal["thumb", "preview", "download"]
_LONG_EDGE = {"thumb": 512, "preview": 2048, "web": 2048}


@dataclass(frozen=True)
class ViewItem:
    asset_id: str
    width: int | None
    height: int | None
    filename: str | None
    favorites: int
    comments: int
    mine: bool


def view_items(catalog: Catalog, v: Visit) -> list[ViewItem]:
    """The gallery's photos in its order, each with its favourite and comment counts and
    whether this visitor favourited it."""
    rows = catalog.fetchall(
        "SELECT ga.asset_id, a.width_px, a.height_px, a.orientation, a.filename, "
        "(SELECT count(*) FROM favorites f WHERE f.gallery_id = ga.gallery_id "
        " AND f.asset_id = ga.asset_id), "
        "(SELECT count(*) FROM comments c WHERE c.gallery_id = ga.gallery_id "
        " AND c.asset_id = ga.asset_id), "
        "EXISTS (SELECT 1 FROM favorites f WHERE f.gallery_id = ga.gallery_id "
        " AND f.asset_id = ga.asset_id AND f.client_id = ?) "
        "FROM gallery_assets ga JOIN assets a ON a.id = ga.asset_id "
        "WHERE ga.gallery_id = ? ORDER BY ga.position",
        [v.visitor_id, v.gallery_id],
    )
    show = bool(v.gallery["show_filenames"])
    out = []
    for aid, w, h, orient, name, favs, comments, mine in rows:
        if orient in (5, 6, 7, 8) and w and h:  # stored as shot; shown upright
            w, h = h, w
        out.append(ViewItem(str(aid), w, h, name if show else None, int(favs), int(comments),
                            bool(mine)))  # fmt: skip
    return out


def gallery_image(catalog: Catalog, v: Visit, asset_id: str, size: ImageSize) -> bytes:
    """The JPEG a visitor is served for one photo: ``thumb`` (512 px), ``preview`` (2048 px)
    or ``download`` (the gallery's download size: web, or the original's pixels), with no
    metadata, and the watermark when the gallery has one. NotFound when a download is not
    allowed."""
    aid = gallery_asset(catalog, v, asset_id)
    if size == "download" and not v.gallery["allow_downloads"]:
        raise NotFound("no such image, or its link has ended")
    img = _source(catalog, aid, size, v.gallery["download_size"] or "web")
    if v.gallery["watermark"]:
        img = _watermarked(img, v.gallery["watermark_text"])
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90 if size == "download" else 85, optimize=True,
             progressive=size != "thumb")  # fmt: skip  # no exif=, no icc: nothing else
    if size == "download":
        log_activity(catalog, v.gallery_id, v.visitor_id, "download", aid)
    return buf.getvalue()


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
    if img is None:
        raise NotFound("no such image, or its link has ended")
    return img.convert("RGB")


def _watermarked(img: Any, text: str | None) -> Any:
    """The export watermark, tiled across the photo (a proof must not be croppable)."""
    from kilo.export.watermark import apply_watermark, parse_watermark

    spec = parse_watermark({"text": text or "PROOF", "opacity": 0.3, "position": "tiled"})
    return apply_watermark(img, spec)
