"""Assets for edit/style tests: catalog rows pointing at real photos (no ingest needed)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PIL import Image

from kilo.catalog import Catalog
from kilo.clock import new_id, utcnow


def add_photo_asset(
    catalog: Catalog,
    project_id: str,
    path: Path,
    *,
    iso: int | None = None,
    captured_at: datetime | None = None,
) -> str:
    """Insert an ``assets`` row and an ``original`` asset file for a real photo."""
    with Image.open(path) as im:
        width, height = im.size
    aid = new_id()
    now = utcnow()
    catalog.execute(
        "INSERT INTO assets (id, project_id, filename, source_uri, ingested_at, width_px, "
        "height_px, iso, captured_at, state, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'ready', ?)",
        [aid, project_id, path.name, str(path), now, width, height, iso, captured_at, now],
    )
    catalog.execute(
        "INSERT INTO asset_files (id, asset_id, kind, uri, created_at) "
        "VALUES (?, ?, 'original', ?, ?)",
        [new_id(), aid, str(path), now],
    )
    return aid
