"""Splitting and merging stacks as cull actions: the change is made by
``kilo.group.clusters`` (split_cluster, merge_clusters) and logged in the cull action log
with the whole clusters before and after (``kilo.group.clusters.snapshot_clusters``), so
the cull screen's undo and redo (and ``kilo cull undo``) take a split or a merge back
exactly, as they do a pick.

>>> rest, created = split_stack(catalog, user_id, cluster_id, [asset_id])  # doctest: +SKIP
>>> undo(catalog, project_id, user_id)  # the stack is whole again      # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kilo.catalog import Catalog
from kilo.cull.actions import record_action
from kilo.errors import NotFound
from kilo.group.clusters import merge_clusters, snapshot_clusters, split_cluster
from kilo.models import Cluster

__all__ = ["merge_stacks", "split_stack"]


def _project_of(catalog: Catalog, cluster_id: str) -> str:
    project = catalog.table("clusters").value(cluster_id, "project_id")
    if project is None:
        raise NotFound(f"no cluster {cluster_id}")
    return str(project)


def _log(
    catalog: Catalog,
    project_id: str,
    user_id: str,
    kind: str,
    before: dict[str, Any],
    ids: list[str],
) -> None:
    after = snapshot_clusters(catalog, ids)
    for cid in after["clusters"]:  # made by the change: undo removes it
        before["clusters"].setdefault(cid, None)
        before["members"].setdefault(cid, [])
    record_action(catalog, project_id, user_id, kind, {"stacks": before}, {"stacks": after})


def split_stack(
    catalog: Catalog, user_id: str, cluster_id: str, asset_ids: Sequence[str]
) -> list[Cluster]:
    """:func:`kilo.group.clusters.split_cluster`, logged as the user's undoable action
    ``split``. Returns [the rest, the new stack]."""
    project_id = _project_of(catalog, cluster_id)
    with catalog.transaction():
        before = snapshot_clusters(catalog, [cluster_id])
        made = split_cluster(catalog, cluster_id, asset_ids)
        _log(catalog, project_id, user_id, "split", before, [c.id for c in made])
    return made


def merge_stacks(catalog: Catalog, user_id: str, cluster_ids: Sequence[str]) -> Cluster:
    """:func:`kilo.group.clusters.merge_clusters`, logged as the user's undoable action
    ``merge``. Returns the merged stack."""
    if not cluster_ids:
        return merge_clusters(catalog, cluster_ids)  # its own error
    project_id = _project_of(catalog, cluster_ids[0])
    ids = list(dict.fromkeys(cluster_ids))
    with catalog.transaction():
        before = snapshot_clusters(catalog, ids)
        merged = merge_clusters(catalog, cluster_ids)
        _log(catalog, project_id, user_id, "merge", before, ids)
    return merged
