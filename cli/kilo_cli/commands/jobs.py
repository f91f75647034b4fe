"""``kilo jobs list PROJECT``: the job queue of a project."""

from __future__ import annotations

from typing import Annotated

import typer

from kilo.models import JobStatus
from kilo_cli.commands._listing import AllOpt, CursorOpt, LimitOpt, collect_pages, print_listing
from kilo_cli.context import STATE
from kilo_cli.output import JsonOpt, emit, print_record, safe

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
        str | None, typer.Option("--type", help="Job type, e.g. asset.process.")
    ] = None,
    limit: LimitOpt = 200,
    cursor: CursorOpt = None,
    all_pages: AllOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """List a project's jobs, oldest first."""
    from kilo.jobs import list_jobs
    from kilo.projects import resolve_project

    cat = STATE.catalog()
    pid = resolve_project(cat, project).id
    items, nxt = collect_pages(
        lambda at: list_jobs(cat, pid, status=status, job_type=job_type, limit=limit, cursor=at),
        cursor,
        all_pages,
    )
    print_listing(
        items,
        as_json,
        lambda j: (j.id, j.type, j.status, j.attempts, j.asset_id or "", (j.error or "")[:60]),
        ["id", "type", "status", "attempts", "asset", "error"],
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
