"""A group changed by hand is ranked as the ``project.cluster`` job ranks it: one ranking of
one group, whoever ranks it (the same rank inputs, the owner's learned weights included)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kilo.analyze import analyze
from kilo.catalog import Catalog
from kilo.clock import utcnow
from kilo.group import get_cluster, list_clusters, split_cluster
from kilo.group.clusters import store_winner
from kilo.group.rank import DEFAULT_WEIGHTS, MIN_PREFERENCE_PAIRS, RankInput, rank_members
from kilo.models import Project


def _ranking(catalog: Catalog, cluster_id: str) -> dict[str, Any]:
    """Everything a ranking writes about one cluster: order, roles, scores, the signals it
    ranked on, the winner, why, how sure, the cluster's score."""
    c = get_cluster(catalog, cluster_id)
    scores = dict(
        catalog.fetchall(
            "SELECT asset_id, score FROM cluster_members WHERE cluster_id = ?", [cluster_id]
        )
    )
    return {
        "order": [(m.asset_id, m.role) for m in c.assets],
        "scores": scores,
        "signals": {m.asset_id: m.signals for m in c.assets},
        "winner": c.winner_asset_id,
        "why": c.why_winner,
        "confidence": c.confidence,
        "score": c.score,
    }


def test_a_split_and_a_winner_rerank_with_the_learned_weights_as_the_cluster_job_does(
    catalog: Catalog, project: Project, photos_dir: Path
) -> None:
    from kilo.ingest import ingest

    ingest(catalog, project.id, [str(photos_dir / "bird_burst.heic")])  # one 4-frame burst
    analyze(catalog, project.id, embed=False)
    # the owner's learned taste, far from the defaults: every default weight reversed
    learned = {name: -weight for name, weight in DEFAULT_WEIGHTS.items()}
    catalog.execute(
        "INSERT INTO preference_models (user_id, version, weights, pair_count, updated_at) "
        "VALUES (?, 'bt-1', ?, ?, ?)",
        [project.owner_user_id, json.dumps(learned), MIN_PREFERENCE_PAIRS, utcnow()],
    )
    (burst,) = list_clusters(catalog, project.id, kind="burst").items
    assert len(burst.assets) == 4
    rest, new = split_cluster(catalog, burst.id, [burst.assets[-1].asset_id])
    split = {c.id: _ranking(catalog, c.id) for c in (rest, new)}
    assert len(split[rest.id]["order"]) == 3
    # the split ranked on the learned weights: with the defaults the scores would differ
    inputs = [
        RankInput(a, {k: float(v) for k, v in s.items()})
        for a, s in split[rest.id]["signals"].items()
    ]
    assert rank_members(inputs).scores != split[rest.id]["scores"]
    analyze(catalog, project.id, embed=False)  # the cluster job ranks the locked parts again
    assert {c.id: _ranking(catalog, c.id) for c in (rest, new)} == split
    # a winner chosen by hand (the catalog step of pick_winner, which would also refit the
    # taste): the others stay ranked as the job ranks them, the chosen frame first
    last = split[rest.id]["order"][-1][0]
    store_winner(catalog, rest.id, last)
    chosen = _ranking(catalog, rest.id)
    assert chosen["winner"] == last and chosen["why"] == ["Chosen by you"]
    assert chosen["order"][0] == (last, "winner")
    analyze(catalog, project.id, embed=False)
    assert _ranking(catalog, rest.id) == chosen
