"""The job queue: enqueue, claim, complete, fail with backoff, reclaim, list. Every state
change appends an event. See :mod:`kilo.jobs` for the handler contract."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from kilo.catalog import Catalog
from kilo.catalog.ids import lookup_id
from kilo.clock import new_id, utcnow
from kilo.errors import InvalidInput, NotFound
from kilo.jobs.claims import claimer_alive, worker_id
from kilo.jobspec import EventType, JobRow, get_handler
from kilo.models import JobStatus
from kilo.records import json_object

JOB_STATUSES: tuple[JobStatus, ...] = ("queued", "running", "done", "failed", "canceled")
BACKOFF_BASE_S = 0.5
BACKOFF_MAX_S = 60.0
#: SQL: the asset ``a`` has a job of the type ``?`` queued or running
LIVE_JOB_OF_ASSET = (
    "EXISTS (SELECT 1 FROM jobs j WHERE j.asset_id = a.id AND j.type = ? "
    "AND j.status IN ('queued', 'running'))"
)


# -- queue operations ---------------------------------------------------------------------
def enqueue(
    catalog: Catalog,
    job_type: str,
    *,
    project_id: str | None = None,
    asset_id: str | None = None,
    payload: dict[str, Any] | None = None,
    priority: int = 100,
    dedupe_key: str | None = None,
    max_attempts: int | None = None,
) -> str:
    """Queue a job; with ``dedupe_key``, a queued or running job with that key is reused."""
    if dedupe_key is not None:
        row = catalog.fetchone(
            "SELECT id FROM jobs WHERE dedupe_key = ? AND status IN ('queued', 'running')",
            [dedupe_key],
        )
        if row:
            return str(row[0])
    job_id = new_id()
    now = utcnow()
    with catalog.transaction():
        catalog.execute(
            "INSERT INTO jobs (id, project_id, asset_id, type, status, attempts, max_attempts, "
            "priority, payload, dedupe_key, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, 'queued', 0, ?, ?, ?, ?, ?, ?)",
            [
                job_id,
                project_id,
                asset_id,
                job_type,
                max_attempts or catalog.settings.job_max_attempts,
                priority,
                payload or {},
                dedupe_key,
                now,
                now,
            ],
        )
        queued = _event_row(
            EventType.JOB_QUEUED, job_id, job_type, project_id, asset_id, "queued", 0.0
        )
        catalog.emit_events([queued])
    return job_id


def enqueue_many(catalog: Catalog, jobs: Iterable[dict[str, Any]]) -> list[str]:
    """Queue many jobs in one transaction with multi-row inserts.

    Each dict holds the keyword arguments of :func:`enqueue` plus ``job_type``. Jobs with a
    ``dedupe_key`` that is already queued or running reuse that job.
    """
    specs = [dict(spec) for spec in jobs]
    if not specs:
        return []
    keys = [s["dedupe_key"] for s in specs if s.get("dedupe_key")]
    existing: dict[str, str] = {}
    if keys:
        marks = ", ".join("?" for _ in keys)
        existing = {
            str(k): str(i)
            for i, k in catalog.fetchall(
                f"SELECT id, dedupe_key FROM jobs WHERE dedupe_key IN ({marks}) "
                "AND status IN ('queued', 'running')",
                keys,
            )
        }
    now = utcnow()
    default_attempts = catalog.settings.job_max_attempts
    ids: list[str] = []
    rows: list[list[Any]] = []
    events: list[dict[str, Any]] = []
    for spec in specs:
        key = spec.get("dedupe_key")
        if key and key in existing:
            ids.append(existing[key])
            continue
        job_id = new_id()
        if key:
            existing[key] = job_id
        ids.append(job_id)
        job_type = spec["job_type"]
        project_id, asset_id = spec.get("project_id"), spec.get("asset_id")
        rows.append(
            [
                job_id,
                project_id,
                asset_id,
                job_type,
                spec.get("max_attempts") or default_attempts,
                spec.get("priority", 100),
                _dump(spec.get("payload") or {}),
                key,
                now,
                now,
                "queued",
                0,
                spec.get("reserved_for"),
            ]
        )
        events.append(
            _event_row(EventType.JOB_QUEUED, job_id, job_type, project_id, asset_id, "queued", 0.0)
        )
    with catalog.transaction():
        catalog.insert_many("jobs", _JOB_COLUMNS, rows)
        catalog.emit_events(events)
    return ids


_JOB_COLUMNS = (
    ("id", "VARCHAR"),
    ("project_id", "VARCHAR"),
    ("asset_id", "VARCHAR"),
    ("type", "VARCHAR"),
    ("max_attempts", "INTEGER"),
    ("priority", "INTEGER"),
    ("payload", "JSON"),
    ("dedupe_key", "VARCHAR"),
    ("created_at", "TIMESTAMP"),
    ("updated_at", "TIMESTAMP"),
    ("status", "VARCHAR"),
    ("attempts", "INTEGER"),
    ("reserved_for", "VARCHAR"),
)


def _dump(value: Any) -> str:
    return json.dumps(value, default=str, separators=(",", ":"))


def _event_row(
    kind: EventType,
    job_id: str,
    job_type: str,
    project_id: str | None,
    asset_id: str | None,
    status: str,
    progress: float | None,
    error: str | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "jobId": job_id,
        "assetId": asset_id,
        "progress": progress,
        "status": status,
        "type": job_type,
    }
    if error:
        data["error"] = error
    return {
        "type": kind,
        "project_id": project_id,
        "job_id": job_id,
        "asset_id": asset_id,
        "data": data,
    }


def _job_event(
    kind: EventType, job: JobRow, status: str, progress: float | None, error: str | None = None
) -> dict[str, Any]:
    return _event_row(kind, job.id, job.type, job.project_id, job.asset_id, status, progress, error)


def _event(
    catalog: Catalog,
    kind: EventType,
    job: JobRow,
    status: str,
    progress: float | None,
    error: str | None = None,
) -> None:
    catalog.emit_events([_job_event(kind, job, status, progress, error)])


def reclaim_jobs(catalog: Catalog) -> int:
    """Requeue jobs left ``running`` by a process that is gone (killed, or crashed), never
    those of a kilo process still running on the same library (an ingest in another
    terminal), and drop the reservations of gone processes (:mod:`kilo.jobs.reservations`).
    A handler with ``reclaim(catalog, job)`` then cleans up after its killed run (an export
    removes its staging folder and half-published files)."""
    drop_dead_reservations(catalog)
    me = worker_id()
    jobs = [
        _job_row(r)
        for r in catalog.fetchdicts(
            "SELECT id, type, project_id, asset_id, payload, attempts, max_attempts, claimed_by "
            "FROM jobs WHERE status = 'running' AND (claimed_by IS NULL OR claimed_by <> ?)",
            [me],
        )
        if not claimer_alive(r["claimed_by"])
    ]
    if not jobs:
        return 0
    with catalog.transaction():
        catalog.execute(
            "UPDATE jobs SET status = 'queued', claimed_by = NULL, claimed_at = NULL, "
            "reserved_for = NULL, updated_at = ? "
            "WHERE status = 'running' AND id IN (SELECT unnest(?::VARCHAR[]))",
            [utcnow(), [job.id for job in jobs]],
        )
        for job in jobs:
            _event(catalog, EventType.JOB_RECLAIMED, job, "queued", 0.0)
    for job in jobs:
        _reclaimed(catalog, job)
    return len(jobs)


def _reclaimed(catalog: Catalog, job: JobRow) -> None:
    try:
        handler = get_handler(job.type)
    except InvalidInput:  # a job type this kilo does not know
        return
    handler.reclaim(catalog, job)


def _job_row(r: dict[str, Any]) -> JobRow:
    return JobRow(
        id=r["id"],
        type=r["type"],
        project_id=r["project_id"],
        asset_id=r["asset_id"],
        payload=json_object(r["payload"]),
        attempts=r["attempts"],
        max_attempts=r["max_attempts"],
    )


def release_jobs(catalog: Catalog, jobs: Sequence[JobRow]) -> int:
    """Put jobs this process claimed and did not finish (an interrupted run) back in the
    queue at once, without counting the attempt: the next run starts them again."""
    ids = [j.id for j in jobs]
    if not ids:
        return 0
    rows = catalog.fetchall(
        "UPDATE jobs SET status = 'queued', attempts = greatest(attempts - 1, 0), "
        "claimed_by = NULL, claimed_at = NULL, updated_at = ? "
        "WHERE status = 'running' AND claimed_by = ? AND id IN (SELECT unnest(?::VARCHAR[])) "
        "RETURNING id",
        [utcnow(), worker_id(), ids],
    )
    return len(rows)


def queued_scope(
    project_id: str | None, types: Iterable[str] | None, ids: Iterable[str] | None
) -> tuple[list[str], list[Any]] | None:
    """SQL conditions (and their parameters) for the queued jobs of a project, of some
    types, or among ``ids``; None when nothing can match (an empty list of types). Jobs
    another process reserved for itself are not among them."""
    where: list[str] = ["status = 'queued'", "(reserved_for IS NULL OR reserved_for = ?)"]
    params: list[Any] = [worker_id()]
    if ids is not None:
        where.append("list_contains(?::VARCHAR[], id)")
        params.append(list(ids))
    if project_id is not None:
        where.append("project_id = ?")
        params.append(project_id)
    if types is not None:
        type_list = list(types)
        if not type_list:
            return None
        where.append(f"type IN ({', '.join('?' for _ in type_list)})")
        params += type_list
    return where, params


def claim_jobs(
    catalog: Catalog,
    *,
    limit: int,
    project_id: str | None = None,
    types: Iterable[str] | None = None,
    ids: Iterable[str] | None = None,
) -> list[JobRow]:
    """Mark up to ``limit`` runnable jobs as running (highest priority, oldest first), of a
    project, of some types, or among ``ids``."""
    scope = queued_scope(project_id, types, ids)
    if scope is None:
        return []
    now = utcnow()
    where = [*scope[0], "(run_after IS NULL OR run_after <= ?)"]
    params: list[Any] = [*scope[1], now]
    with catalog.transaction():
        rows = catalog.fetchall(
            f"SELECT id FROM jobs WHERE {' AND '.join(where)} "
            "ORDER BY priority, created_at, id LIMIT ?",
            [*params, limit],
        )
        ids = [r[0] for r in rows]
        if not ids:
            return []
        claimed = catalog.fetchdicts(
            "UPDATE jobs SET status = 'running', attempts = attempts + 1, claimed_by = ?, "
            "claimed_at = ?, updated_at = ? WHERE id IN (SELECT unnest(?::VARCHAR[])) "
            "RETURNING id, type, project_id, asset_id, payload, attempts, max_attempts",
            [worker_id(), now, now, ids],
        )
        jobs = [_job_row(r) for r in claimed]
        catalog.emit_events([_job_event(EventType.JOB_PROGRESS, j, "running", 0.0) for j in jobs])
    order = {job_id: i for i, job_id in enumerate(ids)}
    return sorted(jobs, key=lambda j: order[j.id])


def complete_job(catalog: Catalog, job: JobRow, result: dict[str, Any] | None = None) -> None:
    with catalog.transaction():
        catalog.execute(
            "UPDATE jobs SET status = 'done', progress = 1.0, error = NULL, result = ?, "
            "claimed_by = NULL, updated_at = ? WHERE id = ?",
            [result or {}, utcnow(), job.id],
        )
        _event(catalog, EventType.JOB_DONE, job, "done", 1.0)


def complete_jobs(catalog: Catalog, done: Sequence[tuple[JobRow, Any]]) -> None:
    """Mark many jobs done in two statements (results stored when they are dicts)."""
    if not done:
        return
    now = utcnow()
    ids = [job.id for job, _ in done]
    results = [_dump(result if isinstance(result, dict) else {}) for _, result in done]
    catalog.execute(
        "UPDATE jobs SET status = 'done', progress = 1.0, error = NULL, "
        "result = CAST(v.result AS JSON), claimed_by = NULL, updated_at = ? "
        "FROM (SELECT unnest(?::VARCHAR[]) AS id, unnest(?::VARCHAR[]) AS result) AS v "
        "WHERE jobs.id = v.id",
        [now, ids, results],
    )
    catalog.emit_events(
        [
            _event_row(EventType.JOB_DONE, j.id, j.type, j.project_id, j.asset_id, "done", 1.0)
            for j, _ in done
        ]
    )


def fail_job(
    catalog: Catalog, job: JobRow, error: str, *, retry: bool = True, detail: str | None = None
) -> bool:
    """Record a failure (``detail``: its traceback, kept for ``get_job_detail``). Retries
    with exponential backoff until ``max_attempts``.

    Returns True when the job will be retried, False when it is now ``failed``.
    """
    error = " ".join(str(error).split())[:2000] or "unknown error"
    detail = detail[-20_000:] if detail else None
    will_retry = retry and job.attempts < job.max_attempts
    now = utcnow()
    delay = min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** max(0, job.attempts - 1))
    status, kind, run_after = (
        ("queued", EventType.JOB_RETRY, now + timedelta(seconds=delay))
        if will_retry
        else ("failed", EventType.JOB_FAILED, None)  # a failed job keeps its run_after
    )
    with catalog.transaction():
        catalog.execute(
            "UPDATE jobs SET status = ?, error = ?, error_detail = ?, claimed_by = NULL, "
            "run_after = coalesce(?, run_after), updated_at = ? WHERE id = ?",
            [status, error, detail, run_after, now, job.id],
        )
        _event(catalog, kind, job, status, None, error)
    return will_retry


def set_job_progress(catalog: Catalog, job: JobRow, fraction: float) -> None:
    fraction = max(0.0, min(1.0, float(fraction)))
    catalog.execute(
        "UPDATE jobs SET progress = ?, updated_at = ? WHERE id = ?", [fraction, utcnow(), job.id]
    )
    _event(catalog, EventType.JOB_PROGRESS, job, "running", fraction)


def cancel_jobs(catalog: Catalog, *, project_id: str | None = None) -> int:
    """Cancel queued jobs (of a project)."""
    where, params = "status = 'queued'", []
    if project_id is not None:
        where += " AND project_id = ?"
        params.append(project_id)
    rows = catalog.fetchall(
        f"UPDATE jobs SET status = 'canceled' WHERE {where} RETURNING id", params
    )
    return len(rows)


def retry_job(catalog: Catalog, job_id: str) -> str:
    """Put a failed or canceled job back in the queue with its attempts reset (its last
    error is kept in its detail until it runs); returns its id. Anything else is refused."""
    jid = lookup_id(catalog, "jobs", job_id)
    with catalog.transaction():
        status = catalog.table("jobs").value(jid, "status")
        if status is None:
            raise NotFound(f"no job with id {jid}")
        if status not in ("failed", "canceled"):
            raise InvalidInput(f"job {jid[:8]} is {status}; only failed or canceled jobs retry")
        requeued = {"status": "queued", "attempts": 0, "error": None}
        catalog.table("jobs").update(jid, {**requeued, "run_after": None, "claimed_by": None})
    return jid


# -- reads of the queue, and reservations (what they are for: kilo.jobs.reservations) -----
#: SQL: every job, for a listing's page (:mod:`kilo.jobs.listing`)
SELECT_JOBS = "SELECT * FROM jobs"


def count_jobs_by_status(catalog: Catalog, project_id: str | None = None) -> dict[str, int]:
    where, params = ("WHERE project_id = ?", [project_id]) if project_id else ("", [])
    rows = catalog.fetchall(f"SELECT status, count(*) FROM jobs {where} GROUP BY status", params)
    return {str(s): int(n) for s, n in rows}


def next_due(catalog: Catalog, where: list[str], params: list[Any]) -> tuple[Any, int]:
    """(the earliest ``run_after``, how many) of the jobs matching ``where``."""
    row = catalog.fetchone(
        f"SELECT min(run_after), count(*) FROM jobs WHERE {' AND '.join(where)}", params
    )
    return (row[0], int(row[1])) if row is not None else (None, 0)


def reserve_queued(catalog: Catalog, holder: str, project_id: str, job_type: str) -> int:
    """Reserve the project's queued, unreserved jobs of ``job_type`` for ``holder``."""
    return len(
        catalog.fetchall(
            "UPDATE jobs SET reserved_for = ? WHERE project_id = ? AND type = ? "
            "AND status = 'queued' AND reserved_for IS NULL RETURNING id",
            [holder, project_id, job_type],
        )
    )


def release_reserved(catalog: Catalog, holder: str) -> None:
    """End ``holder``'s reservations of queued jobs."""
    catalog.execute(
        "UPDATE jobs SET reserved_for = NULL WHERE reserved_for = ? AND status = 'queued'",
        [holder],
    )


def drop_dead_reservations(catalog: Catalog) -> int:
    """Drop the reservations of processes that no longer run; how many processes' ones."""
    holders = catalog.fetchall(
        "SELECT DISTINCT reserved_for FROM jobs WHERE status = 'queued' "
        "AND reserved_for IS NOT NULL AND reserved_for <> ?",
        [worker_id()],
    )
    dead = [str(h) for (h,) in holders if not claimer_alive(str(h))]
    if dead:
        catalog.execute(
            "UPDATE jobs SET reserved_for = NULL WHERE status = 'queued' "
            "AND reserved_for IN (SELECT unnest(?::VARCHAR[]))",
            [dead],
        )
    return len(dead)


def list_busy_claims(catalog: Catalog, holder: str) -> list[tuple[Any, ...]]:
    """(project id, process) of the jobs another process than ``holder`` reserved (queued)
    or runs."""
    return catalog.fetchall(
        "SELECT DISTINCT project_id, coalesce(reserved_for, claimed_by) FROM jobs "
        "WHERE project_id IS NOT NULL AND ((status = 'queued' AND reserved_for <> ?) "
        "OR (status = 'running' AND claimed_by <> ?))",
        [holder, holder],
    )
