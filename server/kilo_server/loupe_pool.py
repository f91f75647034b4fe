"""The threads that make 100% loupes: their own, apart from the server's shared thread pool.

A first loupe of a RAW is a render (a few hundred ms of CPU); previews, thumbnails and
face crops are file reads that a cull screen asks for by the dozen while it prefetches.
On the shared pool (Starlette's, 40 threads) a flood of those could keep a loupe waiting,
and a flood of loupes (an arrow key held while zoomed) would keep the previews waiting.
Here two threads make loupes and nothing else, and the newest request runs first: the
frame on screen is the one the photographer asked for last, and a loupe asked for on the
way there is made when nothing newer waits (it is kept, so it is not made again)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

__all__ = ["LOUPE_WORKERS", "NewestFirst", "loupe_pool"]

T = TypeVar("T")
#: threads making loupes at once (this machine class has two cores)
LOUPE_WORKERS = 2


class NewestFirst:
    """A few daemon threads running submitted calls, the most recently submitted first."""

    def __init__(self, workers: int, name: str) -> None:
        self._waiting: list[tuple[Callable[[], Any], Future[Any]]] = []
        self._ready = threading.Condition()
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True)
            for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, call: Callable[[], T]) -> Future[T]:
        """``call()``'s future; a future cancelled before its turn is never run."""
        future: Future[T] = Future()
        with self._ready:
            self._waiting.append((call, future))
            self._ready.notify()
        return future

    def waiting(self) -> int:
        """How many calls wait for a thread."""
        with self._ready:
            return len(self._waiting)

    def _work(self) -> None:
        while True:
            with self._ready:
                while not self._waiting:
                    self._ready.wait()
                call, future = self._waiting.pop()  # the newest
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(call())
            except BaseException as exc:  # handed to the awaiting request
                future.set_exception(exc)


_POOL: NewestFirst | None = None
_POOL_GUARD = threading.Lock()


def loupe_pool() -> NewestFirst:
    """The process's loupe threads (started on first use)."""
    global _POOL
    with _POOL_GUARD:
        if _POOL is None:
            _POOL = NewestFirst(LOUPE_WORKERS, "kilo-loupe")
        return _POOL
