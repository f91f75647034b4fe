"""The ingest run: discover, skip the unchanged, identify, register, then drain the
``asset.process`` jobs (see :mod:`kilo.ingest` for the steps)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path

from pydantic import Field

from kilo.catalog import Catalog
from kilo.clock import utcnow
from kilo.executors import is_distributed, open_pool
from kilo.ingest.discover import Discovery, Found, discover
from kilo.ingest.identify import Identified, identify, identify_many
from kilo.ingest.register import Registrar, mark_sources_ingested, requeue_unprocessed
from kilo.jobs.reservations import release_reservations, reserve_jobs
from kilo.jobs.runner import wants_pool
from kilo.jobspec import JobType
from kilo.models import KiloModel
from kilo.progress import ItemResult, Progress, ProgressCallback, report
from kilo.quarantine import list_quarantined_since
from kilo.settings import Settings

__all__ = ["IngestFailure", "IngestReport", "ingest"]

BATCH_SIZE = 500
FIRST_BATCH_SIZE = 32
IO_THREADS = 4


class IngestFailure(KiloModel):
    path: str
    reason: str


class IngestReport(KiloModel):
    """What one ingest run did. ``results`` has one item per candidate file."""

    project_id: str
    discovered: int = 0
    registered: int = 0  # new assets (one per frame) recorded by this run
    ready: int = 0  # assets of this run processed (metadata + renditions)
    resumed: int = 0  # assets an earlier, interrupted run left queued, processed by this one
    skipped: int = 0
    failed: int = 0
    ignored: int = 0  # not photos (README.md, videos), hidden files, OS junk
    bytes_total: int = 0
    elapsed_s: float = 0.0
    asset_ids: list[str] = Field(default_factory=list)
    failures: list[IngestFailure] = Field(default_factory=list)
    results: list[ItemResult] = Field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "discovered": self.discovered,
            "registered": self.registered,
            "ready": self.ready,
            "skipped": self.skipped,
            "failed": self.failed,
            "ignored": self.ignored,
            "resumed": self.resumed,
        }

    @property
    def ok(self) -> bool:
        return self.failed == 0


def ingest(
    catalog: Catalog,
    project_id: str,
    sources: Sequence[str | Path],
    *,
    copy: bool = False,
    progress: ProgressCallback | None = None,
    process: bool = True,
    follow_symlinks: bool = False,
    pool: Executor | None = None,
) -> IngestReport:
    """Ingest ``sources`` (local paths or fsspec URLs) into the project.

    Never stops on a bad file: it is quarantined with a one-line reason and counted in
    ``failed``. Links to files outside a source folder are skipped unless
    ``follow_symlinks``. With ``process=False`` the assets are only registered and their
    ``asset.process`` jobs left queued (``kilo.jobs.run_jobs`` runs them later).
    Raises NotFound for an unknown project or a source that does not exist.

    Decoding runs on ``pool`` when one is given (:func:`kilo.executors.open_pool`; the
    caller ends it), else on a pool of the ``executor`` setting made for the run. On a Dask
    pool the files are also read and hashed by its workers, so this process reads none.
    """
    from kilo.projects import get_project

    started = time.perf_counter()
    run_start = utcnow()
    project_id = get_project(catalog, project_id).id
    settings = catalog.settings
    rep = IngestReport(project_id=project_id)

    found, counts = _discover(sources, settings, follow_symlinks, rep, progress)
    reg = Registrar(catalog, project_id, reserve=process)
    reg.load()
    todo = _to_identify(found.files, reg, counts)
    done, bytes_done = counts["skipped"], rep.bytes_total - sum(f.size for f in todo)
    report(
        progress,
        Progress("register", done, rep.discovered, bytes_done=bytes_done, counts=dict(counts)),
    )
    own = pool is None and process and wants_pool(len(todo), settings.workers, settings.executor)
    if own:  # its workers boot while the files are registered
        pool = open_pool(settings.executor, settings.workers, background=True)

    def register(stop: threading.Event | None = None) -> None:
        _register(
            reg,
            todo,
            rep,
            counts,
            done,
            bytes_done,
            copy,
            progress,
            stop,
            pool if is_distributed(pool) else None,
        )

    def process_jobs(more_coming: Callable[[], bool] | None = None) -> None:
        _process(catalog, project_id, progress, counts, rep.bytes_total, pool, reg, more_coming)

    try:
        with pool if own and pool is not None else nullcontext():
            if pool is None:
                register()
                if process:
                    process_jobs()
            else:  # register on a thread while the workers process what is registered
                _register_while_processing(register, process_jobs)
            if process:
                mark_ingested(catalog, project_id)
    finally:
        if process:  # what is left (after Ctrl-C) is anybody's: a server beside takes it
            release_reservations(catalog)
    _summarise(catalog, rep, reg.results, run_start)
    _in_discovery_order(rep, reg, found.files)
    rep.elapsed_s = round(time.perf_counter() - started, 3)
    return rep


def _discover(
    sources: Sequence[str | Path],
    settings: Settings,
    follow_symlinks: bool,
    rep: IngestReport,
    progress: ProgressCallback | None,
) -> tuple[Discovery, dict[str, int]]:
    """The candidate files, counted into ``rep`` and reported; the run's first counts."""
    found = discover(sources, settings, follow_symlinks=follow_symlinks)
    rep.ignored = found.ignored
    rep.discovered = len(found.files)
    rep.bytes_total = sum(f.size for f in found.files)
    counts = {"discovered": rep.discovered, "registered": 0, "skipped": 0, "failed": 0}
    report(progress, Progress("discover", rep.discovered, rep.discovered, counts=dict(counts)))
    return found, counts


def _to_identify(files: list[Found], reg: Registrar, counts: dict[str, int]) -> list[Found]:
    """The files to identify (not skipped, changed since an earlier run), largest first: the
    last tasks of the run are small, so no worker finishes long after the other (stable:
    among same-size files, and so for duplicates, the first found wins)."""
    todo = []
    for f in files:
        if f.skip is not None:
            reg.results.append(ItemResult(item=f.uri, status="skipped", reason=f.skip))
            counts["skipped"] += 1
        elif reg.unchanged(f) is None:
            todo.append(f)
        else:
            counts["skipped"] += 1
    todo.sort(key=lambda f: -f.size)
    return todo


def _register_while_processing(
    register: Callable[[threading.Event], None],
    process_jobs: Callable[[Callable[[], bool]], None],
) -> None:
    """Registration on a thread, processing here: the workers start on the first batch of
    registered files instead of waiting for the last one. Both write the catalog through its
    lock, one transaction at a time. If processing stops (Ctrl-C, an error), registration
    stops too, after recording the files identified so far."""
    failure: list[BaseException] = []
    registering, stop = threading.Event(), threading.Event()
    registering.set()

    def register_all() -> None:
        try:
            register(stop)
        except BaseException as exc:  # raised again below, in the caller's thread
            failure.append(exc)
        finally:
            registering.clear()

    thread = threading.Thread(target=register_all, name="kilo-ingest-register", daemon=True)
    thread.start()
    try:
        process_jobs(registering.is_set)
    except BaseException:
        stop.set()
        raise
    finally:
        thread.join()
    if failure:
        raise failure[0]


def _register(
    reg: Registrar,
    todo: list[Found],
    rep: IngestReport,
    counts: dict[str, int],
    done: int,
    bytes_done: int,
    copy: bool,
    progress: ProgressCallback | None,
    stop: threading.Event | None = None,
    cluster: Executor | None = None,
) -> None:
    """Identify ``todo`` in threads (or on a Dask ``cluster``) and record it in batches. With
    ``stop`` set, or on an exception (Ctrl-C), the files not yet identified are dropped at
    once (not hashed first); after ``stop`` what was identified is still recorded."""
    catalog, project_id = reg.catalog, reg.project_id
    batch = FIRST_BATCH_SIZE  # a small first batch: the workers get going at once
    pool = ThreadPoolExecutor(max_workers=IO_THREADS)
    try:
        for ident in _identified(todo, catalog.settings, copy, cluster or pool):
            if stop is not None and stop.is_set():
                break
            result = reg.add(ident, utcnow())
            done += 1
            bytes_done += ident.found.size
            if result is None:
                rep.ignored += 1
            else:
                key = {"ok": "registered", "skipped": "skipped", "failed": "failed"}
                counts[key[result.status]] += 1
            if reg.pending >= batch:
                reg.flush()
                batch = BATCH_SIZE
            report(
                progress,
                Progress(
                    "register",
                    done,
                    rep.discovered,
                    item=ident.found.uri,
                    bytes_done=bytes_done,
                    counts=dict(counts),
                ),
            )
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    reg.flush()
    requeue_unprocessed(catalog, project_id, reserve=reg.reserve)
    rep.asset_ids = list(reg.asset_ids)
    rep.registered = len(reg.asset_ids)


def _process(
    catalog: Catalog,
    project_id: str,
    progress: ProgressCallback | None,
    counts: dict[str, int],
    total_bytes: int,
    pool: Executor | None,
    reg: Registrar,
    more_coming: Callable[[], bool] | None = None,
) -> None:
    """Drain the project's asset.process jobs (with ``more_coming``, until registration ends
    too: the total then grows as files are registered). Without ``pool`` (a few files, or
    jobs queued by an earlier run), the run opens its own if the pool policy says so."""
    from kilo.jobs import run_jobs

    reserve_jobs(catalog, project_id, JobType.PROCESS)  # left queued by an earlier run: ours now
    queued = catalog.table("jobs").count_where(
        "project_id = ? AND type = ? AND status IN ('queued', 'running')",
        [project_id, JobType.PROCESS],
    )
    earlier = max(0, queued - len(reg.asset_ids))  # left queued by an earlier run
    if queued == 0 and more_coming is None:
        return

    def relay(p: Progress) -> None:
        total = max(p.done, earlier + len(reg.asset_ids))
        done = min(p.done, total)
        report(
            progress,
            Progress(
                "process",
                done,
                total,
                item=p.item,
                status=p.status,
                message=p.message,
                bytes_done=int(total_bytes * done / total),
                counts=dict(counts, processed=done),
            ),
        )

    run_jobs(
        catalog,
        project_id,
        types=[JobType.PROCESS],
        progress=relay,
        pool=pool,
        more_coming=more_coming,
    )


def mark_ingested(catalog: Catalog, project_id: str) -> None:
    """source_files of processed assets: 'registered' -> 'ingested' (one statement)."""
    mark_sources_ingested(catalog, project_id)


def _identified(
    todo: list[Found], settings: Settings, copy: bool, pool: Executor
) -> Iterator[Identified]:
    """``identify`` of every file, in order: one file a task on threads, chunks of files on a
    Dask cluster (its workers read the sources; a small first chunk starts it at once)."""
    if not is_distributed(pool):
        yield from pool.map(lambda f: identify(f, settings, copy=copy), todo)
        return
    chunks = [todo[:4]] + [todo[i : i + 32] for i in range(4, len(todo), 32)]
    futures = [pool.submit(identify_many, c, settings, copy) for c in chunks if c]
    try:
        for future in futures:
            yield from future.result()
    finally:
        for future in futures:
            future.cancel()


def _in_discovery_order(rep: IngestReport, reg: Registrar, files: list[Found]) -> None:
    """Results and asset ids in the order the files were found (they were registered
    largest first)."""
    order = {f.uri: i for i, f in enumerate(files)}
    rep.results.sort(key=lambda r: order.get(r.item, len(order)))
    place = {
        aid: (order.get(uri, len(order)), frame)
        for uri, ids in reg.by_uri.items()
        for aid, frame in ids
    }
    rep.asset_ids.sort(key=lambda aid: place.get(aid, (len(order), 0)))


def _summarise(
    catalog: Catalog, rep: IngestReport, results: list[ItemResult], run_start: datetime
) -> None:
    """Fold processing outcomes (quarantined on decode, failed jobs) into the results."""
    this_run = list(rep.asset_ids)
    quarantined: dict[str, str] = {}
    for uri, reason in list_quarantined_since(catalog, rep.project_id, run_start):
        quarantined.setdefault(uri, reason)
    failed_jobs: dict[str, str] = {}
    if rep.asset_ids:
        for job in catalog.table("jobs").rows_where(
            "project_id = ? AND type = ? AND status = 'failed' AND updated_at >= ?",
            [rep.project_id, JobType.PROCESS, run_start],
            select=("asset_id", "error"),
        ):
            failed_jobs[job["asset_id"]] = job["error"] or "processing failed"
    states: dict[str, str] = {}
    if rep.asset_ids:
        rows = catalog.table("assets").rows_for(rep.asset_ids, ["project_id", "state"])
        states = {
            aid: str(r["state"]) for aid, r in rows.items() if r["project_id"] == rep.project_id
        }
    for r in results:
        if r.status == "ok" and r.item in quarantined:
            r.status, r.reason, r.asset_id = "failed", quarantined[r.item], None
        elif r.status == "ok" and r.asset_id in failed_jobs:
            r.status, r.reason = "failed", failed_jobs[r.asset_id]
    rep.results = results
    rep.asset_ids = [a for a in rep.asset_ids if a in states]
    rep.ready = sum(1 for a in rep.asset_ids if states[a] == "ready")
    rep.registered = len(rep.asset_ids)
    rep.skipped = sum(1 for r in results if r.status == "skipped")
    rep.failed = sum(1 for r in results if r.status == "failed")
    rep.resumed = catalog.table("jobs").count_where(
        "project_id = ? AND type = ? AND status = 'done' AND updated_at >= ? "
        "AND NOT list_contains(?::VARCHAR[], asset_id)",
        [rep.project_id, JobType.PROCESS, run_start, this_run],
    )
    rep.failures = [
        IngestFailure(path=r.item, reason=r.reason or "failed")
        for r in results
        if r.status == "failed"
    ]
