"""``kilo jobs list PROJECT``: the job queue of a project."""

from __future__ import annotations

from typing import Annotated

import typer

from kilo_cli.commands._listing import AllOpt, CursorOpt, LimitOpt, collect_pages, print_listing
from kilo_cli.context import STATE
from kilo_cli.output import JsonOpt

ORDER = 80

jobs_app = typer.Typer(help="Inspect the job queue.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(jobs_app, name="jobs")


@jobs_app.command("list")
def list_(
    project: Annotated[str, typer.Argument(help="Project id or title.")],
    status: Annotated[
        str | None, typer.Option(help="queued, running, done, failed or canceled.")
    ] = None,
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
