"""The cull view a browser (or any HTTP client) draws: :func:`kilo.cull.review_order`'s
stacks as contract-style models, each frame with the state its processing badge shows and
the URLs of its images (made by the caller: the library knows no server), and a data
version that changes with anything the view shows.

>>> view = build_cull_view(catalog, project_id, user_id, urls)     # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo

from kilo.catalog import Catalog
from kilo.catalog.studio_reads import cull_data_version
from kilo.clock import floating, local_capture_time, zone
from kilo.cull.review_order import MAX_CHIPS, CullQueue, load_queue
from kilo.cull.review_order import CullFrame as QueueFrame
from kilo.cull.review_order import CullStack as QueueStack
from kilo.models.studio import CullFrame, CullStack, CullStackKind, CullView, FrameState
from kilo.projects import require_project, require_project_zone

__all__ = ["FrameUrls", "build_cull_view", "frame_state", "read_data_version"]

#: asset id -> (thumbnail URL, preview URL, loupe URL)
FrameUrls = Callable[[str], tuple[str, str, str]]
_KINDS: dict[str, CullStackKind] = {
    "burst": "burst",
    "duplicate_group": "duplicate",
    "singles": "singles",
    "filmstrip": "filmstrip",
}
#: EXIF orientations that turn the picture a quarter (width and height swap)
_QUARTER_TURNS = frozenset({5, 6, 7, 8})


def embedding_pending(catalog: Catalog, project_id: str) -> bool:
    """Whether the project's photos are being embedded: an embed job of it is queued or
    running. Without CLIP weights no such job runs, so no frame says "embedding..." for
    ever (``clip_enabled`` alone is true by default, weights or not)."""
    from kilo.jobs import list_jobs
    from kilo.jobspec import JobType

    if not catalog.settings.clip_enabled:
        return False
    return any(
        list_jobs(catalog, project_id, status=status, job_type=JobType.EMBED, limit=1).items
        for status in ("queued", "running")
    )


def frame_state(frame: QueueFrame, *, embeddings: bool) -> FrameState:
    """What the frame's processing badge says: failed (quarantined or an error), processing
    (no preview yet), analyzing (no signals yet), embedding (no embedding yet, when
    ``embeddings`` are made at all), else ready."""
    if frame.failed or frame.state == "quarantined":
        return "failed"
    if frame.state != "ready":
        return "processing"
    if not frame.signals:
        return "analyzing"
    if embeddings and not frame.embedded:
        return "embedding"
    return "ready"


def _sizes(frame: QueueFrame) -> tuple[int, int, int, int]:
    """(width, height as the file stores the pixels, upright width, height). The catalog
    keeps the upright size (ingest applies the EXIF orientation); a quarter-turn
    orientation swaps it back for the stored one. Zeros while the size is unknown."""
    upright_w, upright_h = frame.width or 0, frame.height or 0
    if frame.orientation in _QUARTER_TURNS:
        return upright_h, upright_w, upright_w, upright_h
    return upright_w, upright_h, upright_w, upright_h


def _frame(
    frame: QueueFrame, urls: FrameUrls, embeddings: bool, tz: tzinfo | None = None
) -> CullFrame:
    thumb, preview, loupe = urls(frame.asset_id)
    width, height, display_w, display_h = _sizes(frame)
    sharp = frame.signals.get("sharpness")
    exposure = frame.exposure
    # built without validation: every value comes typed from the catalog, and a view has
    # thousands of frames
    return CullFrame.model_construct(
        asset_id=frame.asset_id,
        file_name=frame.filename,
        frame_index=frame.frame_index if frame.frame_count > 1 else None,
        frame_count=frame.frame_count if frame.frame_count > 1 else None,
        # the photo's own wall-clock time (with its offset, or floating); None when undated
        captured_at=floating(local_capture_time(frame, tz).local),
        width=width,
        height=height,
        display_width=display_w,
        display_height=display_h,
        picked=frame.picked,
        rejected=frame.rejected,
        rating=frame.rating,
        starred=frame.starred,
        sharpness=None if sharp is None else round(float(sharp), 4),
        state=frame_state(frame, embeddings=embeddings),
        thumb_url=thumb,
        preview_url=preview,
        loupe_url=loupe,
        camera_model=exposure.get("camera_model"),
        lens_model=exposure.get("lens_model"),
        iso=exposure.get("iso"),
        shutter_speed=exposure.get("shutter_speed"),
        aperture=exposure.get("aperture"),
        focal_length_mm=exposure.get("focal_length_mm"),
    )


def _stack_id(stack: QueueStack) -> str:
    if stack.cluster_id is not None:
        return stack.cluster_id
    if stack.kind == "singles":
        return f"singles:{stack.moment_id or 'none'}"
    return "filmstrip"


def _stack(
    stack: QueueStack, urls: FrameUrls, embeddings: bool, tz: tzinfo | None = None
) -> CullStack:
    members = [_frame(f, urls, embeddings, tz) for f in stack.frames]
    return CullStack(
        id=_stack_id(stack),
        kind=_KINDS[stack.kind],
        title=stack.title,
        moment_id=stack.moment_id,
        moment_title=stack.moment_title,
        reviewed=stack.reviewed,
        winner_id=stack.winner_asset_id,
        reasons=stack.why_winner[:MAX_CHIPS],
        member_ids=[m.asset_id for m in members],
        members=members,
        cluster_id=stack.cluster_id,
        confidence=stack.confidence,
    )


def read_data_version(catalog: Catalog, project_id: str, user_id: str | None = None) -> str:
    """The project's cull data version for the user (see :class:`CullView`)."""
    pid = require_project(catalog, project_id)
    return cull_data_version(catalog, pid, user_id or catalog.local_user_id)


def build_cull_view(
    catalog: Catalog,
    project_id: str,
    user_id: str | None,
    urls: FrameUrls,
    *,
    urls_expire_at: datetime | None = None,
) -> CullView:
    """The project's stacks in review order for the user: the AI's stacks (bursts and
    duplicate groups under their moments, then each moment's singles) once clusters exist,
    else one "filmstrip" stack of every frame in capture order. Members are in cull order
    (a burst's by rank). The data version is read first, so a change made while the view
    is built makes the next poll differ."""
    user = user_id or catalog.local_user_id
    pid, tz_name = require_project_zone(catalog, project_id)
    version = cull_data_version(catalog, pid, user)
    embeddings = embedding_pending(catalog, pid)
    # which frames have an embedding is read only while it shows ("embedding..." badges)
    queue: CullQueue = load_queue(catalog, pid, user, embedded=embeddings)
    tz = zone(tz_name)
    stacks = [_stack(s, urls, embeddings, tz) for s in queue.stacks]
    return CullView(
        project_id=queue.project_id,
        ai_ready=queue.ai_ready,
        data_version=version,
        stacks=stacks,
        frame_count=sum(len(s.members) for s in stacks),
        urls_expire_at=urls_expire_at,
    )
