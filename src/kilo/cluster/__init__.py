"""Moments, bursts and duplicate groups, in one package:

* :mod:`kilo.cluster.algorithms`: clustering of plain items (time, camera, hashes, vectors);
  no catalog;
* :mod:`kilo.cluster.build`: clusters and ranked winners with their reasons, from a
  project's rows;
* :mod:`kilo.cluster.store`: the clusters in the catalog, stable across re-runs: list, get,
  update, set winners, split, merge;
* :mod:`kilo.cluster.jobs`: the ``project.cluster`` job that reads, builds and stores.

>>> from kilo.cluster import list_clusters
>>> for c in list_clusters(catalog, project_id, kind="burst").items:   # doctest: +SKIP
...     print(c.winner_asset_id, c.why_winner)
"""

from kilo.cluster.algorithms import (
    BurstKind,
    Clustering,
    ClusterItem,
    ClusterParams,
    cluster_items,
    find_bursts,
    find_duplicates,
    find_moments,
)
from kilo.cluster.store import (
    CLUSTER_KINDS,
    ComputedCluster,
    get_cluster,
    list_clusters,
    locked_clusters,
    merge_clusters,
    set_winner,
    split_cluster,
    store_clusters,
    update_cluster,
)

__all__ = [
    "CLUSTER_KINDS",
    "BurstKind",
    "ClusterItem",
    "ClusterParams",
    "Clustering",
    "ComputedCluster",
    "cluster_items",
    "find_bursts",
    "find_duplicates",
    "find_moments",
    "get_cluster",
    "list_clusters",
    "locked_clusters",
    "merge_clusters",
    "set_winner",
    "split_cluster",
    "store_clusters",
    "update_cluster",
]
