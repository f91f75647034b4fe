"""Splitting and merging stacks are cull actions: undo puts every cluster and member row
back exactly (the new stack of a split gone, the stacks of a merge back), redo does the
change again, and a pick after a split undoes in order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kilo.catalog import Catalog
from kilo.cull import list_actions, pick_winner, redo, undo
from kilo.cull.stacks import merge_stacks, split_stack
from kilo.errors import InvalidInput
from kilo.models import Project
from support.cull_data import CullData, build_cull_project


@pytest.fixture
def data(catalog: Catalog, project: Project, shared_photos_dir: Path) -> CullData:
    return build_cull_project(catalog, project.id, shared_photos_dir)


def _stacks(catalog: Catalog, project_id: str) -> dict[str, Any]:
    """Every column of the project's clusters and of their members."""
    clusters = catalog.fetchall(
        "SELECT * FROM clusters WHERE project_id = ? ORDER BY id", [project_id]
    )
    members = catalog.fetchall(
        "SELECT m.* FROM cluster_members m JOIN clusters c ON c.id = m.cluster_id "
        "WHERE c.project_id = ? ORDER BY m.cluster_id, m.asset_id",
        [project_id],
    )
    return {"clusters": clusters, "members": members}


def test_split_undo_redo_restore_every_row(catalog: Catalog, data: CullData) -> None:
    pid, user = data.project_id, catalog.local_user_id
    cid = data.clusters[0]
    moving = data.members[cid][-1:]
    before = _stacks(catalog, pid)
    rest, created = split_stack(catalog, user, cid, moving)
    after = _stacks(catalog, pid)
    assert created.id not in {r[0] for r in before["clusters"]}
    assert list_actions(catalog, pid)[0].kind == "split"
    assert sorted(list_actions(catalog, pid)[0].cluster_ids) == sorted([cid, created.id])
    assert undo(catalog, pid) is not None
    assert _stacks(catalog, pid) == before  # the new stack gone, the member back
    assert redo(catalog, pid) is not None
    assert _stacks(catalog, pid) == after
    assert rest.id == cid


def test_merge_undo_brings_both_stacks_back(catalog: Catalog, data: CullData) -> None:
    pid, user = data.project_id, catalog.local_user_id
    kinds = dict(catalog.fetchall("SELECT id, kind FROM clusters WHERE project_id = ?", [pid]))
    a, b = [c for c in data.clusters if kinds[c] == kinds[data.clusters[0]]][:2]
    before = _stacks(catalog, pid)
    merged = merge_stacks(catalog, user, [a, b])
    assert merged.id == a and catalog.table("clusters").value(b, "id") is None
    after = _stacks(catalog, pid)
    undo(catalog, pid)
    assert _stacks(catalog, pid) == before
    redo(catalog, pid)
    assert _stacks(catalog, pid) == after


def test_a_pick_after_a_split_undoes_first(catalog: Catalog, data: CullData) -> None:
    pid, user = data.project_id, catalog.local_user_id
    cid = data.clusters[0]
    before = _stacks(catalog, pid)
    split_stack(catalog, user, cid, data.members[cid][-1:])
    split = _stacks(catalog, pid)
    pick_winner(catalog, cid, data.members[cid][0])
    assert undo(catalog, pid).kind == "pick_winner"  # type: ignore[union-attr]
    assert _stacks(catalog, pid) == split
    assert undo(catalog, pid).kind == "split"  # type: ignore[union-attr]
    assert _stacks(catalog, pid) == before


def test_a_refused_split_logs_nothing(catalog: Catalog, data: CullData) -> None:
    pid, user = data.project_id, catalog.local_user_id
    cid = data.clusters[0]
    with pytest.raises(InvalidInput):
        split_stack(catalog, user, cid, data.members[cid])  # would leave it empty
    assert list_actions(catalog, pid) == []
