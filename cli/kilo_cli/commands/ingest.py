"""``kilo ingest SOURCE... --project P``: folders, cards or s3:// prefixes into a project."""

from __future__ import annotations

import time
from contextlib import nullcontext
from typing import Annotated, Any

import typer

from kilo_cli.context import STATE, ExecutorOpt, find_project
from kilo_cli.output import JsonOpt, emit, message, print_table, safe
from kilo_cli.progress import progress_view


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest_cmd)


def _cluster(settings: Any) -> Any:
    """The Dask pool ingest and analysis share (starting a cluster takes seconds); with the
    local executor none: each step makes the pool it needs, when it needs one."""
    if settings.executor == "local":
        return nullcontext(None)
    from kilo.executors import open_pool

    return open_pool(settings.executor, settings.workers)


def _run_analyze(cat: Any, project_id: str, as_json: bool, no_process: bool, pool: Any) -> Any:
    """THE place where `kilo ingest` runs analysis (signals, hashes, clusters) after
    processing, through the library's one "process, then analyze"; its report, None with
    --no-process."""
    if no_process:
        return None
    from kilo.ingest import process_project

    with progress_view("ingest", enabled=not as_json) as update:
        return process_project(cat, project_id, progress=update, pool=pool).analysis


def _summary(rep: Any, analysis: Any, ingest_s: float, total_s: float) -> list[tuple[str, Any]]:
    """The rows of the ingest summary: files, photos, analysis and where the time went."""
    mb = rep.bytes_total / 1e6
    frames = rep.registered > rep.discovered  # an MPO or a multi-page file: a photo per frame
    rows: list[tuple[str, Any]] = [
        ("files found", rep.discovered),
        (
            "new photos" + (" (a photo per frame of multi-frame files)" if frames else ""),
            rep.registered,
        ),
        ("processed", rep.ready),
        ("resumed (left by an earlier run)", rep.resumed),
        ("skipped", rep.skipped),
        ("failed", rep.failed),
        ("ignored (not photos)", rep.ignored),
        ("size", f"{mb:.1f} MB"),
    ]
    if analysis is not None:
        c = analysis.clusters
        rows += [
            (
                "analyzed",
                f"{analysis.analyzed}"
                + (f" ({analysis.failed} failed)" if analysis.failed else ""),
            ),
            ("moments", c.get("moment", 0)),
            ("bursts", c.get("burst", 0)),
            ("duplicate groups", c.get("duplicate_group", 0)),
            ("search by content", _embedding_row(analysis)),
        ]
    split = f"ingest {ingest_s:.1f} s" + (
        f", analysis {total_s - ingest_s:.1f} s" if analysis is not None else ""
    )
    rows.append(("time", f"{total_s:.1f} s ({split})"))
    if ingest_s > 0:
        rows.append(("speed", f"{rep.discovered / ingest_s:.1f} files/s, {mb / ingest_s:.1f} MB/s"))
    return rows


#: what a library without CLIP weights does not have, said once (kilo_cli.context.first_time)
NO_CLIP_NOTE = (
    "no CLIP model in use (below: why), so photos are not embedded: 'kilo search' matches file "
    "names, keywords, camera and dates only (not what is in the picture, like 'dog on a "
    "beach'), and 'similar to this photo' is off. Culling, grouping and ranking do not need "
    "CLIP. With weights installed, 'kilo analyze PROJECT' embeds what is already ingested."
)


def _embedding_row(analysis: Any) -> str:
    if analysis.embedding_model:
        return f"on: {analysis.embedding_model} ({analysis.embedded} photos embedded)"
    return "off: no CLIP model (file names, keywords and metadata only)"


def _say_no_clip_once(analysis: Any, settings: Any) -> None:
    """The first ingest of a library without CLIP says what that means, plainly, once; the
    summary's "search by content" row says it every time."""
    from kilo.measure.embed import embedder_status
    from kilo_cli.context import first_time

    if analysis is None or analysis.embedding_model or not first_time(NO_CLIP_NOTE):
        return
    message(f"[yellow]note:[/yellow] {NO_CLIP_NOTE}")
    message(f"[dim]{safe(embedder_status(settings))}[/dim]")


def ingest_cmd(
    sources: Annotated[
        list[str], typer.Argument(help="Folders, files or URLs (s3://bucket/prefix).")
    ],
    project: Annotated[
        str,
        typer.Option("--project", "-p", help="Project id, id prefix, title or start of the title."),
    ],
    create: Annotated[
        bool, typer.Option("--create", help="Create the project when no title matches.")
    ] = False,
    copy: Annotated[
        bool, typer.Option("--copy", help="Copy originals into the store (cards to be wiped).")
    ] = False,
    no_process: Annotated[
        bool,
        typer.Option("--no-process", help="Only register; leave processing jobs queued."),
    ] = False,
    follow_symlinks: Annotated[
        bool,
        typer.Option(
            "--follow-symlinks",
            help="Follow links to files outside the source folders (default: skip them).",
        ),
    ] = False,
    executor: ExecutorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ingest photos: register every file at once, then make metadata and previews."""
    from kilo.errors import NotFound, PartialFailure
    from kilo.ingest import ingest
    from kilo.projects import create_project

    cat = STATE.catalog(executor=executor)
    try:
        proj = find_project(cat, project)
    except NotFound:
        if not create:
            raise
        proj = create_project(cat, project)
        if not as_json:
            message(f"created project [bold]{safe(proj.title)}[/bold] ({proj.id})")
    started = time.perf_counter()
    with _cluster(cat.settings) as pool:  # one Dask cluster for both steps (local: none)
        with progress_view("ingest", enabled=not as_json) as update:
            rep = ingest(
                cat,
                proj.id,
                sources,
                copy=copy,
                progress=update,
                process=not no_process,
                follow_symlinks=follow_symlinks,
                pool=pool,
            )
        ingest_s = time.perf_counter() - started

        # analysis follows processing (kilo.ingest.process_project): the one place ingest calls it
        analysis = _run_analyze(cat, proj.id, as_json, no_process, pool)
    total_s = time.perf_counter() - started

    def human() -> None:
        print_table(_summary(rep, analysis, ingest_s, total_s), ["ingest", proj.title])
        _say_no_clip_once(analysis, cat.settings)
        if rep.failures:
            print_table([(f.path, f.reason) for f in rep.failures], ["failed file", "reason"])

    emit(rep, as_json, human)
    if rep.failed:
        raise PartialFailure(f"{rep.failed} file(s) could not be ingested", result=rep)
