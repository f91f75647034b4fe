"""``kilo project ...``: create, list, show, update and archive projects."""

from __future__ import annotations

import shlex
from datetime import date, datetime
from typing import Annotated, Any

import typer

from kilo.models import ProjectStatus
from kilo_cli.commands._listing import (
    AllOpt,
    AllUsersOpt,
    CursorOpt,
    LimitOpt,
    collect_pages,
    print_listing,
)
from kilo_cli.context import STATE, find_project
from kilo_cli.output import JsonOpt, emit, message, print_record, safe
from kilo_cli.table_layout import Col

project_app = typer.Typer(
    help="Create, list, show, update and archive projects.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(project_app, name="project")


def _parse_date(value: str | None) -> date | None:
    if value is None or value == "":
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        from kilo.errors import InvalidInput

        raise InvalidInput(f"date {value!r} is not YYYY-MM-DD") from None


def _show(project: Any) -> None:
    """A project as ``key  value`` lines (with --all-users: whose it is, too)."""
    stats = project.stats
    owner: list[tuple[str, Any]] = []
    if STATE.all_users:
        from kilo.projects import project_owners

        owner = [("owner", project_owners(STATE.catalog(), [project.id]).get(project.id))]
    print_record(
        [
            ("id", project.id),
            ("title", project.title),
            *owner,
            ("status", project.status),
            ("description", project.description),
            ("shoot date", project.shoot_date),
            ("timezone", project.timezone),
            ("assets", stats.get("assetCount")),
            ("picked", stats.get("pickedCount")),
            ("rejected", stats.get("rejectedCount")),
            ("clusters reviewed", stats.get("clustersReviewed")),
            ("created", project.created_at.isoformat(timespec="seconds")),
        ]
    )


@project_app.command("create")
def create(
    title: Annotated[str, typer.Argument(help="Project title, e.g. 'Smith wedding'.")],
    description: Annotated[str | None, typer.Option(help="Free text.")] = None,
    shoot_date: Annotated[str | None, typer.Option(help="Shoot date, YYYY-MM-DD.")] = None,
    timezone: Annotated[str | None, typer.Option(help="IANA timezone of the shoot.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a project and print it."""
    from kilo.projects import create_project

    project = create_project(
        STATE.catalog(),
        title,
        description=description,
        shoot_date=_parse_date(shoot_date),
        timezone=timezone,
    )
    if not as_json:
        message(f"created project [bold]{safe(project.title)}[/bold] ({project.id})")
    emit(project, as_json, lambda: _show(project))


@project_app.command("list")
def list_(
    limit: LimitOpt = 50,
    cursor: CursorOpt = None,
    all_pages: AllOpt = False,
    status: Annotated[
        ProjectStatus | None, typer.Option(help="Only projects in this state.")
    ] = None,
    all_users: AllUsersOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """List your projects, newest first (--all-users: every user's, with their owners)."""
    from kilo.projects import list_projects, project_owners

    STATE.all_users = STATE.all_users or all_users
    cat = STATE.catalog()
    owner = STATE.owner()
    items, nxt = collect_pages(
        lambda at: list_projects(cat, cursor=at, limit=limit, status=status, owner_user_id=owner),
        cursor,
        all_pages,
    )
    owners = project_owners(cat, [p.id for p in items]) if owner is None else {}
    columns = [
        Col("id", "id"),
        Col("title", "name"),
        Col("status", drop=2),
        Col("assets", "num"),
        Col("picked", "num"),
        Col("created", "time", drop=3),
    ]
    if owner is None:
        columns.insert(2, Col("owner", "name", drop=1))
    print_listing(
        items,
        as_json,
        lambda p: (
            p.id,
            p.title,
            *([owners.get(p.id, p.owner_user_id)] if owner is None else []),
            p.status,
            p.stats.get("assetCount"),
            p.stats.get("pickedCount"),
            p.created_at.strftime("%Y-%m-%d %H:%M"),
        ),
        columns,
        empty="no projects yet: kilo project create TITLE",
        next_cursor=nxt,
    )


@project_app.command("show")
def show(
    project: Annotated[
        str, typer.Argument(help="Project id, id prefix, title or start of the title.")
    ],
    as_json: JsonOpt = False,
) -> None:
    """Show one project with its stats."""
    p = find_project(STATE.catalog(), project)
    emit(p, as_json, lambda: _show(p))


@project_app.command("update")
def update(
    project: Annotated[
        str, typer.Argument(help="Project id, id prefix, title or start of the title.")
    ],
    title: Annotated[str | None, typer.Option(help="New title.")] = None,
    description: Annotated[str | None, typer.Option(help="New description ('' clears).")] = None,
    shoot_date: Annotated[str | None, typer.Option(help="YYYY-MM-DD ('' clears).")] = None,
    timezone: Annotated[
        str | None,
        typer.Option(
            help="IANA timezone of the photos that carry no offset of their own ('' clears)."
        ),
    ] = None,
    status: Annotated[ProjectStatus | None, typer.Option(help="The new state.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Change a project's title, description, shoot date, timezone or status."""
    from kilo.projects import update_project

    cat = STATE.catalog()
    p = find_project(cat, project)
    fields: dict[str, Any] = {}
    if title is not None:
        fields["title"] = title
    if description is not None:
        fields["description"] = description or None
    if shoot_date is not None:
        fields["shoot_date"] = _parse_date(shoot_date)
    if timezone is not None:
        fields["timezone"] = timezone or None
    if status is not None:
        fields["status"] = status
    updated = update_project(cat, p.id, **fields)
    emit(updated, as_json, lambda: _show(updated))
    if not as_json and "timezone" in fields and updated.timezone != p.timezone:
        again = safe(f"kilo analyze {shlex.quote(updated.title)}")
        message(
            "photos without an offset of their own are now read in "
            f"{updated.timezone or 'no time zone'} (tables, exports, the API: at once); moments "
            f"are regrouped and retitled by the next: {again}"
        )


@project_app.command("archive")
def archive(
    project: Annotated[
        str, typer.Argument(help="Project id, id prefix, title or start of the title.")
    ],
    as_json: JsonOpt = False,
) -> None:
    """Archive a project (it stays in the catalog, listed as archived)."""
    from kilo.projects import archive_project

    cat = STATE.catalog()
    p = archive_project(cat, find_project(cat, project).id)
    if not as_json:
        message(f"archived [bold]{safe(p.title)}[/bold]")
    emit(p, as_json, lambda: _show(p))
