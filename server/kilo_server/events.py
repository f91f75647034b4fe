"""The catalog's event log, read back: what happened in a project (a job's progress, a job
done, clusters or an asset updated, an export's status), in the order it was written, each
with a monotonic id so a reader that lost its connection can ask for what came after."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from kilo.catalog import Catalog
from kilo.catalog.events_repo import latest_event_id as newest_event_id
from kilo.catalog.events_repo import select_events

__all__ = ["Event", "latest_event_id", "read_events"]


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    type: str
    project_id: str | None
    data: dict[str, Any]


def read_events(
    catalog: Catalog, *, after: int = 0, project_id: str | None = None, limit: int = 1000
) -> list[Event]:
    """Events with an id above ``after`` (of one project when given), oldest first."""
    rows = select_events(catalog, after, project_id, max(1, min(int(limit), 10_000)))
    return [
        Event(int(r[0]), str(r[1]), r[2], json.loads(r[3]) if isinstance(r[3], str) else r[3] or {})
        for r in rows
    ]


def latest_event_id(catalog: Catalog) -> int:
    """The id of the newest event (0 when there is none)."""
    return newest_event_id(catalog)
