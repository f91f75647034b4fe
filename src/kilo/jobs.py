"""The job queue: a real table, claimed by a worker pool, retried with backoff, every state
change appended to the event log.

A job type is a :class:`JobHandler` registered under a name. Its work is split so that the
catalog is only ever written from the process that owns it:

* ``prepare(catalog, job) -> payload``: main process, reads what the work needs;
* ``compute(payload) -> result``: in a worker process when ``pooled`` (CPU-bound decoding), a
  pure function of its payload with no catalog access; in the main process otherwise;
* ``apply(catalog, job, result)``: main process, writes the result in one transaction.

Two optional hooks make a handler cheap per job: ``prepare_batch(catalog, jobs) -> payloads``
(one query for a whole claim) and ``apply_batch(catalog, [(job, result), ...])`` (multi-row
statements for every result that is back; the runner writes them every 0.5 s or 256 results,
in one transaction with the jobs' ``done`` state and events).

Jobs are idempotent: running one twice writes the same result. Since one process owns the
catalog (DuckDB's file lock), any job still ``running`` when a process opens it was left by a
dead process, and :func:`reclaim_jobs` puts it back in the queue.
"""

from __future__ import annotations

import importlib
import json
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol, TypeVar

from kilo.catalog import Catalog
from kilo.clock import from_catalog, new_id, parse_uuid, utcnow
from kilo.errors import InvalidInput, NotFound
from kilo.models import Job, JobStatus, PagedJobs, PageInfo
from kilo.paging import Keyset, check_limit
from kilo.progress import ItemResult, ItemStatus, Progress, ProgressCallback, report
from kilo.records import json_object

_T = TypeVar("_T")

JOB_STATUSES: tuple[JobStatus, ...] = ("queued", "running", "done", "failed", "canceled")
BACKOFF_BASE_S = 0.5
BACKOFF_MAX_S = 60.0


@dataclass(slots=True)
class JobRow:
    id: str
    type: str
    project_id: str | None
    asset_id: str | None
    payload: dict[str, Any]
    attempts: int
    max_attempts: int


class JobHandler(Protocol):
    type: str
    #: run ``compute`` in a worker process (CPU-bound, picklable payload and result)
    pooled: bool

    def prepare(self, catalog: Catalog, job: JobRow) -> Any: ...

    def compute(self, payload: Any) -> Any: ...

    def apply(self, catalog: Catalog, job: JobRow, result: Any) -> None: ...


#: job type -> "module:attribute" of its handler; imported on first use so that start-up
#: stays light (no torch unless an embedding job runs).
HANDLER_PATHS: dict[str, str] = {
    "asset.process": "kilo.ingest.jobs:PROCESS_HANDLER",
    "asset.analyze": "kilo.analyze.jobs:ANALYZE_HANDLER",
    "project.embed": "kilo.embed.jobs:EMBED_HANDLER",
    "project.cluster": "kilo.analyze.jobs:CLUSTER_HANDLER",
    "edit.apply": "kilo.edit.jobs:APPLY_HANDLER",
    "export.run": "kilo.export.jobs:EXPORT_HANDLER",
}
_HANDLERS: dict[str, JobHandler] = {}


def register_handler(handler: JobHandler) -> JobHandler:
    _HANDLERS[handler.type] = handler
    return handler


def get_handler(job_type: str) -> JobHandler:
    if job_type not in _HANDLERS:
        path = HANDLER_PATHS.get(job_type)
        if path is None:
            raise InvalidInput(f"unknown job type {job_type!r}")
        module, _, attr = path.partition(":")
        _HANDLERS[job_type] = getattr(importlib.import_module(module), attr)
    return _HANDLERS[job_type]


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
        _event(catalog, "job.queued", job_id, job_type, project_id, asset_id, "queued", 0.0)
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
        rows.append([
            job_id, project_id, asset_id, job_type,
            spec.get("max_attempts") or default_attempts, spec.get("priority", 100),
            _dump(spec.get("payload") or {}), key, now, now, "queued", 0,
        ])  # fmt: skip
        events.append(_event_row("job.queued", job_id, job_type, project_id, asset_id,
                                 "queued", 0.0))  # fmt: skip
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
)


def _chunks(items: list[_T], size: int) -> Iterator[list[_T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _dump(value: Any) -> str:
    return json.dumps(value, default=str, separators=(",", ":"))


def _event_row(
    kind: str,
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
    return {"type": kind, "project_id": project_id, "job_id": job_id, "asset_id": asset_id,
            "data": data}  # fmt: skip


def _event(
    catalog: Catalog,
    kind: str,
    job_id: str,
    job_type: str,
    project_id: str | None,
    asset_id: str | None,
    status: str,
    progress: float | None,
    error: str | None = None,
) -> None:
    catalog.emit_events(
        [_event_row(kind, job_id, job_type, project_id, asset_id, status, progress, error)]
    )


def reclaim_jobs(catalog: Catalog) -> int:
    """Requeue jobs left ``running`` by a process that no longer holds the catalog."""
    me = _worker_id()
    rows = catalog.fetchall(
        "SELECT id, type, project_id, asset_id FROM jobs WHERE status = 'running' "
        "AND (claimed_by IS NULL OR claimed_by <> ?)",
        [me],
    )
    if not rows:
        return 0
    with catalog.transaction():
        catalog.execute(
            "UPDATE jobs SET status = 'queued', claimed_by = NULL, claimed_at = NULL, "
            "updated_at = ? WHERE status = 'running' AND (claimed_by IS NULL OR claimed_by <> ?)",
            [utcnow(), me],
        )
        for job_id, job_type, project_id, asset_id in rows:
            _event(catalog, "job.reclaimed", job_id, job_type, project_id, asset_id, "queued", 0.0)
    return len(rows)


def _worker_id() -> str:
    return f"{os.uname().nodename}:{os.getpid()}"


def claim_jobs(
    catalog: Catalog,
    *,
    limit: int,
    project_id: str | None = None,
    types: Iterable[str] | None = None,
) -> list[JobRow]:
    """Mark up to ``limit`` runnable jobs as running (highest priority, oldest first)."""
    where = ["status = 'queued'", "(run_after IS NULL OR run_after <= ?)"]
    now = utcnow()
    params: list[Any] = [now]
    if project_id is not None:
        where.append("project_id = ?")
        params.append(project_id)
    type_list = list(types) if types is not None else None
    if type_list is not None:
        if not type_list:
            return []
        where.append(f"type IN ({', '.join('?' for _ in type_list)})")
        params += type_list
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
            [_worker_id(), now, now, ids],
        )
        catalog.emit_events(
            [
                _event_row(
                    "job.progress",
                    r["id"],
                    r["type"],
                    r["project_id"],
                    r["asset_id"],
                    "running",
                    0.0,
                )
                for r in claimed
            ]
        )
    order = {job_id: i for i, job_id in enumerate(ids)}
    claimed.sort(key=lambda r: order[r["id"]])
    return [
        JobRow(
            id=r["id"],
            type=r["type"],
            project_id=r["project_id"],
            asset_id=r["asset_id"],
            payload=json_object(r["payload"]),
            attempts=r["attempts"],
            max_attempts=r["max_attempts"],
        )
        for r in claimed
    ]


def complete_job(catalog: Catalog, job: JobRow, result: dict[str, Any] | None = None) -> None:
    with catalog.transaction():
        catalog.execute(
            "UPDATE jobs SET status = 'done', progress = 1.0, error = NULL, result = ?, "
            "claimed_by = NULL, updated_at = ? WHERE id = ?",
            [result or {}, utcnow(), job.id],
        )
        _event(catalog, "job.done", job.id, job.type, job.project_id, job.asset_id, "done", 1.0)


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
            _event_row("job.done", j.id, j.type, j.project_id, j.asset_id, "done", 1.0)
            for j, _ in done
        ]
    )


def fail_job(catalog: Catalog, job: JobRow, error: str, *, retry: bool = True) -> bool:
    """Record a failure. Retries with exponential backoff until ``max_attempts``.

    Returns True when the job will be retried, False when it is now ``failed``.
    """
    error = " ".join(str(error).split())[:2000] or "unknown error"
    will_retry = retry and job.attempts < job.max_attempts
    now = utcnow()
    with catalog.transaction():
        if will_retry:
            delay = min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** max(0, job.attempts - 1))
            catalog.execute(
                "UPDATE jobs SET status = 'queued', error = ?, claimed_by = NULL, run_after = ?, "
                "updated_at = ? WHERE id = ?",
                [error, now + timedelta(seconds=delay), now, job.id],
            )
            _event(
                catalog,
                "job.retry",
                job.id,
                job.type,
                job.project_id,
                job.asset_id,
                "queued",
                None,
                error,
            )
        else:
            catalog.execute(
                "UPDATE jobs SET status = 'failed', error = ?, claimed_by = NULL, updated_at = ? "
                "WHERE id = ?",
                [error, now, job.id],
            )
            _event(
                catalog,
                "job.failed",
                job.id,
                job.type,
                job.project_id,
                job.asset_id,
                "failed",
                None,
                error,
            )
    return will_retry


def set_job_progress(catalog: Catalog, job: JobRow, fraction: float) -> None:
    fraction = max(0.0, min(1.0, float(fraction)))
    catalog.execute(
        "UPDATE jobs SET progress = ?, updated_at = ? WHERE id = ?", [fraction, utcnow(), job.id]
    )
    _event(
        catalog, "job.progress", job.id, job.type, job.project_id, job.asset_id, "running", fraction
    )


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


# -- listing ------------------------------------------------------------------------------
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


def get_job(catalog: Catalog, job_id: str) -> Job:
    jid = parse_uuid(job_id, "job id")
    row = catalog.fetchdict("SELECT * FROM jobs WHERE id = ?", [jid])
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
    after = _KEYSET.after(cursor)
    where: list[str] = ["1 = 1"]
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
    if after is not None:
        where.append(after.sql)
        params += after.params
    rows, nxt = _KEYSET.page(
        catalog.fetchdicts(
            f"SELECT * FROM jobs WHERE {' AND '.join(where)} ORDER BY created_at, id LIMIT ?",
            [*params, limit + 1],
        ),
        limit,
    )
    return PagedJobs(items=[_to_model(r) for r in rows], page_info=PageInfo(next_cursor=nxt))


def job_counts(catalog: Catalog, project_id: str | None = None) -> dict[str, int]:
    where, params = ("WHERE project_id = ?", [project_id]) if project_id else ("", [])
    rows = catalog.fetchall(f"SELECT status, count(*) FROM jobs {where} GROUP BY status", params)
    return {str(s): int(n) for s, n in rows}


# -- running ------------------------------------------------------------------------------
#: results written per transaction at most, and how long a result may wait to be written
APPLY_BATCH_MAX = 256
APPLY_INTERVAL_S = 0.5
#: jobs sent to a worker process in one task at most (fewer near the end of the queue)
CHUNK_MAX = 8


@dataclass
class RunReport:
    done: int = 0
    failed: int = 0
    retried: int = 0
    results: list[ItemResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed == 0


class ComputeError(Exception):
    """A worker's exception, carried back as its one-line reason (always picklable)."""


def _run_compute(handler_type: str, module: str, payload: Any) -> Any:
    """Worker-process entry: importing the handler's module registers it (spawned workers
    start empty), then compute."""
    if handler_type not in _HANDLERS and handler_type not in HANDLER_PATHS:
        importlib.import_module(module)
    return get_handler(handler_type).compute(payload)


def _run_compute_many(
    handler_type: str, module: str, payloads: list[Any]
) -> list[tuple[bool, Any]]:
    """Worker-process entry for a chunk of jobs: (True, result) or (False, reason) each."""
    out: list[tuple[bool, Any]] = []
    for payload in payloads:
        try:
            out.append((True, _run_compute(handler_type, module, payload)))
        except Exception as exc:
            out.append((False, _reason(exc)))
    return out


_Ready = tuple[JobRow, JobHandler, Any, BaseException | None]


def run_jobs(
    catalog: Catalog,
    project_id: str | None = None,
    *,
    types: Iterable[str] | None = None,
    progress: ProgressCallback | None = None,
    workers: int | None = None,
    pool: ProcessPoolExecutor | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> RunReport:
    """Drain the queue (of a project, of some types): claim, compute, apply, retry.

    Pooled handlers compute in worker processes, in small chunks of jobs per task; everything
    is written from this process, in batches: results are applied and marked done in one
    transaction per batch (``handler.apply_batch(catalog, [(job, result), ...])`` when the
    handler has it, else ``apply`` per job). A batch whose transaction fails is redone job by
    job, so one bad result fails one job. A job that raises is retried with backoff and,
    after its last attempt, marked ``failed`` with the reason; the run goes on.
    """
    reclaim_jobs(catalog)
    type_list = list(types) if types is not None else None
    n_workers = workers or catalog.settings.workers
    window = 64 if n_workers < 2 else 128 * n_workers  # ~1 s of small jobs: workers never wait
    report_ = RunReport()
    own_pool: ProcessPoolExecutor | None = None
    todo: deque[tuple[JobRow, JobHandler, Any]] = deque()  # prepared, not yet sent
    inflight: dict[Future[Any], list[tuple[JobRow, JobHandler, Any]]] = {}
    ready: list[_Ready] = []
    counts = job_counts(catalog, project_id) if type_list is None else {}
    total = (counts.get("queued", 0) + counts.get("running", 0)) if type_list is None else None
    done_count = 0
    last_write = time.monotonic()
    drained_at: float | None = None  # when a claim last found fewer jobs than it asked for

    def note(job: JobRow, status: ItemStatus, reason: str | None = None) -> None:
        nonlocal done_count
        done_count += 1
        report_.results.append(
            ItemResult(item=job.type, status=status, reason=reason, asset_id=job.asset_id)
        )
        report(progress, Progress("jobs", done_count, total, item=job.type, status=status,
                                  message=reason))  # fmt: skip

    def fail(job: JobRow, exc: BaseException) -> None:
        reason = _reason(exc)
        if fail_job(catalog, job, reason):
            report_.retried += 1
        else:
            report_.failed += 1
            note(job, "failed", reason)

    def apply_all(good: list[tuple[JobRow, JobHandler, Any]]) -> None:
        by_handler: dict[int, list[tuple[JobRow, JobHandler, Any]]] = {}
        for item in good:
            by_handler.setdefault(id(item[1]), []).append(item)
        for items in by_handler.values():
            handler = items[0][1]
            batch_apply = getattr(handler, "apply_batch", None)
            if batch_apply is not None:
                batch_apply(catalog, [(j, r) for j, _, r in items])
            else:
                for job, _, result in items:
                    handler.apply(catalog, job, result)
        complete_jobs(catalog, [(j, r) for j, _, r in good])

    def finish(batch: list[_Ready]) -> None:
        nonlocal last_write
        last_write = time.monotonic()
        good = [(j, h, r) for j, h, r, e in batch if e is None]
        for job, _, _, exc in batch:
            if exc is not None:
                fail(job, exc)
        if not good:
            return
        try:
            with catalog.transaction():
                apply_all(good)
        except Exception:
            for item in good:  # find the culprit: one transaction each
                try:
                    with catalog.transaction():
                        apply_all([item])
                except Exception as exc:
                    fail(item[0], exc)
                else:
                    report_.done += 1
                    note(item[0], "ok")
            return
        report_.done += len(good)
        for job, _, _ in good:
            note(job, "ok")

    def executor() -> ProcessPoolExecutor:
        nonlocal own_pool
        if pool is not None:
            return pool
        if own_pool is None:
            from kilo.workers import process_pool

            own_pool = process_pool(n_workers)
        return own_pool

    def submit() -> None:
        """Send every prepared job to the workers, in chunks that shrink as ``todo`` does (so
        the last tasks are single jobs and no worker idles while another finishes a chunk)."""
        while todo:
            size = max(1, min(CHUNK_MAX, len(todo) // (4 * n_workers)))
            chunk = [todo.popleft()]
            while todo and len(chunk) < size and todo[0][1] is chunk[0][1]:
                chunk.append(todo.popleft())
            handler = chunk[0][1]
            fut = executor().submit(_run_compute_many, handler.type,
                                    type(handler).__module__, [p for _, _, p in chunk])  # fmt: skip
            inflight[fut] = chunk

    def held() -> int:
        return len(todo) + sum(len(v) for v in inflight.values())

    try:
        while True:
            if should_stop is not None and should_stop():
                break
            claimed: list[JobRow] = []
            now = time.monotonic()
            if held() <= window // 2 and (drained_at is None or not inflight
                                          or now - drained_at > 1.0):  # fmt: skip
                want = window - held()
                claimed = claim_jobs(catalog, limit=want, project_id=project_id, types=type_list)
                drained_at = now if len(claimed) < want else None
            for job, handler_or_exc, payload in _prepare_all(catalog, claimed):
                if isinstance(handler_or_exc, BaseException):
                    ready.append((job, _NULL_HANDLER, None, handler_or_exc))
                    continue
                handler = handler_or_exc
                if handler.pooled and n_workers > 1:
                    todo.append((job, handler, payload))
                    continue
                try:
                    ready.append((job, handler, handler.compute(payload), None))
                except Exception as exc:
                    ready.append((job, handler, None, exc))
                if time.monotonic() - last_write > APPLY_INTERVAL_S:
                    finish(ready)
                    ready = []
            submit()
            if inflight:
                timeout = max(0.0, last_write + APPLY_INTERVAL_S - time.monotonic())
                finished, _ = wait(list(inflight), timeout=timeout if ready else 0.5,
                                   return_when=FIRST_COMPLETED)  # fmt: skip
                for fut in finished:
                    chunk_jobs = inflight.pop(fut)
                    fut_exc = fut.exception()
                    outcomes: list[tuple[bool, Any]] = (
                        [(False, _reason(fut_exc))] * len(chunk_jobs)
                        if fut_exc is not None
                        else fut.result()
                    )
                    for (job, handler, _), (ok, value) in zip(chunk_jobs, outcomes, strict=True):
                        if ok:
                            ready.append((job, handler, value, None))
                        else:
                            ready.append((job, handler, None, ComputeError(value)))
                submit()
            busy = bool(inflight or todo)
            if ready and (
                not busy
                or len(ready) >= APPLY_BATCH_MAX
                or time.monotonic() - last_write >= APPLY_INTERVAL_S
            ):
                finish(ready)
                ready = []
            if busy or claimed or ready:
                continue
            delay = _next_delay(catalog, project_id, type_list)
            if delay is None:
                break
            time.sleep(min(delay, 1.0))
    finally:
        if own_pool is not None:
            own_pool.shutdown(wait=True, cancel_futures=True)
    return report_


def _prepare_all(
    catalog: Catalog, claimed: list[JobRow]
) -> list[tuple[JobRow, JobHandler | BaseException, Any]]:
    """(job, handler or the exception, payload) of each claimed job, in order. A handler with
    ``prepare_batch(catalog, jobs) -> payloads`` prepares its jobs with one call (one query)
    instead of one ``prepare`` each; if that raises, each job is prepared on its own."""
    out: list[tuple[JobRow, JobHandler | BaseException, Any]] = []
    payloads: dict[str, Any] = {}
    by_type: dict[str, list[JobRow]] = {}
    for job in claimed:
        by_type.setdefault(job.type, []).append(job)
    for job_type, group in by_type.items():
        try:
            prepare_batch = getattr(get_handler(job_type), "prepare_batch", None)
            if prepare_batch is not None:
                payloads.update(zip([j.id for j in group], prepare_batch(catalog, group),
                                    strict=True))  # fmt: skip
        except Exception:
            pass
    for job in claimed:
        try:
            handler = get_handler(job.type)
            payload = payloads[job.id] if job.id in payloads else handler.prepare(catalog, job)
        except Exception as exc:
            out.append((job, exc, None))
            continue
        out.append((job, handler, payload))
    return out


def _reason(exc: BaseException) -> str:
    from kilo.errors import KiloError

    if isinstance(exc, KiloError):
        return exc.message
    text = " ".join(str(exc).split())
    if isinstance(exc, ComputeError):
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _next_delay(catalog: Catalog, project_id: str | None, types: list[str] | None) -> float | None:
    """Seconds until the next delayed job is due, or None when nothing is left to run."""
    where: list[str] = ["status = 'queued'"]
    params: list[Any] = []
    if project_id is not None:
        where.append("project_id = ?")
        params.append(project_id)
    if types is not None:
        if not types:
            return None
        where.append(f"type IN ({', '.join('?' for _ in types)})")
        params += types
    due = catalog.scalar(f"SELECT min(run_after) FROM jobs WHERE {' AND '.join(where)}", params)
    if due is None:
        queued = catalog.scalar(f"SELECT count(*) FROM jobs WHERE {' AND '.join(where)}", params)
        return 0.0 if queued else None
    wait_s = (from_catalog(due) - utcnow()).total_seconds()  # type: ignore[operator]
    return max(0.0, wait_s)


class _NullHandler:
    type = "_null"
    pooled = False

    def prepare(self, catalog: Catalog, job: JobRow) -> Any:
        return None

    def compute(self, payload: Any) -> Any:
        return None

    def apply(self, catalog: Catalog, job: JobRow, result: Any) -> None:
        return None


_NULL_HANDLER = _NullHandler()
