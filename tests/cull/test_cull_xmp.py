"""XMP sidecars with ratings, pick/reject and keywords, merged into existing sidecars."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from kilo.catalog import Catalog
from kilo.cull import apply_bulk, upsert_rating
from kilo.cull.decision_sidecar import (
    SidecarState,
    merge_xmp,
    read_xmp_state,
    sidecar_location,
    write_xmp_sidecars,
)
from kilo.errors import DecodeError
from kilo.models import BulkCullActionRequest, Project
from support.cull_data import CullData, add_asset, build_cull_project

KEYWORDS = {"cv_leuvenA.jpg": ["leuven", "street"], "cv_aloeL.jpg": ["aloe"]}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _lightroom_packet(photos_dir: Path) -> bytes:
    """The XMP packet Lightroom Classic embedded in a real camera JPEG."""
    data = (photos_dir / "canon_rebel_t6_xmp.jpg").read_bytes()
    start = data.index(b"<x:xmpmeta")
    end = data.index(b"</x:xmpmeta>") + len(b"</x:xmpmeta>")
    return data[start:end]


@pytest.fixture
def data(catalog: Catalog, project: Project, shared_photos_dir: Path, tmp_path: Path) -> CullData:
    return build_cull_project(
        catalog,
        project.id,
        shared_photos_dir,
        copy_to=tmp_path / "shoot",
        signals=False,
        clusters=False,
        keywords=KEYWORDS,
    )


def _decide(catalog: Catalog, data: CullData) -> None:
    a = data.assets
    apply_bulk(
        catalog,
        data.project_id,
        BulkCullActionRequest.model_validate(
            {
                "actions": [
                    {"assetId": a["cv_leuvenA.jpg"], "picked": True, "rating": 4},
                    {"assetId": a["cv_leuvenB.jpg"], "rejected": True, "rating": 2},
                    {"assetId": a["cv_aloeR.jpg"], "starred": True},
                ]
            }
        ),
    )


def test_writes_sidecars_next_to_originals(
    catalog: Catalog, data: CullData, tmp_path: Path
) -> None:
    _decide(catalog, data)
    shoot = tmp_path / "shoot"
    before = {p.name: _sha(p) for p in shoot.iterdir()}
    results = write_xmp_sidecars(catalog, data.project_id)
    by_name = {r.item: r for r in results}
    assert by_name["cv_leuvenA.jpg"].status == "ok"
    assert by_name["cv_aloeL.jpg"].status == "ok"  # keywords only
    assert by_name["mate_Dune.jpg"].status == "skipped"
    assert not (shoot / "mate_Dune.xmp").exists()
    a = read_xmp_state((shoot / "cv_leuvenA.xmp").read_bytes())
    assert (a.rating, a.pick, a.starred, a.keywords) == (4, 1, False, ["leuven", "street"])
    assert a.label == "Green"  # the pick, as Lightroom shows it
    b = read_xmp_state((shoot / "cv_leuvenB.xmp").read_text(encoding="utf-8"))
    assert (b.rating, b.pick) == (-1, -1)  # rejected wins over the rating
    c = read_xmp_state((shoot / "cv_aloeR.xmp").read_bytes())
    assert (c.rating, c.pick, c.starred) == (0, 0, True)
    # originals untouched
    assert {p.name: _sha(p) for p in shoot.iterdir() if p.suffix != ".xmp"} == before
    uri = catalog.scalar(
        "SELECT uri FROM asset_files WHERE asset_id = ? AND kind = 'sidecar'",
        [data.assets["cv_leuvenA.jpg"]],
    )
    assert uri == str(shoot / "cv_leuvenA.xmp")
    # a second run changes nothing; a changed decision is written over the old one
    text = (shoot / "cv_leuvenA.xmp").read_bytes()
    write_xmp_sidecars(catalog, data.project_id)
    assert (shoot / "cv_leuvenA.xmp").read_bytes() == text
    upsert_rating(catalog, data.assets["cv_leuvenA.jpg"], rejected=True)
    write_xmp_sidecars(catalog, data.project_id)
    rejected = read_xmp_state((shoot / "cv_leuvenA.xmp").read_bytes())
    assert (rejected.rating, rejected.label) == (-1, None)  # kilo's label taken off
    assert catalog.scalar("SELECT count(*) FROM asset_files WHERE kind = 'sidecar'") == 4


def test_merges_into_a_lightroom_sidecar(
    catalog: Catalog, data: CullData, tmp_path: Path, photos_dir: Path
) -> None:
    _decide(catalog, data)
    sidecar = tmp_path / "shoot" / "cv_leuvenA.xmp"
    packet = _lightroom_packet(photos_dir)
    sidecar.write_bytes(packet)
    [res] = write_xmp_sidecars(catalog, data.project_id, asset_ids=[data.assets["cv_leuvenA.jpg"]])
    assert res.status == "ok" and res.extra["merged"] is True
    text = sidecar.read_text(encoding="utf-8")
    # Lightroom's develop settings and metadata survive, with their prefixes
    for kept in (
        'crs:Temperature="4900"',
        'crs:Vibrance="+12"',
        'aux:SerialNumber="022070029137"',
        "xmp:CreatorTool=",
        "crs:ToneCurvePV2012",
    ):
        assert kept in text
    state = read_xmp_state(text)
    assert state.rating == 4 and state.pick == 1
    assert state.keywords[-2:] == ["leuven", "street"]
    assert text.count("xmp:Rating") == 1


def test_merges_with_kilo_edit_sidecar(catalog: Catalog, data: CullData, tmp_path: Path) -> None:
    from kilo.edit.develop_sidecar import params_to_xmp, xmp_to_params
    from kilo.edit.params import EditParams

    params = EditParams(exposure=0.7, contrast=15, saturation=-10)
    sidecar = tmp_path / "shoot" / "cv_leuvenA.xmp"
    sidecar.write_text(params_to_xmp(params), encoding="utf-8")
    _decide(catalog, data)
    write_xmp_sidecars(catalog, data.project_id)
    text = sidecar.read_text(encoding="utf-8")
    assert xmp_to_params(text) == params  # EDIT still reads its edit back
    assert read_xmp_state(text).rating == 4


def test_a_foreign_file_is_never_overwritten(
    catalog: Catalog, data: CullData, tmp_path: Path
) -> None:
    _decide(catalog, data)
    sidecar = tmp_path / "shoot" / "cv_leuvenA.xmp"
    sidecar.write_text("not xml at all", encoding="utf-8")
    results = {r.item: r for r in write_xmp_sidecars(catalog, data.project_id)}
    assert results["cv_leuvenA.jpg"].status == "failed"
    assert "not valid XML" in (results["cv_leuvenA.jpg"].reason or "")
    assert sidecar.read_text(encoding="utf-8") == "not xml at all"
    assert results["cv_leuvenB.jpg"].status == "ok"  # one bad file does not stop the batch
    with pytest.raises(DecodeError):
        merge_xmp(b"<html><body/></html>", SidecarState())


def test_darktable_naming_and_store_for_remote_sources(
    catalog: Catalog, project: Project, photos_dir: Path, tmp_path: Path
) -> None:
    from datetime import datetime

    local = add_asset(catalog, project.id, photos_dir / "cv_aloeL.jpg", datetime(2024, 1, 1))
    # a remote original: the sidecar goes into the store, the bucket is never touched
    remote = add_asset(catalog, project.id, photos_dir / "cv_aloeR.jpg", datetime(2024, 1, 2))
    catalog.execute("DELETE FROM asset_files WHERE asset_id = ?", [remote])
    catalog.execute(
        "UPDATE assets SET source_uri = 's3://bucket/shoot/IMG_7.JPG' WHERE id = ?", [remote]
    )
    upsert_rating(catalog, remote, rating=5)
    target = sidecar_location(str(photos_dir / "x.CR3"), local, "/s", "darktable")
    assert target == str(photos_dir / "x.CR3.xmp")
    results = write_xmp_sidecars(catalog, project.id)
    assert [r.status for r in results] == ["skipped", "ok"]  # the local one is unrated
    res = results[1]
    assert res.asset_id == remote
    uri = str(res.extra["uri"])
    assert uri == f"{catalog.settings.store_url}/sidecars/{remote}/IMG_7.xmp"
    assert read_xmp_state(Path(uri).read_bytes()).rating == 5
    assert not (photos_dir / "cv_aloeL.xmp").exists()
