"""The personal taste model: Bradley-Terry on signal differences, regularised to defaults."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kilo.catalog import Catalog
from kilo.cull import pick_winner, undo
from kilo.cull.taste import (
    MIN_DECISIONS,
    Decision,
    default_weights,
    describe_taste,
    describe_weights,
    fit_preferences,
    get_taste,
    pair_matrix,
)
from kilo.models import Project
from support.cull_data import CullData, build_cull_project

NAMES = ["sharpness", "exposure", "brightness", "noise", "contrast"]
DEFAULTS = np.array([0.5, 0.3, 0.0, -0.1, 0.1])


def _clusters(rng: np.random.Generator, n: int) -> list[np.ndarray]:
    """Bursts of 3-6 frames: a shared scene plus per-frame variation of each signal."""
    out = []
    for _ in range(n):
        base = rng.uniform(0.3, 0.7, size=len(NAMES))
        size = int(rng.integers(3, 7))
        out.append(np.clip(base + rng.normal(0, 0.12, size=(size, len(NAMES))), 0, 1))
    return out


def _decide(frames: np.ndarray, taste: np.ndarray) -> int:
    return int(np.argmax(frames @ taste))


def _decisions(clusters: list[np.ndarray], taste: np.ndarray) -> list[Decision]:
    out = []
    for i, frames in enumerate(clusters):
        w = _decide(frames, taste)
        rows = [dict(zip(NAMES, map(float, f), strict=True)) for f in frames]
        out.append(Decision(str(i), rows[w], [r for j, r in enumerate(rows) if j != w]))
    return out


def _top1(clusters: list[np.ndarray], weights: np.ndarray, taste: np.ndarray) -> float:
    return float(np.mean([_decide(f, weights) == _decide(f, taste) for f in clusters]))


def _fit(decisions: list[Decision]) -> np.ndarray:
    diffs, w = pair_matrix(decisions, NAMES)
    return fit_preferences(diffs, DEFAULTS, pair_weights=w)


def test_no_decisions_keeps_defaults() -> None:
    diffs, w = pair_matrix([], NAMES)
    assert diffs.shape == (0, len(NAMES))
    assert np.allclose(fit_preferences(diffs, DEFAULTS, pair_weights=w), DEFAULTS)


def test_pair_matrix_weights_each_decision_once() -> None:
    d = Decision(
        "c", {"sharpness": 0.9, "brightness": 0.5}, [{"sharpness": 0.4}, {"sharpness": 0.7}]
    )
    diffs, w = pair_matrix([d], NAMES)
    assert diffs.shape == (2, 5)
    assert np.allclose(diffs[:, 0], [0.5, 0.2]) and np.allclose(diffs[:, 2], 0.0)
    assert np.isclose(w.sum(), 1.0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_learns_a_taste_that_differs_from_the_default(seed: int) -> None:
    rng = np.random.default_rng(seed)
    taste = np.array([0.3, 0.1, 0.6, -0.05, 0.05])  # loves brighter frames
    train, test = _clusters(rng, MIN_DECISIONS), _clusters(rng, 200)
    learned = _fit(_decisions(train, taste))
    assert np.isclose(np.abs(learned).sum(), np.abs(DEFAULTS).sum())
    before, after = _top1(test, DEFAULTS, taste), _top1(test, learned, taste)
    assert after >= before + 0.10, (before, after)
    assert learned[NAMES.index("brightness")] > 0.1
    sentences = describe_weights(
        dict(zip(NAMES, learned, strict=True)), dict(zip(NAMES, DEFAULTS, strict=True)), 20
    )
    assert sentences[0].startswith("You prefer brighter frames over")


@pytest.mark.parametrize("seed", [4, 5])
def test_default_taste_loses_nothing(seed: int) -> None:
    rng = np.random.default_rng(seed)
    train, test = _clusters(rng, MIN_DECISIONS), _clusters(rng, 200)
    learned = _fit(_decisions(train, DEFAULTS))
    assert _top1(test, learned, DEFAULTS) >= 0.95
    cos = learned @ DEFAULTS / np.linalg.norm(learned) / np.linalg.norm(DEFAULTS)
    assert cos > 0.97


def test_one_decision_only_nudges() -> None:
    rng = np.random.default_rng(7)
    taste = np.array([0.0, 0.0, 1.0, 0.0, 0.0])
    learned = _fit(_decisions(_clusters(rng, 1), taste))
    cos = learned @ DEFAULTS / np.linalg.norm(learned) / np.linalg.norm(DEFAULTS)
    assert cos > 0.8
    assert np.argmax(np.abs(learned)) == 0  # sharpness still dominates


def test_constant_signal_keeps_its_default_share() -> None:
    rng = np.random.default_rng(8)
    clusters = _clusters(rng, 30)
    for frames in clusters:
        frames[:, NAMES.index("contrast")] = 0.5
    learned = _fit(_decisions(clusters, DEFAULTS))
    assert np.all(np.isfinite(learned))
    ratio = learned[NAMES.index("contrast")] / learned[NAMES.index("sharpness")]
    assert ratio == pytest.approx(0.1 / 0.5, rel=0.3)


# -- in the catalog ----------------------------------------------------------------------------
@pytest.fixture
def data(catalog: Catalog, project: Project, shared_photos_dir: Path) -> CullData:
    return build_cull_project(catalog, project.id, shared_photos_dir)


def test_picks_train_the_stored_model(catalog: Catalog, data: CullData) -> None:
    assert get_taste(catalog).pair_count == 0
    assert "No winner decisions yet" in describe_taste(catalog)[0]
    bursts = [data.clusters[i] for i in (0, 1, 4)]
    for cid in bursts:
        pick_winner(catalog, cid, data.members[cid][-1])
    pick_winner(catalog, data.clusters[2])  # a duplicate group: not a matter of taste
    model = get_taste(catalog)
    assert model.pair_count == 3 and not model.active
    assert set(model.weights) == set(default_weights())
    row = catalog.fetchone(
        "SELECT pair_count, weights FROM preference_models WHERE user_id = ?",
        [catalog.local_user_id],
    )
    assert row is not None and row[0] == 3
    assert model.weights != model.defaults
    assert any("after 20" in s for s in model.sentences)
    # re-deciding a cluster replaces its decision; undo removes it
    pick_winner(catalog, bursts[0], data.members[bursts[0]][0])
    assert get_taste(catalog).pair_count == 3
    undo(catalog, data.project_id)
    undo(catalog, data.project_id)  # the duplicate group
    undo(catalog, data.project_id)  # the third burst
    assert get_taste(catalog).pair_count == 2
