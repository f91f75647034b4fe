"""Models of the browser studio's ``/v1/x-kilo/`` extensions (not in the contract): the cull
view (stacks in review order with each frame's state and signed image URLs), undo/redo
answers, a project's processing progress, the face strip and a local-folder ingest."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from kilo.models.base import KiloModel, LocalTime


class StudioModel(BaseModel):
    """Base of the studio's answers: camelCase JSON like :class:`KiloModel`, without its
    per-instance serializer hook (a cull view has thousands of frames; every field here is
    always written, nulls included), strict about unknown input keys."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


CullStackKind = Literal["burst", "duplicate", "singles", "filmstrip"]
FrameState = Literal["processing", "ready", "analyzing", "embedding", "failed"]
EyesState = Literal["open", "closed", "unknown"]


class CullFrame(StudioModel):
    """One frame as the cull screen shows it. ``width``/``height`` are the pixel size as
    the file stores it; ``displayWidth``/``displayHeight`` the upright size (EXIF
    orientation applied), the aspect ratio to draw it at; all 0 while the photo is still
    processing."""

    asset_id: str
    file_name: str
    frame_index: int | None = None
    frame_count: int | None = None
    #: the photo's local wall-clock time: with its offset when known, else without one
    #: (floating, never UTC); None when undated (only the file's time is known)
    captured_at: LocalTime | None = None
    width: int
    height: int
    display_width: int
    display_height: int
    picked: bool
    rejected: bool
    rating: int | None = None
    starred: bool
    #: the basic blur score: 0 (no detail) .. 1 (crisp); None until analysed
    sharpness: float | None = None
    state: FrameState
    thumb_url: str
    preview_url: str
    loupe_url: str
    # Additions: the exposure a caption shows (in a monospace face), when known.
    camera_model: str | None = None
    lens_model: str | None = None
    iso: int | None = None
    shutter_speed: str | None = None
    aperture: float | None = None
    focal_length_mm: float | None = None


class CullStack(StudioModel):
    """A unit of review: a burst, a duplicate group, a moment's singles, or (AI not ready)
    the whole filmstrip. ``id`` is the cluster id of a burst or duplicate group, else
    ``singles:<momentId or none>`` / ``filmstrip``."""

    id: str
    kind: CullStackKind
    title: str | None = None
    moment_id: str | None = None
    moment_title: str | None = None
    reviewed: bool
    winner_id: str | None = None
    reasons: list[str] = Field(max_length=3)
    member_ids: list[str]
    members: list[CullFrame]
    # Additions.
    cluster_id: str | None = None
    confidence: float | None = None


class CullView(StudioModel):
    project_id: str
    ai_ready: bool
    #: changes whenever a decision, cluster or photo of the project changes
    data_version: str
    stacks: list[CullStack]
    # Additions.
    frame_count: int
    urls_expire_at: datetime | None = None


class CullDataVersion(KiloModel):
    project_id: str
    data_version: str


class CullStepResponse(KiloModel):
    """What an undo or redo changed; ``done`` False (and nothing else) when there was
    nothing to undo or redo."""

    done: bool
    action: str | None = None
    action_id: int | None = None
    asset_ids: list[str]
    cluster_ids: list[str]
    data_version: str | None = None


class ClusterActionResponse(KiloModel):
    """What a cluster action (reject all) changed, as one undoable action."""

    action: str
    action_id: int | None = None
    asset_ids: list[str]
    cluster_ids: list[str]


class ProjectProgress(KiloModel):
    """A project's processing, for the ingest screen and the status pill."""

    project_id: str
    total: int
    processed: int
    analyzed: int
    embedded: int
    failed: int
    quarantined: int
    throughput_per_min: float | None = None
    queued_jobs: int
    running_jobs: int


class FaceCell(KiloModel):
    asset_id: str
    crop_url: str | None = None
    eyes: EyesState | None = None
    openness: float | None = None
    #: the face box as shares of the photo (0..1)
    box: list[float] | None = None


class FacePerson(KiloModel):
    index: int
    frames: list[FaceCell]


class FaceStripResponse(KiloModel):
    cluster_id: str
    member_ids: list[str]
    people: list[FacePerson]


class IngestLocalRequest(KiloModel):
    path: str = Field(min_length=1, max_length=4096)


class IngestLocalResponse(KiloModel):
    project_id: str
    accepted: bool
