"""Jobs a process reserves for itself: a ``kilo ingest`` runs the processing of its own
photos, so a ``kilo serve`` beside it (whose worker drains the same queue) leaves them alone
instead of taking the same cores and the library file in turns.

A reservation names its process as claims do (:func:`kilo.jobs.claims.worker_id`). It ends
with the run (:func:`release_reservations`, also after Ctrl-C) or with the process: the
next :func:`kilo.jobs.reclaim_jobs` anywhere drops the reservations of processes that are
gone, and what they left is anybody's again.
"""

from __future__ import annotations

from kilo.catalog import Catalog
from kilo.jobs.claims import claimer_alive, worker_id
from kilo.jobs.queue import (
    drop_dead_reservations,
    list_busy_claims,
    release_reserved,
    reserve_queued,
)

__all__ = [
    "drop_dead_reservations",
    "projects_busy_elsewhere",
    "release_reservations",
    "reserve_jobs",
]


def reserve_jobs(catalog: Catalog, project_id: str, job_type: str) -> int:
    """Reserve the project's queued, unreserved jobs of ``job_type`` for this process."""
    return reserve_queued(catalog, worker_id(), project_id, job_type)


def release_reservations(catalog: Catalog) -> None:
    """End this process's reservations (its run is over, or was interrupted)."""
    release_reserved(catalog, worker_id())


def projects_busy_elsewhere(catalog: Catalog) -> set[str]:
    """Projects another live kilo process is working on now (it reserved or runs some of
    their jobs): a server's worker leaves their analysis to it."""
    rows = list_busy_claims(catalog, worker_id())
    alive: dict[str, bool] = {}
    busy = set()
    for project_id, who in rows:
        if who not in alive:
            alive[who] = claimer_alive(who)
        if alive[who]:
            busy.add(str(project_id))
    return busy
