"""Pairs of nearly identical vectors without comparing all n^2 pairs: the candidates of
duplicate finding by embeddings in a large project.

An hnswlib graph of the vectors (built for this call: light settings, all cores), each
vector's nearest neighbours, and for a vector whose farthest neighbour found is still close
enough, a wider search, until the neighbours found end below the threshold. So every pair
above ``cos_min`` is returned, up to the graph's recall (benchmarks/cluster_speed.py checks
the groups against the exact search).
"""

from __future__ import annotations

import os

import numpy as np

__all__ = ["close_pairs"]

_M = 8
_EF_CONSTRUCTION = 32
_FIRST_K = 8


def close_pairs(
    vectors: np.ndarray, rows: np.ndarray, cos_min: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (a, b, cosine), a < b, among ``vectors[rows]`` (unit rows) with cosine >=
    ``cos_min``; a and b are indices of ``vectors``."""
    import hnswlib

    n = len(rows)
    empty = np.zeros(0, np.int64)
    if n < 2:
        return empty, empty, np.zeros(0, np.float32)
    data = np.ascontiguousarray(vectors[rows], dtype=np.float32)
    threads = os.cpu_count() or 1
    graph = hnswlib.Index(space="ip", dim=data.shape[1])
    graph.init_index(max_elements=n, ef_construction=_EF_CONSTRUCTION, M=_M)
    graph.add_items(data, np.arange(n), num_threads=threads)
    found_a, found_b, found_s = [], [], []
    todo, k = np.arange(n), _FIRST_K
    while len(todo):
        k = min(k, n)
        graph.set_ef(max(2 * k, 32))
        labels, dist = graph.knn_query(data[todo], k=k, num_threads=threads)
        sims = 1.0 - dist
        close = sims >= cos_min
        src = np.repeat(todo, k).reshape(len(todo), k)
        found_a.append(src[close])
        found_b.append(labels[close].astype(np.int64))
        found_s.append(sims[close])
        if k == n:
            break
        todo, k = todo[close[:, -1]], 4 * k  # the farthest found still close: look wider
    a, b, s = (np.concatenate(x) for x in (found_a, found_b, found_s))
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    keep = lo < hi
    keys, first = np.unique(lo[keep] * n + hi[keep], return_index=True)
    return rows[keys // n].astype(np.int64), rows[keys % n].astype(np.int64), s[keep][first]
