"""The job queue: claim, compute in worker processes, apply, retry with backoff, reclaim."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import kilo.jobs as jobs
from kilo.catalog import Catalog
from kilo.errors import InvalidInput, NotFound
from kilo.jobs.claims import start_time
from kilo.jobs.reservations import release_reservations, reserve_jobs
from kilo.models import Project
from support.jobhandlers import SQUARE  # noqa: F401  (registers test.square)


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs.queue, "BACKOFF_BASE_S", 0.01)


def _squares(catalog: Catalog) -> dict[int, int]:
    rows = catalog.fetchall("SELECT key, value FROM meta WHERE key LIKE 'square:%'")
    return {int(k.split(":")[1]): int(v) for k, v in rows}


def test_run_jobs_computes_in_worker_processes(catalog: Catalog, project: Project) -> None:
    """Jobs run in the pool's workers; while they start, this process computes too."""
    for n in range(60):
        payload = {"n": n, "sleep": 0.05}
        jobs.enqueue(catalog, "test.square", project_id=project.id, payload=payload)
    report = jobs.run_jobs(catalog, project.id, workers=2)
    assert (report.done, report.failed) == (60, 0)
    assert _squares(catalog) == {n: n * n for n in range(60)}
    pids = [r[0] for r in catalog.fetchall("SELECT result->>'pid' FROM jobs")]
    here = pids.count(str(os.getpid()))
    assert len(set(pids) - {str(os.getpid())}) == 2  # both workers took jobs
    assert here < 30  # this process only filled the start-up time
    assert jobs.job_counts(catalog, project.id) == {"done": 60}


def test_flaky_job_is_retried_then_succeeds(catalog: Catalog, project: Project) -> None:
    jid = jobs.enqueue(
        catalog,
        "test.square",
        project_id=project.id,
        payload={"n": 3, "fail_until": 2},
        max_attempts=3,
    )
    report = jobs.run_jobs(catalog, project.id, workers=1)
    assert (report.done, report.failed, report.retried) == (1, 0, 2)
    job = jobs.get_job(catalog, jid)
    assert job.status == "done" and job.attempts == 3 and job.error is None


def test_failing_job_ends_failed_with_the_reason(
    catalog: Catalog, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs.runner, "INLINE_MAX_JOBS", 0)  # a pool even for two jobs
    bad = jobs.enqueue(
        catalog,
        "test.square",
        project_id=project.id,
        payload={"n": 4, "always_fail": True},
        max_attempts=2,
    )
    good = jobs.enqueue(catalog, "test.square", project_id=project.id, payload={"n": 5})
    report = jobs.run_jobs(catalog, project.id, workers=2)
    assert (report.done, report.failed) == (1, 1)
    failed = jobs.get_job(catalog, bad)
    assert failed.status == "failed" and failed.attempts == 2
    assert failed.error == "ValueError: cannot square 4"
    detail = jobs.get_job_detail(catalog, bad) or ""  # the worker's traceback, kept
    assert detail.startswith("Traceback") and "in compute" in detail
    assert detail.rstrip().endswith("ValueError: cannot square 4")
    assert jobs.get_job(catalog, good).status == "done"
    assert jobs.get_job_detail(catalog, good) is None
    assert [r.status for r in report.results].count("failed") == 1


def test_every_state_change_is_an_event(catalog: Catalog, project: Project) -> None:
    jid = jobs.enqueue(catalog, "test.square", project_id=project.id, payload={"n": 2})
    jobs.run_jobs(catalog, project.id, workers=1)
    rows = catalog.fetchall(
        "SELECT id, type, data->>'status' FROM events WHERE job_id = ? ORDER BY id", [jid]
    )
    assert [(t, s) for _, t, s in rows] == [
        ("job.queued", "queued"),
        ("job.progress", "running"),
        ("job.done", "done"),
    ]


def test_jobs_left_running_by_a_dead_process_are_reclaimed(
    catalog: Catalog, project: Project
) -> None:
    jid = jobs.enqueue(catalog, "test.square", project_id=project.id, payload={"n": 9})
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    claim = f"{os.uname().nodename}:{gone.pid}:{start_time(gone.pid)}"
    gone.wait()
    catalog.execute("UPDATE jobs SET status = 'running', claimed_by = ? WHERE id = ?", [claim, jid])
    report = jobs.run_jobs(catalog, project.id, workers=1)
    assert report.done == 1 and _squares(catalog) == {9: 81}


def test_jobs_of_another_live_kilo_process_are_left_to_it(
    catalog: Catalog, project: Project
) -> None:
    """Two kilo processes on one library (an ingest in another terminal): a run here never
    takes the jobs the other one is working on."""
    jid = jobs.enqueue(catalog, "test.square", project_id=project.id, payload={"n": 4})
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        claim = f"{os.uname().nodename}:{other.pid}:{start_time(other.pid)}"
        catalog.execute(
            "UPDATE jobs SET status = 'running', claimed_by = ? WHERE id = ?", [claim, jid]
        )
        assert jobs.reclaim_jobs(catalog) == 0
        assert catalog.scalar("SELECT status FROM jobs WHERE id = ?", [jid]) == "running"
        # the same pid, but another process start (the pid was reused): the claim is stale
        stale = f"{os.uname().nodename}:{other.pid}:1"
        catalog.execute("UPDATE jobs SET claimed_by = ? WHERE id = ?", [stale, jid])
        assert jobs.reclaim_jobs(catalog) == 1
    finally:
        other.kill()
        other.wait()


def test_jobs_reserved_by_a_live_process_wait_for_it_and_a_dead_ones_are_anybodys(
    catalog: Catalog, project: Project
) -> None:
    """A `kilo ingest` reserves its processing jobs: a `kilo serve` beside it leaves them
    alone while it runs, and takes them over once it is gone (killed mid-run)."""
    jid = jobs.enqueue(catalog, "test.square", project_id=project.id, payload={"n": 5})
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        owner = f"{os.uname().nodename}:{other.pid}:{start_time(other.pid)}"
        catalog.execute("UPDATE jobs SET reserved_for = ? WHERE id = ?", [owner, jid])
        assert jobs.run_jobs(catalog, project.id, workers=1).done == 0
        assert catalog.scalar("SELECT status FROM jobs WHERE id = ?", [jid]) == "queued"
    finally:
        other.kill()
        other.wait()
    assert jobs.run_jobs(catalog, project.id, workers=1).done == 1
    assert _squares(catalog) == {5: 25}
    # this process's own reservations are its to run, and end with release_reservations
    mine = jobs.enqueue(catalog, "test.square", project_id=project.id, payload={"n": 6})
    assert reserve_jobs(catalog, project.id, "test.square") == 1
    release_reservations(catalog)
    assert catalog.scalar("SELECT reserved_for FROM jobs WHERE id = ?", [mine]) is None


def test_dedupe_key_reuses_a_pending_job(catalog: Catalog, project: Project) -> None:
    a = jobs.enqueue(catalog, "test.square", payload={"n": 1}, dedupe_key="sq:1")
    b = jobs.enqueue(catalog, "test.square", payload={"n": 1}, dedupe_key="sq:1")
    assert a == b


def test_list_jobs_pages_and_filters(catalog: Catalog, project: Project) -> None:
    ids = [
        jobs.enqueue(catalog, "test.square", project_id=project.id, payload={"n": n})
        for n in range(5)
    ]
    page = jobs.list_jobs(catalog, project.id, limit=2)
    seen = [j.id for j in page.items]
    while page.page_info.next_cursor:
        page = jobs.list_jobs(catalog, project.id, limit=2, cursor=page.page_info.next_cursor)
        seen += [j.id for j in page.items]
    assert seen == ids
    assert jobs.list_jobs(catalog, project.id, status="done").items == []
    with pytest.raises(InvalidInput):
        jobs.list_jobs(catalog, project.id, status="sleeping")
    with pytest.raises(NotFound):
        jobs.get_job(catalog, "00000000-0000-0000-0000-000000000000")


def test_unknown_job_type_fails_the_job_not_the_run(catalog: Catalog, project: Project) -> None:
    jid = jobs.enqueue(catalog, "no.such.type", project_id=project.id, max_attempts=1)
    report = jobs.run_jobs(catalog, project.id, workers=1)
    assert report.failed == 1
    assert "unknown job type" in (jobs.get_job(catalog, jid).error or "")


class _Batched(jobs.JobHandler):
    """Not pooled; prepares and applies through the optional batch hooks only."""

    type = "test.batched"
    pooled = False

    def __init__(self) -> None:
        self.prepared: list[int] = []
        self.applied: list[int] = []

    def prepare(self, catalog: Catalog, job: jobs.JobRow) -> int:
        raise AssertionError("prepare_batch is used when a handler has it")

    def prepare_batch(self, catalog: Catalog, rows: list[jobs.JobRow]) -> list[int]:
        self.prepared.append(len(rows))
        return [int(r.payload["n"]) for r in rows]

    def compute(self, payload: int) -> int:
        return payload * 2

    def apply(self, catalog: Catalog, job: jobs.JobRow, result: int) -> None:
        raise AssertionError("apply_batch is used when a handler has it")

    def apply_batch(self, catalog: Catalog, items: list[tuple[jobs.JobRow, int]]) -> None:
        self.applied.append(len(items))
        if any(r == 26 for _, r in items):
            raise ValueError("cannot store 26")
        catalog.insert_many(
            "meta",
            [("key", "VARCHAR"), ("value", "VARCHAR")],
            [[f"double:{job.payload['n']}", str(r)] for job, r in items],
        )


def test_batch_hooks_prepare_and_apply_many_jobs_at_once(
    catalog: Catalog, project: Project
) -> None:
    handler = _Batched()
    jobs.register_handler(handler)
    jobs.enqueue_many(
        catalog,
        (
            {
                "job_type": "test.batched",
                "project_id": project.id,
                "payload": {"n": n},
                "max_attempts": 1,
            }
            for n in range(40)
        ),
    )
    report = jobs.run_jobs(catalog, project.id, workers=1)
    assert (report.done, report.failed) == (39, 1)
    rows = dict(catalog.fetchall("SELECT key, value FROM meta WHERE key LIKE 'double:%'"))
    assert rows == {f"double:{n}": str(2 * n) for n in range(40) if n != 13}
    assert sum(handler.prepared) == 40 and len(handler.prepared) < 40
    assert max(handler.applied) > 1  # a batch, then job by job to find the culprit
    failed = jobs.list_jobs(catalog, project.id, status="failed").items
    assert [j.error for j in failed] == ["ValueError: cannot store 26"]


class _Interrupting(jobs.JobHandler):
    """In-process: the third job is where the user presses Ctrl-C."""

    type = "test.interrupting"
    pooled = False

    def prepare(self, catalog: Catalog, job: jobs.JobRow) -> int:
        return int(job.payload["n"])

    def compute(self, payload: int) -> int:
        if payload == 3:
            raise KeyboardInterrupt
        return payload

    def apply(self, catalog: Catalog, job: jobs.JobRow, result: int) -> None:
        return None


def test_ctrl_c_in_an_in_process_job_leaves_nothing_running(
    catalog: Catalog, project: Project
) -> None:
    """Every claimed job is handed back on Ctrl-C, also one being computed in this process:
    computed ones are done, the rest queued with their attempt not counted."""
    jobs.register_handler(_Interrupting())
    ids = [
        jobs.enqueue(catalog, "test.interrupting", project_id=project.id, payload={"n": n})
        for n in range(1, 7)
    ]
    with pytest.raises(KeyboardInterrupt):
        jobs.run_jobs(catalog, project.id, types=["test.interrupting"], workers=1)
    states = {j: jobs.get_job(catalog, j) for j in ids}
    assert not [j for j in states.values() if j.status == "running"]
    assert {j.status for j in states.values()} <= {"done", "queued"}
    assert all(j.attempts == 0 for j in states.values() if j.status == "queued")
    assert states[ids[0]].status == "done" and states[ids[2]].status == "queued"
