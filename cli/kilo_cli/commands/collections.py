"""``kilo collections``: smart collections (a saved query + filters, always live)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from kilo.search.query import Sort
from kilo_cli.commands._listing import print_listing
from kilo_cli.context import STATE, find_project
from kilo_cli.output import JsonOpt, emit, message, safe
from kilo_cli.table_layout import Col

collections_app = typer.Typer(
    help="Smart collections: saved searches that stay live.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(collections_app, name="collections")


def _parse_filter(items: list[str]) -> dict[str, Any]:
    """``key=value`` pairs; values are JSON when they parse (true, 4, ["a","b"]), else text;
    a repeated key makes a list."""
    from kilo.errors import InvalidInput

    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"--filter wants key=value, got {item!r}")
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        key = key.strip()
        if key in ("from", "to"):
            rng = out.setdefault("dateRange", {})
            rng["start" if key == "from" else "end"] = raw
            continue
        if key in out:
            prev = out[key] if isinstance(out[key], list) else [out[key]]
            value = [*prev, *(value if isinstance(value, list) else [value])]
        out[key] = value
    return out


@collections_app.command("save")
def save(
    name: Annotated[str, typer.Argument(help="Collection name.")],
    project: Annotated[str, typer.Argument(help="Project id or title ('-' for all projects).")],
    query: Annotated[str, typer.Argument(help="Search text ('' for filters only).")] = "",
    filters: Annotated[
        list[str] | None,
        typer.Option(
            "--filter", help="key=value, e.g. picked=true ratingMin=4 cameraModel=ILCE-6000."
        ),
    ] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Overwrite a same-named one.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Save a query and filters under a name."""
    from kilo.search import save_collection

    cat = STATE.catalog()
    pid = None if project == "-" else find_project(cat, project).id
    coll = save_collection(
        cat, name, pid, query, filters=_parse_filter(filters or []), replace=replace
    )
    if not as_json:
        message(f"saved collection [bold]{safe(coll.name)}[/bold]")
    emit(coll, as_json, lambda: _show([coll]))


def _show(items: list[Any], as_json: bool = False) -> None:
    from kilo.projects import project_titles

    titles = {} if as_json else project_titles(STATE.catalog(), [c.project_id for c in items])
    print_listing(
        items,
        as_json,
        lambda c: (
            c.name,
            c.query,
            json.dumps(c.filters),
            titles.get(c.project_id, c.project_id) if c.project_id else "all",
            c.id,
        ),
        [
            Col("name", "name"),
            Col("query"),
            Col("filters", drop=2),
            Col("project", "name", drop=3),
            Col("id", "id", drop=4),
        ],
        empty="no collections yet: kilo collections save NAME PROJECT 'text'",
    )


@collections_app.command("list")
def list_(as_json: JsonOpt = False) -> None:
    """List your smart collections."""
    from kilo.search import list_collections

    _show(list_collections(STATE.catalog()), as_json)


@collections_app.command("run")
def run(
    name: Annotated[str, typer.Argument(help="Collection name or id.")],
    limit: Annotated[int, typer.Option(help="Results per page, 1 to 200.")] = 50,
    cursor: Annotated[str | None, typer.Option(help="nextCursor of a previous page.")] = None,
    sort: Annotated[Sort, typer.Option(help="Best match first, or in time order.")] = "score",
    paths: Annotated[bool, typer.Option("--paths", help="One path per line.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Run a collection against the catalog as it is now."""
    from kilo.search import run_collection
    from kilo_cli.commands.search import print_results

    resp = run_collection(STATE.catalog(), name, limit=limit, cursor=cursor, sort=sort)
    print_results(resp, as_json, paths)


@collections_app.command("delete")
def delete(name: Annotated[str, typer.Argument(help="Collection name or id.")]) -> None:
    """Delete a collection (the photos are untouched)."""
    from kilo.search import delete_collection

    delete_collection(STATE.catalog(), name)
    message(f"deleted collection [bold]{safe(name)}[/bold]")
