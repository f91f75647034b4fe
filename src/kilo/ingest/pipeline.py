"""Process, then analyze: what follows registering photos, the same for every front end
(``kilo ingest`` once its files are registered and processed, the server's job worker once
a project's uploads are processed)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor

from kilo.analyze import AnalyzeReport, analyze
from kilo.catalog import Catalog
from kilo.ingest.run import mark_ingested
from kilo.jobs.reservations import release_reservations, reserve_jobs
from kilo.jobs.runner import run_jobs
from kilo.jobspec import JobType
from kilo.models import KiloModel
from kilo.progress import Progress, ProgressCallback, report

__all__ = ["ProcessReport", "process_project"]


class ProcessReport(KiloModel):
    """What one :func:`process_project` did."""

    project_id: str
    processed: int = 0  # asset.process jobs this call ran to the end
    failed: int = 0
    #: the analysis that followed (None: stopped before it)
    analysis: AnalyzeReport | None = None

    @property
    def ok(self) -> bool:
        return self.failed == 0 and (self.analysis is None or self.analysis.ok)


def process_project(
    catalog: Catalog,
    project_id: str,
    *,
    progress: ProgressCallback | None = None,
    pool: Executor | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> ProcessReport:
    """Run the project's queued ``asset.process`` jobs (metadata, thumbnails, previews: what
    an ingest or an upload left queued), then analyze the project (signals, hashes, clusters
    and winners: :func:`kilo.analyze.analyze`).

    Pooled work runs on ``pool`` when given (the caller ends it), else on a pool opened by the
    pool policy (:func:`kilo.jobs.runner.wants_pool`). With ``should_stop`` (a server shutting
    down), what is left stays queued and the analysis is skipped once it returns True.
    """
    rep = ProcessReport(project_id=project_id)
    _process_queued(catalog, rep, progress, pool, should_stop)
    if should_stop is not None and should_stop():
        return rep
    rep.analysis = analyze(
        catalog, project_id, progress=progress, pool=pool, should_stop=should_stop
    )
    return rep


def _process_queued(
    catalog: Catalog,
    rep: ProcessReport,
    progress: ProgressCallback | None,
    pool: Executor | None,
    should_stop: Callable[[], bool] | None,
) -> None:
    """The project's queued ``asset.process`` jobs, run here (nothing to do, and no progress
    shown, when there are none: after ``kilo ingest`` processed its files)."""
    queued = catalog.table("jobs").count_where(
        "project_id = ? AND type = ? AND status = 'queued'", [rep.project_id, JobType.PROCESS]
    )
    if not queued:
        return

    def relay(p: Progress) -> None:
        report(
            progress,
            Progress(
                "process",
                p.done,
                p.total or queued,
                item=p.item,
                status=p.status,
                message=p.message,
            ),
        )

    reserve_jobs(catalog, rep.project_id, JobType.PROCESS)  # a server beside leaves them
    try:
        run = run_jobs(
            catalog,
            rep.project_id,
            types=[JobType.PROCESS],
            progress=relay,
            pool=pool,
            should_stop=should_stop,
        )
    finally:
        release_reservations(catalog)
    mark_ingested(catalog, rep.project_id)
    rep.processed, rep.failed = run.done, run.failed
