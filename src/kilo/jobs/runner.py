"""Running jobs: claim in batches, compute in worker processes, apply in batches, retry."""

from __future__ import annotations

import logging
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from typing import Any

from kilo.catalog import Catalog
from kilo.clock import from_catalog, utcnow
from kilo.errors import describe_exception
from kilo.executors import is_distributed, open_pool
from kilo.executors.spec import LOCAL
from kilo.jobs.listing import job_counts
from kilo.jobs.queue import (
    claim_jobs,
    complete_jobs,
    fail_job,
    next_due,
    queued_scope,
    reclaim_jobs,
    release_jobs,
)
from kilo.jobspec import JobHandler, JobRow, get_handler, prepare_each
from kilo.progress import ItemResult, ItemStatus, Progress, ProgressCallback, report
from kilo.workers import compute_many, pool_ready, stop_pool

log = logging.getLogger(__name__)

# -- running ------------------------------------------------------------------------------
#: results written per transaction at most, and how long a result may wait to be written
APPLY_BATCH_MAX = 1024
APPLY_INTERVAL_S = 1.0
#: How long a batch of results may wait while another process has the library.
LENT_WAIT_MAX_S = 10.0
#: jobs sent to a worker process in one task at most (fewer near the end of the queue)
CHUNK_MAX = 8
#: the pool policy's one threshold: up to this many pieces of pooled work are done in the
#: calling process; more are worth starting a worker pool (~0.3 s of both cores)
INLINE_MAX_JOBS = 8


def wants_pool(jobs: int | None, workers: int, executor: str) -> bool:
    """The pool policy, for everything that could open a worker pool (an ingest, a run of the
    queue, analysis through it, an export's renders): a pool for more than
    :data:`INLINE_MAX_JOBS` jobs (None: more than can be counted yet), when there is more
    than one worker or the executor is a Dask cluster."""
    many = jobs is None or jobs > INLINE_MAX_JOBS
    return many and (workers > 1 or executor != LOCAL)


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
_Prepared = tuple[JobRow, JobHandler, Any]


@dataclass(frozen=True)
class _Scope:
    """Which jobs a run drains: of a project, of some types, or these ids."""

    project_id: str | None
    types: list[str] | None
    ids: list[str] | None


class _Runner:
    """One run of :func:`run_jobs`: claim, prepare, compute (here or in the pool), write."""

    def __init__(
        self,
        catalog: Catalog,
        scope: _Scope,
        progress: ProgressCallback | None,
        workers: int,
        pool: Executor | None,
    ) -> None:
        self.catalog, self.scope, self.progress = catalog, scope, progress
        self.n_workers = workers
        self.window = 64 if workers < 2 else 512 * workers  # ~1 s of small jobs
        self.pool = pool
        self.own_pool: Executor | None = None
        self.report = RunReport()
        self.todo: deque[_Prepared] = deque()  # prepared, not yet sent
        self.inflight: dict[Future[Any], list[_Prepared]] = {}
        self.ready: list[_Ready] = []
        self.total: int | None = None
        if scope.types is None and scope.ids is None:
            counts = job_counts(catalog, scope.project_id)
            self.total = counts.get("queued", 0) + counts.get("running", 0)
        elif scope.ids is not None:
            self.total = len(scope.ids)
        self.done_count = 0
        #: jobs claimed and not yet done, failed or requeued: what Ctrl-C must hand back
        self.open: dict[str, JobRow] = {}
        self.last_write = time.monotonic()
        self.drained_at: float | None = None  # when a claim last found fewer than it asked

    # -- results ------------------------------------------------------------------------
    def note(self, job: JobRow, status: ItemStatus, reason: str | None = None) -> None:
        self.open.pop(job.id, None)
        self.done_count += 1
        self.report.results.append(
            ItemResult(item=job.type, status=status, reason=reason, asset_id=job.asset_id)
        )
        report(
            self.progress,
            Progress(
                "jobs", self.done_count, self.total, item=job.type, status=status, message=reason
            ),
        )

    def fail(self, job: JobRow, handler: JobHandler, exc: BaseException) -> None:
        reason, detail = _reason(exc), _detail(exc)
        log.debug("job %s (%s) failed: %s\n%s", job.id, job.type, reason, detail)
        if fail_job(self.catalog, job, reason, detail=detail):
            self.open.pop(job.id, None)  # queued again, for its retry
            self.report.retried += 1
            return
        self.report.failed += 1
        self.note(job, "failed", reason)
        handler.on_failed(self.catalog, job, reason)  # e.g. an export row shows the reason

    def apply_all(self, good: list[_Prepared]) -> None:
        by_handler: dict[int, list[_Prepared]] = {}
        for item in good:
            by_handler.setdefault(id(item[1]), []).append(item)
        for items in by_handler.values():
            items[0][1].apply_batch(self.catalog, [(j, r) for j, _, r in items])
        complete_jobs(self.catalog, [(j, r) for j, _, r in good])

    def write(self) -> None:
        """Write what is ready: results applied and jobs done in one transaction; a batch
        that fails is redone job by job, so one bad result fails one job."""
        batch, self.ready = self.ready, []
        self.last_write = time.monotonic()
        good = [(j, h, r) for j, h, r, e in batch if e is None]
        for job, handler, _, exc in batch:
            if exc is not None:
                self.fail(job, handler, exc)
        if not good:
            return
        try:
            with self.catalog.transaction():
                self.apply_all(good)
        except Exception:
            log.debug("a batch of %d results failed; applying one by one", len(good), exc_info=True)
            for item in good:
                try:
                    with self.catalog.transaction():
                        self.apply_all([item])
                except Exception as exc:
                    self.fail(item[0], item[1], exc)
                else:
                    self.report.done += 1
                    self.note(item[0], "ok")
            return
        self.report.done += len(good)
        for job, _, _ in good:
            self.note(job, "ok")

    def write_if_due(self) -> None:
        busy = bool(self.inflight or self.todo)
        waited = time.monotonic() - self.last_write
        if not self.ready or (
            busy and len(self.ready) < APPLY_BATCH_MAX and waited < APPLY_INTERVAL_S
        ):
            return
        if busy and waited < LENT_WAIT_MAX_S and self.catalog.lent():
            return  # another process has the library: keep computing, write a bit later
        self.write()

    # -- computing ----------------------------------------------------------------------
    def executor(self) -> Executor:
        if self.pool is not None:
            return self.pool
        if self.own_pool is None:
            self.own_pool = open_pool(
                self.catalog.settings.executor, self.n_workers, background=True
            )
        return self.own_pool

    def compute_inline(self, job: JobRow, handler: JobHandler, payload: Any) -> None:
        """Compute a job in this process, with the run's progress channel; its result or
        exception joins ``ready``."""
        try:
            result = handler.compute_with_progress(payload, self.progress)
            self.ready.append((job, handler, result, None))
        except Exception as exc:
            self.ready.append((job, handler, None, exc))
        if time.monotonic() - self.last_write >= APPLY_INTERVAL_S:
            self.write()

    def compute_here(self) -> bool:
        """While the pool's workers start, compute the next pooled job in this process (the
        first second of a run is not spent waiting). True if it did."""
        if not self.todo or pool_ready(self.executor()):
            return False
        self.compute_inline(*self.todo.popleft())
        return True

    def submit(self) -> None:
        """Send every prepared job to the workers, in chunks that shrink as ``todo`` does (so
        the last tasks are single jobs and no worker idles while another finishes a chunk).
        A pool may ask for bigger chunks (``chunk_max``) and cap the tasks out at once
        (``max_inflight``): a Dask cluster does both."""
        if not self.todo:
            return
        pool = self.executor()
        most = getattr(pool, "chunk_max", CHUNK_MAX)
        limit = getattr(pool, "max_inflight", None)
        while self.todo and (limit is None or len(self.inflight) < limit):
            size = max(1, min(most, len(self.todo) // (4 * self.n_workers)))
            chunk = [self.todo.popleft()]
            while self.todo and len(chunk) < size and self.todo[0][1] is chunk[0][1]:
                chunk.append(self.todo.popleft())
            handler = chunk[0][1]
            target = handler.compute_target or type(handler).__module__
            fut = pool.submit(compute_many, handler.type, target, [p for _, _, p in chunk])
            self.inflight[fut] = chunk

    def collect(self) -> None:
        """Wait (briefly) for finished chunks and move their outcomes to ``ready``."""
        if not self.inflight:
            return
        # (at least 20 ms: while results wait for the library, the loop must not spin)
        timeout = max(0.02, self.last_write + APPLY_INTERVAL_S - time.monotonic())
        finished, _ = wait(
            list(self.inflight), timeout=timeout if self.ready else 0.5, return_when=FIRST_COMPLETED
        )
        for fut in finished:
            chunk = self.inflight.pop(fut)
            fut_exc = fut.exception()
            outcomes: list[tuple[bool, Any]] = (
                [(False, (_reason(fut_exc), _detail(fut_exc)))] * len(chunk)
                if fut_exc is not None
                else fut.result()
            )
            for (job, handler, _), (ok, value) in zip(chunk, outcomes, strict=True):
                error = None if ok else ComputeError(*value)
                self.ready.append((job, handler, value if ok else None, error))
        self.submit()

    # -- claiming -----------------------------------------------------------------------
    def held(self) -> int:
        return len(self.todo) + sum(len(v) for v in self.inflight.values())

    def claim(self) -> list[JobRow]:
        """Claim more jobs when the window has room (and not again right after a claim came
        back short while work is still out: the queue is drained)."""
        now = time.monotonic()
        recent = self.drained_at is not None and self.inflight and now - self.drained_at <= 1.0
        if self.held() > self.window // 2 or recent:
            return []
        if self.held() and self.catalog.lent():  # the workers have enough to go on
            return []
        want = self.window - self.held()
        s = self.scope
        claimed = claim_jobs(
            self.catalog, limit=want, project_id=s.project_id, types=s.types, ids=s.ids
        )
        self.drained_at = now if len(claimed) < want else None
        self.open.update((j.id, j) for j in claimed)
        pooled = self.use_pool(claimed, full=len(claimed) == want)
        for job, handler_or_exc, payload in _prepare_all(self.catalog, claimed):
            if isinstance(handler_or_exc, BaseException):
                self.ready.append((job, _NULL_HANDLER, None, handler_or_exc))
            elif handler_or_exc.pooled and pooled:
                self.todo.append((job, handler_or_exc, payload))
            else:
                self.compute_inline(job, handler_or_exc, payload)
        return claimed

    def use_pool(self, claimed: list[JobRow], full: bool) -> bool:
        """Whether the pooled jobs of a claim go to a pool: the caller's when it has more than
        one worker or is a Dask cluster; else the run's own, opened by the pool policy
        (:func:`wants_pool`) before the claim is prepared, so its workers boot meanwhile."""
        if self.pool is not None:
            return self.n_workers > 1 or is_distributed(self.pool)
        if self.own_pool is None:
            pooled = sum(1 for j in claimed if _pooled(j.type))
            waiting = None if full and pooled else pooled  # a full claim: more are queued
            if not wants_pool(waiting, self.n_workers, self.catalog.settings.executor):
                return False
            self.executor()
        return True

    def step(self) -> bool:
        """One turn of the loop; False when the run has nothing left to do now."""
        claimed = self.claim()
        if self.compute_here():
            return True
        self.submit()
        self.collect()
        self.write_if_due()
        return bool(self.inflight or self.todo or claimed or self.ready)

    def wait_for_more(self, more_coming: Callable[[], bool] | None) -> bool:
        """Nothing to do now: sleep until a delayed job is due; False when the run is over."""
        s = self.scope
        delay = _next_delay(self.catalog, s.project_id, s.types, s.ids)
        if delay is None:
            if more_coming is not None and more_coming():  # a producer is still enqueuing
                time.sleep(0.02)
                return True
            return False
        time.sleep(min(delay, 1.0))
        return True

    def stop(self, interrupted: bool) -> None:
        """End the run's own pool (a caller's pool ends with the caller's ``with`` block);
        after Ctrl-C, keep what was computed and hand the other claimed jobs back."""
        if self.own_pool is not None:
            stop_pool(self.own_pool, now=interrupted)
        if interrupted:
            _save_interrupted(self.catalog, self.write, lambda: list(self.open.values()))


def run_jobs(
    catalog: Catalog,
    project_id: str | None = None,
    *,
    types: Iterable[str] | None = None,
    job_ids: Iterable[str] | None = None,
    progress: ProgressCallback | None = None,
    workers: int | None = None,
    pool: Executor | None = None,
    should_stop: Callable[[], bool] | None = None,
    more_coming: Callable[[], bool] | None = None,
) -> RunReport:
    """Drain the queue (of a project, of some types, or just ``job_ids``): claim, compute,
    apply, retry.

    Pooled handlers compute in worker processes, in small chunks of jobs per task: on
    ``pool`` when given, else on a pool of the run's own when the pool policy
    (:func:`wants_pool`) says so; everything is written from this process, in batches:
    results are applied and marked done in one transaction per batch
    (``handler.apply_batch(catalog, [(job, result), ...])``). A batch whose transaction
    fails is redone job by job, so one bad result fails one job. A job that raises is
    retried with backoff and, after its last attempt, marked ``failed`` with the reason (and
    the handler's ``on_failed(catalog, job, reason)`` runs); the run goes on. What computes
    in this process gets ``progress`` as its progress channel
    (``handler.compute_with_progress``). With ``more_coming``, an empty queue ends the run
    only once ``more_coming()`` is False (another thread is still enqueuing jobs).
    """
    reclaim_jobs(catalog)
    scope = _Scope(
        project_id,
        list(types) if types is not None else None,
        list(job_ids) if job_ids is not None else None,
    )
    n = workers or getattr(pool, "workers", None) or catalog.settings.workers
    run = _Runner(catalog, scope, progress, n, pool)
    interrupted = False
    try:
        while should_stop is None or not should_stop():
            if not run.step() and not run.wait_for_more(more_coming):
                break
    except BaseException:
        # Ctrl-C, or anything else that ends the run early (Ctrl-C landing inside a lock's
        # wait surfaces as a RuntimeError): keep what was computed, hand back the rest
        interrupted = True
        raise
    finally:
        run.stop(interrupted)
    return run.report


def _save_interrupted(
    catalog: Catalog, write_ready: Callable[[], None], unfinished: Callable[[], list[JobRow]]
) -> None:
    """After Ctrl-C: write the results already computed, and put the jobs still out with the
    workers back in the queue, so the next run resumes at once (nothing is left ``running``).
    A second Ctrl-C meanwhile leaves the rest to the next run's reclaim."""
    for step in (write_ready, lambda: release_jobs(catalog, unfinished())):
        try:
            step()
        except (KeyboardInterrupt, Exception):
            log.debug("an interrupted run could not save everything", exc_info=True)


def _prepare_all(
    catalog: Catalog, claimed: list[JobRow]
) -> list[tuple[JobRow, JobHandler | BaseException, Any]]:
    """(job, handler or the exception, payload) of each claimed job, in order. Each handler
    prepares its jobs with one ``prepare_batch`` call (one query when it can); if that call
    raises, each of its jobs is prepared on its own."""
    outcome: dict[str, tuple[JobHandler | BaseException, Any]] = {}
    by_type: dict[str, list[JobRow]] = {}
    for job in claimed:
        by_type.setdefault(job.type, []).append(job)
    for job_type, group in by_type.items():
        try:
            handler = get_handler(job_type)
        except Exception as exc:
            outcome.update((job.id, (exc, None)) for job in group)
            continue
        try:
            payloads = handler.prepare_batch(catalog, group)
            if len(payloads) != len(group):
                raise ValueError(f"{len(payloads)} payloads for {len(group)} jobs")
        except Exception:
            payloads = prepare_each(handler, catalog, group)
        for job, payload in zip(group, payloads, strict=True):
            failed = isinstance(payload, BaseException)
            outcome[job.id] = (payload, None) if failed else (handler, payload)
    return [(job, *outcome[job.id]) for job in claimed]


def _pooled(job_type: str) -> bool:
    """Whether jobs of this type compute in a worker pool (False for an unknown type)."""
    try:
        return get_handler(job_type).pooled
    except Exception:
        return False


def _detail(exc: BaseException) -> str:
    """The traceback of a failure: the worker's, carried back, or this process's."""
    if isinstance(exc, ComputeError) and exc.detail:
        return exc.detail
    return "".join(traceback.format_exception(exc))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ComputeError):
        return " ".join(str(exc).split())
    return describe_exception(exc)


def _next_delay(
    catalog: Catalog, project_id: str | None, types: list[str] | None, ids: list[str] | None
) -> float | None:
    """Seconds until the next delayed job is due, or None when nothing is left to run."""
    scope = queued_scope(project_id, types, ids)
    if scope is None:
        return None
    where, params = scope
    due, queued = next_due(catalog, where, params)
    if due is None:
        return 0.0 if queued else None
    wait_s = (from_catalog(due) - utcnow()).total_seconds()  # type: ignore[operator]
    return max(0.0, wait_s)


class _NullHandler(JobHandler):
    """Stands for the handler of a job that could not be prepared (every hook a no-op)."""

    type = "_null"


_NULL_HANDLER = _NullHandler()
