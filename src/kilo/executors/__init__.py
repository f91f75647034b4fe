"""Where pooled work runs: this machine's worker processes (the default) or a Dask cluster.

``KILO_EXECUTOR`` (or ``--executor``) names it:

* ``local``: :func:`kilo.workers.process_pool`, one process per core of this machine;
* ``dask:local``: a Dask ``LocalCluster`` on this machine (loopback only, no dashboard),
  started for the run and shut down after it;
* ``dask://host:8786`` (or ``tcp://host:8786``): the scheduler of a running Dask cluster.

Every executor runs the same pure functions of a job's payload (:func:`kilo.workers.
compute_many`); the catalog is written by the process that made the executor only. See
``docs/scale-out.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Executor

from kilo.errors import InvalidInput
from kilo.executors.spec import ExecutorSpec, parse_executor

__all__ = ["ExecutorSpec", "is_distributed", "open_pool", "parse_executor"]


def is_distributed(pool: Executor | None) -> bool:
    """True for a Dask pool: its workers may be other machines (no shared temp folder)."""
    return getattr(pool, "distributed", False) is True


def open_pool(
    executor: str | None,
    workers: int,
    *,
    preload: Iterable[str] | None = None,
    background: bool = False,
) -> Executor:
    """An executor for pooled work, used as a ``with`` block (it ends with it).

    ``workers`` is the number of local processes, or of Dask workers a ``dask:local`` cluster
    starts (a remote cluster has the workers it has). ``preload`` names the modules a local
    pool's fork server imports (and a Dask worker imports once when it joins)."""
    from kilo.workers import DEFAULT_PRELOAD

    spec = parse_executor(executor)
    modules = tuple(preload) if preload is not None else DEFAULT_PRELOAD
    if spec.kind == "local":
        from kilo.workers import process_pool

        return process_pool(workers, preload=modules, background=background)
    import importlib.util

    if importlib.util.find_spec("distributed") is None:
        raise InvalidInput("the Dask executor needs the dask extra: pip install 'kilo[dask]'")
    from kilo.executors.dask_pool import dask_pool

    return dask_pool(spec, workers, preload=modules)
