"""kilo.catalog.ids: every id a person types may be the whole uuid, a unique prefix of it (as
tables print it) or a unique name (a file name, a title)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kilo.assets import get_asset
from kilo.catalog import Catalog
from kilo.catalog.ids import resolve_id, resolve_ids
from kilo.cull import apply_bulk, get_rating
from kilo.errors import InvalidInput, NotFound
from kilo.ingest import ingest
from kilo.models import BulkCullAction, BulkCullActionRequest, Project
from kilo.projects import create_project
from kilo_cli.main import main


@pytest.fixture
def shoot(catalog: Catalog, project: Project, shared_photos_dir: Path, tmp_path: Path) -> list[str]:
    card = tmp_path / "card"
    (card / "b").mkdir(parents=True)
    for name in ("cv_aloeL.jpg", "cv_leuvenA.jpg", "people_zidane.jpg"):
        shutil.copy2(shared_photos_dir / name, card / name)
    shutil.copy2(shared_photos_dir / "cv_aloeR.jpg", card / "b" / "cv_aloeL.jpg")  # a second aloeL
    return ingest(catalog, project.id, [card], process=False).asset_ids


def test_an_asset_by_id_prefix_or_file_name(
    catalog: Catalog, project: Project, shoot: list[str]
) -> None:
    zidane = catalog.scalar("SELECT id FROM assets WHERE filename = 'people_zidane.jpg'")
    assert resolve_id(catalog, "assets", zidane) == zidane
    assert resolve_id(catalog, "assets", zidane[:8]) == zidane
    assert resolve_id(catalog, "assets", zidane[:8].upper()) == zidane
    assert resolve_id(catalog, "assets", "people_zidane.jpg", project_id=project.id) == zidane
    assert get_asset(catalog, "people_zidane.jpg").id == zidane
    with pytest.raises(InvalidInput, match=r"several assets are named 'cv_aloeL\.jpg'") as why:
        resolve_id(catalog, "assets", "cv_aloeL.jpg")
    aloes = [
        r[0][:8]
        for r in catalog.fetchall("SELECT id FROM assets WHERE filename = ?", ["cv_aloeL.jpg"])
    ]
    assert all(short in why.value.message for short in aloes)  # the candidates, to pick from
    with pytest.raises(NotFound, match=r"no asset with id or file name 'nope\.jpg'"):
        resolve_id(catalog, "assets", "nope.jpg")
    other = create_project(catalog, "Elsewhere")
    with pytest.raises(NotFound, match="in this project"):
        resolve_id(catalog, "assets", "people_zidane.jpg", project_id=other.id)


def test_many_refs_of_every_form_resolve_in_order(
    catalog: Catalog, project: Project, shoot: list[str]
) -> None:
    leuven = catalog.scalar("SELECT id FROM assets WHERE filename = 'cv_leuvenA.jpg'")
    refs = [shoot[0], "cv_leuvenA.jpg", leuven[:6], shoot[0]]
    assert resolve_ids(catalog, "assets", refs, project_id=project.id) == [
        shoot[0],
        leuven,
        leuven,
        shoot[0],
    ]
    resp = apply_bulk(
        catalog,
        project.id,
        BulkCullActionRequest(actions=[BulkCullAction(asset_id="cv_leuvenA.jpg", picked=True)]),
    )
    assert resp.updated_asset_ids == [leuven] and get_rating(catalog, leuven).picked


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=0, max_value=36))
def test_a_long_enough_prefix_always_finds_its_asset(
    catalog: Catalog, shoot: list[str], cut: int
) -> None:
    """Any prefix of 4+ characters that no other id shares names its asset; a shared or
    too-short one is refused, never resolved to the wrong asset."""
    target = shoot[1]
    prefix = target[: max(cut, 1)]
    others = [a for a in shoot if a != target and a.startswith(prefix)]
    if len(prefix) >= 4 and not others:
        assert resolve_id(catalog, "assets", prefix) == target
    else:
        with pytest.raises((InvalidInput, NotFound)):
            assert resolve_id(catalog, "assets", prefix) == target


def test_the_cli_takes_prefixes_and_file_names(
    catalog: Catalog, shoot: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    zidane = catalog.scalar("SELECT id FROM assets WHERE filename = 'people_zidane.jpg'")
    catalog.close()
    for ref in (zidane[:8], "people_zidane.jpg"):
        assert main(["assets", "show", ref, "--json"]) == 0
        assert f'"id": "{zidane}"' in capsys.readouterr().out
    assert main(["assets", "show", "cv_aloeL.jpg"]) == 2
    assert "several assets" in capsys.readouterr().err
