"""Contract models of delivery: galleries (and their public share pages), exports, jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from kilo.models.base import KiloModel, PageInfo
from kilo.progress import ItemResult


# -- galleries ----------------------------------------------------------------------------
class Gallery(KiloModel):
    id: str
    project_id: str
    title: str
    share_slug: str
    expires_at: datetime | None = None
    watermark: bool = False
    allow_downloads: bool = False
    requires_password: bool = False
    asset_count: int = 0
    created_at: datetime


class CreateGalleryRequest(KiloModel):
    title: str
    asset_ids: list[str] = Field(min_length=1)
    password: str | None = None
    expires_at: datetime | None = None
    watermark: bool = False
    allow_downloads: bool = False
    _nullable = frozenset({"password", "expires_at"})


class UpdateGalleryRequest(KiloModel):
    title: str | None = None
    password: str | None = None
    expires_at: datetime | None = None
    watermark: bool | None = None
    allow_downloads: bool | None = None
    _nullable = frozenset({"password", "expires_at"})


class AddGalleryAssetsRequest(KiloModel):
    asset_ids: list[str] = Field(min_length=1)


class RemoveGalleryAssetsRequest(KiloModel):
    asset_ids: list[str] = Field(min_length=1)


class PublicGalleryAsset(KiloModel):
    asset_id: str
    preview_url: str
    favorite_count: int | None = None
    comments_count: int | None = None


class PublicGalleryResponse(KiloModel):
    title: str
    requires_auth: bool
    token: str | None = None
    assets: list[PublicGalleryAsset] = Field(default_factory=list)


class PublicGalleryAuthRequest(KiloModel):
    password: str = Field(min_length=1)


class PublicGalleryAuthResponse(KiloModel):
    token: str


class PublicFavoriteRequest(KiloModel):
    asset_id: str
    favorite: bool


class PublicFavoriteResponse(KiloModel):
    ok: bool


class PublicCommentRequest(KiloModel):
    asset_id: str
    text: str = Field(min_length=1, max_length=2000)


class PublicCommentResponse(KiloModel):
    comment_id: str


# -- exports and jobs ---------------------------------------------------------------------
ExportPreset = Literal["full_res", "web", "instagram_carousel", "story_9x16", "contact_sheet_pdf"]
ExportStatus = Literal["queued", "running", "done", "failed"]


class Export(KiloModel):
    id: str
    project_id: str
    preset: str | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
    status: ExportStatus
    progress: float | None = None
    created_at: datetime
    # Additions beyond the contract.
    error: str | None = None
    asset_count: int | None = None
    dest: str | None = None
    artifact: str | None = None
    #: the outcome of each photo (ok, or failed with the reason), once the export has run
    results: list[ItemResult] | None = None
    _omit_when_none = frozenset({"preset"})


class CreateExportRequest(KiloModel):
    preset: ExportPreset
    asset_ids: list[str] | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
    _nullable = frozenset({"asset_ids"})


class ExportDownloadResponse(KiloModel):
    url: str
    expires_at: datetime | None = None


JobStatus = Literal["queued", "running", "done", "failed", "canceled"]


class Job(KiloModel):
    id: str
    project_id: str | None = None
    asset_id: str | None = None
    type: str
    status: JobStatus
    progress: float | None = None
    error: str | None = None
    created_at: datetime
    updated_at: datetime
    # Additions beyond the contract.
    attempts: int | None = None


class PagedJobs(KiloModel):
    items: list[Job]
    page_info: PageInfo
