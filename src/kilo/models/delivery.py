"""Contract models of delivery: galleries (and their public share pages), exports, jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from kilo.models.base import KiloModel, PageInfo
from kilo.progress import ItemResult

# -- galleries ----------------------------------------------------------------------------
DownloadSize = Literal["web", "original"]


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
    # additions the schema allows
    status: Literal["active", "expired", "revoked"] = "active"
    share_path: str | None = None  # the client page, /g/{shareSlug}, on this server
    download_size: DownloadSize = "web"
    watermark_text: str | None = None
    watermark_logo: bool = False  # a logo is burned in instead of the text (never its path)
    min_picks: int | None = None
    max_picks: int | None = None
    show_filenames: bool = False
    updated_at: datetime | None = None


class CreateGalleryRequest(KiloModel):
    title: str = Field(min_length=1, max_length=200)
    asset_ids: list[str] = Field(min_length=1)
    password: str | None = Field(default=None, min_length=1, max_length=200)
    expires_at: datetime | None = None
    watermark: bool = False
    allow_downloads: bool = False
    # additions: what a client may download, the watermark's text, selection bounds
    download_size: DownloadSize = "web"
    watermark_text: str | None = Field(default=None, max_length=100)
    min_picks: int | None = Field(default=None, ge=0, le=100_000)  # 0: no minimum
    max_picks: int | None = Field(default=None, ge=0, le=100_000)  # 0: no maximum
    show_filenames: bool = False
    _nullable = frozenset({"password", "expires_at"})


class UpdateGalleryRequest(KiloModel):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    password: str | None = Field(default=None, min_length=1, max_length=200)
    expires_at: datetime | None = None
    watermark: bool | None = None
    allow_downloads: bool | None = None
    download_size: DownloadSize | None = None
    watermark_text: str | None = Field(default=None, max_length=100)
    min_picks: int | None = Field(default=None, ge=0, le=100_000)  # 0: no minimum
    max_picks: int | None = Field(default=None, ge=0, le=100_000)  # 0: no maximum
    show_filenames: bool | None = None
    _nullable = frozenset({"password", "expires_at"})


class GalleryActivity(KiloModel):
    """One line of a gallery's activity log (kilo's addition)."""

    at: datetime
    kind: Literal["view", "favorite", "unfavorite", "comment", "download", "submit"]
    visitor: str  # a short visitor label (v1, v2 ...), never an address
    asset_id: str | None = None
    filename: str | None = None
    text: str | None = None


class GallerySelection(KiloModel):
    """A visitor's favorites (kilo's addition): what ``kilo gallery selections`` lists."""

    visitor: str
    name: str | None = None
    asset_ids: list[str] = Field(default_factory=list)
    filenames: list[str | None] = Field(default_factory=list)  # of asset_ids, in order
    submitted_at: datetime | None = None


class AddGalleryAssetsRequest(KiloModel):
    asset_ids: list[str] = Field(min_length=1)


class RemoveGalleryAssetsRequest(KiloModel):
    asset_ids: list[str] = Field(min_length=1)


class PublicGalleryAsset(KiloModel):
    asset_id: str
    preview_url: str
    favorite_count: int | None = None
    comments_count: int | None = None
    # additions: the visitor's own favorite, the grid's layout, what may be downloaded
    favorite: bool = False
    thumb_url: str | None = None
    width: int | None = None
    height: int | None = None
    filename: str | None = None
    download_url: str | None = None
    _omit_when_none = frozenset({"filename", "download_url", "thumb_url", "width", "height"})


class PublicGalleryResponse(KiloModel):
    title: str
    requires_auth: bool
    token: str | None = None
    assets: list[PublicGalleryAsset] = Field(default_factory=list)
    # additions
    expires_at: datetime | None = None
    min_picks: int | None = None
    max_picks: int | None = None
    submitted: bool = False
    allow_downloads: bool = False
    download_all_url: str | None = None  # every photo as one zip, when downloads are on
    _omit_when_none = frozenset({"expires_at", "min_picks", "max_picks", "download_all_url"})


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
