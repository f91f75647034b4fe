"""kilo.assets over ingested real photos: listing with rating filters and cursors, one asset,
files, updates, renditions."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kilo.assets import (
    get_asset,
    list_asset_files,
    list_assets,
    open_rendition,
    rendition_uri,
    update_asset,
)
from kilo.catalog import Catalog
from kilo.errors import InvalidInput, NotFound
from kilo.ingest import ingest
from kilo.models import Project, UpdateAssetRequest

NAMES = ["cv_leuvenA.jpg", "cv_leuvenB.jpg", "cv_text_motion.jpg", "plasma_Kite_screenshot.jpg"]


@pytest.fixture
def ingested(
    catalog: Catalog, project: Project, shared_photos_dir: Path, tmp_path: Path
) -> list[str]:
    for n in NAMES:
        shutil.copy2(shared_photos_dir / n, tmp_path / n)
    rep = ingest(catalog, project.id, [tmp_path])
    assert rep.ready == len(NAMES)
    return rep.asset_ids


def _rate(catalog: Catalog, asset_id: str, **values: object) -> None:
    cols = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    catalog.execute(
        f"INSERT INTO ratings (asset_id, user_id, {cols}) VALUES (?, ?, {marks})",
        [asset_id, catalog.local_user_id, *values.values()],
    )


def test_list_in_capture_order_with_cursor(
    catalog: Catalog, project: Project, ingested: list[str]
) -> None:
    page1 = list_assets(catalog, project.id, limit=3)
    assert len(page1.items) == 3 and page1.page_info.next_cursor
    page2 = list_assets(catalog, project.id, limit=3, cursor=page1.page_info.next_cursor)
    assert len(page2.items) == 1 and page2.page_info.next_cursor is None
    items = page1.items + page2.items
    assert {a.id for a in items} == set(ingested)
    times = [a.captured_at for a in items]
    assert all(t is not None for t in times)
    assert times == sorted(times)  # type: ignore[type-var]
    leuven_b, leuven_a = (next(a for a in items if a.filename == n) for n in NAMES[1::-1])
    assert items.index(leuven_b) < items.index(leuven_a)  # B was taken 14 s before A
    assert leuven_a.captured_at is not None and leuven_a.captured_at.utcoffset() is not None
    with pytest.raises(InvalidInput):
        list_assets(catalog, project.id, cursor="garbage")


def test_rating_filters(catalog: Catalog, project: Project, ingested: list[str]) -> None:
    a, b, c, _ = ingested
    _rate(catalog, a, picked=True, rating=5)
    _rate(catalog, b, rejected=True, rating=1)
    _rate(catalog, c, rating=3)
    assert [x.id for x in list_assets(catalog, project.id, picked=True).items] == [a]
    assert [x.id for x in list_assets(catalog, project.id, rejected=True).items] == [b]
    assert {x.id for x in list_assets(catalog, project.id, rating_min=3).items} == {a, c}
    assert len(list_assets(catalog, project.id, picked=False).items) == 3
    got = get_asset(catalog, a)
    assert got.my_rating is not None and got.my_rating.rating == 5
    assert list_assets(catalog, project.id, picked=True, user_id="someone-else").items == []


def test_files_update_and_renditions(
    catalog: Catalog, project: Project, ingested: list[str]
) -> None:
    aid = ingested[0]
    files = list_asset_files(catalog, aid).files
    assert [f.kind for f in files] == ["original", "preview", "thumbnail"]
    assert all(f.checksum_sha256 and f.byte_size for f in files)
    updated = update_asset(
        catalog, aid, UpdateAssetRequest(keywords=["a", "b", "a"], notes="keep", flags={"x": 1})
    )
    assert updated.keywords == ["a", "b"] and updated.notes == "keep" and updated.flags == {"x": 1}
    thumb = open_rendition(catalog, aid, "thumbnail")
    assert thumb.mode == "RGB" and max(thumb.size) <= 512
    assert rendition_uri(catalog, aid, "preview") == files[1].url
    with pytest.raises(NotFound):
        get_asset(catalog, "00000000-0000-4000-8000-000000000000")


def test_rendition_falls_back_to_the_original_before_processing(
    catalog: Catalog, project: Project, shared_photos_dir: Path, tmp_path: Path
) -> None:
    shutil.copy2(shared_photos_dir / "Bridge_by_Sander_Klootwijk.jpg", tmp_path / "b.jpg")
    rep = ingest(catalog, project.id, [tmp_path], process=False)
    aid = rep.asset_ids[0]
    assert get_asset(catalog, aid).state == "registered"  # listed at once
    assert rendition_uri(catalog, aid, "thumbnail") is None
    assert max(open_rendition(catalog, aid, "thumbnail").size) == 512
