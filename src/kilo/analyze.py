"""``analyze``: run the culling engine on a project.

Queues ``asset.analyze`` for every asset without current signals or hashes, ``project.embed``
when CLIP is enabled (a missing model is a warning, not a failure: clustering then uses
hashes and signals), then ``project.cluster``, and runs them in that order.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from pydantic import Field

from kilo.catalog import Catalog
from kilo.catalog.file_reads import count_clusters_by_kind
from kilo.catalog.measures_repo import list_unmeasured, unmeasured_by_project
from kilo.jobspec import JobType
from kilo.models import KiloModel
from kilo.progress import ItemResult, Progress, ProgressCallback, report
from kilo.records import json_object

__all__ = ["AnalyzeReport", "analyze", "clock_warning", "pending_analysis"]


class AnalyzeReport(KiloModel):
    """What one ``analyze`` run did."""

    project_id: str
    analyzed: int = 0
    failed: int = 0
    embedded: int = 0
    embed_warning: str | None = None
    embedding_model: str | None = None
    #: what found faces and judged eyes: "blazeface" (MediaPipe's models) or "haar"
    face_detector: str = "haar"
    clusters: dict[str, int] = Field(default_factory=dict)
    results: list[ItemResult] = Field(default_factory=list)
    #: photos placed in time without a zone (no offset of their own, none for the project)
    #: among photos that have one, so their order and moments may be hours off
    clock_warning: str | None = None

    @property
    def ok(self) -> bool:
        return self.failed == 0


def pending_analysis(catalog: Catalog, project_id: str) -> list[str]:
    """Assets of the project whose signals (current version) or hashes are missing."""
    from kilo.measure.signals import SIGNALS_VERSION

    return list_unmeasured(catalog, project_id, SIGNALS_VERSION)


def projects_to_analyze(catalog: Catalog) -> dict[str, frozenset[str]]:
    """Projects whose processed photos wait for analysis, with those photos; a project with
    photos still being processed is left until they are done (what a server's worker runs
    after an upload, as ``kilo analyze`` after ``kilo ingest``)."""
    from kilo.measure.signals import SIGNALS_VERSION

    rows = unmeasured_by_project(catalog, SIGNALS_VERSION, JobType.PROCESS)
    out: dict[str, set[str]] = {}
    for pid, aid in rows:
        out.setdefault(str(pid), set()).add(str(aid))
    return {pid: frozenset(ids) for pid, ids in out.items()}


def _run(
    catalog: Catalog,
    project_id: str,
    job_type: str,
    n: int,
    progress: ProgressCallback | None,
    should_stop: Callable[[], bool] | None = None,
    pool: Executor | None = None,
) -> Any:
    from kilo.jobs import run_jobs
    from kilo.jobs.reservations import release_reservations, reserve_jobs

    def relay(p: Progress) -> None:
        report(
            progress,
            Progress(
                job_type, p.done, n or p.total, item=p.item, status=p.status, message=p.message
            ),
        )

    reserve_jobs(catalog, project_id, job_type)  # a server beside leaves them to this run
    try:  # signals on ``pool``, else on a pool the run opens if the pool policy says so
        return run_jobs(
            catalog,
            project_id,
            types=[job_type],
            progress=relay,
            pool=pool,
            should_stop=should_stop,
        )
    finally:
        release_reservations(catalog)


def analyze(
    catalog: Catalog,
    project_id: str,
    *,
    progress: ProgressCallback | None = None,
    embed: bool | None = None,
    should_stop: Callable[[], bool] | None = None,
    pool: Executor | None = None,
) -> AnalyzeReport:
    """Compute missing signals and hashes, embed (when enabled), then cluster and rank.

    ``embed`` defaults to the ``clip_enabled`` setting. Failed assets are reported per item
    (``results``) and left out of clustering's signal-based ranking; the run goes on.
    Signals are computed on ``pool`` when given (the caller ends it), else on a pool of the
    ``executor`` setting made for the run.
    """
    from kilo.jobs import enqueue, enqueue_many
    from kilo.measure.faces import face_source
    from kilo.projects import require_project

    pid = require_project(catalog, project_id)
    rep = AnalyzeReport(project_id=pid, face_detector=face_source())
    todo = pending_analysis(catalog, pid)
    enqueue_many(
        catalog,
        [
            {
                "job_type": JobType.ANALYZE,
                "project_id": pid,
                "asset_id": aid,
                "priority": 50,
                "dedupe_key": f"{JobType.ANALYZE}:{aid}",
            }
            for aid in todo
        ],
    )
    run = _run(catalog, pid, JobType.ANALYZE, len(todo), progress, should_stop, pool)
    if should_stop is not None and should_stop():
        return rep  # stopped (a server shutting down): the rest stays queued
    rep.analyzed = run.done
    rep.failed = run.failed
    rep.results += run.results

    use_embed = catalog.settings.clip_enabled if embed is None else embed
    if use_embed:
        from kilo.measure.embed.handlers import enqueue_embed

        enqueue_embed(catalog, pid)
        emb_run = _run(catalog, pid, JobType.EMBED, 0, progress, should_stop)
        rep.results += [r for r in emb_run.results if r.status == "failed"]
        for job in catalog.table("jobs").rows_where(
            "project_id = ? AND type = ? AND status = 'done'",
            [pid, JobType.EMBED],
            select=("result",),
            order_by="updated_at DESC",
            limit=max(1, emb_run.done),
        ):
            data = json_object(job["result"])
            rep.embedded += int(data.get("embedded", 0) or 0)
            rep.embed_warning = rep.embed_warning or data.get("warning")

    enqueue(
        catalog, JobType.CLUSTER, project_id=pid, priority=90, dedupe_key=f"{JobType.CLUSTER}:{pid}"
    )
    cl_run = _run(catalog, pid, JobType.CLUSTER, 1, progress, should_stop)
    rep.results += [r for r in cl_run.results if r.status == "failed"]
    from kilo.group.handlers import current_model_id

    rep.embedding_model = current_model_id(catalog, pid)
    rep.clusters = count_clusters_by_kind(catalog, pid)
    rep.clock_warning = clock_warning(catalog, pid)
    return rep


def clock_warning(catalog: Catalog, project_id: str) -> str | None:
    """Why moments may be hours off: photos with no offset of their own, in a project with
    no time zone, among photos that have one (their wall clock is then read at the offset
    most of the others carry: right when the camera was set to the time where it was)."""
    from kilo.catalog.assets_repo import count_offsets
    from kilo.catalog.file_reads import read_shoot_offset

    if catalog.table("projects").value(project_id, "timezone"):
        return None
    zoned, floating = count_offsets(catalog, project_id)
    if not zoned or not floating:
        return None
    guess = read_shoot_offset(catalog, project_id) or 0
    sign, minutes = ("-" if guess < 0 else "+"), abs(guess)
    return (
        f"{floating} photo(s) carry no time zone of their own, {zoned} do: without the "
        f"project's time zone they are placed in time at {sign}{minutes // 60:02d}:"
        f"{minutes % 60:02d}, the offset the others carry, so a camera set to another "
        "zone's time sorts and groups hours away from them (set the zone: kilo project "
        "update PROJECT --timezone Area/City, then analyze again)"
    )
