"""Projects: a user's own projects only, their pick and reject counts the user's own."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from kilo.models import CreateProjectRequest, PagedProjects, Project, UpdateProjectRequest
from kilo.projects import (
    archive_project,
    create_project,
    get_project,
    list_projects,
    update_project,
)
from kilo_server.deps import CallerDep
from kilo_server.routes import Cursor, Limit, errors

router = APIRouter(tags=["Projects"])


@router.get("/projects", response_model=PagedProjects, responses=errors(400, 401))
def projects_list(caller: CallerDep, cursor: Cursor = None, limit: Limit = 50) -> PagedProjects:
    """The signed-in user's projects, newest first."""
    return list_projects(
        caller.catalog,
        cursor=cursor,
        limit=limit,
        owner_user_id=caller.user_id,
        user_id=caller.user_id,
    )


@router.post("/projects", response_model=Project, status_code=201, responses=errors(400, 401))
def projects_create(body: CreateProjectRequest, caller: CallerDep) -> Project:
    return create_project(caller.catalog, body, owner_user_id=caller.user_id)


@router.get("/projects/{projectId}", response_model=Project, responses=errors(401, 404))
def projects_get(projectId: UUID, caller: CallerDep) -> Project:
    return get_project(caller.catalog, caller.owns("projects", projectId), user_id=caller.user_id)


@router.patch("/projects/{projectId}", response_model=Project, responses=errors(400, 401, 404))
def projects_update(
    projectId: UUID,
    body: UpdateProjectRequest,
    caller: CallerDep,
) -> Project:
    return update_project(
        caller.catalog, caller.owns("projects", projectId), body, user_id=caller.user_id
    )


@router.post("/projects/{projectId}/archive", response_model=Project, responses=errors(401, 404))
def projects_archive(projectId: UUID, caller: CallerDep) -> Project:
    pid = caller.owns("projects", projectId)
    return archive_project(caller.catalog, pid, user_id=caller.user_id)
