"""``kilo style ...``: what Style DNA learned, apply it to a project, reset it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from kilo_cli.context import STATE, find_project
from kilo_cli.output import JsonOpt, emit, message, print_table, safe
from kilo_cli.progress import progress_view
from kilo_cli.table_layout import Col

style_app = typer.Typer(
    help="Style DNA: your editing style learned from your own edits.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(style_app, name="style")


@style_app.command("show")
def show(as_json: JsonOpt = False) -> None:
    """Say in plain words what Style DNA learned, per kind of light."""
    from kilo.style import show_style

    summary = show_style(STATE.catalog())

    def human() -> None:
        from kilo_cli.output import out

        for line in summary.lines:
            out.print(line, highlight=False)

    emit(summary, as_json, human)


@style_app.command("apply")
def apply(
    project: Annotated[
        str, typer.Argument(help="Project id, id prefix, title or start of the title.")
    ],
    assets: Annotated[
        list[str] | None,
        typer.Option(
            "--assets", help="Only these photos: ids, id prefixes or file names (repeat or comma)."
        ),
    ] = None,
    min_confidence: Annotated[
        float, typer.Option(help="Below this, only Fix is applied (0 .. 1).")
    ] = 0.5,
    overwrite_edited: Annotated[
        bool, typer.Option("--overwrite-edited", help="Also put a version on hand-edited photos.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Create a version per photo: Fix + your style where confident, Fix alone otherwise;
    photos you edited by hand are left as they are unless --overwrite-edited."""
    from kilo.assets import asset_names
    from kilo.catalog.ids import resolve_ids
    from kilo.errors import PartialFailure
    from kilo.style import apply_style

    cat = STATE.catalog()
    p = find_project(cat, project)
    refs = [a.strip() for item in assets or [] for a in item.split(",") if a.strip()]
    ids = (
        list(dict.fromkeys(resolve_ids(cat, "assets", refs, project_id=p.id)))
        if assets is not None
        else None
    )
    with progress_view("style", enabled=not as_json) as bar:
        report = apply_style(
            cat,
            p.id,
            ids,
            min_confidence=min_confidence,
            progress=bar,
            overwrite_edited=overwrite_edited,
        )

    def human() -> None:
        names = asset_names(cat, [i.asset_id or "" for i in report.items])
        print_table(
            [
                (
                    names.get(i.asset_id or "", i.item),
                    i.extra.get("bucket", ""),
                    i.extra.get("confidence", ""),
                    i.reason,
                )
                for i in report.items
            ],
            [
                Col("file", "name"),
                Col("context", drop=1),
                Col("confidence", "num", drop=2),
                Col("result"),
            ],
            empty="no photos in this project",
        )
        kept = f", {report.kept_edited} edited by hand kept" if report.kept_edited else ""
        message(
            f"style applied to {report.applied}, Fix only on {report.fix_only}{kept}, "
            f"failed {report.failed}"
        )
        if report.hero_asset_id:
            _say_hero(cat, report, names.get(report.hero_asset_id, ""), p.title)

    emit(report, as_json, human)
    if report.failed:
        raise PartialFailure(f"{report.failed} photos failed", result=report)


def _say_hero(cat: Any, report: Any, name: str, project_title: str) -> None:
    """The hero-frame commands, naming the frame by a short unique id: a file name may
    occur twice (in this project or another), an id never."""
    from kilo.catalog.ids import short_ref

    hero = short_ref(cat, "assets", report.hero_asset_id)
    message(
        f"low confidence: {report.hero_reason}. Edit one hero frame by hand "
        f"({safe(name)}) and sync it to them:\n  kilo edit set {hero} --exposure ...\n"
        f"  kilo edit sync --from {hero} --fix-only {_quote(project_title)}"
    )


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


@style_app.command("export-aggregate")
def export_aggregate(
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the JSON here (default: stdout).")
    ] = None,
    noise: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Standard deviation of the added noise.")
    ] = 0.02,
) -> None:
    """Opt in to sharing: the noised per-context weights of contexts with 100 or more edits,
    nothing else (no photos, ids, features or single edits). Nothing is sent: look at it,
    then pass it on yourself."""
    from kilo.style.aggregate import export_style_aggregate, save_style_aggregate
    from kilo_cli.output import print_json

    agg = export_style_aggregate(STATE.catalog(), noise_std=noise)
    if out is None:
        print_json(agg)
    else:
        save_style_aggregate(agg, out)
    message(
        f"{len(agg.buckets)} context{'s' if len(agg.buckets) != 1 else ''} with "
        f"{agg.min_edits}+ edits, weights noised (sd {agg.noise_std}); {agg.left_out} with "
        "fewer edits left out" + (f"; written to {out}" if out else "")
    )


@style_app.command("reset")
def reset(
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False,
) -> None:
    """Forget everything Style DNA learned (your edit versions stay)."""
    from kilo.style import reset_style

    if not yes:
        typer.confirm("Forget your learned style?", abort=True)
    n = reset_style(STATE.catalog())
    message(f"Style DNA reset ({n} learned edits forgotten)")
