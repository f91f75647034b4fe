"""Search: text plus filters over a project's photos."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from kilo.api.deps import CallerDep
from kilo.api.routes import Limit, errors
from kilo.errors import InvalidInput, NotFound
from kilo.models import AdvancedSearchRequest, SearchResponse
from kilo.search.engine import search

router = APIRouter(tags=["Search"])


def _project(caller: CallerDep, project_id: UUID) -> str:
    try:  # the contract has no 404 for search: another user's project is a bad request
        return caller.owns("projects", project_id)
    except NotFound as exc:
        raise InvalidInput(exc.reason) from None


@router.get(
    "/projects/{projectId}/search", response_model=SearchResponse, responses=errors(400, 401)
)
def search_get(
    projectId: UUID,
    caller: CallerDep,
    q: Annotated[str, Query(min_length=1)],
    limit: Limit = 50,
) -> SearchResponse:
    """Search by text (CLIP when it is available) and filter words (camera:, picked ...)."""
    return search(caller.catalog, _project(caller, projectId), q, limit=limit,
                  user_id=caller.user_id)  # fmt: skip


@router.post(
    "/projects/{projectId}/search", response_model=SearchResponse, responses=errors(400, 401)
)
def search_post(
    projectId: UUID,
    body: AdvancedSearchRequest,
    caller: CallerDep,
) -> SearchResponse:
    return search(caller.catalog, _project(caller, projectId), body.q, filters=body.filters,
                  user_id=caller.user_id)  # fmt: skip
