"""How far a project's photos have come (the ingest screen's pipeline and the studio's
status pill): processed (previews ready), analysed, embedded, failed, quarantined, and the
recent throughput; one query (:func:`kilo.catalog.studio_reads.count_progress`).

Also the local ingest the browser studio starts for the photographer at this machine: the
same :func:`kilo.ingest.ingest` as ``kilo ingest``, registering on a thread while the job
worker processes what is registered."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from kilo.catalog import Catalog
from kilo.catalog.studio_reads import THROUGHPUT_WINDOW_MIN, count_progress
from kilo.errors import InvalidInput
from kilo.models.studio import ProjectProgress
from kilo.projects import require_project

__all__ = ["check_local_source", "project_progress", "start_local_ingest"]

log = logging.getLogger(__name__)


def project_progress(catalog: Catalog, project_id: str) -> ProjectProgress:
    """The project's :class:`ProjectProgress`; ``throughputPerMin`` is thumbnails made a
    minute over the last few minutes (None when none were)."""
    pid = require_project(catalog, project_id)
    c = count_progress(catalog, pid)
    recent = c["recent"]
    return ProjectProgress(
        project_id=pid,
        total=c["total"],
        processed=c["processed"],
        analyzed=c["analyzed"],
        embedded=c["embedded"],
        failed=c["failed"],
        quarantined=c["quarantined"],
        throughput_per_min=round(recent / THROUGHPUT_WINDOW_MIN, 1) if recent else None,
        queued_jobs=c["queued"],
        running_jobs=c["running"],
    )


def check_local_source(path: str) -> Path:
    """``path`` as an existing folder or file of this machine; InvalidInput (which does
    not repeat the path) else."""
    if "\x00" in path or not path.strip():
        raise InvalidInput("the path is not a folder or file on this machine")
    folder = Path(path).expanduser()
    try:
        if not folder.is_absolute() or not (folder.is_dir() or folder.is_file()):
            raise InvalidInput("the path is not a folder or file on this machine")
    except OSError:
        raise InvalidInput("the path is not a folder or file on this machine") from None
    return folder


def start_local_ingest(catalog: Catalog, project_id: str, path: str) -> threading.Thread:
    """Ingest the local folder or file ``path`` into the project on a thread: the files are
    registered (their ``asset.process`` jobs queued, which a running job worker such as
    ``kilo serve``'s processes and analyses as they come). Checks the project and the path
    first (NotFound, InvalidInput)."""
    from kilo.ingest.run import ingest

    pid = require_project(catalog, project_id)
    source = check_local_source(path)

    def run() -> None:
        try:
            report = ingest(catalog, pid, [source], process=False)
            log.info(
                "local ingest into %s: %d new photos, %d failed",
                pid,
                report.registered,
                report.failed,
            )
        except Exception:
            log.exception("the local ingest into %s failed", pid)

    thread = threading.Thread(target=run, name="kilo-ingest-local", daemon=True)
    thread.start()
    return thread
