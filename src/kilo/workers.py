"""Worker process pools for CPU-bound work (decoding, rendering, exporting).

One way to make them, so every capability gets the same safe behaviour:

* ``spawn`` start method: a fork of a process that has run OpenMP (rawpy, OpenCV, torch) or
  DuckDB's threads can deadlock in the child.
* The caller's ``__main__`` is NOT re-imported in the workers. Python's spawn normally runs
  the main script again in each worker, which breaks ``python - <<EOF``, re-runs a user's
  unguarded script (``import kilo; kilo...`` without ``if __name__ == "__main__"``) and slows
  start-up. kilo's workers only run kilo functions, so they never need the main module; the
  workers are launched while the main module's file is hidden from the spawn preparation.
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager

_LAUNCH_LOCK = threading.Lock()


def _ready() -> bool:
    return True


@contextmanager
def _main_hidden() -> Iterator[None]:
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    saved: dict[str, object] = {
        k: main.__dict__[k] for k in ("__file__", "__spec__") if k in main.__dict__
    }
    main.__dict__.pop("__file__", None)
    main.__dict__["__spec__"] = None
    try:
        yield
    finally:
        main.__dict__.pop("__spec__", None)
        main.__dict__.update(saved)


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A started pool of ``workers`` spawned processes (see the module docstring)."""
    pool = ProcessPoolExecutor(
        max_workers=max(1, workers), mp_context=multiprocessing.get_context("spawn")
    )
    # A non-fork pool launches all its workers on the first submit: do it now, main hidden.
    with _LAUNCH_LOCK, _main_hidden():
        pool.submit(_ready).result()
    return pool
