"""``kilo assets list|show|files``: a project's photos, one photo, its files."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kilo.clock import UNDATED, format_capture, wire_time
from kilo.text import display_name
from kilo_cli.commands._listing import (
    AllOpt,
    CursorOpt,
    LimitOpt,
    RatingMinOpt,
    collect_pages,
    print_listing,
)
from kilo_cli.context import STATE, find_project
from kilo_cli.output import JsonOpt, emit, print_record, print_table
from kilo_cli.table_layout import Col

assets_app = typer.Typer(
    help="List and show assets (photos) and their files.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(assets_app, name="assets")


def shot_time(a: Any) -> str:
    """When the photo was shot, in its own local time, for a table: 'undated' when the only
    time known is the file's (when it was copied, not shot)."""
    if a.captured_at is None and a.file_time is not None:
        return f"{UNDATED} (file {a.file_time:%Y-%m-%d})"
    return format_capture(a.captured_at)


def _show(a: Any) -> None:
    print_record(
        [
            ("id", a.id),
            ("file", display_name(a)),
            ("source", a.source_uri),
            ("state", a.state),
            ("captured", wire_time(a.captured_at, "seconds") if a.captured_at else UNDATED),
            ("file time", wire_time(a.file_time, "seconds") if a.file_time else None),
            ("size", f"{a.width_px} x {a.height_px}" if a.width_px else None),
            ("camera", " ".join(x for x in (a.camera_make, a.camera_model) if x) or None),
            ("lens", a.lens_model),
            (
                "exposure",
                " ".join(
                    x
                    for x in (
                        a.shutter_speed,
                        f"f/{a.aperture:g}" if a.aperture else None,
                        f"ISO {a.iso}" if a.iso else None,
                        f"{a.focal_length_mm:g} mm" if a.focal_length_mm else None,
                    )
                    if x
                )
                or None,
            ),
            ("keywords", ", ".join(a.keywords) or None),
            ("sha256", a.sha256),
            ("preview", a.best_preview_url),
        ]
    )


@assets_app.command("list")
def list_(
    project: Annotated[
        str, typer.Argument(help="Project id, id prefix, title or start of the title.")
    ],
    picked: Annotated[bool, typer.Option("--picked", help="Only picked photos.")] = False,
    rejected: Annotated[bool, typer.Option("--rejected", help="Only rejected photos.")] = False,
    rating_min: RatingMinOpt = None,
    limit: LimitOpt = 50,
    cursor: CursorOpt = None,
    all_pages: AllOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """List a project's photos in capture order."""
    from kilo.assets import list_assets

    cat = STATE.catalog()
    pid = find_project(cat, project).id
    kw: dict[str, Any] = {
        "picked": True if picked else None,
        "rejected": True if rejected else None,
        "rating_min": rating_min,
        "limit": limit,
    }
    items, nxt = collect_pages(lambda at: list_assets(cat, pid, cursor=at, **kw), cursor, all_pages)
    print_listing(
        items,
        as_json,
        lambda a: (
            a.id,
            display_name(a),
            shot_time(a),
            decision_cell(a.my_rating),
            stars_cell(a.my_rating),
            a.camera_model,
            f"{a.width_px}x{a.height_px}" if a.width_px else "",
            a.state,
        ),
        [
            Col("id", "id"),
            Col("file", "name"),
            Col("captured", "time", drop=2),
            Col("decision", drop=1),  # a narrow terminal keeps the decisions longest
            Col("stars", drop=3),
            Col("camera", drop=6),
            Col("size", "num", drop=5),
            Col("state", drop=4),
        ],
        empty=""
        if items
        else _empty_listing(pid, picked=picked, rejected=rejected, rating_min=rating_min),
        next_cursor=nxt,
    )


def decision_cell(rating: Any) -> str:
    """``picked``, ``rejected`` or nothing: the photographer's decision on a photo."""
    if rating is None:
        return ""
    return "picked" if rating.picked else ("rejected" if rating.rejected else "")


def stars_cell(rating: Any) -> str:
    """The rating as stars (``★★★``), and ``✦`` when starred."""
    if rating is None:
        return ""
    stars = "★" * (rating.rating or 0)
    return f"{stars} ✦".strip() if rating.starred else stars


def _empty_listing(pid: str, **filters: Any) -> str:
    """What an empty listing says: with filters, that nothing matched them (the project has
    photos), else how to add photos."""
    from kilo.projects import get_project

    named = [
        {"picked": "picked", "rejected": "rejected"}.get(k) or f"rated {v} or more"
        for k, v in filters.items()
        if v
    ]
    title = get_project(STATE.catalog(), pid).title
    if len(named) == 1 and named[0] in ("picked", "rejected"):
        return f"no {named[0]} assets in {title}"
    if named:
        return f"no assets in {title} that are {' and '.join(named)}"
    return f"no assets in {title}: kilo ingest FOLDER --project {title}"


@assets_app.command("show")
def show(
    asset_id: Annotated[str, typer.Argument(help="Asset id, id prefix or file name.")],
    as_json: JsonOpt = False,
) -> None:
    """Show one photo with its metadata."""
    from kilo.assets import get_asset

    a = get_asset(STATE.catalog(), asset_id)
    emit(a, as_json, lambda: _show(a))


@assets_app.command("files")
def files(
    asset_id: Annotated[str, typer.Argument(help="Asset id, id prefix or file name.")],
    as_json: JsonOpt = False,
) -> None:
    """The photo's files (original, preview, thumbnail) with their store URIs."""
    from kilo.assets import list_asset_files

    resp = list_asset_files(STATE.catalog(), asset_id)

    def human() -> None:
        print_table(
            [(f.kind, f.url, f.content_type, f.byte_size) for f in resp.files],
            ["kind", "url", "type", "bytes"],
        )

    emit(resp.files, as_json, human)
