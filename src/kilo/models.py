"""Typed records: pydantic models whose JSON (by alias, camelCase) is the HTTP contract.

Every class here is named after a component schema of ``openapi.yaml``; ``model.dump()`` gives
exactly what ``--json`` prints and what the API serves. Extra fields (``Asset.filename``...)
are additions the schema allows; nothing the schema requires is left out.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_serializer
from pydantic.alias_generators import to_camel
from pydantic_core.core_schema import SerializerFunctionWrapHandler

from kilo.progress import ItemResult


class KiloModel(BaseModel):
    """Base of the contract models: camelCase aliases, strict about unknown input keys."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=False
    )
    # Optional fields the schema does not allow to be null: omitted when None.
    _omit_when_none: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _drop_nones(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if self._omit_when_none and isinstance(data, dict):
            for name in self._omit_when_none:
                field = type(self).model_fields.get(name)
                key = (field.alias or name) if field else name
                for k in (key, name):
                    if k in data and data[k] is None:
                        del data[k]
        return data

    def dump(self) -> dict[str, Any]:
        """The contract's JSON object (camelCase, ISO dates).

        Requests dump only the fields that were given: an update that clears a field says
        ``null``, one that leaves it alone omits it.
        """
        is_request = type(self).__name__.endswith("Request")
        return self.model_dump(mode="json", by_alias=True, exclude_unset=is_request)


class Error(KiloModel):
    code: str
    message: str
    details: dict[str, Any] | None = None
    request_id: str | None = None
    _omit_when_none = frozenset({"details", "request_id"})


class PageInfo(KiloModel):
    next_cursor: str | None = None


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
ApplyMode = Literal["create_versions", "overwrite_latest"]
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


class Asset(KiloModel):
    id: str
    project_id: str
    captured_at: datetime | None = None
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
    source_uri: str | None = None
    sha256: str | None = None
    byte_size: int | None = None
    keywords: list[str] = Field(default_factory=list)
    notes: str | None = None
    state: str | None = None
    _omit_when_none = frozenset({"my_rating"})


class UpdateAssetRequest(KiloModel):
    iptc: dict[str, Any] | None = None
    keywords: list[str] | None = None
    notes: str | None = None
    flags: dict[str, Any] | None = None


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


# -- clusters and culling -----------------------------------------------------------------
ClusterKind = Literal["moment", "burst", "duplicate_group"]
ClusterRole = Literal["candidate", "winner", "alt"]


class ClusterAsset(KiloModel):
    asset_id: str
    rank: int = Field(ge=1)
    role: ClusterRole | None = None
    signals: dict[str, Any] = Field(default_factory=dict)
    _omit_when_none = frozenset({"role"})


class Cluster(KiloModel):
    id: str
    project_id: str
    kind: ClusterKind
    title: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    score: float | None = None
    reviewed: bool | None = None
    winner_asset_id: str | None = None
    why_winner: list[str] = Field(default_factory=list)
    assets: list[ClusterAsset] = Field(default_factory=list)
    # Additions beyond the contract.
    confidence: float | None = None
    parent_id: str | None = None


class UpdateClusterRequest(KiloModel):
    title: str | None = None
    reviewed: bool | None = None
    manual_overrides: dict[str, Any] | None = None


class SetWinnerRequest(KiloModel):
    winner_asset_id: str


class PagedClusters(KiloModel):
    items: list[Cluster]
    page_info: PageInfo


class BulkCullAction(KiloModel):
    asset_id: str
    picked: bool | None = None
    rejected: bool | None = None
    rating: int | None = Field(default=None, ge=1, le=5)
    starred: bool | None = None


class BulkCullActionRequest(KiloModel):
    actions: list[BulkCullAction] = Field(min_length=1)


class BulkCullActionResponse(KiloModel):
    ok: bool
    updated_asset_ids: list[str] = Field(default_factory=list)


# -- edits --------------------------------------------------------------------------------
class EditVersion(KiloModel):
    id: str
    asset_id: str
    user_id: str
    parent_id: str | None = None
    name: str | None = None
    params: dict[str, Any]
    created_at: datetime


class EditVersionList(KiloModel):
    items: list[EditVersion]


class CreateEditVersionRequest(KiloModel):
    name: str | None = None
    parent_id: str | None = None
    params: dict[str, Any]


class ApplyEditBatchRequest(KiloModel):
    asset_ids: list[str] = Field(min_length=1)
    mode: ApplyMode = "create_versions"
    name: str | None = None


class ApplyEditBatchResponse(KiloModel):
    job_id: str
    status: Literal["queued", "running", "done"] | None = None
    # Addition beyond the contract: each photo's outcome once the job has run
    results: list[ItemResult] | None = None
    _omit_when_none = frozenset({"status", "results"})


# -- search -------------------------------------------------------------------------------
class SearchResult(KiloModel):
    asset_id: str
    score: float
    highlights: list[str] = Field(default_factory=list)


class SearchResponse(KiloModel):
    results: list[SearchResult]
    took_ms: int | None = None
    # Additions: the continuation cursor and what the search could and could not do.
    next_cursor: str | None = None
    mode: str | None = None
    notice: str | None = None
    _omit_when_none = frozenset({"took_ms"})


class AdvancedSearchRequest(KiloModel):
    q: str
    filters: dict[str, Any] = Field(default_factory=dict)


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


class UpdateGalleryRequest(KiloModel):
    title: str | None = None
    password: str | None = None
    expires_at: datetime | None = None
    watermark: bool | None = None
    allow_downloads: bool | None = None


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


_M = TypeVar("_M", bound=KiloModel)

#: contract schema name -> model, for the spec-validation test and the API adapter.
SCHEMA_MODELS: dict[str, type[KiloModel]] = {
    cls.__name__: cls
    for cls in KiloModel.__subclasses__()
    if cls.__name__
    not in {
        "ProjectStats",
        "PublicGalleryAsset",
        "SearchResult",
        "BulkCullAction",
        "FinalizeUploadItem",
    }
}


def parse_request(model: type[_M], data: Any) -> _M:
    """Validate input ``data`` as ``model``; errors become one-line :class:`InvalidInput`."""
    from pydantic import ValidationError

    from kilo.errors import InvalidInput

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        parts = []
        for e in exc.errors()[:3]:
            where = ".".join(str(p) for p in e.get("loc", ())) or model.__name__
            parts.append(f"{where}: {e.get('msg', 'invalid')}")
        raise InvalidInput("; ".join(parts), details={"errors": exc.error_count()}) from None
