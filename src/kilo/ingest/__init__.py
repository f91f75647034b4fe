"""Ingest: any folder, card or ``s3://`` prefix into a project, fast, resumable.

>>> from kilo.ingest import ingest
>>> report = ingest(catalog, project.id, ["/media/card/DCIM"])   # doctest: +SKIP
>>> report.counts
{'discovered': 812, 'registered': 812, 'ready': 810, 'skipped': 0, 'failed': 2, ...}

Steps: discover the files; skip those a previous run settled and that have not changed
(same URI, size and mtime, before any hashing); identify the rest in threads (magic bytes,
sha256, frame count, copy into the store with ``copy=True``); record them all at once in
batches (assets in state ``registered``, ``source_files``, ``quarantine``, one
``asset.process`` job per asset), then drain those jobs with :func:`kilo.jobs.run_jobs`
(decoding in a process pool; the catalog written from this process only).
:func:`process_project` then runs what is still queued and analyzes the project: the one
"process, then analyze" of ``kilo ingest`` and of the server's job worker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kilo.ingest.pipeline import ProcessReport, process_project
    from kilo.ingest.run import IngestFailure, IngestReport, ingest, mark_ingested

__all__ = [
    "IngestFailure",
    "IngestReport",
    "ProcessReport",
    "ingest",
    "mark_ingested",
    "process_project",
]
_PIPELINE = ("ProcessReport", "process_project")


def __getattr__(name: str) -> Any:
    """The package's names, imported on first use: a worker process that only needs
    :mod:`kilo.ingest.process` never imports the catalog through this package."""
    if name in _PIPELINE:
        from kilo.ingest import pipeline

        return getattr(pipeline, name)
    if name in __all__:
        from kilo.ingest import run

        return getattr(run, name)
    raise AttributeError(f"module 'kilo.ingest' has no attribute {name!r}")
