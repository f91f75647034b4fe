"""``kilo jobs list|show|run|retry``: the job queue of a project."""

from __future__ import annotations

from typing import Annotated

import typer

from kilo.jobspec import JobType
from kilo.models import JobStatus
from kilo_cli.commands._listing import AllOpt, CursorOpt, LimitOpt, collect_pages, print_listing
from kilo_cli.context import STATE, find_project
from kilo_cli.output import JsonOpt, emit, message, print_record, print_table, safe
from kilo_cli.progress import progress_view
from kilo_cli.table_layout import Col

jobs_app = typer.Typer(help="Inspect the job queue.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(jobs_app, name="jobs")


@jobs_app.command("list")
def list_(
    project: Annotated[
        str, typer.Argument(help="Project id, id prefix, title or start of the title.")
    ],
    status: Annotated[JobStatus | None, typer.Option(help="Only jobs in this state.")] = None,
    job_type: Annotated[
        str | None, typer.Option("--type", help=f"Job type, e.g. {JobType.PROCESS}.")
    ] = None,
    limit: LimitOpt = 200,
    cursor: CursorOpt = None,
    all_pages: AllOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """List a project's jobs, oldest first."""
    from kilo.assets import asset_names
    from kilo.jobs import list_jobs

    cat = STATE.catalog()
    pid = find_project(cat, project).id
    items, nxt = collect_pages(
        lambda at: list_jobs(cat, pid, status=status, job_type=job_type, limit=limit, cursor=at),
        cursor,
        all_pages,
    )
    names = {} if as_json else asset_names(cat, [j.asset_id for j in items if j.asset_id])
    print_listing(
        items,
        as_json,
        lambda j: (
            j.id,
            j.type,
            j.status,
            j.attempts,
            names.get(j.asset_id or "", j.asset_id),
            (j.error or "")[:60],
        ),
        [
            Col("id", "id"),
            Col("type", "name"),
            Col("status"),
            Col("attempts", "num", drop=3),
            Col("file", "name", drop=2),
            Col("error", drop=1),
        ],
        empty="no jobs",
        next_cursor=nxt,
    )


@jobs_app.command("show")
def show(
    job_id: Annotated[str, typer.Argument(help="Job id or id prefix.")],
    as_json: JsonOpt = False,
) -> None:
    """Show one job: type, status, attempts, error, and the traceback of its last failure."""
    from kilo.jobs import get_job, get_job_detail

    cat = STATE.catalog()
    job = get_job(cat, job_id)
    detail = get_job_detail(cat, job.id)

    def human() -> None:
        print_record(
            [
                ("id", job.id),
                ("type", job.type),
                ("status", job.status),
                ("attempts", job.attempts),
                ("asset", job.asset_id),
                ("error", job.error),
            ]
        )
        if detail:
            from kilo_cli.output import out_console

            lines = detail.rstrip().splitlines()
            out_console().print("\n".join(safe(line) for line in lines), highlight=False)

    emit(job, as_json, human)


@jobs_app.command("run")
def run(
    project: Annotated[
        str, typer.Argument(help="Project id, id prefix, title or start of the title.")
    ],
    job_type: Annotated[
        str | None, typer.Option("--type", help=f"Only jobs of this type, e.g. {JobType.PROCESS}.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run a project's queued jobs now (those `kilo ingest --no-process` left, retried ones):
    compute, write, retry; Ctrl-C keeps what is done."""
    from kilo.errors import PartialFailure
    from kilo.jobs import run_jobs

    cat = STATE.catalog()
    proj = find_project(cat, project)
    with progress_view("jobs", enabled=not as_json) as update:
        rep = run_jobs(cat, proj.id, types=[job_type] if job_type else None, progress=update)
    failures = [r for r in rep.results if r.status == "failed"]
    summary = {"done": rep.done, "failed": rep.failed, "retried": rep.retried, "results": failures}

    def human() -> None:
        print_table(
            [("done", rep.done), ("failed", rep.failed), ("retried", rep.retried)], ["", proj.title]
        )
        for r in failures:
            message(f"[red]failed[/red] {safe(r.item)}: {safe(r.reason)}")
        if not rep.done and not rep.failed:
            message("nothing was queued")

    emit(summary, as_json, human)
    if rep.failed:
        raise PartialFailure(f"{rep.failed} job(s) failed; see kilo jobs list --status failed")


@jobs_app.command("retry")
def retry(
    job_id: Annotated[str, typer.Argument(help="Job id or id prefix (a failed job).")],
    as_json: JsonOpt = False,
) -> None:
    """Queue a failed or canceled job again, its attempts reset; `kilo jobs run` runs it."""
    from kilo.jobs import get_job, retry_job

    cat = STATE.catalog()
    job = get_job(cat, retry_job(cat, job_id))
    emit(
        job,
        as_json,
        lambda: message(
            f"queued {safe(job.id[:8])} ({safe(job.type)}) again; run it with: kilo jobs run "
            f"{safe(job.project_id or 'PROJECT')}"
        ),
    )
