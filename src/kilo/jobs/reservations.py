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


def reserve_jobs(catalog: Catalog, project_id: str, job_type: str) -> int:
    """Reserve the project's queued, unreserved jobs of ``job_type`` for this process."""
    rows = catalog.fetchall(
        "UPDATE jobs SET reserved_for = ? WHERE project_id = ? AND type = ? "
        "AND status = 'queued' AND reserved_for IS NULL RETURNING id",
        [worker_id(), project_id, job_type],
    )
    return len(rows)


def release_reservations(catalog: Catalog) -> None:
    """End this process's reservations (its run is over, or was interrupted)."""
    catalog.execute(
        "UPDATE jobs SET reserved_for = NULL WHERE reserved_for = ? AND status = 'queued'",
        [worker_id()],
    )


def drop_dead_reservations(catalog: Catalog) -> int:
    """Drop the reservations of processes that no longer run; how many processes' ones."""
    holders = [
        str(r[0])
        for r in catalog.fetchall(
            "SELECT DISTINCT reserved_for FROM jobs WHERE status = 'queued' "
            "AND reserved_for IS NOT NULL AND reserved_for <> ?",
            [worker_id()],
        )
    ]
    dead = [h for h in holders if not claimer_alive(h)]
    if dead:
        catalog.execute(
            "UPDATE jobs SET reserved_for = NULL WHERE status = 'queued' "
            "AND reserved_for IN (SELECT unnest(?::VARCHAR[]))",
            [dead],
        )
    return len(dead)


def projects_busy_elsewhere(catalog: Catalog) -> set[str]:
    """Projects another live kilo process is working on now (it reserved or runs some of
    their jobs): a server's worker leaves their analysis to it."""
    rows = catalog.fetchall(
        "SELECT DISTINCT project_id, coalesce(reserved_for, claimed_by) FROM jobs "
        "WHERE project_id IS NOT NULL AND ((status = 'queued' AND reserved_for <> ?) "
        "OR (status = 'running' AND claimed_by <> ?))",
        [worker_id(), worker_id()],
    )
    alive: dict[str, bool] = {}
    busy = set()
    for project_id, who in rows:
        if who not in alive:
            alive[who] = claimer_alive(who)
        if alive[who]:
            busy.add(str(project_id))
    return busy
