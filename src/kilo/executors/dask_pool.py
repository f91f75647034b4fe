"""The Dask executor: kilo's pooled work on a ``distributed`` cluster (the ``dask`` extra).

Dask's ``Client.get_executor()`` is a standard :class:`concurrent.futures.Executor`, so the
job runner sends the same chunks of payloads to it as to a local pool. What this module adds:

* the cluster: a ``LocalCluster`` for ``dask:local`` (processes, one thread each, bound to
  127.0.0.1, no dashboard), or a connection to a running scheduler;
* a worker plugin (:class:`KiloWorkerPlugin`) run once on every worker as it joins, also
  on one that replaces a lost worker: it imports the decoders, loads the face models, runs
  OpenCV on one thread and gives the heap back its adaptive thresholds (:func:`keep_heap`),
  so no task pays for that;
* the pool's shape for the runner: ``chunk_max`` items per task (per-task overhead is ~1 ms
  on Dask, against ~0.1 ms in a local pool) and at most ``max_inflight`` tasks out at once
  (backpressure: jobs wait in the catalog, not in the scheduler's memory).

A worker lost mid-task (killed, its machine gone) has its tasks rescheduled on the others by
the scheduler; a task that fails for its input fails that item only (``compute_many``).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from typing import Any

from distributed import Client, LocalCluster, WorkerPlugin

from kilo.errors import KiloError
from kilo.executors.spec import ExecutorSpec

log = logging.getLogger(__name__)

#: jobs per task on a cluster (the runner sends fewer near the end of a queue)
CHUNK_MAX = 32
#: seconds to wait for a scheduler, and for the workers of a cluster that has none yet
CONNECT_TIMEOUT_S = 10.0
#: what the workers take from the driver's environment: how to log, never secrets
FORWARDED_ENV = ("KILO_LOG",)


class KiloWorkerPlugin(WorkerPlugin):
    """Run on every Dask worker once, when it joins (see the module docstring). Workers of
    a ``dask:local`` cluster start with Ctrl-C ignored (:func:`_sigint_ignored`)."""

    name = "kilo"

    def __init__(self, preload: Iterable[str], env: dict[str, str]) -> None:
        self.preload = tuple(preload)
        self.env = dict(env)

    def setup(self, worker: Any) -> None:
        import importlib

        os.environ.update(self.env)
        from kilo.logs import level_from_env, log_to_stderr

        level = level_from_env()
        if level is not None:
            log_to_stderr(level)
        for module in self.preload:
            try:
                importlib.import_module(module)
            except ImportError:
                log.debug("worker: cannot import %s", module, exc_info=True)
        import cv2

        cv2.setNumThreads(1)
        keep_heap()
        from kilo.measure.faces import load_face_models

        load_face_models()


#: glibc's mallopt parameters
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def keep_heap() -> bool:
    """Undo what Dask's ``MALLOC_TRIM_THRESHOLD_=65536`` (set for every worker it spawns) does
    to kilo: any such setting turns off glibc's adaptive thresholds, so every buffer of a
    photo (8 MB for a 2048 px preview) is mapped and unmapped on each use and its pages
    zeroed again: signals of 12 previews took 2.8 s instead of 1.7 s on one core. Buffers
    up to 32 MB come from the heap again and memory goes back to the system past 256 MB
    free. True if applied (glibc only)."""
    if "MALLOC_TRIM_THRESHOLD_" not in os.environ or not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(
            libc.mallopt(_M_TRIM_THRESHOLD, 256 * 2**20)
            and libc.mallopt(_M_MMAP_THRESHOLD, 32 * 2**20)
        )
    except (OSError, AttributeError):
        return False


class DaskPool(Executor):
    """A Dask client as the runner's pool; ``with`` ends the client (and its own cluster)."""

    distributed = True
    chunk_max = CHUNK_MAX

    def __init__(self, client: Any, cluster: Any | None, workers: int) -> None:
        self.client, self.cluster = client, cluster
        self.workers = max(1, workers)
        self.max_inflight = 2 * self.workers + 2
        self._executor = client.get_executor(pure=False)
        self._closed = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = self._executor.submit(fn, *args, **kwargs)
        return future

    def worker_pids(self) -> list[int]:
        """The process id of every live worker (tests kill one).

        A worker killed a moment ago can still be on the scheduler's list; asking it
        fails with a closed connection, so it is left out instead of raising.
        """
        answers = self.client.run(os.getpid, on_error="return")
        return sorted(pid for pid in answers.values() if isinstance(pid, int))

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._executor.shutdown(wait=wait and not cancel_futures)
        finally:
            try:
                self.client.close()
            finally:
                if self.cluster is not None:
                    self.cluster.close()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.shutdown(wait=exc_type is None, cancel_futures=exc_type is not None)


def _quiet_dask() -> int:
    """Dask logs every worker start and stop at INFO, and the workers of a cluster shutting
    down under load log lost heartbeats with a traceback: kilo shows them with ``-v`` only.
    Returns the level for a local cluster's worker processes."""
    from kilo.logs import level_from_env

    level = level_from_env()
    if level is not None and level <= logging.DEBUG:  # kilo -v
        return logging.INFO
    for name in ("distributed", "dask"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    return logging.CRITICAL


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Start a local cluster's processes with Ctrl-C ignored (they inherit it, and so do the
    workers a nanny starts later): Ctrl-C in the terminal reaches the whole process group,
    and this process decides what happens (the runner stops the run and hands jobs back);
    workers dying of it each print a traceback."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def dask_pool(spec: ExecutorSpec, workers: int, *, preload: Iterable[str]) -> DaskPool:
    """A :class:`DaskPool` for ``spec``: a new ``LocalCluster`` of ``workers`` processes, or
    a client of the scheduler at ``spec.address``."""
    quiet = _quiet_dask()
    cluster = None
    try:
        if spec.address is None:
            from kilo.workers import main_hidden

            with main_hidden(), _sigint_ignored():
                cluster = LocalCluster(
                    n_workers=max(1, workers),
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    silence_logs=quiet,
                )
            client = Client(cluster, timeout=CONNECT_TIMEOUT_S)
        else:
            client = Client(spec.address, timeout=CONNECT_TIMEOUT_S)
            client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        where = spec.address or "a local cluster"
        raise KiloError(f"cannot reach the Dask scheduler at {where}: {exc}") from None
    env = {k: os.environ[k] for k in FORWARDED_ENV if k in os.environ}
    client.register_plugin(KiloWorkerPlugin(preload, env), name="kilo")
    threads = sum(client.nthreads().values())
    return DaskPool(client, cluster, threads or workers)
