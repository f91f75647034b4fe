"""The job queue: a real table, claimed by a worker pool, retried with backoff, every state
change appended to the event log.

A job type is a :class:`JobHandler` registered under a name. Its work is split so that the
catalog is only ever written from the process that owns it:

* ``prepare(catalog, job) -> payload``: main process, reads what the work needs;
* ``compute(payload) -> result``: in a worker process when ``pooled`` (CPU-bound decoding), a
  pure function of its payload with no catalog access; in the main process otherwise;
* ``apply(catalog, job, result)``: main process, writes the result in one transaction.

Two optional hooks make a handler cheap per job: ``prepare_batch(catalog, jobs) -> payloads``
(one query for a whole claim) and ``apply_batch(catalog, [(job, result), ...])`` (multi-row
statements for every result that is back; the runner writes them every second or 1,024 results,
in one transaction with the jobs' ``done`` state and events).

Jobs are idempotent: running one twice writes the same result. A claim names its process
(:mod:`kilo.jobs.claims`); a job still ``running`` whose process is gone was left by a dead
run, and :func:`reclaim_jobs` puts it back in the queue (never the jobs of another live kilo
process on the same library). :func:`retry_job` queues a failed one again.
"""

from kilo.jobs.listing import get_job, get_job_detail, job_counts, list_jobs
from kilo.jobs.queue import (
    BACKOFF_BASE_S,
    BACKOFF_MAX_S,
    HANDLER_PATHS,
    JOB_STATUSES,
    JobHandler,
    JobRow,
    cancel_jobs,
    claim_jobs,
    complete_job,
    complete_jobs,
    enqueue,
    enqueue_many,
    fail_job,
    get_handler,
    reclaim_jobs,
    register_handler,
    release_jobs,
    retry_job,
    set_job_progress,
)
from kilo.jobs.runner import RunReport, run_jobs

__all__ = [
    "BACKOFF_BASE_S",
    "BACKOFF_MAX_S",
    "HANDLER_PATHS",
    "JOB_STATUSES",
    "JobHandler",
    "JobRow",
    "RunReport",
    "cancel_jobs",
    "claim_jobs",
    "complete_job",
    "complete_jobs",
    "enqueue",
    "enqueue_many",
    "fail_job",
    "get_handler",
    "get_job",
    "get_job_detail",
    "job_counts",
    "list_jobs",
    "reclaim_jobs",
    "register_handler",
    "release_jobs",
    "retry_job",
    "run_jobs",
    "set_job_progress",
]
