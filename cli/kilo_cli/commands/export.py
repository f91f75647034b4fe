"""``kilo export PROJECT --preset ...`` and ``kilo exports list|show|download``.

Runs unattended (no prompts): a progress bar on stderr when it is a terminal, the result as
JSON on stdout with ``--json``, exit code 0 when every photo was exported, 3 when some failed,
1 when the export failed (with the reason), 2 for bad input.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from kilo.export.presets import Paper
from kilo.models import ExportPreset, ExportStatus
from kilo_cli.commands._listing import AllOpt, CursorOpt, LimitOpt, collect_pages, print_listing
from kilo_cli.context import STATE, ExecutorOpt, find_project
from kilo_cli.output import JsonOpt, emit, message, print_record, safe
from kilo_cli.parsing import json_object_option
from kilo_cli.progress import progress_view
from kilo_cli.table_layout import Col

exports_app = typer.Typer(help="List, show and download exports.", no_args_is_help=True)

PRESET_HELP = "full_res, web, instagram_carousel, story_9x16 or contact_sheet_pdf."


def register(app: typer.Typer) -> None:
    app.command("export")(export)
    app.add_typer(exports_app, name="exports")


def _show(exp: Any) -> None:
    print_record(
        [
            ("id", exp.id),
            ("preset", exp.preset),
            ("status", exp.status),
            ("photos", exp.asset_count),
            ("progress", f"{round((exp.progress or 0) * 100)}%"),
            ("destination", exp.dest),
            ("artifact", exp.artifact),
            ("error", exp.error),
            ("settings", json.dumps(exp.settings) if exp.settings else None),
            ("created", exp.created_at.isoformat(timespec="seconds")),
        ]
    )


def _settings(
    quality: int | None,
    long_edge: int | None,
    watermark: str | None,
    zip_: bool,
    tiff: bool,
    strip_gps: bool,
    paper: Paper | None,
    name_template: str | None,
    settings_json: str | None,
) -> dict[str, Any]:

    out: dict[str, Any] = json_object_option(settings_json, "--settings")
    if quality is not None:
        out["jpegQuality"] = quality
    if long_edge is not None:
        out["longEdgePx"] = long_edge
    if watermark:
        out["watermark"] = (
            str(Path(watermark).absolute()) if Path(watermark).is_file() else watermark
        )
    if zip_:
        out["zip"] = True
    if tiff:
        out["format"] = "tiff"
    if strip_gps:
        out["stripGps"] = True
    if paper:
        out["paper"] = paper
    if name_template:
        out["nameTemplate"] = name_template
    return out


def export(
    project: Annotated[
        str, typer.Argument(help="Project id, id prefix, title or start of the title.")
    ],
    preset: Annotated[ExportPreset, typer.Option("--preset", "-p", help=PRESET_HELP)] = "web",
    assets: Annotated[
        list[str] | None, typer.Option("--assets", help="Asset ids (repeat or comma-separate).")
    ] = None,
    picked: Annotated[
        bool, typer.Option("--picked", help="The project's picks (default).")
    ] = False,
    cluster_winners: Annotated[
        bool,
        typer.Option(
            "--cluster-winners", help="One of each shot: burst/duplicate winners and singles."
        ),
    ] = False,
    all_photos: Annotated[bool, typer.Option("--all", help="Every photo of the project.")] = False,
    dest: Annotated[
        str | None, typer.Option("--dest", help="Folder or s3://bucket/prefix (default: store).")
    ] = None,
    quality: Annotated[int | None, typer.Option("--quality", help="JPEG quality 1-100.")] = None,
    long_edge: Annotated[int | None, typer.Option("--long-edge", help="Long edge in px.")] = None,
    watermark: Annotated[
        str | None, typer.Option("--watermark", help="Text, or a logo image file.")
    ] = None,
    zip_: Annotated[bool, typer.Option("--zip", help="One .zip instead of loose files.")] = False,
    tiff: Annotated[bool, typer.Option("--tiff", help="full_res as 16-bit TIFF.")] = False,
    strip_gps: Annotated[bool, typer.Option("--strip-gps", help="Remove GPS from EXIF.")] = False,
    paper: Annotated[
        Paper | None, typer.Option("--paper", help="Contact sheet paper size.")
    ] = None,
    name_template: Annotated[
        str | None, typer.Option("--name", help="File name template, e.g. '{date}_{seq:04d}'.")
    ] = None,
    settings_json: Annotated[
        str | None, typer.Option("--settings", help="More settings as a JSON object.")
    ] = None,
    idempotency_key: Annotated[
        str | None, typer.Option("--idempotency-key", help="Re-running with it returns the same.")
    ] = None,
    executor: ExecutorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Export photos of a project with a preset, to a folder or s3://, as a job."""
    from kilo.errors import InvalidInput
    from kilo.export import create_export, select_assets

    cat = STATE.catalog(executor=executor)
    proj = find_project(cat, project)
    chosen = [flag for flag in (bool(assets), picked, cluster_winners, all_photos) if flag]
    if len(chosen) > 1:
        raise InvalidInput("use only one of --assets, --picked, --cluster-winners, --all")
    asset_ids: list[str] | None = None
    if assets:
        asset_ids = [a.strip() for item in assets for a in item.split(",") if a.strip()]
    elif cluster_winners:
        asset_ids = select_assets(cat, proj.id, "cluster_winners")
    elif all_photos:
        asset_ids = select_assets(cat, proj.id, "all")
    elif picked:
        asset_ids = select_assets(cat, proj.id, "picked")
    if asset_ids is not None and not asset_ids:
        raise InvalidInput("the selection is empty: no photos to export")
    settings = _settings(
        quality, long_edge, watermark, zip_, tiff, strip_gps, paper, name_template, settings_json
    )
    exp = create_export(
        cat,
        proj.id,
        preset,
        asset_ids=asset_ids,
        settings=settings,
        dest=dest,
        idempotency_key=idempotency_key,
    )
    if not as_json:
        message(f"export {exp.id}: {exp.asset_count} photo(s), preset {preset} -> {safe(exp.dest)}")
    _run_and_report(exp.id, as_json)


def _run_and_report(export_id: str, as_json: bool) -> None:
    """Run the export with a progress bar; print it; exit 1 when it failed, 3 when some
    photos failed."""
    from kilo.errors import PartialFailure
    from kilo.export import run_export

    with progress_view("export", enabled=not as_json) as bar:
        exp = run_export(STATE.catalog(), export_id, progress=bar)
    if exp.status == "failed":
        from kilo.errors import KiloError

        if as_json:
            emit(exp, True, lambda: None)
        raise KiloError(f"export failed: {exp.error}")
    emit(exp, as_json, lambda: _show(exp))
    if not as_json:
        message(f"[green]done[/green]: {safe(exp.artifact)}")
    if exp.error:
        raise PartialFailure(exp.error, result=exp)


@exports_app.command("list")
def list_(
    project: Annotated[
        str | None, typer.Argument(help="Project id or title (default: all).")
    ] = None,
    status: Annotated[ExportStatus | None, typer.Option(help="Only exports in this state.")] = None,
    limit: LimitOpt = 50,
    cursor: CursorOpt = None,
    all_pages: AllOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """List exports, newest first (an export whose process was killed shows as queued again;
    'kilo exports run ID' finishes it)."""
    from kilo.export import list_exports, recover_exports

    cat = STATE.catalog()
    recover_exports(cat)
    pid = find_project(cat, project).id if project else None
    items, nxt = collect_pages(
        lambda at: list_exports(cat, pid, status=status, cursor=at, limit=limit),
        cursor,
        all_pages,
    )
    print_listing(
        items,
        as_json,
        lambda e: (
            e.id,
            e.preset,
            e.status,
            e.asset_count,
            e.created_at.strftime("%Y-%m-%d %H:%M"),
            e.artifact or e.error or "",
        ),
        [
            Col("id", "id"),
            Col("preset", "name"),
            Col("status"),
            Col("photos", "num"),
            Col("created", "time", drop=2),
            Col("artifact / error"),
        ],
        empty="no exports yet: kilo export PROJECT --preset web --dest out/",
        next_cursor=nxt,
    )


@exports_app.command("show")
def show(
    export_id: Annotated[str, typer.Argument(help="Export id or id prefix.")],
    as_json: JsonOpt = False,
) -> None:
    """Show one export: status, progress, destination, artifact, error."""
    from kilo.export import get_export

    exp = get_export(STATE.catalog(), export_id)
    emit(exp, as_json, lambda: _show(exp))


@exports_app.command("run")
def run(
    export_id: Annotated[str, typer.Argument(help="Export id or id prefix.")],
    as_json: JsonOpt = False,
) -> None:
    """Run a queued export now, such as one whose process was killed (what that run left in
    the destination is removed first)."""
    _run_and_report(export_id, as_json)


@exports_app.command("download")
def download(
    export_id: Annotated[str, typer.Argument(help="Export id or id prefix.")],
    expires_in: Annotated[
        int, typer.Option("--expires-in", help="Seconds a signed S3 link stays valid.")
    ] = 3600,
    as_json: JsonOpt = False,
) -> None:
    """Print where to fetch a finished export: a local path or a signed S3 URL."""
    from kilo.export import download_export

    resp = download_export(STATE.catalog(), export_id, expires_in=expires_in)

    def human() -> None:
        typer.echo(resp.url)
        if resp.expires_at:
            message(f"expires {resp.expires_at.isoformat(timespec='seconds')}")

    emit(resp, as_json, human)
