"""Worker process pools for CPU-bound work (decoding, signals, rendering, exporting).

One way to make them, so every capability gets the same safe behaviour:

* Workers come from a fork server (``multiprocessing`` "forkserver") that has only imported
  the modules named in ``preload``, never run them: a worker starts in milliseconds instead
  of the ~1 s of a freshly spawned interpreter, and is never a fork of the calling process
  (a fork of a process that has started OpenMP threads, as rawpy, OpenCV and torch do, or
  DuckDB's threads, can deadlock in the child).
* The caller's ``__main__`` is not re-imported in the workers. Python normally runs the main
  script again in each worker, which breaks ``python - <<EOF``, re-runs a user's unguarded
  script (``import kilo; ...`` without ``if __name__ == "__main__"``) and slows start-up.
  kilo's workers only run kilo functions, so they never need it: the workers are started
  while the main module's file is hidden from multiprocessing.
* Each worker takes the caller's environment as it is when the pool is made (S3 credentials
  set after the fork server started) and runs OpenCV on one thread (the pool is the
  parallelism).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import traceback
import weakref
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager, nullcontext, suppress
from typing import Any

from kilo.jobspec import get_handler, is_registered

_MAIN_LOCK = threading.Lock()
#: pools whose workers are still starting (see ``pool_ready``)
_STARTING: weakref.WeakKeyDictionary[Executor, threading.Event] = weakref.WeakKeyDictionary()
#: every pool made here and not collected yet (see ``abandon_pools``)
_POOLS: weakref.WeakSet[Executor] = weakref.WeakSet()

#: what every pool's fork server imports up front (the first pool's list wins: the fork
#: server is started once per process). Kept to what decoding needs, without the catalog,
#: pydantic or torch: the fork server then starts in ~0.4 s instead of ~1 s, and that time is
#: on the critical path of every short run. Other work imports its modules on first use.
DEFAULT_PRELOAD = ("kilo.ingest.process", "kilo.imaging", "cv2", "numpy", "piexif")


def init_worker(env: dict[str, str] | None, owner_pid: int | None = None) -> None:
    """Runs first in every worker (and is the no-op task that starts a worker). With
    ``owner_pid`` the worker exits as soon as that process (the pool's maker) is gone."""
    if owner_pid is not None:
        # first of all: Ctrl-C in the terminal reaches the whole process group, and the
        # owner decides what to do (stop_pool); a worker still starting must not die of it
        # with a KeyboardInterrupt traceback of its own
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if env is not None:
        os.environ.clear()
        os.environ.update(env)
    from kilo.logs import level_from_env, log_to_stderr

    level = level_from_env()
    if level is not None:  # the owner was asked for a log (kilo -v): workers log too
        log_to_stderr(level)
    if owner_pid is not None:
        exit_with(owner_pid)
    import cv2

    cv2.setNumThreads(1)


def exit_with(pid: int) -> None:
    """End this process when process ``pid`` ends, however it ends (kill -9 included).

    A worker's parent is the fork server, not the process that made the pool, so the
    kernel's parent-death signal cannot help, and a pool's own queues do not notice either:
    without this, workers outlive a killed ``kilo`` for minutes, holding their memory. A
    daemon thread waits on a pidfd (Linux; no polling) or checks once a second."""

    def watch() -> None:
        try:
            fd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            fd = None
        if fd is not None:
            import select

            select.select([fd], [], [])
        else:  # pragma: no cover - not Linux
            import time

            while True:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                except PermissionError:
                    pass
                time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="kilo-owner-watch", daemon=True).start()


@contextmanager
def main_hidden() -> Iterator[None]:
    main = sys.modules.get("__main__")
    script = getattr(main, "__file__", None)
    hide = main is not None and script is not None and getattr(main, "__spec__", None) is None
    with _MAIN_LOCK:
        if hide:
            del main.__file__  # type: ignore[union-attr]  # multiprocessing then skips it
        try:
            yield
        finally:
            if hide:
                main.__file__ = script  # type: ignore[union-attr]


def _start_workers(pool: ProcessPoolExecutor, workers: int) -> None:
    """Start every worker now (a non-fork pool starts them all on its first submits)."""
    with main_hidden():
        try:
            with _start_lock(pool):  # stop_pool(now=True) waits: it must see every worker
                futures = [pool.submit(init_worker, None) for _ in range(workers)]
            for future in futures:
                future.result()
        except RuntimeError:  # the pool was shut down meanwhile
            pass
        finally:
            started = _STARTING.pop(pool, None)
            if started is not None:
                started.set()


def pool_ready(pool: Executor) -> bool:
    """False while a pool made with ``background=True`` is still starting its workers (about
    0.3 s: the fork server imports the preloaded modules). Callers can do work of their own
    meanwhile instead of waiting."""
    started = _STARTING.get(pool)
    return started is None or started.is_set()


def _start_lock(pool: Executor) -> Any:
    return getattr(pool, "start_lock", None) or nullcontext()


class WorkerPool(ProcessPoolExecutor):
    """A process pool whose ``with`` block ends by :func:`stop_pool`: waiting for running
    tasks normally, killing the workers at once when the block is left by Ctrl-C or an
    error (nobody is left to collect what they would finish)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.start_lock = threading.Lock()  # held while the workers are being started

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        stop_pool(self, now=exc_type is not None)


def process_pool(
    workers: int, *, preload: Iterable[str] = DEFAULT_PRELOAD, background: bool = False
) -> WorkerPool:
    """A pool of ``workers`` processes (see the module docstring). With ``background`` its
    workers boot on a thread while the caller goes on (e.g. registers files meanwhile)."""
    n = max(1, workers)
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(list(preload))  # no effect once the fork server runs
    _start_fork_server()
    pool = WorkerPool(
        max_workers=n,
        mp_context=ctx,
        initializer=init_worker,
        initargs=(dict(os.environ), os.getpid()),
    )
    _POOLS.add(pool)
    if background:
        _STARTING[pool] = threading.Event()
        threading.Thread(target=_start_workers, args=(pool, n), daemon=True).start()
    else:
        _start_workers(pool, n)
    return pool


def _start_fork_server() -> None:
    """Start the fork server (if it is not running) with Ctrl-C ignored. It imports the
    preloaded modules before it sets its own SIGINT handling, so a Ctrl-C landing meanwhile
    printed a KeyboardInterrupt traceback of its own (seen on a loaded machine); an ignored
    signal stays ignored across its exec. Its workers ignore SIGINT anyway (init_worker)."""
    from multiprocessing import forkserver

    if threading.current_thread() is not threading.main_thread():
        forkserver.ensure_running()  # only the main thread may change signal handling
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, previous)


def stop_pool(pool: Executor, *, now: bool = False) -> None:
    """Shut ``pool`` down: let running tasks finish, or with ``now`` (Ctrl-C) kill its
    workers at once: their half-done work is not wanted, and waiting for a chunk of photos
    to finish would make an interrupt take many seconds."""
    if now:
        # after the workers still starting are all there: one started after the kill would
        # wait forever for the queue lock a killed worker held, and so would the pool's
        # shutdown, and with it the interpreter's exit (seen once in CI)
        with _start_lock(pool):
            processes = getattr(pool, "_processes", None) or {}
            for proc in list(processes.values()):
                with suppress(Exception):
                    proc.kill()
    pool.shutdown(wait=not now, cancel_futures=True)


def release_pools() -> None:
    """For a process about to leave by ``os._exit`` (the CLI after Ctrl-C): run what
    multiprocessing runs at a normal exit (its finalizers of priority 0 and up), which unlink
    the named semaphores of every pool's queues and tell the resource tracker. Skipped, the
    tracker found them still registered when the process was gone and printed "There appear
    to be 5 leaked semaphore objects to clean up at shutdown". Finalizers that join threads
    have lower priority and are not run: nothing here waits."""
    from multiprocessing import util

    run_finalizers = getattr(util, "_run_finalizers", None)  # what util._exit_function calls
    if run_finalizers is not None:
        with suppress(Exception):
            run_finalizers(0)


def abandon_pools(wait_s: float = 1.0) -> None:
    """For a process about to leave by ``os._exit`` in the middle of its work (a second
    Ctrl-C): kill every pool's workers, once those still starting are up (waiting at most
    ``wait_s`` in all), then :func:`release_pools`. A worker still unpickling its queues
    when their semaphores were unlinked printed a FileNotFoundError traceback of its own;
    leaving them linked, the resource tracker warned of leaked semaphores."""
    import time

    deadline = time.monotonic() + wait_s
    for started in list(_STARTING.values()):
        started.wait(max(0.0, deadline - time.monotonic()))
    workers = [
        proc
        for pool in list(_POOLS)
        for proc in list((getattr(pool, "_processes", None) or {}).values())
    ]
    for proc in workers:
        with suppress(Exception):
            proc.kill()
    for proc in workers:
        with suppress(Exception):
            proc.join(max(0.0, deadline - time.monotonic()))
    release_pools()


def compute_many(handler_type: str, target: str, payloads: list[Any]) -> list[tuple[bool, Any]]:
    """Worker entry for a chunk of jobs: ``(True, result)`` or ``(False, (reason,
    traceback))`` each.

    ``target`` is either ``"module:function"``, a handler's compute function (called directly,
    so the worker imports that module only; a None payload computes to None), or the module
    of a handler, whose import registers it (:mod:`kilo.jobspec`).
    """
    import importlib

    from kilo.errors import describe_exception

    module, _, attr = target.partition(":")
    compute: Any
    if attr:
        function = getattr(importlib.import_module(module), attr)

        def compute(payload: Any) -> Any:
            return None if payload is None else function(payload)
    else:
        if not is_registered(handler_type):
            importlib.import_module(module)
        compute = get_handler(handler_type).compute
    out: list[tuple[bool, Any]] = []
    for payload in payloads:
        try:
            out.append((True, compute(payload)))
        except Exception as exc:  # the item fails, with its reason and where it came from
            out.append((False, (describe_exception(exc), traceback.format_exc())))
    return out
