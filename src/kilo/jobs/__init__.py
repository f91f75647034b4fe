"""The job queue: a real table, claimed by a worker pool, retried with backoff, every state
change appended to the event log.

A job type is a :class:`JobHandler` subclass registered under its :class:`JobType`; the
contract (every hook and its default, the names of job and event types, the registry) is
:mod:`kilo.jobspec`. The runner writes what handlers ``apply`` every second or 1,024
results, in one transaction with the jobs' ``done`` state and events; whether a run opens a
worker pool is one policy, :func:`kilo.jobs.runner.wants_pool`.

Jobs are idempotent: running one twice writes the same result. A claim names its process
(:mod:`kilo.jobs.claims`); a job still ``running`` whose process is gone was left by a dead
run, and :func:`reclaim_jobs` puts it back in the queue (never the jobs of another live kilo
process on the same library). :func:`retry_job` queues a failed one again.
"""

from kilo.jobs.listing import get_job, get_job_detail, job_counts, list_jobs
from kilo.jobs.queue import (
    BACKOFF_BASE_S,
    BACKOFF_MAX_S,
    JOB_STATUSES,
    cancel_jobs,
    claim_jobs,
    complete_job,
    complete_jobs,
    enqueue,
    enqueue_many,
    fail_job,
    reclaim_jobs,
    release_jobs,
    retry_job,
    set_job_progress,
)
from kilo.jobs.runner import RunReport, run_jobs, wants_pool
from kilo.jobspec import (
    HANDLER_PATHS,
    EventType,
    JobHandler,
    JobRow,
    JobType,
    get_handler,
    register_handler,
)

__all__ = [
    "BACKOFF_BASE_S",
    "BACKOFF_MAX_S",
    "HANDLER_PATHS",
    "JOB_STATUSES",
    "EventType",
    "JobHandler",
    "JobRow",
    "JobType",
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
    "wants_pool",
]
