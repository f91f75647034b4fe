"""Jobs: the work queued for a project."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from kilo.errors import NotFound
from kilo.jobs import list_jobs
from kilo.models import JobStatus, PagedJobs, PageInfo
from kilo.text import redact_paths
from kilo_server.deps import CallerDep
from kilo_server.routes import Cursor, Limit, errors

router = APIRouter(tags=["Jobs"])


@router.get("/projects/{projectId}/jobs", response_model=PagedJobs, responses=errors(400, 401))
def jobs_list(
    projectId: UUID,
    caller: CallerDep,
    status: Annotated[JobStatus | None, Query()] = None,
    type: Annotated[str | None, Query()] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> PagedJobs:
    """The project's jobs, oldest first (none for a project that is not the caller's)."""
    try:
        pid = caller.owns("projects", projectId)
    except NotFound:  # the contract has no 404 here
        return PagedJobs(items=[], page_info=PageInfo(next_cursor=None))
    page = list_jobs(caller.catalog, pid, status=status, job_type=type, cursor=cursor, limit=limit)
    for job in page.items:  # a reason names no server path over HTTP
        job.error = None if job.error is None else redact_paths(job.error)
    return page
