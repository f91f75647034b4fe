"""Reading the job queue: one job (and the traceback of its last failure), a project's jobs
a page at a time, counts by status."""

from __future__ import annotations

from typing import Any

from kilo.catalog import Catalog
from kilo.catalog.ids import lookup_id
from kilo.clock import from_catalog, parse_uuid
from kilo.errors import InvalidInput, NotFound
from kilo.jobs.queue import JOB_STATUSES, SELECT_JOBS, count_jobs_by_status
from kilo.models import Job, PagedJobs, PageInfo
from kilo.paging import Keyset, check_limit


def _to_model(row: dict[str, Any]) -> Job:
    return Job(
        id=row["id"],
        project_id=row["project_id"],
        asset_id=row["asset_id"],
        type=row["type"],
        status=row["status"],
        progress=row["progress"],
        error=row["error"],
        created_at=from_catalog(row["created_at"]),
        updated_at=from_catalog(row["updated_at"]),
        attempts=row["attempts"],
    )


def get_job_detail(catalog: Catalog, job_id: str) -> str | None:
    """The traceback of a job's last failure (None when it has not failed, or failed before
    kilo kept them)."""
    job = get_job(catalog, job_id)
    value = catalog.table("jobs").value(job.id, "error_detail")
    return str(value) if value else None


def get_job(catalog: Catalog, job_id: str) -> Job:
    jid = lookup_id(catalog, "jobs", job_id)
    row = catalog.table("jobs").get(jid)
    if row is None:
        raise NotFound(f"no job with id {jid}")
    return _to_model(row)


_KEYSET = Keyset("jobs", "created_at, id")


def list_jobs(
    catalog: Catalog,
    project_id: str | None = None,
    *,
    status: str | None = None,
    job_type: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> PagedJobs:
    """Jobs, oldest first, one page at a time."""
    limit = check_limit(limit)
    where: list[str] = []
    params: list[Any] = []
    if project_id is not None:
        where.append("project_id = ?")
        params.append(parse_uuid(project_id, "project id"))
    if status is not None:
        if status not in JOB_STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(JOB_STATUSES)}")
        where.append("status = ?")
        params.append(status)
    if job_type is not None:
        where.append("type = ?")
        params.append(job_type)
    rows, nxt = _KEYSET.fetch_page(catalog, SELECT_JOBS, where, params, cursor, limit)
    return PagedJobs(items=[_to_model(r) for r in rows], page_info=PageInfo(next_cursor=nxt))


def job_counts(catalog: Catalog, project_id: str | None = None) -> dict[str, int]:
    return count_jobs_by_status(catalog, project_id)
