"""The photo an edit applies to: its catalog row, its original and its preview."""

from __future__ import annotations

from typing import Any

from PIL import Image

from kilo.catalog import Catalog
from kilo.catalog.file_reads import latest_file_uri, original_source
from kilo.catalog.ids import lookup_id
from kilo.errors import NotFound

__all__ = ["asset_row", "load_preview", "original_uri", "preview_uri"]


_ASSET_COLUMNS = (
    "id",
    "project_id",
    "filename",
    "source_uri",
    "frame_index",
    "width_px",
    "height_px",
    "format",
    "content_type",
    "iso",
    "captured_at",
    "captured_offset_min",
    "captured_at_source",
    "exposure_time_s",
)


def asset_row(catalog: Catalog, asset_id: str) -> dict[str, Any]:
    """The asset's row, the columns an edit needs (:class:`NotFound` if there is none)."""
    aid = lookup_id(catalog, "assets", asset_id)
    row = catalog.table("assets").get(aid, _ASSET_COLUMNS)
    if row is None:
        raise NotFound(f"no asset with id {aid}")
    return row


def original_uri(catalog: Catalog, asset_id: str) -> tuple[str, int]:
    """(URI of the original, frame index) of an asset."""
    original = original_source(catalog, lookup_id(catalog, "assets", asset_id))
    if original is None:
        raise NotFound(f"no asset with id {asset_id}")
    return original.uri, original.frame_index


def preview_uri(catalog: Catalog, asset_id: str) -> str | None:
    return latest_file_uri(catalog, lookup_id(catalog, "assets", asset_id), "preview")


def load_preview(catalog: Catalog, asset_id: str, max_px: int = 2048) -> Image.Image:
    """The asset's preview rendition, else the original decoded at ``max_px``."""
    from kilo.imaging import load_image

    uri = preview_uri(catalog, asset_id)
    if uri is not None:
        return load_image(uri, max_px=max_px, settings=catalog.settings)
    src, frame = original_uri(catalog, asset_id)
    return load_image(src, max_px=max_px, settings=catalog.settings, frame=frame)
