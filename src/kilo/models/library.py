"""Contract models of the library: sign-in, projects, assets and their ratings, uploads."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field

from kilo.models.base import KiloModel, LocalTime, PageInfo


# -- auth ---------------------------------------------------------------------------------
class LoginStartRequest(KiloModel):
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    locale: str | None = None


class LoginStartResponse(KiloModel):
    challenge_id: str
    delivery: Literal["email_code", "magic_link"] = "email_code"


class LoginVerifyRequest(KiloModel):
    challenge_id: str
    code: str = Field(min_length=4, max_length=12)


class User(KiloModel):
    id: str
    email: str
    display_name: str
    created_at: datetime


class LoginVerifyResponse(KiloModel):
    access_token: str
    refresh_token: str
    user: User


# -- projects -----------------------------------------------------------------------------
ProjectStatus = Literal["active", "archived", "deleted"]


class ProjectStats(KiloModel):
    asset_count: int = 0
    picked_count: int = 0
    rejected_count: int = 0
    clusters_reviewed: int = 0
    model_config = ConfigDict(extra="allow")


class Project(KiloModel):
    id: str
    studio_id: str | None = None
    owner_user_id: str
    title: str
    description: str | None = None
    shoot_date: date | None = None
    timezone: str | None = None
    status: ProjectStatus
    stats: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime


class CreateProjectRequest(KiloModel):
    title: str
    description: str | None = None
    shoot_date: date | None = None
    timezone: str | None = None


class UpdateProjectRequest(KiloModel):
    title: str | None = None
    description: str | None = None
    shoot_date: date | None = None
    timezone: str | None = None
    status: ProjectStatus | None = None
    _nullable = frozenset({"description", "shoot_date", "timezone"})


class PagedProjects(KiloModel):
    items: list[Project]
    page_info: PageInfo


# -- assets -------------------------------------------------------------------------------
class Rating(KiloModel):
    asset_id: str
    user_id: str
    rating: int | None = Field(default=None, ge=1, le=5)
    picked: bool | None = None
    rejected: bool | None = None
    starred: bool | None = None
    notes: str | None = None
    updated_at: datetime | None = None


class UpsertRatingRequest(KiloModel):
    rating: int | None = Field(default=None, ge=1, le=5)
    picked: bool | None = None
    rejected: bool | None = None
    starred: bool | None = None
    notes: str | None = None
    _nullable = frozenset({"rating", "picked", "rejected", "starred", "notes"})


class Asset(KiloModel):
    id: str
    project_id: str
    # the photo's own local time (kilo.clock.local_capture_time); without an offset when
    # neither the photo nor its project knows one
    captured_at: LocalTime | None = None
    ingested_at: datetime
    width_px: int | None = None
    height_px: int | None = None
    camera_make: str | None = None
    camera_model: str | None = None
    lens_model: str | None = None
    focal_length_mm: float | None = None
    shutter_speed: str | None = None
    aperture: float | None = None
    iso: int | None = None
    exif: dict[str, Any] = Field(default_factory=dict)
    iptc: dict[str, Any] = Field(default_factory=dict)
    flags: dict[str, Any] = Field(default_factory=dict)
    my_rating: Rating | None = None
    best_preview_url: str | None = None
    # Additions beyond the contract (allowed: the schema has no additionalProperties: false).
    filename: str | None = None
    # which frame of a multi-frame file (a HEIC burst, an MPO) this asset is; 0 for the rest
    frame_index: int = 0
    # how many frames its file holds (1 for most); kilo.text.display_name shows a frame of a
    # multi-frame file as "bird_burst.heic [2/4]"
    frame_count: int = 1
    source_uri: str | None = None
    sha256: str | None = None
    byte_size: int | None = None
    keywords: list[str] = Field(default_factory=list)
    notes: str | None = None
    state: str | None = None
    # where captured_at came from: exif, xmp, filename ..., or file_mtime (the file's time:
    # when it was copied, not when it was shot; lists show such a photo as undated)
    captured_at_source: str | None = None
    # an undated photo's file modification time (captured_at is then null): when the file
    # was copied, not when it was shot
    file_time: datetime | None = None
    _omit_when_none = frozenset({"my_rating", "source_uri"})


class UpdateAssetRequest(KiloModel):
    iptc: dict[str, Any] | None = None
    keywords: list[str] | None = None
    notes: str | None = None
    flags: dict[str, Any] | None = None
    _nullable = frozenset({"notes"})


AssetFileKind = Literal["original", "thumbnail", "preview", "export"]


class AssetFile(KiloModel):
    kind: AssetFileKind
    url: str
    content_type: str | None = None
    byte_size: int | None = None
    checksum_sha256: str | None = None
    expires_at: datetime | None = None


class AssetFilesResponse(KiloModel):
    files: list[AssetFile]


class PagedAssets(KiloModel):
    items: list[Asset]
    page_info: PageInfo


# -- uploads ------------------------------------------------------------------------------
class UploadFileDescriptor(KiloModel):
    client_file_id: str | None = None
    filename: str = Field(min_length=1, max_length=1024)
    byte_size: int = Field(ge=0)
    content_type: str | None = None
    captured_at: datetime | None = None


class PrepareUploadRequest(KiloModel):
    files: list[UploadFileDescriptor] = Field(min_length=1)


class UploadInstruction(KiloModel):
    client_file_id: str | None = None
    asset_id: str
    upload_url: str
    headers: dict[str, str] = Field(default_factory=dict)
    expires_at: datetime | None = None


class PrepareUploadResponse(KiloModel):
    uploads: list[UploadInstruction]


class FinalizeUploadItem(KiloModel):
    asset_id: str
    checksum_sha256: str
    content_type: str | None = None


class FinalizeUploadRequest(KiloModel):
    assets: list[FinalizeUploadItem] = Field(min_length=1)


class FinalizeUploadResponse(KiloModel):
    queued_jobs: list[str]
