"""The job contract: the name of every job type and event type, the base class of a job
handler with every hook and its default, and the registry of handlers by job type.

Light on purpose (no catalog, no pydantic): the job queue and runner (:mod:`kilo.jobs`) and
the worker processes (:mod:`kilo.workers`, which must start in a fraction of a second) both
import it, so neither imports the other for it.

A job type is a :class:`JobHandler` subclass registered under its :class:`JobType`. Its work is
split so that the catalog is only ever written from the process that owns it:

* ``prepare(catalog, job) -> payload``: main process, reads what the work needs
  (``prepare_batch``: the payloads of a whole claim, with one query when it can);
* ``compute(payload) -> result``: in a worker process when ``pooled`` (CPU-bound decoding), a
  pure function of its payload with no catalog access; in the main process otherwise
  (``compute_with_progress``, with the run's progress channel);
* ``apply(catalog, job, result)``: main process, writes the result in the run's transaction
  (``apply_batch``: every result that is back, with multi-row statements when it can);
* ``reclaim(catalog, job)`` after a killed run left the job running, ``on_failed(catalog,
  job, reason)`` once it failed for good.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from kilo.errors import InvalidInput

if TYPE_CHECKING:
    from kilo.catalog import Catalog
    from kilo.progress import ProgressCallback

__all__ = [
    "HANDLER_PATHS",
    "EventType",
    "JobHandler",
    "JobRow",
    "JobType",
    "get_handler",
    "is_registered",
    "prepare_each",
    "register_handler",
]


class JobType(StrEnum):
    """Every job type kilo runs, as stored in ``jobs.type`` (and shown by ``kilo jobs``)."""

    PROCESS = "asset.process"  # metadata, sha256, thumbnail and preview of one asset
    ANALYZE = "asset.analyze"  # quality signals and perceptual hashes of one asset
    EMBED = "project.embed"  # CLIP vectors of a project's assets
    CLUSTER = "project.cluster"  # moments, bursts and duplicate groups, ranked
    EDIT_APPLY = "edit.apply"  # one version's settings written to many assets
    EXPORT = "export.run"  # an export rendered and published


class EventType(StrEnum):
    """Every type of the catalog's event log (``events.type``), which is the ``event:`` name
    of the HTTP realtime stream; the contract names job.progress, job.done, cluster.updated,
    asset.updated and export.updated."""

    JOB_QUEUED = "job.queued"
    JOB_PROGRESS = "job.progress"
    JOB_DONE = "job.done"
    JOB_RETRY = "job.retry"
    JOB_FAILED = "job.failed"
    JOB_RECLAIMED = "job.reclaimed"
    ASSETS_REGISTERED = "assets.registered"
    ASSET_UPDATED = "asset.updated"
    ASSET_QUARANTINED = "asset.quarantined"
    CLUSTER_UPDATED = "cluster.updated"
    CLUSTER_REVIEWED = "cluster.reviewed"
    CULL_UNDONE = "cull.undone"
    CULL_REDONE = "cull.redone"
    CULL_ACCEPTED_WINNERS = "cull.accepted_winners"
    RATINGS_UPDATED = "ratings.updated"
    EDIT_CREATED = "edit.created"
    EDIT_APPLIED = "edit.applied"
    PROJECT_CREATED = "project.created"
    PROJECT_UPDATED = "project.updated"
    GALLERY_CREATED = "gallery.created"
    GALLERY_SELECTION = "gallery.selection"
    EXPORT_UPDATED = "export.updated"


@dataclass(slots=True)
class JobRow:
    """A claimed job, as its handler's hooks get it."""

    id: str
    type: str
    project_id: str | None
    asset_id: str | None
    payload: dict[str, Any]
    attempts: int
    max_attempts: int


class JobHandler:
    """What one job type does. A subclass sets ``type`` and overrides the hooks it needs; every
    hook has a default, so the runner calls each one directly."""

    #: the job type it runs (a :class:`JobType`; tests register names of their own)
    type: ClassVar[str]
    #: compute in a worker process (CPU-bound; a picklable payload and result)
    pooled: ClassVar[bool] = False
    #: ``"module:function"`` a worker calls with each payload instead of importing the
    #: handler's module (a lighter import: a faster pool start); a None payload computes to None
    compute_target: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not isinstance(getattr(cls, "type", None), str):
            raise TypeError(f"job handler {cls.__name__} names no job type")

    def prepare(self, catalog: Catalog, job: JobRow) -> Any:
        """Main process: read what ``compute`` needs. Default: the job's payload."""
        return job.payload

    def prepare_batch(self, catalog: Catalog, jobs: list[JobRow]) -> list[Any]:
        """Main process: the payloads of many jobs of this type, in order (one query for a
        whole claim); an element that is an exception fails that job alone. If it raises,
        the runner prepares each job on its own. Default: :func:`prepare_each`."""
        return prepare_each(self, catalog, jobs)

    def compute(self, payload: Any) -> Any:
        """A worker process when ``pooled`` (a pure function of the payload, no catalog), this
        process otherwise. Default: the payload is the result."""
        return payload

    def compute_with_progress(self, payload: Any, progress: ProgressCallback | None) -> Any:
        """How this process computes (a handler that is not pooled, or a pooled one while the
        pool starts), with the run's progress channel. Default: ``compute(payload)``."""
        return self.compute(payload)

    def apply(self, catalog: Catalog, job: JobRow, result: Any) -> None:
        """Main process, in the run's transaction: write the result. Default: nothing (a dict
        result is stored with the job)."""

    def apply_batch(self, catalog: Catalog, items: list[tuple[JobRow, Any]]) -> None:
        """Main process, in one transaction: write many results (multi-row statements). A batch
        that raises is redone job by job. Default: ``apply`` each."""
        for job, result in items:
            self.apply(catalog, job, result)

    def reclaim(self, catalog: Catalog, job: JobRow) -> None:
        """The process running the job was killed and the job is queued again: clean up after
        it (an export removes its staging folder). Default: nothing."""

    def on_failed(self, catalog: Catalog, job: JobRow, reason: str) -> None:
        """The job failed for good (its last attempt): show it where users look (an export's
        row). Default: nothing."""


def prepare_each(handler: JobHandler, catalog: Catalog, jobs: list[JobRow]) -> list[Any]:
    """``handler.prepare`` of each job in turn: its payload, or the exception it raised."""
    out: list[Any] = []
    for job in jobs:
        try:
            out.append(handler.prepare(catalog, job))
        except Exception as exc:
            out.append(exc)
    return out


#: job type -> "module:attribute" of its handler; imported on first use so that start-up
#: stays light (no torch unless an embedding job runs).
HANDLER_PATHS: dict[str, str] = {
    JobType.PROCESS: "kilo.ingest.handlers:PROCESS_HANDLER",
    JobType.ANALYZE: "kilo.measure.handlers:ANALYZE_HANDLER",
    JobType.EMBED: "kilo.measure.embed.handlers:EMBED_HANDLER",
    JobType.CLUSTER: "kilo.group.handlers:CLUSTER_HANDLER",
    JobType.EDIT_APPLY: "kilo.edit.handlers:APPLY_HANDLER",
    JobType.EXPORT: "kilo.export.handlers:EXPORT_HANDLER",
}
_HANDLERS: dict[str, JobHandler] = {}
_Handler = TypeVar("_Handler", bound=JobHandler)


def register_handler(handler: _Handler) -> _Handler:
    _HANDLERS[handler.type] = handler
    return handler


def is_registered(job_type: str) -> bool:
    """True when :func:`get_handler` knows the job type (registered, or in HANDLER_PATHS)."""
    return job_type in _HANDLERS or job_type in HANDLER_PATHS


def get_handler(job_type: str) -> JobHandler:
    if job_type not in _HANDLERS:
        path = HANDLER_PATHS.get(job_type)
        if path is None:
            raise InvalidInput(f"unknown job type {job_type!r}")
        module, _, attr = path.partition(":")
        _HANDLERS[job_type] = getattr(importlib.import_module(module), attr)
    return _HANDLERS[job_type]
