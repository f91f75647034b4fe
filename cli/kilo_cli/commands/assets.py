"""``kilo assets list|show|files``: a project's photos, one photo, its files."""

from __future__ import annotations

from typing import Annotated, Any

import typer

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


def _file_time(a: Any) -> bool:
    return str(a.captured_at_source or "").startswith("file")


def shot_time(a: Any) -> str:
    """When the photo was shot, for a table: 'undated' when the only time known is the
    file's (when it was copied, not shot)."""
    if a.captured_at is None:
        return "undated"
    if _file_time(a):
        return f"undated (file {a.captured_at:%Y-%m-%d})"
    return f"{a.captured_at:%Y-%m-%d %H:%M:%S}"


def _show(a: Any) -> None:
    print_record(
        [
            ("id", a.id),
            ("file", display_name(a)),
            ("source", a.source_uri),
            ("state", a.state),
            (
                "captured",
                a.captured_at.isoformat() if a.captured_at and not _file_time(a) else None,
            ),
            ("file time", a.captured_at.isoformat() if a.captured_at and _file_time(a) else None),
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
            a.camera_model,
            f"{a.width_px}x{a.height_px}" if a.width_px else "",
            a.state,
        ),
        [
            Col("id", "id"),
            Col("file", "name"),
            Col("captured", "time", drop=2),
            Col("camera", drop=4),
            Col("size", "num", drop=3),
            Col("state", drop=1),
        ],
        empty="no assets: kilo ingest FOLDER --project PROJECT",
        next_cursor=nxt,
    )


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
