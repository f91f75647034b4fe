# The names kilo.group exports, each loaded on first use (lazy_loader reads this stub).

from .algorithms import (
    BurstKind as BurstKind,
    Clustering as Clustering,
    ClusterItem as ClusterItem,
    ClusterParams as ClusterParams,
    cluster_items as cluster_items,
    find_bursts as find_bursts,
    find_duplicates as find_duplicates,
    find_moments as find_moments,
)
from .recluster import (
    ComputedCluster as ComputedCluster,
    store_clusters as store_clusters,
)
from .clusters import (
    CLUSTER_KINDS as CLUSTER_KINDS,
    get_cluster as get_cluster,
    list_clusters as list_clusters,
    locked_clusters as locked_clusters,
    merge_clusters as merge_clusters,
    split_cluster as split_cluster,
    update_cluster as update_cluster,
)
