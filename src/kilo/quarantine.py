"""The quarantine: files an ingest could not take (corrupt, truncated, too large to decode,
unreadable), each with its one-line reason. They are never assets; fixing the file and
ingesting again takes it out.

>>> from kilo.quarantine import list_quarantine
>>> for q in list_quarantine(catalog, project_id):      # doctest: +SKIP
...     print(q.name, q.reason)
"""

from __future__ import annotations

from datetime import datetime

from kilo.catalog import Catalog
from kilo.clock import from_catalog
from kilo.models import KiloModel
from kilo.store import display_name, is_local, local_path
from kilo.text import printable

__all__ = ["QuarantinedFile", "list_quarantine"]


class QuarantinedFile(KiloModel):
    """One file left out of a project. ``uri`` is the exact location as recorded (a
    ``file://`` URI with percent-escapes for a name that is not UTF-8); ``path`` and ``name``
    are for people (escaped)."""

    id: str
    project_id: str
    uri: str
    path: str
    name: str
    reason: str
    byte_size: int | None = None
    created_at: datetime


def list_quarantine(catalog: Catalog, project_id: str) -> list[QuarantinedFile]:
    """The project's quarantined files, newest first. NotFound for an unknown project."""
    from kilo.projects import require_project

    pid = require_project(catalog, project_id)
    rows = catalog.fetchall(
        "SELECT id, source_uri, reason, byte_size, created_at FROM quarantine "
        "WHERE project_id = ? ORDER BY created_at DESC, source_uri",
        [pid],
    )
    out = []
    for qid, uri, reason, size, created in rows:
        path = str(local_path(uri)) if is_local(uri) else uri
        out.append(
            QuarantinedFile(
                id=qid,
                project_id=pid,
                uri=uri,
                path=printable(path),
                name=display_name(uri),
                reason=reason,
                byte_size=size,
                created_at=from_catalog(created) or created,
            )
        )
    return out
