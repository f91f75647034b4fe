"""Catalog rows for search tests: assets as ingest writes them, with real preview JPEGs.

Rows follow the ingest contract (an ``assets`` row, ``asset_files`` of kind ``preview`` with a
JPEG made with Pillow from a real photo of ``../shared/photos``), with metadata chosen by the
test so filters can be checked against brute force.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image

from kilo.catalog import Catalog
from kilo.clock import new_id, utcnow

PHOTO_NAMES = (
    "flower.png",
    "mate_Dune.jpg",
    "mate_Storm.jpg",
    "plasma_Kite.jpg",
    "people_zidane.jpg",
    "cv_leuvenA.jpg",
)


def make_previews(photos_dir: Path, dest: Path, *, size: int = 384) -> list[Path]:
    """Small preview JPEGs (long edge ``size``) of a few real photos."""
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for name in PHOTO_NAMES:
        target = dest / f"{name}.preview.jpg"
        if not target.exists():
            with Image.open(photos_dir / name) as im:
                im.draft("RGB", (2 * size, 2 * size))
                rgb = im.convert("RGB")
                rgb.thumbnail((size, size))
                rgb.save(target, "JPEG", quality=85)
        out.append(target)
    return out


def insert_asset(
    catalog: Catalog,
    project_id: str,
    *,
    filename: str,
    preview: Path | None = None,
    captured_at: datetime | None = None,
    offset_min: int | None = 0,
    camera_make: str | None = None,
    camera_model: str | None = None,
    lens_model: str | None = None,
    keywords: list[str] | None = None,
    iptc: dict[str, Any] | None = None,
    ingested_at: datetime | None = None,
) -> str:
    asset_id = new_id()
    now = ingested_at or utcnow()
    catalog.execute(
        "INSERT INTO assets (id, project_id, filename, source_uri, captured_at, "
        "captured_offset_min, ingested_at, camera_make, camera_model, lens_model, iptc, keywords, "
        "state, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'ready', ?)",
        [
            asset_id,
            project_id,
            filename,
            f"/photos/{filename}",
            captured_at,
            offset_min,
            now,
            camera_make,
            camera_model,
            lens_model,
            iptc or {},
            keywords or [],
            now,
        ],
    )
    if preview is not None:
        catalog.execute(
            "INSERT INTO asset_files (id, asset_id, kind, uri, content_type, created_at) "
            "VALUES (?, ?, 'preview', ?, 'image/jpeg', ?)",
            [new_id(), asset_id, str(preview), now],
        )
    return asset_id


def set_rating(
    catalog: Catalog,
    asset_id: str,
    *,
    rating: int | None = None,
    picked: bool | None = None,
    rejected: bool | None = None,
    user_id: str | None = None,
) -> None:
    catalog.execute(
        "INSERT OR REPLACE INTO ratings (asset_id, user_id, rating, picked, rejected, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [asset_id, user_id or catalog.local_user_id, rating, picked, rejected, utcnow()],
    )


def add_cluster(catalog: Catalog, project_id: str, kind: str, asset_ids: list[str]) -> str:
    cid = new_id()
    now = utcnow()
    catalog.execute(
        "INSERT INTO clusters (id, project_id, kind, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?)",
        [cid, project_id, kind, now, now],
    )
    for rank, aid in enumerate(asset_ids):
        catalog.execute(
            "INSERT INTO cluster_members (cluster_id, asset_id, rank) VALUES (?, ?, ?)",
            [cid, aid, rank],
        )
    return cid
