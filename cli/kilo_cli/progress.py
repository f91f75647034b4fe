"""The one progress display of every long command, fed by ``kilo.progress.Progress``.

On a terminal: a rich bar per stage (ingest's registering and processing overlap), with
files/s, MB/s and an ETA. Otherwise (a log file, CI, a pipe): a plain line on stderr every
few seconds and when a stage ends, so an unattended run still shows it is alive. Either way
the last snapshot of each stage is kept, for what an interrupted command says it had done.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from kilo.jobspec import JobType
from kilo_cli.output import err_console

__all__ = ["LINE_EVERY_S", "interrupted_summary", "progress_view", "reset_progress"]

#: seconds between two progress lines when stderr is not a terminal
LINE_EVERY_S = 5.0
#: how a job type reads as a stage of work
_STAGE_NAMES: dict[str, str] = {
    JobType.ANALYZE: "analyze",
    JobType.EMBED: "embed",
    JobType.CLUSTER: "cluster",
}


@dataclass(slots=True)
class _Stage:
    started: float
    done0: int
    bytes0: int
    done: int = 0
    total: int | None = None
    bytes_done: int = 0


#: stages of the running command, in the order they started (what Ctrl-C reports)
_STAGES: dict[str, _Stage] = {}


def _rate(stage: _Stage, now: float) -> tuple[float, float]:
    dt = max(now - stage.started, 1e-6)
    return (stage.done - stage.done0) / dt, (stage.bytes_done - stage.bytes0) / dt / 1e6


def _describe(name: str, stage: _Stage, counts: dict[str, int], now: float) -> tuple[str, str]:
    """(files/s, MB/s and ETA; the non-zero counts) of a stage."""
    files_s, mb_s = _rate(stage, now)
    shown = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
    if now - stage.started < 1.0:  # too early for a rate worth reading
        return "", shown
    rate = f"{files_s:.1f}/s" + (f" {mb_s:.1f} MB/s" if stage.bytes_done else "")
    if stage.total and files_s > 0 and stage.done < stage.total:
        rate += f" ETA {max(0.0, (stage.total - stage.done) / files_s):.0f}s"
    return rate, shown


def _track(p: Any) -> tuple[str, _Stage]:
    name = _STAGE_NAMES.get(p.stage, p.stage)
    stage = _STAGES.get(name)
    if stage is None:
        stage = _STAGES[name] = _Stage(time.perf_counter(), p.done, p.bytes_done)
    stage.done, stage.total, stage.bytes_done = p.done, p.total, p.bytes_done
    return name, stage


@contextmanager
def progress_view(description: str, *, enabled: bool = True) -> Iterator[Callable[[Any], None]]:
    """A progress callback drawing on stderr (a bar on a terminal, lines otherwise); with
    ``enabled`` False (``--json``) it only keeps count, for an interrupt's message."""
    err = err_console()
    if not enabled:

        def count(p: Any) -> None:
            _track(p)

        yield count
        return
    if not err.is_terminal:
        yield _lines(description)
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TextColumn("[dim]{task.fields[counts]}"),
        console=err,
        transient=True,
    )
    tasks: dict[str, Any] = {}

    def update(p: Any) -> None:
        name, stage = _track(p)
        if name not in tasks:
            tasks[name] = bar.add_task(name, total=None, rate="", counts="")
        rate, counts = _describe(name, stage, p.counts, time.perf_counter())
        bar.update(
            tasks[name],
            completed=p.done,
            total=p.total,
            rate=rate,
            counts=counts or str(p.message or "")[:40],
        )

    with bar:
        yield update


def _lines(description: str) -> Callable[[Any], None]:
    err = err_console()
    last: dict[str, float] = {}

    def update(p: Any) -> None:
        name, stage = _track(p)
        now = time.perf_counter()
        finished = stage.total is not None and stage.done >= stage.total
        if now - last.get(name, -LINE_EVERY_S) < LINE_EVERY_S and not finished:
            return
        if finished and last.get(name) == float("inf"):
            return  # said already
        last[name] = float("inf") if finished else now
        of = f"/{stage.total}" if stage.total is not None else ""
        rate, counts = _describe(name, stage, p.counts, now)
        text = f"{description}: {name} {stage.done}{of}" + (f" ({rate})" if rate else "")
        err.print(
            text + (f" {counts}" if counts else ""), highlight=False, markup=False, soft_wrap=True
        )

    return update


def interrupted_summary() -> str | None:
    """``analyze 18 of 60 done`` for the stage the command was in when interrupted (the last
    one that started and had not finished), None when nothing was counted."""
    for name, stage in reversed(list(_STAGES.items())):
        if stage.total is None or stage.done < stage.total:
            of = f" of {stage.total}" if stage.total is not None else ""
            return f"{name} {stage.done}{of} done"
    return None


def reset_progress() -> None:
    """Forget the stages (a new command in the same process: tests, a notebook)."""
    _STAGES.clear()
