"""Contract models of culling, editing and search: clusters, bulk cull actions, edit
versions, search results."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from kilo.models.base import KiloModel, LocalTime, PageInfo
from kilo.progress import ItemResult

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
    # the local times of its first and last photo (as Asset.captured_at)
    start_time: LocalTime | None = None
    end_time: LocalTime | None = None
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
    _nullable = frozenset({"title", "reviewed"})


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
ApplyMode = Literal["create_versions", "overwrite_latest"]


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
    _nullable = frozenset({"name", "parent_id"})


class ApplyEditBatchRequest(KiloModel):
    asset_ids: list[str] = Field(min_length=1)
    mode: ApplyMode = "create_versions"
    name: str | None = None
    _nullable = frozenset({"name"})


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
