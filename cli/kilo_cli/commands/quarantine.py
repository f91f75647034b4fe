"""``kilo quarantine list PROJECT``: the files an ingest left out, with their reasons."""

from __future__ import annotations

from typing import Annotated

import typer

from kilo_cli.commands._listing import print_listing
from kilo_cli.context import STATE, find_project
from kilo_cli.output import JsonOpt, human_size

quarantine_app = typer.Typer(
    help="Files an ingest could not take, with the reason for each.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(quarantine_app, name="quarantine")


@quarantine_app.command("list")
def list_(
    project: Annotated[
        str, typer.Argument(help="Project id, id prefix, title or start of the title.")
    ],
    as_json: JsonOpt = False,
) -> None:
    """List a project's quarantined files, newest first: path, size and reason."""
    from kilo.quarantine import list_quarantine

    cat = STATE.catalog()
    items = list_quarantine(cat, find_project(cat, project).id)
    print_listing(
        items,
        as_json,
        lambda q: (q.path, human_size(q.byte_size), q.reason),
        ["file", "size", "reason"],
        empty="nothing in quarantine",
    )
