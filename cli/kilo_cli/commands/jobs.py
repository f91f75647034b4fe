"""``kilo jobs list PROJECT``: the job queue of a project."""

from __future__ import annotations

from typing import Annotated

import typer

from kilo_cli.context import STATE
from kilo_cli.output import JsonOpt, emit, message, print_table

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
    limit: Annotated[int, typer.Option(help="Page size, 1 to 200.")] = 200,
    all_pages: Annotated[bool, typer.Option("--all", help="Follow cursors to the end.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List a project's jobs, oldest first."""
    from kilo.jobs import list_jobs
    from kilo.projects import resolve_project

    cat = STATE.catalog()
    pid = resolve_project(cat, project).id
    page = list_jobs(cat, pid, status=status, job_type=job_type, limit=limit)
    items = list(page.items)
    while all_pages and page.page_info.next_cursor:
        page = list_jobs(
            cat, pid, status=status, job_type=job_type, limit=limit,
            cursor=page.page_info.next_cursor,
        )  # fmt: skip
        items += page.items

    def human() -> None:
        print_table(
            [
                (j.id, j.type, j.status, j.attempts, j.asset_id or "", (j.error or "")[:60])
                for j in items
            ],
            ["id", "type", "status", "attempts", "asset", "error"],
            empty="no jobs",
        )
        if page.page_info.next_cursor and not all_pages:
            message("more jobs: use --all")

    emit(items, as_json, human)
