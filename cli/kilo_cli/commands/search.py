"""``kilo search [PROJECT] "text"``: CLIP text/image search with filters, or metadata search."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kilo.clock import format_capture
from kilo.text import display_name
from kilo_cli.commands._listing import RatingMinOpt
from kilo_cli.context import STATE, find_project
from kilo_cli.output import JsonOpt, emit, message, print_table
from kilo_cli.table_layout import Col


def register(app: typer.Typer) -> None:
    app.command("search")(search_cmd)


def build_filters(
    *,
    picked: bool | None = None,
    rejected: bool | None = None,
    rating_min: int | None = None,
    camera: list[str] | None = None,
    lens: list[str] | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    keyword: list[str] | None = None,
    cluster_kind: str | None = None,
) -> dict[str, Any]:
    """The spec's filters object from command-line options."""
    f: dict[str, Any] = {}
    if picked is not None:
        f["picked"] = picked
    if rejected is not None:
        f["rejected"] = rejected
    if rating_min is not None:
        f["ratingMin"] = rating_min
    if camera:
        f["cameraModel"] = list(camera)
    if lens:
        f["lens"] = list(lens)
    if date_from or date_to:
        f["dateRange"] = {k: v for k, v in (("start", date_from), ("end", date_to)) if v}
    if keyword:
        f["keywords"] = list(keyword)
    if cluster_kind:
        f["clusterKind"] = cluster_kind
    return f


def _project_named(cat: Any, word: str) -> str | None:
    """The project ``word`` names exactly (its title in any case, its id or an id prefix);
    None when it is no project's name (then it is the text to search for)."""
    from kilo.errors import KiloError

    try:
        project = find_project(cat, word)
    except KiloError:
        return None
    exact = project.title.lower() == word.strip().lower() or project.id.startswith(word.lower())
    return project.id if exact else None


def _project_and_text(args: list[str] | None, filtered: bool) -> tuple[str | None, str]:
    """The project (None: the whole library) and the text of ``[PROJECT] "text"``. With a
    filter or --like, a lone word that names a project exactly is the project, not a text."""
    from kilo.errors import InvalidInput

    words = list(args or [])
    if len(words) > 2:
        raise InvalidInput('expected [PROJECT] "text" (quote the text)')
    cat = STATE.catalog()
    project_id = find_project(cat, words[0]).id if len(words) == 2 else None
    if len(words) == 1 and filtered:
        project_id = _project_named(cat, words[0])  # `kilo search "Shoot only" --picked`
        if project_id is not None:
            words = []
    if not words and not filtered:
        raise InvalidInput('give a text, --like or a filter: kilo search [PROJECT] "text"')
    return project_id, words[-1] if words else ""


def print_previews(asset_ids: list[str], names: dict[str, str], width: int = 32) -> None:
    """Thumbnails in the terminal: Kitty or Sixel graphics where the terminal supports them,
    half-block characters elsewhere (textual-image picks)."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text
    from textual_image.renderable import Image as TerminalImage

    from kilo.assets import open_rendition
    from kilo_cli.output import out_console

    cat = STATE.catalog()
    cells: list[Any] = []
    for aid in asset_ids:
        caption = Text(names.get(aid, aid), style="dim")
        try:
            thumb = open_rendition(cat, aid, "thumbnail")
        except Exception as exc:
            cells.append(Group(Text(f"(no preview: {exc})"), caption))
            continue
        cells.append(Group(TerminalImage(thumb, width=width, height="auto"), caption))
    console = out_console()
    per_row = max(1, console.width // (width + 2))
    grid = Table.grid(padding=(0, 2))
    for start in range(0, len(cells), per_row):
        grid.add_row(*cells[start : start + per_row])
    console.print(grid)


def _once(notice: str) -> str:
    """The whole notice the first time this library sees it; then its first sentence (a
    ~600-character "how to get CLIP weights" on every search was too much)."""
    from kilo_cli.context import first_time

    if first_time(notice):
        return notice
    return notice.split(". ")[0].rstrip(".") + ". (The full note was shown once.)"


def print_results(
    resp: Any, as_json: bool, paths: bool, preview: bool = False, *, library_wide: bool = False
) -> None:
    """Shared by ``kilo search`` and ``kilo collections run``. A search of the whole library
    (or results from more than one project) names each result's project."""
    from kilo.assets import get_assets
    from kilo.projects import project_titles

    ids = [r.asset_id for r in resp.results]
    assets = get_assets(STATE.catalog(), ids)
    projects = {a.project_id for a in assets.values()}
    titles = (
        project_titles(STATE.catalog(), sorted(projects))
        if library_wide or len(projects) > 1
        else None
    )
    if resp.notice and not paths:
        message(f"[yellow]{_once(resp.notice)}[/yellow]")
    if paths:
        _print_paths([assets[a].source_uri or "" for a in ids if a in assets])
        return

    def human() -> None:
        table = []
        for n, r in enumerate(resp.results, 1):
            asset = assets.get(r.asset_id)
            table.append(
                (
                    n,
                    f"{r.score:.3f}",
                    display_name(asset) if asset else None,
                    format_capture(asset.captured_at, seconds=False) if asset else "",
                    "; ".join(r.highlights),
                    r.asset_id,
                    *([titles.get(asset.project_id, "") if asset else ""] if titles else []),
                )
            )
        project = [Col("project", "name", drop=1)] if titles is not None else []
        print_table(
            table,
            [
                Col("#", "num"),
                Col("score", "num", drop=3),
                Col("file", "name"),
                Col("captured", "time", drop=2),
                Col("why"),
                Col("asset", "id", drop=4),
                *project,
            ],
            empty="no match",
        )
        if preview and ids:
            print_previews(ids, {a: display_name(x, a) for a, x in assets.items()})
        message(f"{resp.mode} search, {len(resp.results)} results in {resp.took_ms} ms")
        if resp.next_cursor:
            message(f"more: --cursor {resp.next_cursor}")

    emit(resp, as_json, human)


def _print_paths(uris: list[str]) -> None:
    """One path a line, as the exact bytes of the file name (for xargs and scripts), or the
    URI of a file in object storage."""
    import os
    import sys

    from kilo.store import is_local, local_path

    out = sys.stdout.buffer
    for uri in uris:
        out.write((os.fsencode(local_path(uri)) if is_local(uri) else uri.encode()) + b"\n")
    out.flush()


def search_cmd(
    args: Annotated[
        list[str] | None,
        typer.Argument(help='[PROJECT] "text": project id or title (omit for the whole library).'),
    ] = None,
    like: Annotated[
        str | None, typer.Option("--like", help="More like this: an asset id or an image file.")
    ] = None,
    picked: Annotated[
        bool | None, typer.Option("--picked/--not-picked", help="Picked only.")
    ] = None,
    rejected: Annotated[
        bool | None, typer.Option("--rejected/--not-rejected", help="Rejected only / not.")
    ] = None,
    rating_min: RatingMinOpt = None,
    camera: Annotated[list[str] | None, typer.Option("--camera", help="Camera model.")] = None,
    lens: Annotated[list[str] | None, typer.Option("--lens", help="Part of a lens name.")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="YYYY-MM-DD.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="YYYY-MM-DD.")] = None,
    keyword: Annotated[list[str] | None, typer.Option("--keyword", help="Keyword.")] = None,
    cluster_kind: Annotated[
        str | None, typer.Option("--cluster-kind", help="moment, burst or duplicate_group.")
    ] = None,
    limit: Annotated[int, typer.Option(help="Results per page, 1 to 200.")] = 50,
    cursor: Annotated[str | None, typer.Option(help="nextCursor of a previous page.")] = None,
    sort: Annotated[str, typer.Option(help="score or time.")] = "score",
    show_all: Annotated[
        bool, typer.Option("--all", help="No cut-off: show the closest even if weak.")
    ] = False,
    min_score: Annotated[
        float | None, typer.Option("--min-score", help="Cosine floor instead of the cut-off.")
    ] = None,
    embed: Annotated[
        bool, typer.Option("--embed", help="Embed the project's new photos first.")
    ] = False,
    paths: Annotated[bool, typer.Option("--paths", help="One path per line (for xargs).")] = False,
    preview: Annotated[
        bool, typer.Option("--preview", help="Show thumbnails in the terminal (Kitty/Sixel).")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Search photos by meaning (CLIP), by example (--like) and by metadata filters."""
    from kilo.search import search

    filters = build_filters(
        picked=picked,
        rejected=rejected,
        rating_min=rating_min,
        camera=camera,
        lens=lens,
        date_from=date_from,
        date_to=date_to,
        keyword=keyword,
        cluster_kind=cluster_kind,
    )
    project_id, text = _project_and_text(args, bool(filters) or like is not None)
    cat = STATE.catalog()
    if embed and project_id:
        from kilo.measure.embed.handlers import embed_project

        embed_project(cat, project_id)
    resp = search(
        cat,
        project_id,
        text,
        filters=filters,
        like=like,
        limit=limit,
        cursor=cursor,
        sort=sort,  # type: ignore[arg-type]
        min_score=None if show_all else (min_score if min_score is not None else "auto"),
    )
    print_results(resp, as_json, paths, preview, library_wide=project_id is None)
