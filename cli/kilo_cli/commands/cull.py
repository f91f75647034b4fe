"""``kilo cull ...``: keyboard culling in the terminal, and the same decisions for scripts.

``kilo cull PROJECT`` opens the full-screen culling screen (same as ``kilo cull open``);
``apply``, ``undo``, ``redo``, ``accept-winners``, ``taste`` and ``write-xmp`` are the
non-interactive equivalents.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from kilo.xmp_packets import Naming
from kilo_cli.context import STATE, find_project
from kilo_cli.output import JsonOpt, emit, message, out_console, print_table
from kilo_cli.progress import progress_view


class PickAs(StrEnum):
    """How a pick shows in Lightroom (kilo.cull.decision_sidecar.PickMapping)."""

    label = "label"
    rating = "rating"
    none = "none"


class RejectAs(StrEnum):
    """How a reject shows (kilo.cull.decision_sidecar.PickMapping.reject_as)."""

    rating = "rating"
    label = "label"
    none = "none"


class _CullGroup(TyperGroup):
    """``kilo cull PROJECT`` runs ``kilo cull open PROJECT``."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and not args[0].startswith("-") and self.get_command(ctx, args[0]) is None:
            args = ["open", *args]
        return super().resolve_command(ctx, args)


cull_app = typer.Typer(
    cls=_CullGroup,
    help="Cull: 'kilo cull PROJECT' opens the keyboard culling screen; the subcommands "
    "pick, reject, rate, undo and export decisions from scripts.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(cull_app, name="cull")


ProjectArg = Annotated[
    str, typer.Argument(help="Project id, id prefix, title or start of the title.")
]


def _project(project: str) -> tuple[Any, str]:

    cat = STATE.catalog()
    return cat, find_project(cat, project).id


def _require_terminal() -> None:
    """The screen draws on the terminal and reads keys from it: redirected, it would write
    escape codes into a file and wait for keys that never come."""
    import sys

    from kilo.errors import InvalidInput

    streams = {"stdin": sys.stdin, "stdout": sys.stdout, "stderr": sys.stderr}
    redirected = [name for name, f in streams.items() if f is None or not f.isatty()]
    if redirected:
        verb = "is" if len(redirected) == 1 else "are"
        raise InvalidInput(
            f"kilo cull needs a terminal, but {' and '.join(redirected)} {verb} not one; from "
            "a script use 'kilo clusters list', 'kilo cull apply' or 'kilo cull accept-winners'"
        )


@cull_app.command("open")
def open_(
    project: ProjectArg,
    no_images: Annotated[
        bool, typer.Option("--no-images", help="Do not draw the photos (names only).")
    ] = False,
) -> None:
    """Open the full-screen culling screen (F pick, D reject, 1-5 rate, Z undo, ? keys).
    It needs a terminal: with input or output redirected it refuses (exit 2)."""
    _require_terminal()
    cat, pid = _project(project)
    from kilo_cli.tui.cull import run_cull

    run_cull(cat, pid, images=not no_images)


@cull_app.command("apply")
def apply(
    project: ProjectArg,
    pick: Annotated[
        list[str] | None, typer.Option("--pick", help="Asset id or file name to pick.")
    ] = None,
    reject: Annotated[list[str] | None, typer.Option("--reject", help="Asset to reject.")] = None,
    rate: Annotated[
        list[str] | None, typer.Option("--rate", help="ASSET=N (1-5, or 0 to clear).")
    ] = None,
    star: Annotated[list[str] | None, typer.Option("--star", help="Asset to star.")] = None,
    unstar: Annotated[list[str] | None, typer.Option("--unstar", help="Asset to unstar.")] = None,
    clear: Annotated[
        list[str] | None, typer.Option("--clear", help="Asset to un-pick and un-reject.")
    ] = None,
    idempotency_key: Annotated[
        str | None,
        typer.Option("--idempotency-key", help="Retrying with the same key applies once."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Apply picks, rejects, ratings and stars in one all-or-nothing step (one undo)."""
    from kilo.cull import apply_bulk
    from kilo.cull.ratings import find_asset
    from kilo.errors import InvalidInput
    from kilo.models import BulkCullAction, BulkCullActionRequest

    cat, pid = _project(project)
    actions: list[BulkCullAction] = []

    def add(ref: str, **fields: Any) -> None:
        actions.append(BulkCullAction(asset_id=find_asset(cat, pid, ref), **fields))

    for ref in clear or []:
        add(ref, picked=False, rejected=False)
    for ref in pick or []:
        add(ref, picked=True)
    for ref in reject or []:
        add(ref, rejected=True)
    for item in rate or []:
        ref, sep, value = item.rpartition("=")
        if not sep or not value.strip().isdigit() or not 0 <= int(value) <= 5:
            raise InvalidInput(f"--rate takes ASSET=N with N from 0 to 5, got {item!r}")
        add(ref, rating=int(value) or None)
    for ref in star or []:
        add(ref, starred=True)
    for ref in unstar or []:
        add(ref, starred=False)
    if not actions:
        raise InvalidInput("nothing to apply: give --pick, --reject, --rate or --star")
    result = apply_bulk(
        cat, pid, BulkCullActionRequest(actions=actions), idempotency_key=idempotency_key
    )

    def human() -> None:
        n = len(result.updated_asset_ids)
        message(f"applied {len(actions)} change(s) to {n} asset(s); [b]kilo cull undo[/b] reverts")

    emit(result, as_json, human)


def _undo_redo(project: str, as_json: bool, redo: bool) -> None:
    from kilo.cull import redo as redo_action
    from kilo.cull import undo as undo_action

    cat, pid = _project(project)
    action = (redo_action if redo else undo_action)(cat, pid)
    word = "redo" if redo else "undo"

    def human() -> None:
        if action is None:
            message(f"nothing to {word}")
            return
        what = action.kind.replace("_", " ")
        n = len(action.asset_ids)
        clusters = f", {len(action.cluster_ids)} cluster(s)" if action.cluster_ids else ""
        message(f"{'redid' if redo else 'undid'} {what} ({n} asset(s){clusters})")

    emit(action, as_json, human)


@cull_app.command("undo")
def undo(project: ProjectArg, as_json: JsonOpt = False) -> None:
    """Undo your last cull action in the project (restores ratings, winners, reviewed)."""
    _undo_redo(project, as_json, redo=False)


@cull_app.command("redo")
def redo(project: ProjectArg, as_json: JsonOpt = False) -> None:
    """Redo the last undone cull action."""
    _undo_redo(project, as_json, redo=True)


@cull_app.command("accept-winners")
def accept_winners(
    project: ProjectArg,
    min_confidence: Annotated[
        float, typer.Option("--min-confidence", help="Only clusters at least this sure (0-1).")
    ] = 0.0,
    as_json: JsonOpt = False,
) -> None:
    """Pick every suggested winner of unreviewed bursts and duplicate groups above a
    confidence and mark those clusters reviewed (one undo)."""
    from kilo.cull import accept_winners as accept

    cat, pid = _project(project)
    report = accept(cat, pid, min_confidence)

    def human() -> None:
        message(
            f"accepted {len(report.accepted)} suggested winner(s); "
            f"{report.skipped_low_confidence} below confidence {min_confidence:g} left open"
        )

    emit(report, as_json, human)


@cull_app.command("taste")
def taste(project: ProjectArg, as_json: JsonOpt = False) -> None:
    """What your picks taught the ranking, in plain sentences (and the weights)."""
    from kilo.cull.taste import get_taste

    cat, _pid = _project(project)
    model = get_taste(cat)

    def human() -> None:
        for sentence in model.sentences:
            out_console().print(sentence, highlight=False)
        rows = [
            (name, f"{model.defaults[name]:+.2f}", f"{model.weights[name]:+.2f}")
            for name in model.weights
        ]
        print_table(rows, ["signal", "default", "yours"])

    emit(model.dump(), as_json, human)


@cull_app.command("write-xmp")
def write_xmp(
    project: ProjectArg,
    naming: Annotated[
        Naming,
        typer.Option(help="Sidecar names: lightroom (IMG_1.xmp) or darktable (IMG_1.JPG.xmp)."),
    ] = "lightroom",
    all_assets: Annotated[
        bool, typer.Option("--all", help="Also assets with no rating and no keywords.")
    ] = False,
    pick_as: Annotated[
        PickAs,
        typer.Option(help="How a pick shows: a color label, a 1-star floor, or not at all."),
    ] = PickAs.label,
    pick_label: Annotated[
        str, typer.Option(help="The color label of a pick (Red, Yellow, Green, Blue, Purple).")
    ] = "Green",
    reject_as: Annotated[
        RejectAs,
        typer.Option(help="How a reject shows: the rating -1, a color label, or not at all."),
    ] = RejectAs.rating,
    reject_label: Annotated[
        str, typer.Option(help="The color label of a reject with --reject-as label.")
    ] = "Red",
    embed: Annotated[
        bool,
        typer.Option(
            "--embed",
            help="Also write the decisions into the XMP of local JPEG, TIFF, PNG and DNG "
            "originals (what Lightroom Classic reads for them): atomic, pixels untouched. "
            "Off by default: originals are never written.",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Write ratings, picks (a color label by default), rejects (xmp:Rating -1 by default)
    and keywords into XMP sidecars next to the originals (into the store for remote
    originals), merging existing sidecars. Says, one line per case, when two files of a
    RAW+JPEG pair would share a sidecar or when the chosen tool will not see a decision.
    docs/culling.md has the table of which tool reads what."""
    from kilo.cull.decision_sidecar import PickMapping, write_xmp_sidecars
    from kilo.errors import InvalidInput, PartialFailure

    if naming not in ("lightroom", "darktable"):
        raise InvalidInput("--naming must be lightroom or darktable")
    mapping = PickMapping(
        pick_as.value,
        pick_label.strip() or "Green",
        reject_as=reject_as.value,
        reject_label=reject_label.strip() or "Red",
    )
    cat, pid = _project(project)
    with progress_view("sidecars", enabled=not as_json) as bar:
        results = write_xmp_sidecars(
            cat,
            pid,
            naming=naming,
            include_unrated=all_assets,
            picks=mapping,
            embed=embed,
            progress=bar,
        )

    def human() -> None:
        shown = [r for r in results if r.status != "skipped" or r.extra.get("notes")]
        print_table(
            [(r.item, r.status, _where(r.extra) or r.reason) for r in shown],
            ["file", "status", "written to"],
            empty="nothing to write: no asset has a rating or keywords",
        )
        for line in _note_lines(results):
            out_console().print(line, highlight=False, markup=False)
        counts = {s: sum(r.status == s for r in results) for s in ("ok", "skipped", "failed")}
        message(f"{counts['ok']} written, {counts['skipped']} skipped, {counts['failed']} failed")

    emit(results, as_json, human)
    failed = [r for r in results if r.status == "failed"]
    if failed:
        raise PartialFailure(f"{len(failed)} sidecar(s) could not be written", result=results)


def _where(extra: dict[str, object]) -> str:
    """Where a decision went: the sidecar, the file itself, or both."""
    parts = [str(extra["uri"])] if extra.get("uri") else []
    if extra.get("embedded"):
        parts.append("(in the file itself)")
    return " ".join(parts)


#: notes of one kind beyond this many are counted, not listed
_NOTES_SHOWN = 5


def _note_lines(results: list[Any]) -> list[str]:
    """The notes, one line per case, grouped by kind (a long run of one kind is cut)."""
    by_kind: dict[str, list[str]] = {}
    for r in results:
        for note in r.extra.get("notes") or []:
            by_kind.setdefault(str(note["kind"]), []).append(str(note["text"]))
    lines = []
    for texts in by_kind.values():
        lines += texts[:_NOTES_SHOWN]
        if len(texts) > _NOTES_SHOWN:
            lines.append(f"... and {len(texts) - _NOTES_SHOWN} more like this (--json lists all)")
    return lines
