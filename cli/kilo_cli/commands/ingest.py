"""``kilo ingest SOURCE... --project P``: folders, cards or s3:// prefixes into a project."""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from kilo_cli.context import STATE
from kilo_cli.output import JsonOpt, emit, err_console, message, print_table, safe


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest_cmd)


@contextmanager
def _live_progress(enabled: bool) -> Any:
    """Progress on stderr: files, skipped, failed, files/s, MB/s, ETA."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    err = err_console()
    if not enabled or not err.is_terminal:
        yield lambda _p: None
        return
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TextColumn("[dim]{task.fields[counts]}"),
        console=err,
        transient=True,
    )
    tasks: dict[str, Any] = {}  # a line per stage: registering and processing overlap
    start: dict[str, tuple[float, int, int]] = {}

    def update(p: Any) -> None:
        task = tasks.get(p.stage)
        if task is None:
            task = tasks[p.stage] = bar.add_task(p.stage, total=None, rate="", counts="")
        now = time.perf_counter()
        t0, d0, b0 = start.setdefault(p.stage, (now, p.done, p.bytes_done))
        dt = max(now - t0, 1e-6)
        files_s = (p.done - d0) / dt
        mb_s = (p.bytes_done - b0) / dt / 1e6
        eta = ""
        if p.total and files_s > 0:
            eta = f" ETA {max(0.0, (p.total - p.done) / files_s):.0f}s"
        c = p.counts
        bar.update(
            task,
            description=p.stage,
            completed=p.done,
            total=p.total,
            rate=f"{files_s:.1f} files/s {mb_s:.1f} MB/s{eta}",
            counts=(
                f"found {c.get('discovered', 0)} new {c.get('registered', 0)} "
                f"skipped {c.get('skipped', 0)} failed {c.get('failed', 0)}"
            ),
        )

    with bar:
        yield update


def _run_analyze(cat: Any, project_id: str, as_json: bool, no_process: bool) -> None:
    """THE place where `kilo ingest` runs analysis (signals, hashes, clusters) after
    processing."""
    if no_process:
        return
    from kilo.analyze import analyze

    with _live_progress(not as_json) as update:
        analyze(cat, project_id, progress=update)


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
    as_json: JsonOpt = False,
) -> None:
    """Ingest photos: register every file at once, then make metadata and previews."""
    from kilo.errors import NotFound, PartialFailure
    from kilo.ingest import ingest
    from kilo.projects import create_project, resolve_project

    cat = STATE.catalog()
    try:
        proj = resolve_project(cat, project)
    except NotFound:
        if not create:
            raise
        proj = create_project(cat, project)
        if not as_json:
            message(f"created project [bold]{safe(proj.title)}[/bold] ({proj.id})")
    with _live_progress(not as_json) as update:
        rep = ingest(cat, proj.id, sources, copy=copy, progress=update,
                     process=not no_process, follow_symlinks=follow_symlinks)  # fmt: skip

    # analysis (kilo.analyze) follows processing: the one place ingest calls it
    _run_analyze(cat, proj.id, as_json, no_process)

    def human() -> None:
        mb = rep.bytes_total / 1e6
        rate = rep.discovered / rep.elapsed_s if rep.elapsed_s else 0.0
        mb_s = mb / rep.elapsed_s if rep.elapsed_s else 0.0
        print_table(
            [
                ("discovered", rep.discovered),
                ("new assets", rep.registered),
                ("processed", rep.ready),
                ("resumed (left by an earlier run)", rep.resumed),
                ("skipped", rep.skipped),
                ("failed", rep.failed),
                ("ignored (not photos)", rep.ignored),
                ("size", f"{mb:.1f} MB"),
                (
                    "time",
                    f"{rep.elapsed_s:.1f} s ({rate:.1f} files/s, {mb_s:.1f} MB/s)",
                ),
            ],
            ["ingest", proj.title],
        )
        if rep.failures:
            print_table([(f.path, f.reason) for f in rep.failures], ["failed file", "reason"])

    emit(rep, as_json, human)
    if rep.failed:
        raise PartialFailure(f"{rep.failed} file(s) could not be ingested", result=rep)
