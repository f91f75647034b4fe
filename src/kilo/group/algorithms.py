"""Clustering algorithms (pure functions, no catalog): moments, bursts and duplicate groups.

Input is one :class:`ClusterItem` per asset and, optionally, an ``(n, d)`` array of
L2-normalised embeddings (row ``i`` for item ``i``; a row of zeros means "no vector").
Output groups are lists of item indices.

* **Duplicate groups**: the same picture stored more than once (re-encodes, resized copies,
  light edits). Two items are duplicates when their pHash and dHash are both within a few bits,
  or, with embeddings, when their vectors are nearly identical and their pHash is at least
  loosely close. Two frames shot at different instants by one camera are never duplicates
  (that is a burst). Groups are connected components of the pair graph.
* **Bursts**: frames of one subject seconds apart: same camera body, consecutive frames at
  most ``burst_max_gap_s`` apart, and similar content (hashes, or embeddings when present)
  to one of the last few frames of the run. Exposure brackets (EXIF exposure bias steps) and
  focus stacks (EXIF focus distance steps) shot in quick succession are kept whole even where
  content similarity fails, and are labelled as such.
* **Moments**: a scene over minutes. Bursts are collapsed to single events, then the gaps
  between consecutive events are split in two classes by Otsu's method on their logarithm
  (so the threshold follows the shoot's rhythm), bounded by ``moment_min_gap_s`` (never split
  below) and ``moment_max_gap_s`` (always split above). A boundary is dropped again when the
  frames on both sides look alike (the same scene after a pause). Undated items join the
  moment of a dated duplicate or burst frame; otherwise they form moments of their own, the
  frames of one burst or multi-frame file and the copies of one picture together.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from kilo.errors import InvalidInput
from kilo.group.hamming import near_pairs
from kilo.group.neighbours import close_pairs
from kilo.measure.hashing import to_unsigned64

__all__ = [
    "BurstKind",
    "ClusterItem",
    "ClusterParams",
    "Clustering",
    "cluster_items",
    "find_bursts",
    "find_duplicates",
    "find_moments",
]

BurstKind = Literal["burst", "bracket", "focus_stack"]
#: From this many hashed items with vectors on, duplicate candidates by vectors come from a
#: neighbour search (below it every pair of hashes is compared: 4,096 items take ~50 ms).
VECTOR_PAIRS_FROM = 4096


@dataclass(slots=True)
class ClusterItem:
    """What clustering needs to know about one asset."""

    id: str
    #: capture time in seconds (UTC epoch); None when unknown
    time: float | None = None
    #: camera body key (make, model, serial); None when unknown
    camera: str | None = None
    phash: int | None = None
    dhash: int | None = None
    exposure_bias: float | None = None
    focus_distance: float | None = None
    #: tie-break order (e.g. filename order) for items without time
    order: int = 0
    #: frames of one multi-frame file (a phone burst in one HEIC) share this key
    sequence: str | None = None


@dataclass(frozen=True, slots=True)
class ClusterParams:
    burst_max_gap_s: float = 2.0
    #: frames of one camera this close in time are one burst whatever they look like (a
    #: walk-in or a reframing changes the hashes, not the fact that the shutter was held)
    burst_time_only_s: float = 1.6
    bracket_max_gap_s: float = 4.0
    burst_lookback: int = 4
    #: pHash distance for "same subject" in a burst (out of 64; unrelated photos sit near 32)
    burst_phash_max: int = 20
    burst_cos_min: float = 0.85
    dup_phash_max: int = 6
    dup_dhash_max: int = 10
    dup_cos_min: float = 0.96
    dup_cos_phash_max: int = 20
    moment_min_gap_s: float = 90.0
    moment_max_gap_s: float = 2 * 3600.0
    moment_default_gap_s: float = 15 * 60.0
    moment_join_phash_max: int = 12
    moment_join_cos_min: float = 0.92


@dataclass(slots=True)
class Clustering:
    moments: list[list[int]] = field(default_factory=list)
    bursts: list[list[int]] = field(default_factory=list)
    burst_kinds: list[BurstKind] = field(default_factory=list)
    duplicates: list[list[int]] = field(default_factory=list)


# -- helpers ------------------------------------------------------------------------------
def _hash_array(values: Sequence[int | None]) -> tuple[np.ndarray, np.ndarray]:
    arr = np.array([to_unsigned64(v) if v is not None else 0 for v in values], dtype=np.uint64)
    ok = np.array([v is not None for v in values], dtype=bool)
    return arr, ok


def _has_vec(emb: np.ndarray | None) -> np.ndarray | None:
    if emb is None:
        return None
    return np.asarray(np.abs(emb).sum(axis=1) > 0)


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def groups(self) -> list[list[int]]:
        out: dict[int, list[int]] = {}
        for i in range(len(self.parent)):
            out.setdefault(self.find(i), []).append(i)
        return list(out.values())


def _similar(
    i: int,
    j: int,
    ph: np.ndarray,
    ph_ok: np.ndarray,
    emb: np.ndarray | None,
    has: np.ndarray | None,
    phash_max: int,
    cos_min: float,
) -> bool:
    if (
        emb is not None
        and has is not None
        and has[i]
        and has[j]
        and float(emb[i] @ emb[j]) >= cos_min
    ):
        return True
    if ph_ok[i] and ph_ok[j]:
        return int(np.bitwise_count(ph[i] ^ ph[j])) <= phash_max
    return False


def _time_order(items: Sequence[ClusterItem]) -> list[int]:
    dated = [i for i, it in enumerate(items) if it.time is not None]
    return sorted(dated, key=lambda i: (items[i].time, items[i].order, items[i].id))


# -- duplicates ---------------------------------------------------------------------------
def find_duplicates(
    items: Sequence[ClusterItem],
    embeddings: np.ndarray | None = None,
    params: ClusterParams | None = None,
) -> list[list[int]]:
    """Groups (size >= 2) of items that are the same picture."""
    p = params or ClusterParams()
    n = len(items)
    if n < 2:
        return []
    ph, ph_ok = _hash_array([it.phash for it in items])
    dh, dh_ok = _hash_array([it.dhash for it in items])
    has = _has_vec(embeddings)
    idx = np.nonzero(ph_ok)[0]
    candidates: list[tuple[float, int, int]] = []
    for a, b, dp in zip(*(x.tolist() for x in _pairs(ph, idx, embeddings, has, p)), strict=True):
        if not _may_be_copies(items[a], items[b]):
            continue
        dd = int(np.bitwise_count(dh[a] ^ dh[b])) if dh_ok[a] and dh_ok[b] else 64
        if dp <= p.dup_phash_max and dd <= p.dup_dhash_max:
            candidates.append((dp + dd, a, b))
        elif (
            embeddings is not None
            and has is not None
            and has[a]
            and has[b]
            and float(embeddings[a] @ embeddings[b]) >= p.dup_cos_min
        ):
            candidates.append((64.0 + dp, a, b))
    # closest pairs first; never join two components holding distinct exposures of one camera
    candidates.sort()
    uf = _UnionFind(n)
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    for _, a, b in candidates:
        ra, rb = uf.find(a), uf.find(b)
        if ra == rb:
            continue
        if all(_may_be_copies(items[x], items[y]) for x in members[ra] for y in members[rb]):
            uf.union(a, b)
            root = uf.find(a)
            merged = members.pop(ra) + members.pop(rb)
            members[root] = merged
    return [sorted(g) for g in uf.groups() if len(g) > 1]


def _pairs(
    ph: np.ndarray,
    idx: np.ndarray,
    emb: np.ndarray | None,
    has: np.ndarray | None,
    p: ClusterParams,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs (a, b, pHash bits apart) that may be duplicates by either rule: hashes
    within ``dup_phash_max``, or vectors within ``dup_cos_min`` and hashes within
    ``dup_cos_phash_max``. In a large project with vectors, the second rule's pairs come from
    a neighbour search over the vectors instead of every pair of hashes."""
    if emb is None or has is None:
        return near_pairs(ph, idx, p.dup_phash_max)
    if len(idx) < VECTOR_PAIRS_FROM:
        return near_pairs(ph, idx, max(p.dup_phash_max, p.dup_cos_phash_max))
    by_hash = near_pairs(ph, idx, p.dup_phash_max)
    va, vb, _ = close_pairs(emb, idx[has[idx]], p.dup_cos_min)
    vd = np.bitwise_count(ph[va] ^ ph[vb]).astype(np.int64)
    near = vd <= p.dup_cos_phash_max
    a, b, d = (np.concatenate([x, y[near]]) for x, y in zip(by_hash, (va, vb, vd), strict=True))
    _, first = np.unique(a * len(ph) + b, return_index=True)
    return a[first], b[first], d[first]


def _may_be_copies(a: ClusterItem, b: ClusterItem) -> bool:
    """False when a and b are two different exposures (one camera, different instants)."""
    if a.sequence is not None and a.sequence == b.sequence:
        return False
    if a.time is None or b.time is None:
        return True
    if abs(a.time - b.time) < 1e-3:
        return True
    return not (a.camera is not None and a.camera == b.camera)


# -- bursts -------------------------------------------------------------------------------
def _steps(values: list[float | None]) -> bool:
    """True when a run's values are known and change from frame to frame (a bracket/stack)."""
    known = [v for v in values if v is not None]
    return len(known) == len(values) and len(values) >= 2 and len(set(known)) >= 2


def find_bursts(
    items: Sequence[ClusterItem],
    embeddings: np.ndarray | None = None,
    params: ClusterParams | None = None,
) -> tuple[list[list[int]], list[BurstKind]]:
    """Bursts (size >= 2) in time order, with their kind (burst, bracket or focus stack)."""
    p = params or ClusterParams()
    ph, ph_ok = _hash_array([it.phash for it in items])
    has = _has_vec(embeddings)
    by_camera: dict[str, list[int]] = {}
    for i in _time_order(items):
        by_camera.setdefault(items[i].camera or "", []).append(i)
    bursts: list[list[int]] = []
    kinds: list[BurstKind] = []
    for seq in by_camera.values():
        runs: list[list[int]] = []
        for i in seq:
            run = runs[-1] if runs else None
            if run is not None:
                prev = run[-1]
                gap = float(items[i].time or 0.0) - float(items[prev].time or 0.0)
                if 0 <= gap <= p.burst_time_only_s and items[i].time is not None:
                    run.append(i)
                    continue
                if gap <= p.burst_max_gap_s and any(
                    _similar(i, j, ph, ph_ok, embeddings, has, p.burst_phash_max, p.burst_cos_min)
                    for j in run[-p.burst_lookback :]
                ):
                    run.append(i)
                    continue
                if gap <= p.bracket_max_gap_s and _continues_series(items, run, i):
                    run.append(i)
                    continue
            runs.append([i])

        def alike(i: int, j: int) -> bool:
            return _similar(i, j, ph, ph_ok, embeddings, has, p.burst_phash_max, p.burst_cos_min)

        for run in (part for r in runs for part in _split_subject_changes(r, alike)):
            if len(run) < 2:
                continue
            bursts.append(run)
            kinds.append(_burst_kind(items, run))
    # frames of one multi-frame file are one burst (whatever their time says)
    in_burst = {i for b in bursts for i in b}
    sequences: dict[str, list[int]] = {}
    for i, it in enumerate(items):
        if it.sequence is not None and i not in in_burst:
            sequences.setdefault(it.sequence, []).append(i)
    for seq_members in sequences.values():
        if len(seq_members) >= 2:
            bursts.append(sorted(seq_members, key=lambda i: (items[i].order, items[i].id)))
            kinds.append("burst")
    order = sorted(range(len(bursts)), key=lambda k: (items[bursts[k][0]].time or float("inf"), k))
    return [bursts[k] for k in order], [kinds[k] for k in order]


def _split_subject_changes(run: list[int], alike: Callable[[int, int], bool]) -> list[list[int]]:
    """A run joined by time alone, cut where the subject changed: at a point with at least two
    frames on each side and no frame before it alike any after it. A single walk-in or
    reframed frame (alike nothing) is not a change of subject: the frames around it still
    match each other across it."""
    for k in range(2, len(run) - 1):
        left, right = run[:k], run[k:]
        if not any(alike(i, j) for i in left for j in right):
            return _split_subject_changes(left, alike) + _split_subject_changes(right, alike)
    return [run]


def _continues_series(items: Sequence[ClusterItem], run: list[int], i: int) -> bool:
    """Frame ``i`` extends a bracket (new exposure bias) or focus stack (new focus distance)."""
    for attr in ("exposure_bias", "focus_distance"):
        values = [getattr(items[j], attr) for j in run] + [getattr(items[i], attr)]
        if all(v is not None for v in values) and values[-1] not in values[:-1]:
            return True
    return False


def _burst_kind(items: Sequence[ClusterItem], run: list[int]) -> BurstKind:
    if _steps([items[j].exposure_bias for j in run]):
        return "bracket"
    if _steps([items[j].focus_distance for j in run]):
        return "focus_stack"
    return "burst"


# -- moments ------------------------------------------------------------------------------
def _otsu_log_threshold(gaps: list[float], p: ClusterParams) -> float:
    """Gap (seconds) separating "within a scene" from "between scenes" for this shoot."""
    logs = np.log(np.maximum(np.asarray(gaps, dtype=np.float64), 1e-3))
    if len(logs) < 3:
        return p.moment_default_gap_s
    s = np.sort(logs)
    n = len(s)
    csum = np.cumsum(s)
    k = np.arange(1, n)
    mean_lo = csum[:-1] / k
    mean_hi = (csum[-1] - csum[:-1]) / (n - k)
    between = (k / n) * ((n - k) / n) * (mean_hi - mean_lo) ** 2
    best_k = int(np.argmax(between))
    best_t = float(math.exp((s[best_k] + s[best_k + 1]) / 2.0))
    best_sep = float(mean_hi[best_k] - mean_lo[best_k])
    # classes must differ by a factor of 4 in typical gap, else the shoot has one rhythm
    if best_sep < math.log(4.0):
        return p.moment_default_gap_s
    return float(min(p.moment_max_gap_s, max(p.moment_min_gap_s, best_t)))


def _session_thresholds(gaps: list[float], p: ClusterParams) -> list[float]:
    """Per gap, the moment threshold of its session: the timeline is cut into sessions at gaps
    longer than ``moment_max_gap_s`` (another day, another shoot), and each session learns its
    own rhythm, so photos from years before joining a project do not teach today's wedding
    that twenty minutes is "the same moment"."""
    out = [p.moment_default_gap_s] * len(gaps)
    start = 0
    for k in range(len(gaps) + 1):
        if k == len(gaps) or gaps[k] > p.moment_max_gap_s:
            # gaps under 2 s (a copy beside its original, frames of a burst the hashes cut)
            # are a rhythm of their own and would pull the split down between them and the rest
            inner = [g for g in gaps[start:k] if g >= 2.0]
            t = _otsu_log_threshold(inner, p) if inner else p.moment_default_gap_s
            for j in range(start, k):
                out[j] = t
            start = k + 1
    return out


def find_moments(
    items: Sequence[ClusterItem],
    embeddings: np.ndarray | None = None,
    params: ClusterParams | None = None,
    *,
    bursts: Sequence[Sequence[int]] | None = None,
    duplicates: Sequence[Sequence[int]] | None = None,
) -> list[list[int]]:
    """Moments covering every item, in time order (undated items last)."""
    p = params or ClusterParams()
    if bursts is None:
        bursts = find_bursts(items, embeddings, p)[0]
    ph, ph_ok = _hash_array([it.phash for it in items])
    has = _has_vec(embeddings)
    order = _time_order(items)
    burst_of: dict[int, int] = {}
    for b, members in enumerate(bursts):
        for i in members:
            burst_of[i] = b
    # events: bursts collapsed to one entry; (first index, last index) in time order
    events: list[list[int]] = []
    for i in order:
        bi = burst_of.get(i)
        if events and bi is not None and burst_of.get(events[-1][-1]) == bi:
            events[-1].append(i)
        else:
            events.append([i])
    gaps = [
        float(items[events[k + 1][0]].time or 0.0) - float(items[events[k][-1]].time or 0.0)
        for k in range(len(events) - 1)
    ]
    thresholds = _session_thresholds(gaps, p)
    moments: list[list[int]] = []
    for k, ev in enumerate(events):
        if k == 0:
            moments.append(list(ev))
            continue
        gap = gaps[k - 1]
        threshold = thresholds[k - 1]
        split = gap > p.moment_max_gap_s or (gap >= p.moment_min_gap_s and gap > threshold)
        if split and gap <= p.moment_max_gap_s:
            a, b = events[k - 1][-1], ev[0]
            if _similar(
                a, b, ph, ph_ok, embeddings, has, p.moment_join_phash_max, p.moment_join_cos_min
            ):
                split = False
        if split:
            moments.append(list(ev))
        else:
            moments[-1].extend(ev)
    undated = [i for i, it in enumerate(items) if it.time is None]
    if undated:
        if duplicates is None:
            duplicates = find_duplicates(items, embeddings, p)
        _place_undated(items, undated, moments, [*duplicates, *bursts])
    return moments


def _place_undated(
    items: Sequence[ClusterItem],
    undated: list[int],
    moments: list[list[int]],
    groups: Sequence[Sequence[int]],
) -> None:
    """Each undated item joins the moment of an item it belongs with: a frame of its burst or
    of its multi-frame file, or a copy of it (dated or placed before it); else it starts a
    moment of its own that they join. So the four undated frames of one HEIC burst sit in one
    moment, as do the copies of one picture."""
    by_file: dict[str, list[int]] = {}
    for i, it in enumerate(items):
        if it.sequence is not None:
            by_file.setdefault(it.sequence, []).append(i)
    mates: dict[int, dict[int, None]] = {}  # in order: its copies first, then its burst
    for g in [*groups, *by_file.values()]:
        for i in g:
            mates.setdefault(i, {}).update(dict.fromkeys(g))
    moment_of = {i: m for m, members in enumerate(moments) for i in members}
    for i in sorted(undated, key=lambda i: (items[i].order, items[i].id)):
        if i in moment_of:
            continue
        target = next((moment_of[j] for j in mates.get(i, {}) if j in moment_of), None)
        if target is None:
            moments.append([i])
            target = len(moments) - 1
        else:
            moments[target].append(i)
        moment_of[i] = target


def cluster_items(
    items: Sequence[ClusterItem],
    embeddings: np.ndarray | None = None,
    params: ClusterParams | None = None,
) -> Clustering:
    """Duplicates, bursts and moments of ``items`` in one pass."""
    p = params or ClusterParams()
    if embeddings is not None:
        embeddings = np.asarray(embeddings, dtype=np.float32)
        if embeddings.shape[0] != len(items):
            raise InvalidInput("embeddings must have one row per item")
    dups = find_duplicates(items, embeddings, p)
    bursts, kinds = find_bursts(items, embeddings, p)
    # a "burst" whose frames are all copies of one picture (same instant) is a duplicate group
    dup_of = {i: g for g, members in enumerate(dups) for i in members}
    keep = [
        k
        for k, b in enumerate(bursts)
        if not (b[0] in dup_of and all(dup_of.get(i) == dup_of[b[0]] for i in b))
    ]
    bursts = [bursts[k] for k in keep]
    kinds = [kinds[k] for k in keep]
    moments = find_moments(items, embeddings, p, bursts=bursts, duplicates=dups)
    return Clustering(moments=moments, bursts=bursts, burst_kinds=kinds, duplicates=dups)
