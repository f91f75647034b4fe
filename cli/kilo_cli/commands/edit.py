"""``kilo edit ...``: non-destructive edit versions, batch apply, sync, render, XMP."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from kilo.models import ApplyMode
from kilo_cli.commands._listing import print_listing
from kilo_cli.context import STATE, find_project
from kilo_cli.output import JsonOpt, emit, message, print_record, safe
from kilo_cli.parsing import json_object_option

edit_app = typer.Typer(
    help="Edit photos non-destructively: versions, sync, before/after, XMP.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(edit_app, name="edit")


def _show_version(v: Any) -> None:
    from kilo.edit import EditParams, describe_params

    print_record(
        [
            ("id", v.id),
            ("asset", v.asset_id),
            ("name", v.name),
            ("parent", v.parent_id),
            ("created", v.created_at.isoformat(timespec="seconds")),
        ]
    )
    for line in describe_params(EditParams.parse(v.params)):
        message(f"  {safe(line)}")


def _parse_crop(text: str) -> dict[str, float]:
    from kilo.errors import InvalidInput

    try:
        left, top, right, bottom = (float(v) for v in text.split(","))
    except ValueError:
        raise InvalidInput("--crop is LEFT,TOP,RIGHT,BOTTOM fractions, e.g. 0.1,0,0.9,1") from None
    return {"left": left, "top": top, "right": right, "bottom": bottom}


def _parse_curve(text: str) -> list[list[float]]:
    from kilo.errors import InvalidInput

    try:
        return [[float(v) for v in p.split(",")] for p in text.split()]
    except ValueError:
        raise InvalidInput('--curve is "x,y x,y ...", e.g. "0,0 64,56 192,200 255,255"') from None


def _parse_hsl(items: list[str]) -> dict[str, dict[str, float]]:
    from kilo.errors import InvalidInput

    out: dict[str, dict[str, float]] = {}
    for item in items:
        try:
            key, value = item.split("=")
            band, attr = key.split(".")
            out.setdefault(band.strip().lower(), {})[attr.strip().lower()] = float(value)
        except ValueError:
            raise InvalidInput(
                f"--hsl {item!r}: use BAND.hue|sat|lum=VALUE, e.g. blue.sat=-20"
            ) from None
    return out


@edit_app.command("set")
def set_(
    asset: Annotated[str, typer.Argument(help="Asset id, id prefix or file name.")],
    exposure: Annotated[float | None, typer.Option(help="EV, -5 .. 5.")] = None,
    contrast: Annotated[float | None, typer.Option(help="-100 .. 100.")] = None,
    highlights: Annotated[float | None, typer.Option(help="-100 .. 100.")] = None,
    shadows: Annotated[float | None, typer.Option(help="-100 .. 100.")] = None,
    whites: Annotated[float | None, typer.Option(help="-100 .. 100.")] = None,
    blacks: Annotated[float | None, typer.Option(help="-100 .. 100.")] = None,
    temperature: Annotated[float | None, typer.Option(help="Kelvin; 6500 = as shot.")] = None,
    tint: Annotated[float | None, typer.Option(help="-150 (green) .. 150 (magenta).")] = None,
    vibrance: Annotated[float | None, typer.Option(help="-100 .. 100.")] = None,
    saturation: Annotated[float | None, typer.Option(help="-100 .. 100.")] = None,
    sharpness: Annotated[float | None, typer.Option(help="0 .. 150.")] = None,
    luminance_smoothing: Annotated[
        float | None, typer.Option(help="Noise reduction 0 .. 100.")
    ] = None,
    color_noise_reduction: Annotated[float | None, typer.Option(help="0 .. 100.")] = None,
    straighten: Annotated[
        float | None, typer.Option(help="Degrees, + = counter-clockwise.")
    ] = None,
    crop: Annotated[str | None, typer.Option(help="LEFT,TOP,RIGHT,BOTTOM fractions.")] = None,
    aspect: Annotated[
        str | None, typer.Option(help="free, original, 1:1, 4:5, 3:2, 16:9 ...")
    ] = None,
    curve: Annotated[
        str | None, typer.Option(help='Tone curve points "0,0 64,56 255,255".')
    ] = None,
    hsl: Annotated[list[str] | None, typer.Option(help="BAND.hue|sat|lum=VALUE (repeat).")] = None,
    params_json: Annotated[
        str | None, typer.Option("--params", help="A params JSON object.")
    ] = None,
    fix: Annotated[bool, typer.Option("--fix", help="Start from Fix (auto WB and tone).")] = False,
    fresh: Annotated[
        bool, typer.Option("--from-scratch", help="Ignore the latest version.")
    ] = False,
    name: Annotated[str | None, typer.Option(help="Version name.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Save a new version: the latest version (or as shot) with these changes."""
    from kilo.edit import EditParams, create_version, latest_version
    from kilo.edit.fix import fix_image
    from kilo.edit.photo import load_preview
    from kilo.edit.versions import version_params
    from kilo.models import CreateEditVersionRequest

    cat = STATE.catalog()
    current = None if fresh else latest_version(cat, asset)
    base = version_params(current) if current is not None else EditParams()
    if fix:
        f = fix_image(load_preview(cat, asset, max_px=512))
        base = base.merged({k: v for k, v in f.dump().items() if k != "version"})
    patch: dict[str, Any] = json_object_option(params_json, "--params")
    local = locals()
    for field in EditParams.SCALAR_FIELDS:
        if local[field] is not None:
            patch[field] = local[field]
    if crop is not None:
        patch["crop"] = _parse_crop(crop)
    if aspect is not None:
        patch["aspect"] = aspect
    if curve is not None:
        patch["tone_curve"] = _parse_curve(curve)
    if hsl:
        patch["hsl"] = _parse_hsl(hsl)
    params = base.merged(patch) if patch else base
    v = create_version(
        cat,
        asset,
        CreateEditVersionRequest(
            params=params.dump(), name=name, parent_id=current.id if current else None
        ),
    )
    if not as_json:
        message(f"saved version [bold]{v.id}[/bold]")
    emit(v, as_json, lambda: _show_version(v))


@edit_app.command("list")
def list_(
    asset: Annotated[str, typer.Argument(help="Asset id, id prefix or file name.")],
    as_json: JsonOpt = False,
) -> None:
    """List an asset's edit versions, oldest first."""
    from kilo.edit import EditParams, describe_params, list_versions

    print_listing(
        list_versions(STATE.catalog(), asset).items,
        as_json,
        lambda v: (
            v.id[:8],  # kilo edit show takes the prefix, as the parent column shows it
            v.name,
            v.parent_id[:8] if v.parent_id else "",
            v.created_at.strftime("%Y-%m-%d %H:%M"),
            _summary(describe_params(EditParams.parse(v.params))),
        ),
        ["id", "name", "parent", "created", "settings"],
        empty="no versions yet: kilo edit set ASSET --exposure 0.3",
    )


def _summary(parts: list[str], width: int = 80) -> str:
    """Whole settings up to about ``width`` characters, then how many more (never a cut
    word: ``kilo edit show`` has them all)."""
    out: list[str] = []
    for i, part in enumerate(parts):
        if out and len("; ".join([*out, part])) > width:
            return "; ".join(out) + f"; +{len(parts) - i} more"
        out.append(part)
    return "; ".join(out)


@edit_app.command("show")
def show(
    edit_id: Annotated[str, typer.Argument(help="Edit version id.")],
    as_json: JsonOpt = False,
) -> None:
    """Show one edit version and its settings."""
    from kilo.edit import get_version

    v = get_version(STATE.catalog(), edit_id)
    emit(v, as_json, lambda: _show_version(v))


def _targets(
    cat: Any,
    to: list[str] | None,
    cluster: str | None,
    picked: str | None,
    *,
    allow_empty: bool = False,
) -> list[str]:
    from kilo.assets import select_assets
    from kilo.errors import InvalidInput
    from kilo.group import get_cluster

    ids = list(to or [])
    if cluster:
        ids += [m.asset_id for m in get_cluster(cat, cluster).assets]
    if picked:
        ids += select_assets(cat, find_project(cat, picked).id, "picked")
    if not ids and not allow_empty:
        raise InvalidInput("no target photos: give --to ASSET..., --cluster ID or --picked PROJECT")
    return ids


def _run_apply(
    edit_id: str,
    ids: list[str],
    mode: ApplyMode,
    name: str | None,
    keep_geometry: bool,
    as_json: bool,
) -> None:
    from kilo.edit import apply_version

    cat = STATE.catalog()
    resp = apply_version(
        cat,
        edit_id,
        ids,
        mode,
        name,
        exclude_geometry=keep_geometry,
        wait=True,
    )
    if not as_json:
        message(f"applied to {len(set(ids))} photos ({mode}), job {resp.job_id}")
    emit(resp, as_json, lambda: None)


@edit_app.command("apply")
def apply(
    edit_id: Annotated[str, typer.Argument(help="Edit version to copy.")],
    to: Annotated[list[str] | None, typer.Option(help="Target asset id (repeat).")] = None,
    cluster: Annotated[str | None, typer.Option(help="Every photo of a cluster.")] = None,
    picked: Annotated[str | None, typer.Option(help="Every picked photo of a project.")] = None,
    mode: Annotated[
        ApplyMode, typer.Option(help="New versions, or overwrite each photo's latest.")
    ] = "create_versions",
    name: Annotated[str | None, typer.Option(help="Name of the new versions.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Apply one version's settings to many photos (runs the edit.apply job)."""
    ids = _targets(STATE.catalog(), to, cluster, picked)
    _run_apply(edit_id, ids, mode, name, False, as_json)


@edit_app.command("sync")
def sync(
    hero: Annotated[
        str | None, typer.Argument(help="Asset whose latest version is copied (or --from).")
    ] = None,
    from_: Annotated[
        str | None, typer.Option("--from", help="The hero frame (instead of the argument).")
    ] = None,
    to: Annotated[list[str] | None, typer.Option(help="Target asset id (repeat).")] = None,
    cluster: Annotated[str | None, typer.Option(help="Every photo of a cluster.")] = None,
    picked: Annotated[str | None, typer.Option(help="Every picked photo of a project.")] = None,
    fix_only: Annotated[
        str | None,
        typer.Option("--fix-only", help="Every photo of a project style apply left at Fix only."),
    ] = None,
    include_crop: Annotated[bool, typer.Option(help="Also copy crop and straighten.")] = False,
    mode: Annotated[
        ApplyMode, typer.Option(help="New versions, or overwrite each photo's latest.")
    ] = "create_versions",
    as_json: JsonOpt = False,
) -> None:
    """Sync from hero: copy the hero's latest settings (not its crop, by default)."""
    from kilo.edit import latest_version
    from kilo.errors import InvalidInput

    if (hero is None) == (from_ is None):
        raise InvalidInput("give the hero frame once: kilo edit sync HERO ... or --from HERO")
    cat = STATE.catalog()
    v = latest_version(cat, str(hero or from_))
    if v is None:
        raise InvalidInput("the hero photo has no edit yet: kilo edit set HERO ...")
    ids = _targets(cat, to, cluster, picked, allow_empty=fix_only is not None)
    if fix_only is not None:
        from kilo.style import fix_only_assets

        ids += fix_only_assets(cat, find_project(cat, fix_only).id)
    ids = [i for i in dict.fromkeys(ids) if i != v.asset_id]
    if not ids:
        raise InvalidInput("no photo to sync to (none is at Fix only)")
    _run_apply(v.id, ids, mode, v.name or "synced", not include_crop, as_json)


@edit_app.command("render")
def render(
    asset: Annotated[str, typer.Argument(help="Asset id, id prefix or file name.")],
    out: Annotated[Path, typer.Option("--out", help="Output file (.jpg, .png, .tif).")],
    version: Annotated[str | None, typer.Option(help="Version id (default: latest).")] = None,
    max_px: Annotated[int | None, typer.Option(help="Long edge in pixels.")] = 2048,
    before_after: Annotated[bool, typer.Option(help="Before and after side by side.")] = False,
) -> None:
    """Render a photo with its edit (or a before/after composite) to a file."""
    from kilo.edit import render_asset, render_before_after
    from kilo.edit.output import check_output, check_render_px, write_image

    check_output(out)  # before the work: a bad name costs nothing
    check_render_px(max_px)
    cat = STATE.catalog()
    if before_after:
        img = render_before_after(cat, asset, max_px=max_px or 1024, version_id=version)
    else:
        img = render_asset(cat, asset, max_px=max_px, version_id=version)
    write_image(img, out)
    message(f"wrote {safe(out)} ({img.width}x{img.height})")


@edit_app.command("write-xmp")
def write_xmp(
    asset: Annotated[str, typer.Argument(help="Asset id, id prefix or file name.")],
    out: Annotated[
        Path | None, typer.Option(help="Sidecar path (default: next to the original).")
    ] = None,
    version: Annotated[str | None, typer.Option(help="Version id (default: latest).")] = None,
) -> None:
    """Write the edit as a Lightroom-compatible XMP sidecar (crs: develop settings)."""
    from kilo.edit.develop_sidecar import write_version_sidecar

    path = write_version_sidecar(STATE.catalog(), asset, version_id=version, out=out)
    message(f"wrote {safe(path)}")


@edit_app.command("import-xmp")
def import_xmp(
    asset: Annotated[str, typer.Argument(help="Asset id, id prefix or file name.")],
    sidecar: Annotated[Path, typer.Argument(help="XMP file from Lightroom, Camera Raw or kilo.")],
    name: Annotated[str | None, typer.Option(help="Version name.")] = "imported XMP",
    as_json: JsonOpt = False,
) -> None:
    """Read a sidecar's develop settings into a new edit version."""
    from kilo.edit import create_version, latest_version
    from kilo.edit.develop_sidecar import read_xmp_sidecar
    from kilo.models import CreateEditVersionRequest

    cat = STATE.catalog()
    params = read_xmp_sidecar(sidecar)
    parent = latest_version(cat, asset)
    v = create_version(
        cat,
        asset,
        CreateEditVersionRequest(
            params=params.dump(), name=name, parent_id=parent.id if parent else None
        ),
        source="xmp",
    )
    emit(v, as_json, lambda: _show_version(v))
