"""Smart collections (save, list, run live, delete) and the search/collections CLI."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from kilo.catalog import Catalog, open_catalog
from kilo.errors import Conflict, InvalidInput, NotFound
from kilo.models import Project
from kilo.search import (
    delete_collection,
    get_collection,
    list_collections,
    run_collection,
    save_collection,
)
from kilo.settings import Settings
from kilo_cli.context import STATE
from kilo_cli.main import main
from support import clip as support_clip
from support.search_assets import insert_asset, make_previews, set_rating

# the tiny CLIP fixtures of tests/support/clip.py
tiny_clip_checkpoint = support_clip.tiny_clip_checkpoint
clip_settings = support_clip.clip_settings
fresh_clip_caches = support_clip.fresh_clip_caches  # autouse


def test_collection_persists_and_stays_live(
    catalog: Catalog, project: Project, settings: Settings
) -> None:
    a = insert_asset(catalog, project.id, filename="beach_01.jpg", keywords=["beach"])
    insert_asset(catalog, project.id, filename="beach_02.jpg", keywords=["beach"])
    set_rating(catalog, a, rating=5, picked=True)
    coll = save_collection(
        catalog, "Best beach", project.id, "beach", filters={"picked": True, "ratingMin": 4}
    )
    assert coll.filters == {"picked": True, "ratingMin": 4}
    assert [r.asset_id for r in run_collection(catalog, "Best beach").results] == [a]
    # live: a photo rated later joins the collection without re-saving it
    c = insert_asset(catalog, project.id, filename="IMG_9.jpg", keywords=["Beach"])
    set_rating(catalog, c, rating=4, picked=True)
    assert {r.asset_id for r in run_collection(catalog, coll.id).results} == {a, c}
    catalog.close()
    with open_catalog(settings) as again:  # persisted in the catalog
        assert [x.name for x in list_collections(again)] == ["Best beach"]
        assert get_collection(again, "Best beach").query == "beach"
        delete_collection(again, "Best beach")
        assert list_collections(again) == []
        with pytest.raises(NotFound):
            run_collection(again, "Best beach")


def test_collection_names_and_filters_are_checked(catalog: Catalog, project: Project) -> None:
    save_collection(catalog, "Picks", project.id, "", filters={"picked": True})
    with pytest.raises(Conflict):
        save_collection(catalog, "Picks", project.id, "x")
    replaced = save_collection(catalog, "Picks", project.id, "x", replace=True)
    assert replaced.query == "x" and len(list_collections(catalog)) == 1
    with pytest.raises(InvalidInput):
        save_collection(catalog, "Bad", project.id, "x", filters={"stars": 3})
    with pytest.raises(InvalidInput):
        save_collection(catalog, "  ", project.id, "x")
    with pytest.raises(NotFound):
        save_collection(catalog, "Ghost", "00000000-0000-4000-8000-000000000000", "x")


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    finally:
        STATE.close()
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_collections_round_trip(
    home: Path, capsys: pytest.CaptureFixture[str], settings: Settings
) -> None:
    with open_catalog(settings) as cat:
        from kilo.projects import create_project

        pid = create_project(cat, "demo").id
        a = insert_asset(cat, pid, filename="flower_a.jpg", captured_at=datetime(2024, 6, 1))
        set_rating(cat, a, rating=5, picked=True)
        insert_asset(cat, pid, filename="flower_b.jpg", captured_at=datetime(2024, 6, 2))
    code, out, err = _run(
        capsys,
        "collections",
        "save",
        "Picked flowers",
        "demo",
        "flower",
        "--filter",
        "picked=true",
        "--filter",
        "ratingMin=4",
        "--json",
    )
    assert code == 0, err
    assert json.loads(out)["filters"] == {"picked": True, "ratingMin": 4}
    code, out, err = _run(capsys, "collections", "run", "Picked flowers", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert [r["assetId"] for r in data["results"]] == [a] and data["mode"] == "metadata"
    code, out, _ = _run(capsys, "collections", "list", "--json")
    assert [c["name"] for c in json.loads(out)] == ["Picked flowers"]
    code, _, _ = _run(capsys, "collections", "delete", "Picked flowers")
    assert code == 0
    code, _, err = _run(capsys, "collections", "run", "Picked flowers")
    assert code == 2 and "no collection" in err


def test_cli_search_json_paths_and_filters(
    clip_settings: Settings,
    shared_photos_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with open_catalog(clip_settings) as cat:
        from kilo.projects import create_project

        pid = create_project(cat, "demo").id
        previews = make_previews(shared_photos_dir, tmp_path / "prev")
        ids = [insert_asset(cat, pid, filename=p.name, preview=p) for p in previews]
        set_rating(cat, ids[0], picked=True)
    # no vectors yet: --embed embeds first, then the search is semantic with scores
    code, out, err = _run(capsys, "search", "demo", "flower", "--embed", "--all", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["mode"] == "semantic" and len(data["results"]) == len(ids)
    assert all(isinstance(r["score"], float) for r in data["results"])
    code, out, err = _run(capsys, "search", "demo", "flower", "--picked", "--all", "--paths")
    assert code == 0, err
    assert out.splitlines() == [f"/photos/{previews[0].name}"]
    code, out, err = _run(
        capsys, "search", "demo", "x", "--like", str(previews[1]), "--all", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["results"][0]["assetId"] == ids[1]
    code, _, err = _run(capsys, "search", "demo", "x", "--rating-min", "9")
    assert code == 2 and "--rating-min" in err and "less than or equal to 5" in err
