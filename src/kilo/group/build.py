"""From catalog rows to ranked clusters: the pure part of the ``project.cluster`` job."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from kilo.clock import format_span
from kilo.group.algorithms import ClusterItem, ClusterParams, cluster_items
from kilo.group.rank import RankInput, rank_members
from kilo.group.recluster import ComputedCluster, duplicate_title
from kilo.models import ClusterKind
from kilo.text import display_name


@dataclass
class AssetRow:
    id: str
    captured_at: datetime | None
    camera: str | None
    filename: str
    pixels: int
    exposure_bias: float | None
    focus_distance: float | None
    signals: dict[str, float]
    phash: int | None
    dhash: int | None
    sequence: str | None = None
    lossless: bool = False
    byte_size: int | None = None
    #: the photo's own local time (:func:`kilo.clock.local_capture_time`), what titles show;
    #: ``captured_at`` is the naive UTC moment the clustering orders by
    local_time: datetime | None = None
    #: which frame of how many of its file (a phone burst in one HEIC): its display name
    frame_index: int = 0
    frame_count: int = 1
    #: a camera RAW file (DNG, CR3, NEF...)
    raw: bool = False


@dataclass
class ClusterInput:
    project_id: str
    assets: list[AssetRow]
    embeddings: np.ndarray | None = None
    model_id: str | None = None
    weights: dict[str, float] | None = None
    #: clusters whose membership a person fixed: [{id, kind, members}]
    locked: list[dict[str, Any]] = field(default_factory=list)
    #: asset id -> its grey thumbnail (for the burst-relative signals), None when unreadable
    load_grey: Callable[[str], np.ndarray | None] | None = None


def _epoch(value: datetime | None) -> float | None:
    if value is None:
        return None
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    return aware.timestamp()


def _span(rows: Sequence[AssetRow]) -> tuple[datetime | None, datetime | None]:
    times = [r.captured_at for r in rows if r.captured_at is not None]
    return (min(times), max(times)) if times else (None, None)


def _moment_title(rows: Sequence[AssetRow]) -> str:
    dated = [r for r in rows if r.captured_at is not None]
    n = len(rows)
    count = f"{n} photo{'s' if n != 1 else ''}"
    if not dated:
        return f"Undated · {count}"
    first = min(dated, key=lambda r: r.captured_at or datetime.max)
    last = max(dated, key=lambda r: r.captured_at or datetime.min)
    span = format_span(first.local_time or first.captured_at, last.local_time or last.captured_at)
    return f"{span} · {count}"


def _stem(filename: str) -> str:
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0].lower() if "." in name else name.lower()


def _raw_partners(rows: Sequence[AssetRow]) -> dict[str, str]:
    """RAW+JPEG pairs among copies of one picture: each RAW file's id -> the display name of
    a non-RAW copy with its stem (``mate_Dune.dng`` -> ``mate_Dune.jpg``, the camera's JPEG
    or an export of it)."""
    out: dict[str, str] = {}
    for r in rows:
        if not r.raw:
            continue
        mate = next((o for o in rows if not o.raw and _stem(o.filename) == _stem(r.filename)), None)
        if mate is not None:
            out[r.id] = display_name(mate)
    return out


def _rank_inputs(
    rows: Sequence[AssetRow], signals: Mapping[str, Mapping[str, float]], copies: bool
) -> list[RankInput]:
    partners = _raw_partners(rows) if copies else {}
    return [
        RankInput(
            r.id,
            signals[r.id],
            r.pixels,
            r.lossless,
            r.byte_size,
            name=display_name(r, r.id),
            phash=r.phash,
            jpeg_of_raw=partners.get(r.id),
        )
        for r in rows
    ]


_MINUTE = datetime(2000, 1, 1, 0, 1) - datetime(2000, 1, 1, 0, 0)
_BURST_TITLES = {"burst": "Burst", "bracket": "Exposure bracket", "focus_stack": "Focus stack"}


def rank_group(
    kind: ClusterKind,
    rows: Sequence[AssetRow],
    weights: Mapping[str, float] | None = None,
    load_grey: Callable[[str], np.ndarray | None] | None = None,
    compared: Mapping[str, Mapping[str, float]] | None = None,
) -> ComputedCluster:
    """One group ranked: the rank inputs built from its members' rows (each one's signals,
    plus the burst comparisons in a burst; pixels, compression and size among copies) and
    ranked with ``weights``. What the ``project.cluster`` job does to every group and every
    re-rank after a person's change does to the groups changed (:mod:`kilo.group.inputs`
    reads the rows, in capture order, and the weights). A moment keeps its members in time
    order and has no winner.

    ``compared``: a burst's comparisons already made for exactly these members (member id ->
    its burst-relative signals, as stored with the group), used instead of comparing the
    thumbnails again (a re-rank that keeps the membership: a winner picked)."""
    lo, hi = _span(rows)
    copies = kind == "duplicate_group"
    signals = {r.id: r.signals for r in rows}
    inputs = _rank_inputs(rows, signals, copies)
    names = {r.id: display_name(r, r.id) for r in rows}
    if kind == "moment":
        chrono = sorted(rows, key=lambda r: (r.captured_at or datetime.max, r.filename, r.id))
        scores = rank_members(inputs, weights=weights).scores if rows else {}
        vals = sorted(scores.values())
        return ComputedCluster(
            kind=kind,
            members=[r.id for r in chrono],
            start_time=lo,
            end_time=hi,
            score=round(vals[len(vals) // 2], 4) if vals else None,
            member_scores=scores,
            member_signals={r.id: r.signals for r in rows},
            names=names,
        )
    if kind == "burst" and compared is not None:
        signals = {r.id: {**r.signals, **compared.get(r.id, {})} for r in rows}
        inputs = _rank_inputs(rows, signals, copies)
    elif kind == "burst" and load_grey is not None:
        from kilo.group.compare import with_burst_signals

        merged = with_burst_signals([r.signals for r in rows], [load_grey(r.id) for r in rows])
        signals = {r.id: s for r, s in zip(rows, merged, strict=True)}
        inputs = _rank_inputs(rows, signals, copies)
    result = rank_members(inputs, weights=weights, duplicate_group=copies)
    return ComputedCluster(
        kind=kind,
        members=result.order,
        start_time=lo,
        end_time=hi,
        score=round(result.scores[result.order[0]], 4) if result.order else None,
        confidence=result.confidence,
        winner=result.winner,
        why_winner=result.why_winner,
        member_scores=result.scores,
        member_signals=signals,
        title=duplicate_title(len(rows), names[result.winner])
        if copies and result.winner
        else None,
        names=names,
    )


def _ranked(
    kind: ClusterKind,
    idx: Sequence[int],
    data: ClusterInput,
    title: str | None,
    parent_index: int | None = None,
    cluster_id: str | None = None,
) -> ComputedCluster:
    # members in capture order (the assets' order), as a re-rank reads them
    out = rank_group(kind, [data.assets[i] for i in sorted(idx)], data.weights, data.load_grey)
    # a duplicate group is titled by its winner (rank_group), the rest here
    out.title = out.title if title is None else title
    out.parent_index, out.cluster_id = parent_index, cluster_id
    return out


def build_clusters(
    data: ClusterInput, params: ClusterParams | None = None
) -> list[ComputedCluster]:
    """Moments, bursts and duplicate groups of the project, ranked, plus the locked clusters
    (re-ranked, membership unchanged)."""
    assets = data.assets
    pos = {a.id: i for i, a in enumerate(assets)}
    locked_by_kind: dict[str, set[str]] = {}
    for lc in data.locked:
        locked_by_kind.setdefault(lc["kind"], set()).update(lc["members"])
    items = [
        ClusterItem(
            id=a.id,
            time=_epoch(a.captured_at),
            camera=a.camera,
            phash=a.phash,
            dhash=a.dhash,
            exposure_bias=a.exposure_bias,
            focus_distance=a.focus_distance,
            order=k,
            sequence=a.sequence,
        )
        for k, a in enumerate(assets)
    ]
    found = cluster_items(items, data.embeddings, params)
    out: list[ComputedCluster] = []

    def free(kind: str, group: Sequence[int]) -> list[int]:
        taken = locked_by_kind.get(kind, set())
        return [i for i in group if assets[i].id not in taken]

    moment_of: dict[int, int] = {}
    for group in found.moments:
        g = free("moment", group)
        if not g:
            continue
        out.append(_ranked("moment", g, data, _moment_title([assets[i] for i in g])))
        for i in g:
            moment_of[i] = len(out) - 1
    for group, bkind in zip(found.bursts, found.burst_kinds, strict=True):
        g = free("burst", group)
        if len(g) < 2:
            continue
        title = f"{_BURST_TITLES[bkind]} of {len(g)}"
        out.append(_ranked("burst", g, data, title, parent_index=moment_of.get(g[0])))
    for group in found.duplicates:
        g = free("duplicate_group", group)
        if len(g) < 2:
            continue
        out.append(_ranked("duplicate_group", g, data, title=None))
    for lc in data.locked:
        g = [pos[a] for a in lc["members"] if a in pos]
        if not g:
            continue
        out.append(_ranked(lc["kind"], g, data, title="", cluster_id=lc["id"]))
        out[-1].title = None
    return out
