"""Helpers for the export tests: catalog rows for real photos, thumbnails, ratings, clusters.

Assets are registered the way ingest records them (an ``assets`` row, a 512 px ``thumbnail``
in ``asset_files``), built from the real test photos without copying them into the repo.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

from PIL import Image, ImageOps

from kilo.catalog import Catalog
from kilo.clock import new_id, utcnow

PHOTOS = [
    "people_zidane.jpg",
    "xiaomi_mi3.jpg",
    "Kleiber_by_Lukas_Baubkus.jpg",
    "mate_LadyBird.jpg",
    "plasma_ColorfulCups.jpg",
    "group_t1.jpg",
]


def add_asset(
    catalog: Catalog,
    project_id: str,
    path: Path,
    thumbs_dir: Path,
    *,
    captured_at: datetime | None = None,
) -> str:
    """Register one photo with a real 512 px thumbnail; returns the asset id."""
    asset_id = new_id()
    with Image.open(path) as im:
        im.draft("RGB", (512, 512))
        img = ImageOps.exif_transpose(im).convert("RGB")
        width, height = Image.open(path).size
    img.thumbnail((512, 512))
    thumbs_dir.mkdir(parents=True, exist_ok=True)
    thumb = thumbs_dir / f"{asset_id}.jpg"
    img.save(thumb, quality=85)
    now = utcnow()
    catalog.execute(
        "INSERT INTO assets (id, project_id, filename, source_uri, ingested_at, updated_at, "
        "width_px, height_px, captured_at, captured_offset_min, state) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 'ready')",
        [asset_id, project_id, path.name, str(path), now, now, width, height, captured_at],
    )
    catalog.execute(
        "INSERT INTO asset_files (id, asset_id, kind, uri, content_type, width_px, height_px, "
        "created_at) VALUES (?, ?, 'thumbnail', ?, 'image/jpeg', ?, ?, ?)",
        [new_id(), asset_id, str(thumb), img.width, img.height, now],
    )
    return asset_id


def add_assets(
    catalog: Catalog, project_id: str, photos_dir: Path, thumbs_dir: Path, names: list[str]
) -> list[str]:
    start = datetime(2024, 6, 1, 14, 0, 0)
    return [
        add_asset(
            catalog,
            project_id,
            photos_dir / n,
            thumbs_dir,
            captured_at=start + timedelta(minutes=i),
        )
        for i, n in enumerate(names)
    ]


def rate(
    catalog: Catalog,
    asset_id: str,
    *,
    rating: int | None = None,
    picked: bool = False,
    rejected: bool = False,
) -> None:
    catalog.execute(
        "INSERT OR REPLACE INTO ratings (asset_id, user_id, rating, picked, rejected, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [asset_id, catalog.local_user_id, rating, picked, rejected, utcnow()],
    )


def add_cluster(
    catalog: Catalog,
    project_id: str,
    kind: str,
    members: list[str],
    *,
    winner: str | None = None,
    title: str | None = None,
    start: datetime | None = None,
) -> str:
    cluster_id = new_id()
    now = utcnow()
    catalog.execute(
        "INSERT INTO clusters (id, project_id, kind, title, start_time, end_time, "
        "winner_asset_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [cluster_id, project_id, kind, title, start, start, winner, now, now],
    )
    for rank, asset_id in enumerate(members):
        catalog.execute(
            "INSERT INTO cluster_members (cluster_id, asset_id, rank, role) VALUES (?, ?, ?, ?)",
            [cluster_id, asset_id, rank, "winner" if asset_id == winner else "alt"],
        )
    return cluster_id


def pdf_pages(pdf: Path) -> int:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    for line in out.stdout.splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    raise AssertionError("pdfinfo printed no page count")


def pdf_text(pdf: Path, page: int | None = None) -> str:
    args = ["pdftotext", "-layout"]
    if page is not None:
        args += ["-f", str(page), "-l", str(page)]
    return subprocess.run([*args, str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def render_page(pdf: Path, page: int, out_dir: Path, dpi: int = 60) -> Image.Image:
    prefix = out_dir / f"page{page}"
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            str(dpi),
            "-f",
            str(page),
            "-l",
            str(page),
            "-png",
            "-singlefile",
            str(pdf),
            str(prefix),
        ],
        check=True,
    )
    return Image.open(f"{prefix}.png").convert("RGB")


def have_poppler() -> bool:
    return shutil.which("pdftoppm") is not None and shutil.which("pdfinfo") is not None
