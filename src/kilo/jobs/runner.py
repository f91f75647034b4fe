"""Running jobs: claim in batches, compute in worker processes, apply in batches, retry."""

from __future__ import annotations

import logging
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from kilo.catalog import Catalog
from kilo.clock import from_catalog, utcnow
from kilo.errors import describe_exception
from kilo.jobs.queue import (
    JobHandler,
    JobRow,
    claim_jobs,
    complete_jobs,
    fail_job,
    get_handler,
    job_counts,
    reclaim_jobs,
    release_jobs,
)
from kilo.progress import ItemResult, ItemStatus, Progress, ProgressCallback, report
from kilo.workers import compute_many, stop_pool

log = logging.getLogger(__name__)

# -- running ------------------------------------------------------------------------------
#: results written per transaction at most, and how long a result may wait to be written
APPLY_BATCH_MAX = 1024
APPLY_INTERVAL_S = 1.0
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
    """A worker's exception, carried back as its one-line reason and its traceback text
    (always picklable)."""

    def __init__(self, reason: str, detail: str | None = None) -> None:
        super().__init__(reason)
        self.detail = detail


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
    more_coming: Callable[[], bool] | None = None,
) -> RunReport:
    """Drain the queue (of a project, of some types): claim, compute, apply, retry.

    Pooled handlers compute in worker processes, in small chunks of jobs per task; everything
    is written from this process, in batches: results are applied and marked done in one
    transaction per batch (``handler.apply_batch(catalog, [(job, result), ...])`` when the
    handler has it, else ``apply`` per job). A batch whose transaction fails is redone job by
    job, so one bad result fails one job. A job that raises is retried with backoff and,
    after its last attempt, marked ``failed`` with the reason; the run goes on. With
    ``more_coming``, an empty queue ends the run only once ``more_coming()`` is False (another
    thread is still enqueuing jobs).
    """
    reclaim_jobs(catalog)
    type_list = list(types) if types is not None else None
    n_workers = workers or catalog.settings.workers
    window = 64 if n_workers < 2 else 512 * n_workers  # ~1 s of small jobs: workers never wait
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
        detail = _detail(exc)
        log.debug("job %s (%s) failed: %s\n%s", job.id, job.type, reason, detail)
        if fail_job(catalog, job, reason, detail=detail):
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
            log.debug("a batch of %d results failed; applying one by one", len(good), exc_info=True)
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

            own_pool = process_pool(n_workers, background=True)
        return own_pool

    def compute_here() -> bool:
        """While the pool's workers start, compute the next pooled job in this process (the
        first second of a run is not spent waiting). True if it did."""
        from kilo.workers import pool_ready

        if not todo or pool_ready(executor()):
            return False
        compute_inline(*todo.popleft())
        return True

    def compute_inline(job: JobRow, handler: JobHandler, payload: Any) -> None:
        """Compute a job in this process; its result (or exception) joins ``ready``, which is
        written once it is due."""
        nonlocal ready
        try:
            ready.append((job, handler, handler.compute(payload), None))
        except Exception as exc:
            ready.append((job, handler, None, exc))
        if time.monotonic() - last_write >= APPLY_INTERVAL_S:
            finish(ready)
            ready = []

    def submit() -> None:
        """Send every prepared job to the workers, in chunks that shrink as ``todo`` does (so
        the last tasks are single jobs and no worker idles while another finishes a chunk)."""
        while todo:
            size = max(1, min(CHUNK_MAX, len(todo) // (4 * n_workers)))
            chunk = [todo.popleft()]
            while todo and len(chunk) < size and todo[0][1] is chunk[0][1]:
                chunk.append(todo.popleft())
            handler = chunk[0][1]
            target = getattr(handler, "compute_target", None) or type(handler).__module__
            fut = executor().submit(compute_many, handler.type, target,
                                    [p for _, _, p in chunk])  # fmt: skip
            inflight[fut] = chunk

    def held() -> int:
        return len(todo) + sum(len(v) for v in inflight.values())

    interrupted = False
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
                else:
                    compute_inline(job, handler, payload)
            if compute_here():
                continue
            submit()
            if inflight:
                timeout = max(0.0, last_write + APPLY_INTERVAL_S - time.monotonic())
                finished, _ = wait(list(inflight), timeout=timeout if ready else 0.5,
                                   return_when=FIRST_COMPLETED)  # fmt: skip
                for fut in finished:
                    chunk_jobs = inflight.pop(fut)
                    fut_exc = fut.exception()
                    outcomes: list[tuple[bool, Any]] = (
                        [(False, (_reason(fut_exc), _detail(fut_exc)))] * len(chunk_jobs)
                        if fut_exc is not None
                        else fut.result()
                    )
                    for (job, handler, _), (ok, value) in zip(chunk_jobs, outcomes, strict=True):
                        if ok:
                            ready.append((job, handler, value, None))
                        else:
                            ready.append((job, handler, None, ComputeError(*value)))
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
                if more_coming is not None and more_coming():  # a producer is still enqueuing
                    time.sleep(0.02)
                    continue
                break
            time.sleep(min(delay, 1.0))
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        if interrupted:
            for p in (own_pool, pool):
                if p is not None:
                    stop_pool(p, now=True)
            unfinished = [j for j, _, _ in todo] + [j for c in inflight.values() for j, _, _ in c]
            _save_interrupted(catalog, lambda: finish(ready), unfinished)
        elif own_pool is not None:
            stop_pool(own_pool)
    return report_


def _save_interrupted(
    catalog: Catalog, write_ready: Callable[[], None], unfinished: list[JobRow]
) -> None:
    """After Ctrl-C: write the results already computed, and put the jobs still out with the
    workers back in the queue, so the next run resumes at once (nothing is left ``running``).
    A second Ctrl-C meanwhile leaves the rest to the next run's reclaim."""
    try:
        write_ready()
        release_jobs(catalog, unfinished)
    except (KeyboardInterrupt, Exception):
        log.debug("results of an interrupted run not all saved", exc_info=True)


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


def _detail(exc: BaseException) -> str:
    """The traceback of a failure: the worker's, carried back, or this process's."""
    if isinstance(exc, ComputeError) and exc.detail:
        return exc.detail
    return "".join(traceback.format_exception(exc))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ComputeError):
        return " ".join(str(exc).split())
    return describe_exception(exc)


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
