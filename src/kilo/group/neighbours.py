"""Pairs of nearly identical vectors without comparing all n^2 pairs: the candidates of
duplicate finding by embeddings in a large project.

Random-hyperplane hashing (SimHash, Charikar 2002): a vector's sign against a random
hyperplane differs from another's with probability angle / pi, whatever the data. A table
keys every vector by ``BITS`` such signs; two vectors at cosine >= ``cos_min`` share a key
in one table with probability ``p = (1 - acos(cos_min) / pi) ** BITS``, and with as many
tables as make ``1 - (1 - p) ** tables >= RECALL`` they share one in at least one table. The
pairs sharing a key are then checked on all the tables' signs (their count of differing
signs estimates the angle: pairs far beyond the threshold are dropped without touching the
vectors) and last on the vectors themselves.

So a pair exactly at the threshold is returned with probability >= ``RECALL`` (0.995), a
closer one with more (an edited copy at cosine 0.97: 0.9995), on any data: the guarantee
comes from the random hyperplanes, not from how the vectors are spread, which is where a
neighbour graph (hnswlib, M=8) lost a third of the pairs of ``benchmarks/cluster_speed.py``,
whose scenes are spread evenly over the sphere. The hyperplanes come from a fixed seed, so
a run is reproducible.
"""

from __future__ import annotations

import math

import numpy as np

from kilo.group.hamming import concatenated_ranges, unique_sorted

__all__ = ["close_pairs"]

BITS = 24
RECALL = 0.995
_SEED = 0
_ROWS = 8192  # vectors signed at once
_SIGMAS = 5.0  # the sign check drops a pair at the threshold with probability < 3e-7
_CHECK_ROWS = 65_536  # pairs whose vectors are compared at once


def close_pairs(
    vectors: np.ndarray, rows: np.ndarray, cos_min: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (a, b, cosine), a < b, among ``vectors[rows]`` (unit rows) with cosine >=
    ``cos_min``; a and b are indices of ``vectors``."""
    n = len(rows)
    empty = np.zeros(0, np.int64)
    if n < 2:
        return empty, empty, np.zeros(0, np.float32)
    data = np.ascontiguousarray(vectors[rows], dtype=np.float32)
    angle = _angle(cos_min)
    tables = table_count(cos_min)
    keys, signs = _signatures(data, tables)
    total_bits = tables * BITS
    spread = _SIGMAS * math.sqrt(total_bits * angle * (1.0 - angle))
    max_differing = int(total_bits * angle + spread)
    found = []
    for t in range(tables):
        lo, hi = _sharing_a_key(keys[:, t])
        differing = np.bitwise_count(signs[lo] ^ signs[hi]).sum(axis=1, dtype=np.int64)
        near = differing <= max_differing
        found.append(lo[near] * n + hi[near])
    pair_keys = unique_sorted(np.concatenate(found))
    lo, hi = pair_keys // n, pair_keys % n
    sims = _cosines(data, lo, hi)
    keep = sims >= cos_min
    return rows[lo[keep]].astype(np.int64), rows[hi[keep]].astype(np.int64), sims[keep]


def table_count(cos_min: float) -> int:
    """Tables of ``BITS`` signs for a pair at ``cos_min`` to share a key in one of them with
    probability ``RECALL``."""
    share = (1.0 - _angle(cos_min)) ** BITS
    if share >= RECALL:
        return 1
    return max(1, math.ceil(math.log(1.0 - RECALL) / math.log1p(-share)))


def _angle(cos_min: float) -> float:
    """The angle of ``cos_min`` as a fraction of pi: the chance one sign differs."""
    return math.acos(min(1.0, max(-1.0, cos_min))) / math.pi


def _signatures(data: np.ndarray, tables: int) -> tuple[np.ndarray, np.ndarray]:
    """(keys, signs): each vector's key in every table (n, tables) and all its signs packed
    in 64-bit words (n, words)."""
    n, dim = data.shape
    planes = np.random.default_rng(_SEED).standard_normal((dim, tables * BITS), np.float32)
    weights = np.left_shift(np.int64(1), np.arange(BITS, dtype=np.int64))
    words = -(-tables * BITS // 64)
    keys = np.empty((n, tables), np.int64)
    signs = np.zeros((n, words * 8), np.uint8)
    for start in range(0, n, _ROWS):
        part = slice(start, start + _ROWS)
        bits = (data[part] @ planes) > 0
        keys[part] = bits.reshape(-1, tables, BITS).astype(np.int64) @ weights
        packed = np.packbits(bits, axis=1)
        signs[part, : packed.shape[1]] = packed
    return keys, signs.view(np.uint64)


def _sharing_a_key(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (lo < hi) of rows whose ``key`` is the same."""
    n = len(key)
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    breaks = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
    bounds = np.concatenate(([0], breaks, [n]))
    run_end = np.repeat(bounds[1:], np.diff(bounds))
    after = run_end - np.arange(n) - 1  # rows after this one in its run
    a = order[np.repeat(np.arange(n), after)]
    b = order[concatenated_ranges(np.arange(1, n + 1), after)]
    return np.minimum(a, b), np.maximum(a, b)


def _cosines(data: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    out = np.empty(len(lo), np.float32)
    for start in range(0, len(lo), _CHECK_ROWS):
        part = slice(start, start + _CHECK_ROWS)
        out[part] = np.einsum("ij,ij->i", data[lo[part]], data[hi[part]])
    return out
