"""What a culling front end shows: the project's stacks in review order, with each frame's
decision state and signals. Read-only; the decisions themselves are in
:mod:`kilo.cull.decisions`.

When the AI is ready (clusters exist) the stacks are the bursts and duplicate groups in capture
order, each under its moment, followed per moment by a "singles" stack of the frames that
belong to no burst. When it is not (no clusters yet) there is one chronological filmstrip of
every frame with its blur score, as the fallback the design asks for.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from operator import attrgetter
from typing import Any

from kilo.catalog import Catalog
from kilo.catalog.file_reads import (
    list_cluster_members,
    list_clusters,
    project_frame_rows,
    read_capture_instant_sql,
)
from kilo.catalog.studio_reads import EMBEDDED_JOIN
from kilo.projects import require_project
from kilo.records import json_object
from kilo.text import frame_name

__all__ = ["CullFrame", "CullQueue", "CullStack", "load_queue"]

MAX_CHIPS = 3


@dataclass(slots=True)
class CullFrame:
    asset_id: str
    #: the name shown (:func:`kilo.text.display_name`: ``bird_burst.heic [2/4]`` for a frame
    #: of a multi-frame file)
    filename: str
    captured_at: datetime | None
    #: what :func:`kilo.clock.local_capture_time` reads besides ``captured_at``
    captured_offset_min: int | None = None
    captured_at_source: str | None = None
    #: when it was taken, as chronological orders sort (naive UTC, the catalog's
    #: ``CAPTURE_INSTANT``); None when undated
    order_at: datetime | None = None
    rank: int | None = None
    role: str | None = None
    rating: int | None = None
    picked: bool = False
    rejected: bool = False
    starred: bool = False
    signals: dict[str, float] = field(default_factory=dict)
    frame_index: int = 0
    frame_count: int = 1
    width: int | None = None
    height: int | None = None
    orientation: int | None = None
    state: str = "ready"  # the asset's: registered | ready | quarantined
    failed: bool = False
    #: whether it has an embedding (any model); None: not read (see :func:`load_queue`)
    embedded: bool | None = None
    #: what a loupe's caption shows: camera, lens, ISO, shutter, aperture, focal length
    exposure: dict[str, Any] = field(default_factory=dict)

    @property
    def blur(self) -> float | None:
        """0 = crisp, 1 = no detail: ``1 - sharpness`` when signals exist."""
        sharp = self.signals.get("sharpness")
        return None if sharp is None else round(1.0 - float(sharp), 3)


@dataclass(slots=True)
class CullStack:
    """One unit of review: a burst, a duplicate group, the singles of a moment, or the
    chronological filmstrip (``cluster_id`` None for the last two)."""

    kind: str  # burst | duplicate_group | singles | filmstrip
    title: str
    frames: list[CullFrame]
    cluster_id: str | None = None
    moment_id: str | None = None
    moment_title: str | None = None
    reviewed: bool = False
    confidence: float | None = None
    winner_asset_id: str | None = None
    why_winner: list[str] = field(default_factory=list)

    @property
    def decided(self) -> bool:
        """Reviewed clusters; a singles stack or filmstrip once every frame has a decision."""
        if self.cluster_id is not None:
            return self.reviewed
        return all(f.picked or f.rejected for f in self.frames)


@dataclass(slots=True)
class CullQueue:
    project_id: str
    ai_ready: bool
    stacks: list[CullStack]

    def position_of(self, cluster_id: str | None, asset_id: str | None) -> tuple[int, int]:
        """(stack index, frame index) of a cluster / asset, (0, 0) when gone."""
        for i, stack in enumerate(self.stacks):
            if cluster_id is not None and stack.cluster_id != cluster_id:
                continue
            for j, frame in enumerate(stack.frames):
                if frame.asset_id == asset_id:
                    return i, j
            if cluster_id is not None:
                return i, 0
        return 0, 0

    def next_open(self, after: int) -> int | None:
        """Index of the next stack not decided yet after ``after`` (wrapping), or None."""
        n = len(self.stacks)
        for step in range(1, n + 1):
            i = (after + step) % n
            if not self.stacks[i].decided:
                return i
        return None


def _signals(value: Any) -> dict[str, float]:
    data = json_object(value)
    return {
        k: float(v)
        for k, v in data.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }


def load_queue(
    catalog: Catalog, project_id: str, user_id: str | None = None, *, embedded: bool = False
) -> CullQueue:
    """The review queue of a project for a user (see the module docstring). ``embedded``:
    read which frames have an embedding (a join over every embedding, which the cull order
    does not need; without it each frame's ``embedded`` is None)."""
    pid = require_project(catalog, project_id)
    frames = _frames(catalog, pid, user_id or catalog.local_user_id, embedded)
    clusters = list_clusters(catalog, pid)
    if not clusters:
        stack = CullStack("filmstrip", "All frames, in capture order", list(frames.values()))
        return CullQueue(pid, False, [stack] if frames else [])
    members = _members(catalog, pid)
    moments = {c["id"]: c for c in clusters if c["kind"] == "moment"}
    moment_of: dict[str, str] = {}
    for mid in moments:
        for aid, _, _ in members.get(mid, []):
            moment_of.setdefault(aid, mid)
    stacks, in_stack = _cluster_stacks(clusters, members, frames, moments, moment_of)
    stacks += _single_stacks(frames, in_stack, moments, moment_of)
    _sort_stacks(stacks, {c["id"]: c["start_time"] for c in clusters})
    return CullQueue(pid, True, stacks)


_EXPOSURE = ("camera_model", "lens_model", "iso", "shutter_speed", "aperture", "focal_length_mm")
_FRAME_COLUMNS = (
    "a.id, a.filename, a.captured_at, a.captured_offset_min, a.captured_at_source, "
    's."values", r.rating, r.picked, r.rejected, r.starred, a.frame_index, a.frame_count, '
    "a.width_px, a.height_px, a.orientation, a.state, a.error IS NOT NULL, "
    "a.camera_model, a.lens_model, a.iso, a.shutter_speed, a.aperture, a.focal_length_mm"
)


def _frames(catalog: Catalog, pid: str, user: str, embedded: bool) -> dict[str, CullFrame]:
    """Every frame of the project with the user's decisions and its signals, in capture
    order; with ``embedded``, whether each has an embedding. Rows come as tuples: a
    project has tens of thousands of frames, and a dict per row cost as much as the query."""
    joins = "LEFT JOIN signals s ON s.asset_id = a.id"
    instant = read_capture_instant_sql(catalog, pid)  # the order_at column and the order
    columns = f"{_FRAME_COLUMNS}, {instant}"
    if embedded:
        joins, columns = f"{joins} {EMBEDDED_JOIN}", f"{columns}, e.embedded_id IS NOT NULL"
    frames: dict[str, CullFrame] = {}
    for row in project_frame_rows(catalog, pid, user, columns, joins=joins, instant=instant):
        aid, name, captured_at, offset_min, source, signals, rating, picked = row[:8]
        rejected, starred, index, count, width, height, orientation, state, failed = row[8:17]
        frames[aid] = CullFrame(
            asset_id=aid,
            filename=frame_name(name, index, count),
            captured_at=captured_at,
            captured_offset_min=offset_min,
            captured_at_source=source,
            order_at=row[23],
            rating=rating,
            picked=bool(picked),
            rejected=bool(rejected),
            starred=bool(starred),
            signals=_signals(signals) if signals is not None else {},
            frame_index=int(index or 0),
            frame_count=int(count or 1),
            width=width,
            height=height,
            orientation=orientation,
            state=state,
            failed=bool(failed),
            embedded=bool(row[24]) if embedded else None,
            exposure={k: v for k, v in zip(_EXPOSURE, row[17:23], strict=True) if v is not None},
        )
    return frames


#: every field of a frame, in order: a copy in one call (dataclasses.replace reads them one
#: by one, and a project's stacks copy every clustered frame)
_FRAME_FIELDS = attrgetter(*(f.name for f in fields(CullFrame)))


def _placed(frame: CullFrame, rank: int, role: str | None) -> CullFrame:
    """A copy of ``frame`` at ``rank`` in a stack, as ``role`` (shallow, as
    :func:`dataclasses.replace`)."""
    copy = CullFrame(*_FRAME_FIELDS(frame))
    copy.rank, copy.role = rank, role
    return copy


_Member = tuple[str, int, str | None]


def _members(catalog: Catalog, pid: str) -> dict[str, list[_Member]]:
    """cluster id -> (asset id, rank, role) of its members, by rank."""
    members: dict[str, list[_Member]] = {}
    for cid, aid, rank, role in list_cluster_members(catalog, pid):
        members.setdefault(cid, []).append((aid, rank, role))
    return members


def _cluster_stacks(
    clusters: list[dict[str, Any]],
    members: dict[str, list[_Member]],
    frames: dict[str, CullFrame],
    moments: dict[str, dict[str, Any]],
    moment_of: dict[str, str],
) -> tuple[list[CullStack], set[str]]:
    """A stack per burst and duplicate group (its frames by rank); the frames they hold."""
    stacks: list[CullStack] = []
    in_stack: set[str] = set()
    for c in clusters:
        if c["kind"] == "moment":
            continue
        stack_frames = [
            _placed(frames[aid], rank, role)
            for aid, rank, role in members.get(c["id"], [])
            if aid in frames
        ]
        if not stack_frames:
            continue
        in_stack.update(f.asset_id for f in stack_frames)
        mid = (
            c["parent_id"] if c["parent_id"] in moments else moment_of.get(stack_frames[0].asset_id)
        )
        stacks.append(
            CullStack(
                kind=c["kind"],
                title=c["title"] or c["kind"].replace("_", " "),
                frames=stack_frames,
                cluster_id=c["id"],
                moment_id=mid,
                moment_title=(moments[mid]["title"] if mid in moments else None),
                reviewed=bool(c["reviewed"]),
                confidence=c["confidence"],
                winner_asset_id=c["winner_asset_id"],
                why_winner=list(c["why_winner"] or [])[:MAX_CHIPS],
            )
        )
    return stacks, in_stack


def _single_stacks(
    frames: dict[str, CullFrame],
    in_stack: set[str],
    moments: dict[str, dict[str, Any]],
    moment_of: dict[str, str],
) -> list[CullStack]:
    """The frames in no stack, one "singles" stack per moment."""
    singles: dict[str | None, list[CullFrame]] = {}
    for aid, frame in frames.items():
        if aid not in in_stack:
            singles.setdefault(moment_of.get(aid), []).append(frame)
    return [
        CullStack(
            "singles",
            f"Singles ({len(group)})",
            group,
            moment_id=mid,
            moment_title=moments[mid]["title"] if mid in moments else None,
        )
        for mid, group in singles.items()
    ]


def _sort_stacks(stacks: list[CullStack], start: dict[str, Any]) -> None:
    """Moments in time order (undated last); in each, stacks before singles, by first frame."""
    first_time = {id(s): s.frames[0].order_at for s in stacks}

    def key(s: CullStack) -> tuple[Any, ...]:
        moment_start = start.get(s.moment_id) if s.moment_id else None
        t = first_time[id(s)]
        return (
            moment_start is None,
            moment_start or datetime.max,
            s.kind == "singles",
            t is None,
            t or datetime.max,
        )

    stacks.sort(key=key)
