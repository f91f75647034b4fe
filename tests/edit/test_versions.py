"""Edit versions in the catalog: create, list, latest, render, batch apply as a job."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kilo.catalog import Catalog
from kilo.edit import (
    EditParams,
    apply_version,
    create_version,
    get_apply_status,
    get_version,
    latest_version,
    list_versions,
    render_asset,
    render_before_after,
)
from kilo.errors import InvalidInput, NotFound
from kilo.imaging import load_image
from kilo.jobs import enqueue, get_job, run_jobs
from kilo.models import CreateEditVersionRequest, Project
from support.edit_assets import add_photo_asset

PHOTOS = ("plasma_Kite_screenshot.jpg", "plasma_ColdRipple_screenshot.jpg", "cv_leuvenA.jpg")


@pytest.fixture
def assets(catalog: Catalog, project: Project, shared_photos_dir: Path) -> list[str]:
    return [add_photo_asset(catalog, project.id, shared_photos_dir / name) for name in PHOTOS]


def test_create_list_get_latest(catalog: Catalog, assets: list[str]) -> None:
    a = assets[0]
    assert latest_version(catalog, a) is None
    v1 = create_version(catalog, a, {"params": {"exposure": 0.3}, "name": "brighter"})
    v2 = create_version(
        catalog,
        a,
        CreateEditVersionRequest(params={"exposure": 0.3, "contrast": 10}, parent_id=v1.id),
    )
    assert v1.params == {"exposure": 0.3, "version": 1}
    assert v2.parent_id == v1.id and v2.user_id == catalog.local_user_id
    assert [v.id for v in list_versions(catalog, a).items] == [v1.id, v2.id]
    assert get_version(catalog, v1.id).name == "brighter"
    latest = latest_version(catalog, a)
    assert latest is not None and latest.id == v2.id
    assert catalog.scalar("SELECT count(*) FROM events WHERE type = 'edit.created'") == 2
    assert list_versions(catalog, a).dump()["items"][1]["parentId"] == v1.id


def test_create_refuses_bad_input(catalog: Catalog, assets: list[str]) -> None:
    with pytest.raises(InvalidInput, match="unknown edit parameter 'clarity'"):
        create_version(catalog, assets[0], {"params": {"clarity": 3}})
    with pytest.raises(InvalidInput, match="exposure"):
        create_version(catalog, assets[0], {"params": {"exposure": 12}})
    other = create_version(catalog, assets[1], {"params": {"exposure": 0.1}})
    with pytest.raises(InvalidInput, match="another asset"):
        create_version(catalog, assets[0], {"params": {}, "parentId": other.id})
    with pytest.raises(NotFound):
        create_version(catalog, "7f1d3c5e-0000-4000-8000-000000000000", {"params": {}})
    with pytest.raises(NotFound):
        get_version(catalog, "7f1d3c5e-0000-4000-8000-000000000000")


def test_render_asset(catalog: Catalog, assets: list[str], shared_photos_dir: Path) -> None:
    a = assets[0]
    plain = render_asset(catalog, a, max_px=300)
    ref = load_image(shared_photos_dir / PHOTOS[0], max_px=300)
    assert plain.size == ref.size and np.array_equal(np.asarray(plain), np.asarray(ref))
    v = create_version(catalog, a, {"params": {"exposure": 1.0, "aspect": "1:1"}}, learn=False)
    edited = render_asset(catalog, a, max_px=300)
    side = min(300, *load_image(shared_photos_dir / PHOTOS[0]).size)  # never upscaled
    assert edited.size == (side, side)
    assert np.asarray(edited).mean() > np.asarray(plain).mean()
    same = render_asset(catalog, a, max_px=300, version_id=v.id)
    assert np.array_equal(np.asarray(same), np.asarray(edited))
    both = render_before_after(catalog, a, max_px=200)
    assert isinstance(both, Image.Image) and both.height == 200  # the square after
    with pytest.raises(InvalidInput):
        render_asset(catalog, assets[1], version_id=v.id)


def test_apply_creates_versions_as_a_job(catalog: Catalog, assets: list[str]) -> None:
    hero, *others = assets
    v = create_version(
        catalog, hero, {"params": {"exposure": 0.5, "temperature": 5600}}, learn=False
    )
    queued = apply_version(catalog, v.id, others, name="synced")
    assert queued.status == "queued"
    assert latest_version(catalog, others[1]) is None  # nothing written until it runs
    run_jobs(catalog, types=["edit.apply"])
    assert get_job(catalog, queued.job_id).status == "done"
    for target in others:
        latest = latest_version(catalog, target)
        assert latest is not None and latest.name == "synced"
        assert latest.params == {"exposure": 0.5, "temperature": 5600.0, "version": 1}


def test_sync_keeps_each_photos_own_geometry(catalog: Catalog, assets: list[str]) -> None:
    hero, target, fresh = assets
    prior = create_version(catalog, target, {"params": {"crop": {"left": 0.2}}}, learn=False)
    v = create_version(catalog, hero, {"params": {"exposure": 0.5, "straighten": 2}}, learn=False)
    done = apply_version(catalog, v.id, [target, fresh], exclude_geometry=True, wait=True)
    assert done.status == "done"
    # one stored result per photo, naming the version written; read back later by job id
    assert get_apply_status(catalog, done.job_id) == done
    assert done.results is not None and [r.asset_id for r in done.results] == [target, fresh]
    written = {r.asset_id: r.extra["editId"] for r in done.results}
    assert written[target] == latest_version(catalog, target).id  # type: ignore[union-attr]
    assert done.dump()["results"][0]["extra"]["editId"] == written[target]
    queued = apply_version(catalog, v.id, [target])
    assert get_apply_status(catalog, queued.job_id).status == "queued"
    with pytest.raises(InvalidInput, match=r"not edit\.apply"):
        get_apply_status(catalog, enqueue(catalog, "project.cluster", project_id=None))
    synced = latest_version(catalog, target)
    assert synced is not None and synced.parent_id == prior.id
    params = EditParams.parse(synced.params)
    assert params.exposure == 0.5 and params.crop.left == 0.2 and params.straighten == 0
    other = latest_version(catalog, fresh)
    assert other is not None and other.parent_id is None
    assert EditParams.parse(other.params) == EditParams(exposure=0.5)


def test_apply_overwrite_latest(catalog: Catalog, assets: list[str]) -> None:
    hero, target, fresh = assets
    v = create_version(catalog, hero, {"params": {"saturation": -30}}, learn=False)
    old = create_version(catalog, target, {"params": {"exposure": 1}}, learn=False)
    apply_version(catalog, v.id, [target, fresh], mode="overwrite_latest", wait=True)
    versions = list_versions(catalog, target).items
    assert [x.id for x in versions] == [old.id]
    assert versions[0].params == {"saturation": -30.0, "version": 1}
    assert len(list_versions(catalog, fresh).items) == 1
    with pytest.raises(InvalidInput):
        apply_version(catalog, v.id, [target], mode="replace")  # type: ignore[arg-type]


def test_cli_set_and_list_json(
    catalog: Catalog,
    assets: list[str],
    home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``kilo edit set`` takes every scalar setting as an option; ``edit list --json`` prints
    a JSON array of the versions, like every listing."""
    import json

    from kilo_cli.main import main

    catalog.close()
    a = assets[0]
    code = main(["--home", str(home), "edit", "set", a, "--exposure", "0.3", "--straighten", "2"])
    assert code == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main(["--home", str(home), "edit", "list", a, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert isinstance(listed, list) and len(listed) == 1
    assert listed[0]["params"]["exposure"] == 0.3 and listed[0]["params"]["straighten"] == 2
    # the table: 8-character ids (which kilo edit show takes) and whole settings, never a
    # word cut in two; what does not fit is counted
    many = [
        "--contrast",
        "12",
        "--highlights",
        "-30",
        "--shadows",
        "25",
        "--whites",
        "5",
        "--blacks",
        "-8",
        "--vibrance",
        "10",
        "--saturation",
        "-5",
    ]
    assert main(["--home", str(home), "edit", "set", a, "--exposure", "0.4", *many]) == 0
    capsys.readouterr()
    assert main(["--home", str(home), "edit", "list", a]) == 0
    table = capsys.readouterr().out
    flat = " ".join(line.strip("│ ") for line in table.splitlines())
    assert listed[0]["id"][:8] in table and listed[0]["id"] not in table
    assert "more" in flat and "blac " not in flat
    assert main(["--home", str(home), "edit", "show", listed[0]["id"][:8]]) == 0


def test_apply_checks_assets_in_bulk_and_writes_many(catalog: Catalog, assets: list[str]) -> None:
    from kilo.clock import new_id, utcnow

    hero, target, _ = assets
    v = create_version(catalog, hero, {"params": {"vibrance": 20}}, learn=False)
    with pytest.raises(NotFound, match="no asset with id"):
        apply_version(catalog, v.id, [target, new_id()], wait=True)
    assert latest_version(catalog, target) is None  # refused as a whole, nothing written
    project = catalog.scalar("SELECT project_id FROM assets WHERE id = ?", [hero])
    now = utcnow()
    many = [new_id() for _ in range(1200)]  # more than one multi-row statement
    catalog.executemany(
        "INSERT INTO assets (id, project_id, filename, source_uri, ingested_at, state, "
        "updated_at) VALUES (?, ?, ?, ?, ?, 'ready', ?)",
        [[a, project, f"{i}.jpg", f"/x/{i}.jpg", now, now] for i, a in enumerate(many)],
    )
    apply_version(catalog, v.id, [*many, many[0], target], wait=True)  # a duplicate
    count = catalog.scalar("SELECT count(*) FROM edit_versions WHERE source = 'batch'")
    assert count == 1201
    apply_version(catalog, v.id, many[:700], mode="overwrite_latest", name="again", wait=True)
    assert catalog.scalar("SELECT count(*) FROM edit_versions WHERE name = 'again'") == 700
    latest = latest_version(catalog, many[650])
    assert latest is not None and latest.params == {"vibrance": 20.0, "version": 1}
