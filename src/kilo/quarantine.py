"""The quarantine: files an ingest could not take (corrupt, truncated, too large to decode,
unreadable), each with its one-line reason. They are never assets; fixing the file and
ingesting again takes it out.

>>> from kilo.quarantine import list_quarantine
>>> for q in list_quarantine(catalog, project_id):      # doctest: +SKIP
...     print(q.name, q.reason)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from kilo.catalog import Catalog
from kilo.clock import from_catalog
from kilo.models import KiloModel
from kilo.store import display_name, is_local, local_path
from kilo.text import printable

__all__ = ["QuarantinedFile", "list_quarantine", "list_quarantined_since", "quarantine_files"]


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


_DROP = {
    "source": "DELETE FROM quarantine WHERE project_id = ? AND source_uri = ?",
    "reason": "DELETE FROM quarantine WHERE project_id = ? AND source_uri = ? AND reason = ?",
}


def quarantine_files(
    catalog: Catalog,
    rows: Sequence[Sequence[Any]],
    *,
    replace: Literal["source", "reason"] | None = None,
) -> None:
    """Record quarantined files: each row is (id, project id, source URI, reason, byte
    size, created at). ``replace``: first drop the earlier rows of the same file
    (``source``), or of the same file for the same reason (``reason``). There is no unique
    key to upsert on: a file may be kept out for several reasons, one row each."""
    if not rows:
        return
    if replace is not None:
        keys = [[r[1], r[2]] if replace == "source" else [r[1], r[2], r[3]] for r in rows]
        catalog.executemany(_DROP[replace], keys)
    catalog.executemany(
        "INSERT INTO quarantine (id, project_id, source_uri, reason, byte_size, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )


def list_quarantined_since(
    catalog: Catalog, project_id: str, since: datetime
) -> list[tuple[Any, ...]]:
    """(source URI, reason) of the project's files quarantined at ``since`` or later,
    oldest first."""
    return catalog.fetchall(
        "SELECT source_uri, reason FROM quarantine WHERE project_id = ? "
        "AND created_at >= ? ORDER BY created_at",
        [project_id, since],
    )
