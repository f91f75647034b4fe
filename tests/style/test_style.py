"""Style DNA: exact sufficient statistics, the gate, learning from saved edits, privacy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kilo.catalog import Catalog
from kilo.edit import EditParams, create_version, latest_version
from kilo.models import Project
from kilo.style import apply_style, predict_for_asset, reset_style, show_style
from kilo.style.model import (
    CLAMPS,
    RIDGE_LAMBDA,
    TARGETS,
    BucketStats,
    StyleModel,
    apply_delta,
    target_delta,
)
from support.edit_assets import add_photo_asset

K = len(TARGETS)


def data(seed: int, n: int, d: int = 6) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (n, d))
    w = rng.normal(0, 0.5, (d, K))
    y = 0.3 + x @ w + rng.normal(0, 0.05, (n, K))
    return x, y


def test_closed_form_matches_direct_ridge() -> None:
    x, y = data(0, 40)
    b = BucketStats(x.shape[1])
    for xi, yi in zip(x, y, strict=True):
        b.add(xi, yi)
    fit = b._fit()
    # the same ridge solved directly on the standardised design matrix
    mu, sd = fit["mu"], fit["sd"]
    z = (x - mu) / sd
    yc = y - y.mean(axis=0)
    w = np.linalg.solve(
        z.T @ z / len(x) + RIDGE_LAMBDA / len(x) * np.eye(x.shape[1]), z.T @ yc / len(x)
    )
    assert np.allclose(fit["wz"], w, atol=1e-9)
    pred, _, noise = b.predict(x[0])
    assert np.allclose(pred, y.mean(axis=0) * 40 / 41 + z[0] @ w, atol=1e-9)
    assert 0 < noise < 1


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(3, 30))
def test_removing_an_event_is_exact_and_order_free(seed: int, n: int) -> None:
    x, y = data(seed, n + 1)
    a, b = StyleModel(dim=6), StyleModel(dim=6)
    for i in range(n):
        a.update("daylight", x[i], y[i])
    for i in reversed(range(n + 1)):
        b.update("daylight", x[i], y[i])
    b.remove("daylight", x[n], y[n])
    pa, pb = a.predict("daylight", x[0]), b.predict("daylight", x[0])
    assert np.allclose(pa.delta, pb.delta, atol=1e-6)
    assert pa.confidence == pytest.approx(pb.confidence, abs=1e-6)


def test_gate_refuses_unseen_contexts_and_far_photos_and_accepts_familiar_ones() -> None:
    x, y = data(1, 60)
    m = StyleModel(dim=6)
    for xi, yi in zip(x, y, strict=True):
        m.update("daylight", xi, yi)
    assert m.predict("night", x[0]).confidence == 0.0
    assert "no edits learned" in m.predict("night", x[0]).reason(0.5)
    familiar = [m.predict("daylight", xi).confidence for xi in data(2, 30)[0]]
    assert np.mean(np.array(familiar) >= 0.5) >= 0.8
    far = m.predict("daylight", np.full(6, 8.0))
    assert far.confidence < 0.5 and "unlike" in far.reason(0.5)
    assert np.all(np.abs(far.delta) <= CLAMPS + 1e-9)


def test_few_samples_or_inconsistent_edits_lower_confidence() -> None:
    x, y = data(3, 40)
    few = StyleModel(dim=6)
    few.update("indoor", x[0], y[0])
    assert few.predict("indoor", x[0]).confidence < 0.5
    noisy = StyleModel(dim=6)
    rng = np.random.default_rng(0)
    for xi in x:
        noisy.update("indoor", xi, rng.normal(0, 3, K))
    assert noisy.predict("indoor", x[1]).noise_term < 0.5


def test_state_round_trip() -> None:
    x, y = data(4, 20)
    m = StyleModel(dim=6)
    for xi, yi in zip(x, y, strict=True):
        m.update("shade", xi, yi)
    back = StyleModel.from_state(m.to_state())
    assert np.allclose(back.predict("shade", x[3]).delta, m.predict("shade", x[3]).delta)


def test_delta_units() -> None:
    fix = EditParams(exposure=0.2, temperature=6000)
    final = EditParams(exposure=0.7, temperature=5000, contrast=25)
    y = target_delta(final, fix)
    back = apply_delta(fix, y * np.array([0.5, 25, 25, 25, 25, 25, 25, 15, 25, 25]))
    assert back.exposure == pytest.approx(0.7) and back.contrast == 25
    assert abs(back.temperature - 5000) <= 10


# -- in the catalog ---------------------------------------------------------------------------
PHOTOS = (
    "plasma_Kite_screenshot.jpg",
    "plasma_ColdRipple_screenshot.jpg",
    "plasma_FallenLeaf_screenshot.jpg",
    "plasma_OneStandsOut_screenshot.jpg",
)


@pytest.fixture
def assets(catalog: Catalog, project: Project, shared_photos_dir: Path) -> list[str]:
    return [
        add_photo_asset(catalog, project.id, shared_photos_dir / name, iso=200) for name in PHOTOS
    ]


def test_saving_an_edit_teaches_style_without_storing_pixels(
    catalog: Catalog, assets: list[str]
) -> None:
    create_version(catalog, assets[0], {"params": {"exposure": 0.6, "contrast": 20}})
    assert catalog.scalar("SELECT event_count FROM style_profiles") == 1
    row = catalog.fetchdict("SELECT * FROM style_events")
    assert row is not None
    assert assets[0] not in str(row)  # the asset id is hashed
    assert len(row["features"]) == 14 and len(row["context"]) == 6 and len(row["delta"]) == K
    # re-editing the same photo replaces its event
    create_version(catalog, assets[0], {"params": {"exposure": 0.8}})
    assert catalog.scalar("SELECT count(*) FROM style_events") == 1
    assert catalog.scalar("SELECT event_count FROM style_profiles") == 1
    # a crop-only edit teaches nothing
    create_version(catalog, assets[1], {"params": {"crop": {"left": 0.1}}})
    assert catalog.scalar("SELECT count(*) FROM style_events") == 1
    summary = show_style(catalog)
    assert summary.event_count == 1 and summary.lines
    assert "brighter" in " ".join(summary.lines)


def test_apply_style_falls_back_to_fix_and_says_why(
    catalog: Catalog, project: Project, assets: list[str]
) -> None:
    report = apply_style(catalog, project.id)
    assert report.applied == 0 and report.fix_only == len(assets)
    assert all("Fix only" in (i.reason or "") for i in report.items)
    v = latest_version(catalog, assets[2])
    assert v is not None and v.name == "Fix"
    assert catalog.scalar("SELECT count(*) FROM style_events") == 0  # not learned from
    # after consistent edits of the same kind of photo, the style is applied
    for _ in range(2):
        for aid in assets:
            fix = predict_for_asset(catalog, aid).fix
            create_version(
                catalog, aid, {"params": fix.with_changes(exposure=fix.exposure + 0.5).dump()}
            )
    pred = predict_for_asset(catalog, assets[0], min_confidence=0.3)
    assert catalog.scalar("SELECT count(*) FROM style_events") == len(assets)  # one per photo
    assert pred.prediction.samples >= 1
    assert pred.prediction.delta[0] > 0.2  # learned: brighter than Fix
    # the photo's latest version is a hand edit: kept, unless asked (exports use the latest)
    hand = latest_version(catalog, assets[0])
    kept = apply_style(catalog, project.id, assets[:1], min_confidence=0.0)
    assert kept.kept_edited == 1 and kept.applied == 0 and kept.items[0].status == "skipped"
    assert "edited by hand" in (kept.items[0].reason or "")
    assert latest_version(catalog, assets[0]) == hand
    applied = apply_style(
        catalog, project.id, assets[:1], min_confidence=0.0, overwrite_edited=True
    )
    assert applied.applied == 1 and applied.items[0].extra["applied"] is True
    # what style show says about trust is what apply does: a confidence ceiling and the
    # threshold apply uses, no "trusted" count of its own
    lines = " ".join(show_style(catalog).lines)
    assert "needs about" not in lines
    assert "with 2 edits its confidence is at most 0.50; style apply uses it from 0.50" in lines
    assert reset_style(catalog) == len(assets)
    assert show_style(catalog).event_count == 0


def test_chi2_quantile_and_small_bucket_threshold() -> None:
    from kilo.style.model import chi2_quantile, distance_threshold

    # reference values of the chi-square quantile function
    assert chi2_quantile(6, 0.99) == pytest.approx(16.812, rel=0.01)
    assert chi2_quantile(14, 0.999) == pytest.approx(36.123, rel=0.01)
    assert chi2_quantile(20, 0.99) == pytest.approx(37.566, rel=0.01)
    # fewer samples = less known spread = a looser threshold, approaching the quantile
    assert distance_threshold(6, 4) > distance_threshold(6, 20) > distance_threshold(6, 1e6)
    assert distance_threshold(6, 1e6) == pytest.approx(chi2_quantile(6, 0.99), rel=1e-3)


def test_a_context_never_seen_is_refused_even_in_a_trained_bucket() -> None:
    """Features like the training photos, but a context input (the night flag) that never
    varied in training: the context block's distance refuses it."""
    rng = np.random.default_rng(5)
    feats = rng.normal(0, 1, (30, 8))
    ctx = np.column_stack(
        [
            rng.normal(0, 0.3, (30, 2)),
            rng.uniform(0.6, 1, 30),
            rng.normal(0, 0.3, (30, 2)),
            np.zeros(30),
        ]
    )
    x = np.hstack([feats, ctx])
    y = rng.normal(0, 0.1, (30, K)) + 0.5
    m = StyleModel(dim=14, context_dims=6)
    for xi, yi in zip(x, y, strict=True):
        m.update("indoor", xi, yi)
    assert m.predict("indoor", x[3]).confidence >= 0.5
    night = x[3].copy()
    night[-1] = 1.0
    pred = m.predict("indoor", night)
    assert pred.confidence < 0.5 and "unlike" in pred.reason(0.5)
    assert StyleModel.from_state(m.to_state()).predict("indoor", night).confidence < 0.5


def test_an_undated_photo_gives_style_no_hour_and_a_dated_one_its_local_hour(
    catalog: Catalog, project: Project, photos_dir: Path, tmp_path: Path
) -> None:
    """bird_burst.heic has no capture time (only the file's mtime, when it was copied: it
    used to read as the hour it was shot); xiaomi_mi3.jpg was taken at 17:10 at +08:00."""
    import shutil

    from kilo.assets import list_assets
    from kilo.ingest import ingest
    from kilo.style.learn import photo_inputs

    for name in ("bird_burst.heic", "xiaomi_mi3.jpg"):
        shutil.copy2(photos_dir / name, tmp_path / name)
    ingest(catalog, project.id, [tmp_path])
    by_name = {(a.filename, a.frame_index): a for a in list_assets(catalog, project.id).items}
    burst = by_name[("bird_burst.heic", 0)]
    assert burst.captured_at is None and burst.file_time is not None
    ctx = photo_inputs(catalog, burst.id).context
    assert ctx.local_hour is None and not ctx.is_night
    dated = photo_inputs(catalog, by_name[("xiaomi_mi3.jpg", 0)].id).context
    assert dated.local_hour == pytest.approx(17 + 10 / 60)
