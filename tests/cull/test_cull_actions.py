"""The cull action log: undo and redo restore exact states (ratings, winners, reviewed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kilo.catalog import Catalog
from kilo.cull import (
    accept_winners,
    apply_bulk,
    get_rating,
    list_actions,
    mark_reviewed,
    pick_asset,
    pick_winner,
    redo,
    reject_cluster,
    set_rating,
    toggle_reject,
    toggle_star,
    undo,
    upsert_rating,
)
from kilo.models import BulkCullAction, BulkCullActionRequest, Project
from support.cull_data import CullData, build_cull_project, snapshot_project


@pytest.fixture
def data(catalog: Catalog, project: Project, shared_photos_dir: Path) -> CullData:
    return build_cull_project(catalog, project.id, shared_photos_dir)


def _cluster(catalog: Catalog, cid: str) -> dict[str, Any]:
    row = catalog.fetchdict(
        "SELECT reviewed, winner_asset_id, winner_source FROM clusters WHERE id = ?", [cid]
    )
    assert row is not None
    return row


def test_pick_winner_then_undo_restores_cluster(catalog: Catalog, data: CullData) -> None:
    cid = data.clusters[0]
    second = data.members[cid][1]
    before = snapshot_project(catalog, data.project_id)
    action = pick_winner(catalog, cid, second)
    assert action.kind == "pick_winner" and action.cluster_ids == [cid]
    state = _cluster(catalog, cid)
    assert state == {"reviewed": True, "winner_asset_id": second, "winner_source": "user"}
    assert get_rating(catalog, second).picked is True
    roles = dict(
        catalog.fetchall("SELECT asset_id, role FROM cluster_members WHERE cluster_id = ?", [cid])
    )
    assert roles[second] == "winner" and roles[data.members[cid][0]] != "winner"
    after = snapshot_project(catalog, data.project_id)
    undone = undo(catalog, data.project_id)
    assert undone is not None and undone.id == action.id and undone.undone
    assert snapshot_project(catalog, data.project_id) == before
    redone = redo(catalog, data.project_id)
    assert redone is not None and redone.id == action.id
    assert snapshot_project(catalog, data.project_id) == after
    assert redo(catalog, data.project_id) is None


def test_new_action_drops_redo_history(catalog: Catalog, data: CullData) -> None:
    a, b = list(data.assets.values())[:2]
    set_rating(catalog, a, 3)
    set_rating(catalog, a, 4)
    undo(catalog, data.project_id)
    assert get_rating(catalog, a).rating == 3
    set_rating(catalog, b, 5)
    assert redo(catalog, data.project_id) is None
    assert [x.kind for x in list_actions(catalog, data.project_id)] == ["rate", "rate"]
    undo(catalog, data.project_id)
    undo(catalog, data.project_id)
    assert get_rating(catalog, a).rating is None and get_rating(catalog, b).rating is None
    assert undo(catalog, data.project_id) is None


def test_undo_is_per_user(catalog: Catalog, data: CullData) -> None:
    a = next(iter(data.assets.values()))
    set_rating(catalog, a, 2)
    set_rating(catalog, a, 5, user_id="11111111-1111-1111-1111-111111111111")
    undo(catalog, data.project_id)
    assert get_rating(catalog, a).rating is None
    assert get_rating(catalog, a, "11111111-1111-1111-1111-111111111111").rating == 5


def test_reject_cluster_and_accept_winners(catalog: Catalog, data: CullData) -> None:
    c0, low = data.clusters[0], data.clusters[3]
    reject_cluster(catalog, c0)
    assert all(get_rating(catalog, a).rejected for a in data.members[c0])
    assert _cluster(catalog, c0)["reviewed"] is True
    catalog.execute("UPDATE clusters SET confidence = 0.3 WHERE id = ?", [low])
    report = accept_winners(catalog, data.project_id, min_confidence=0.5)
    expected = [c for c in data.clusters if c not in (c0, low)]
    assert [x["clusterId"] for x in report.accepted] == expected
    assert report.skipped_low_confidence == 1
    for cid in expected:
        assert _cluster(catalog, cid)["reviewed"] is True
        assert get_rating(catalog, data.members[cid][0]).picked is True
    assert _cluster(catalog, low)["reviewed"] is False
    assert _cluster(catalog, data.moment)["reviewed"] is False
    undo(catalog, data.project_id)
    assert not any(_cluster(catalog, c)["reviewed"] for c in expected)
    assert get_rating(catalog, data.members[expected[0]][0]).picked is None


# -- property: any sequence of actions, then as many undos, restores the start ---------------
N_ASSETS = 14
N_CLUSTERS = 5

fields = st.fixed_dictionaries(
    {},
    optional={
        "rating": st.one_of(st.none(), st.integers(1, 5)),
        "picked": st.booleans(),
        "rejected": st.booleans(),
        "starred": st.booleans(),
        "notes": st.one_of(st.none(), st.text(max_size=8)),
    },
).filter(lambda f: not (f.get("picked") is True and f.get("rejected") is True))

action = st.one_of(
    st.tuples(st.just("upsert"), st.integers(0, N_ASSETS - 1), fields),
    st.tuples(
        st.just("rate"), st.integers(0, N_ASSETS - 1), st.one_of(st.none(), st.integers(1, 5))
    ),
    st.tuples(st.just("reject"), st.integers(0, N_ASSETS - 1), st.none()),
    st.tuples(st.just("star"), st.integers(0, N_ASSETS - 1), st.none()),
    st.tuples(st.just("pick"), st.integers(0, N_ASSETS - 1), st.booleans()),
    st.tuples(st.just("winner"), st.integers(0, N_CLUSTERS - 1), st.integers(0, 2)),
    st.tuples(st.just("reject_cluster"), st.integers(0, N_CLUSTERS - 1), st.none()),
    st.tuples(st.just("review"), st.integers(0, N_CLUSTERS - 1), st.booleans()),
    st.tuples(st.just("accept"), st.just(0), st.sampled_from([0.0, 0.5, 0.9])),
    st.tuples(
        st.just("bulk"),
        st.just(0),
        st.lists(st.tuples(st.integers(0, N_ASSETS - 1), fields), min_size=1, max_size=4),
    ),
)


def _run(catalog: Catalog, data: CullData, step: tuple[str, int, Any]) -> None:
    kind, index, arg = step
    assets = list(data.assets.values())
    if kind == "upsert":
        upsert_rating(catalog, assets[index], **arg)
    elif kind == "rate":
        set_rating(catalog, assets[index], arg)
    elif kind == "reject":
        toggle_reject(catalog, assets[index])
    elif kind == "star":
        toggle_star(catalog, assets[index])
    elif kind == "pick":
        pick_asset(catalog, assets[index], arg)
    elif kind == "winner":
        cid = data.clusters[index]
        members = data.members[cid]
        pick_winner(catalog, cid, members[arg % len(members)])
    elif kind == "reject_cluster":
        reject_cluster(catalog, data.clusters[index])
    elif kind == "review":
        mark_reviewed(catalog, data.clusters[index], arg)
    elif kind == "accept":
        accept_winners(catalog, data.project_id, arg)
    elif kind == "bulk":
        req = BulkCullActionRequest(
            actions=[
                BulkCullAction(asset_id=assets[i], **{k: v for k, v in f.items() if k != "notes"})
                for i, f in arg
            ]
        )
        apply_bulk(catalog, data.project_id, req)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(action, min_size=1, max_size=6))
def test_undo_restores_start_and_redo_restores_end(
    catalog: Catalog, data: CullData, steps: list[tuple[str, int, Any]]
) -> None:
    start = snapshot_project(catalog, data.project_id)
    for step in steps:
        _run(catalog, data, step)
    end = snapshot_project(catalog, data.project_id)
    for _ in steps:
        assert undo(catalog, data.project_id) is not None
    assert snapshot_project(catalog, data.project_id) == start
    for _ in steps:
        assert redo(catalog, data.project_id) is not None
    assert snapshot_project(catalog, data.project_id) == end
    assert redo(catalog, data.project_id) is None
