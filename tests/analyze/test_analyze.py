"""End to end: real ingest of real photos, then analyze; the CLI on top."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kilo.analyze import analyze, pending_analysis
from kilo.catalog import Catalog
from kilo.group import list_clusters
from kilo.models import Project

FILES = [
    "flower.png.im_q85_420.jpg",
    "flower.png.im_q85_444.jpg",
    "flower.png.im_q85_422.jpg",
    "plasma_Kite.jpg",
    "plasma_Kite_screenshot.jpg",
    "cv_leuvenA.jpg",
    "cv_leuvenB.jpg",
    "bird_burst.heic",
]


def _names(catalog: Catalog) -> dict[str, str]:
    return {
        r[0]: f"{r[1]}#{r[2]}" if r[3] > 1 else r[1]
        for r in catalog.fetchall("SELECT id, filename, frame_index, frame_count FROM assets")
    }


@pytest.mark.slow
def test_ingest_then_analyze_groups_real_duplicates_bursts_and_moments(
    catalog: Catalog, project: Project, shared_photos_dir: Path
) -> None:
    from kilo.ingest import ingest

    ingest(catalog, project.id, [str(shared_photos_dir / f) for f in FILES])
    assert len(pending_analysis(catalog, project.id)) == 11  # bird_burst.heic has 4 frames
    rep = analyze(catalog, project.id, embed=False)
    assert rep.ok and rep.analyzed == 11 and rep.embedding_model is None
    assert pending_analysis(catalog, project.id) == []
    names = _names(catalog)
    groups = {
        kind: [
            sorted(names[m.asset_id] for m in c.assets)
            for c in list_clusters(catalog, project.id, kind=kind, limit=200).items
        ]
        for kind in ("moment", "burst", "duplicate_group")
    }
    assert sorted(FILES[:3]) in groups["duplicate_group"]
    assert ["plasma_Kite.jpg", "plasma_Kite_screenshot.jpg"] in groups["duplicate_group"]
    assert [f"bird_burst.heic#{k}" for k in range(4)] in groups["burst"]
    assert ["cv_leuvenA.jpg", "cv_leuvenB.jpg"] in groups["moment"]
    for c in list_clusters(catalog, project.id, kind="duplicate_group").items:
        assert c.winner_asset_id and 1 <= len(c.why_winner) <= 3
    # a second run has nothing left to analyze and keeps the clusters
    ids = sorted(c.id for c in list_clusters(catalog, project.id, limit=200).items)
    again = analyze(catalog, project.id, embed=False)
    assert again.analyzed == 0
    assert sorted(c.id for c in list_clusters(catalog, project.id, limit=200).items) == ids


@pytest.mark.slow
def test_cli_analyze_and_clusters(
    home: Path, shared_photos_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kilo_cli.main import main

    def run(*args: str) -> tuple[int, str]:
        code = main(list(args))
        return code, capsys.readouterr().out

    files = [str(shared_photos_dir / f) for f in ("plasma_Kite.jpg", "plasma_Kite_screenshot.jpg")]
    assert run("ingest", *files, "--project", "demo", "--create", "--no-process")[0] == 0
    code, out = run("analyze", "demo", "--no-embed", "--json")
    assert code == 0
    assert json.loads(out)["clusters"]["duplicate_group"] == 1
    code, out = run("clusters", "list", "demo", "--kind", "duplicate_group", "--json")
    (dup,) = json.loads(out)
    assert dup["kind"] == "duplicate_group" and len(dup["assets"]) == 2
    loser = dup["assets"][1]["assetId"]
    code, out = run("clusters", "winner", dup["id"], loser, "--json")
    assert code == 0 and json.loads(out)["winnerAssetId"] == loser
    code, out = run("clusters", "update", dup["id"], "--title", "Kite", "--reviewed", "--json")
    assert json.loads(out)["title"] == "Kite" and json.loads(out)["reviewed"] is True
    code, out = run("clusters", "show", dup["id"], "--json")
    assert json.loads(out)["winnerAssetId"] == loser
    assert run("clusters", "show", "not-a-uuid")[0] == 2
