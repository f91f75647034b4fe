"""The ``events`` table: the catalog's append-only log of what happened (a job's progress,
an asset or the clusters updated, an export's status), each with a monotonic id, read back
in order by whoever follows it (the HTTP server's realtime stream)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kilo.clock import to_utc_naive, utcnow

if TYPE_CHECKING:
    from kilo.catalog import Catalog

__all__ = ["append_event", "append_events", "latest_event_id", "select_events"]

_EVENT_COLUMNS = (
    ("type", "VARCHAR"),
    ("project_id", "VARCHAR"),
    ("job_id", "VARCHAR"),
    ("asset_id", "VARCHAR"),
    ("data", "JSON"),
    ("created_at", "TIMESTAMP"),
)


def append_event(
    catalog: Catalog,
    type: str,
    project_id: str | None,
    job_id: str | None,
    asset_id: str | None,
    data: dict[str, Any],
) -> int:
    """Append one event; its id."""
    row = catalog.fetchone(
        "INSERT INTO events (type, project_id, job_id, asset_id, data, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        [type, project_id, job_id, asset_id, data, utcnow()],
    )
    assert row is not None
    return int(row[0])


def append_events(catalog: Catalog, events: Sequence[dict[str, Any]]) -> None:
    """Append many events in one statement (keys: type, project_id, job_id, asset_id,
    data)."""
    now = to_utc_naive(utcnow())
    catalog.insert_many(
        "events",
        _EVENT_COLUMNS,
        [
            [
                e["type"],
                e.get("project_id"),
                e.get("job_id"),
                e.get("asset_id"),
                e.get("data") or {},
                now,
            ]
            for e in events
        ],
    )


def select_events(
    catalog: Catalog, after: int, project_id: str | None, limit: int
) -> list[tuple[Any, ...]]:
    """(id, type, project id, data) of the events with an id above ``after`` (of one
    project when given), oldest first, at most ``limit``."""
    where = "id > ?"
    params: list[Any] = [after]
    if project_id is not None:
        where += " AND project_id = ?"
        params.append(project_id)
    return catalog.fetchall(
        f"SELECT id, type, project_id, data FROM events WHERE {where} ORDER BY id LIMIT ?",
        [*params, limit],
    )


def latest_event_id(catalog: Catalog) -> int:
    """The id of the newest event (0 when there is none)."""
    return int(catalog.scalar("SELECT coalesce(max(id), 0) FROM events") or 0)
