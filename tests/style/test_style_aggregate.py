"""Style DNA's opt-in aggregate and the hero-frame path for photos it is not confident on."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from kilo.catalog import Catalog
from kilo.edit import latest_version
from kilo.errors import InvalidInput
from kilo.models import Project
from kilo.style import apply_style, export_style_aggregate, fix_only_assets
from kilo.style.features import CONTEXT_NAMES
from kilo.style.learn import _save_model, load_model
from kilo.style.model import TARGETS
from kilo_cli.main import main
from support.edit_assets import add_photo_asset

DIM = 14 + len(CONTEXT_NAMES)


def _teach(catalog: Catalog, bucket: str, n: int, seed: int) -> np.ndarray:
    """``n`` learned edits in ``bucket`` with a known linear style; the true weights."""
    rng = np.random.default_rng(seed)
    w = rng.normal(0, 0.3, (DIM, len(TARGETS)))
    model = load_model(catalog, catalog.local_user_id, "stats/1", DIM)
    for _ in range(n):
        x = rng.normal(0, 1, DIM)
        model.update(bucket, x, 0.2 + x @ w + rng.normal(0, 0.01, len(TARGETS)))
    _save_model(catalog, catalog.local_user_id, "stats/1", model)
    return w


def test_only_buckets_of_100_edits_leave_noised_and_nothing_else(catalog: Catalog) -> None:
    w = _teach(catalog, "daylight", 150, seed=1)
    _teach(catalog, "indoor", 99, seed=2)
    agg = export_style_aggregate(catalog, seed=7)
    assert [(b.bucket, b.edits) for b in agg.buckets] == [("daylight", 150)] and agg.left_out == 1
    bucket = agg.buckets[0]
    got = np.array(bucket.weights)
    assert got.shape == w.shape
    clean = export_style_aggregate(catalog, noise_std=0.0)  # the weights without noise
    noise = got - np.array(clean.buckets[0].weights)
    assert 0.01 < float(noise.std()) < 0.03  # the default noise, sd 0.02
    assert not np.allclose(
        got, np.array(export_style_aggregate(catalog, seed=8).buckets[0].weights)
    )
    text = json.dumps(agg.model_dump(mode="json", by_alias=True))
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}", text)  # no ids, hashed or not
    assert set(agg.model_dump(by_alias=True)) == {
        "modelVersion",
        "noiseStd",
        "minEdits",
        "targets",
        "buckets",
        "leftOut",
    }
    assert set(bucket.model_dump(by_alias=True)) == {
        "kind",
        "bucket",
        "edits",
        "weights",
        "intercept",
    }
    with pytest.raises(InvalidInput):
        export_style_aggregate(catalog, min_edits=50)
    with pytest.raises(InvalidInput):
        export_style_aggregate(catalog, noise_std=-1)


def test_cli_export_aggregate_writes_a_file_and_checks_the_path(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kilo.catalog import open_catalog
    from kilo.settings import load_settings

    with open_catalog(load_settings(home=home, clip_enabled=False)) as cat:
        _teach(cat, "shade", 120, seed=3)
    assert main(["style", "export-aggregate", "--out", str(tmp_path / "no" / "x.json")]) == 2
    assert "folder does not exist" in capsys.readouterr().err
    out = tmp_path / "style.json"
    assert main(["style", "export-aggregate", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "1 context with 100+ edits" in err and "written to" in err
    assert json.loads(out.read_text())["buckets"][0]["bucket"] == "shade"


def test_low_confidence_offers_a_hero_frame_and_sync_reaches_the_fix_only_photos(
    catalog: Catalog,
    project: Project,
    shared_photos_dir: Path,
    home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    names = [
        "Kleiber_by_Lukas_Baubkus.jpg",
        "Dragonfly_by_Bolly.jpg",
        "Bridge_by_Sander_Klootwijk.jpg",
    ]
    ids = [add_photo_asset(catalog, project.id, shared_photos_dir / n, iso=200) for n in names]
    rep = apply_style(catalog, project.id)  # nothing learned: Fix only everywhere
    assert rep.fix_only == 3 and rep.hero_asset_id in ids
    assert rep.hero_reason and "3 photos got Fix only" in rep.hero_reason
    assert sorted(fix_only_assets(catalog, project.id)) == sorted(ids)
    catalog.close()
    assert main(["style", "apply", project.title]) == 0
    err = capsys.readouterr().err
    assert "low confidence:" in err and "kilo edit sync --from" in err
    hero = re.search(r"kilo edit set (\S+) --exposure", err)
    assert hero is not None
    assert main(["edit", "set", hero[1], "--exposure", "0.7"]) == 0
    assert main(["edit", "sync", "--from", hero[1], "--fix-only", project.title, "--json"]) == 0
    capsys.readouterr()
    from kilo.catalog import open_catalog
    from kilo.settings import load_settings

    with open_catalog(load_settings(home=home, clip_enabled=False)) as cat:
        for aid in ids:
            v = latest_version(cat, aid)
            assert v is not None and abs(float(v.params["exposure"]) - 0.7) < 1e-6, v
        assert fix_only_assets(cat, project.id) == []
    assert main(["edit", "sync", "--from", hero[1], "--fix-only", project.title]) == 2
    assert "none is at Fix only" in capsys.readouterr().err
