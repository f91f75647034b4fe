"""One library, several kilo processes: the catalog file is held in short leases.

DuckDB lets one process at a time open a database file for writing. A kilo process holds
the file while it works and hands it over when another process asks for it:

- a process that finds the file locked writes its pid to ``<catalog>.waiting`` and tries
  again with a short backoff, for at most ``settings.lock_wait_s``;
- the holder notices the fresh request (from its own queries, or a watcher thread while it
  is idle: a cull screen waiting for a key, a notebook between cells), closes the file at
  the next moment no query or transaction of its is running, and lets the other process
  have it for a moment before it asks for it again (waiting the same way).

Alone, a process keeps the file open: nothing is re-opened. Handing over costs a detach
(DuckDB checkpoints its write-ahead log) and an attach of the file to the process's DuckDB
instance, which stays (:mod:`kilo.catalog.link`): about 2 ms each. What
is committed is on disk either way, so a process killed at any moment loses only its
uncommitted transaction, and the operating system drops its lock with it (no stale lock).
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import duckdb

from kilo.catalog.link import FileLink
from kilo.errors import CatalogLocked

log = logging.getLogger(__name__)

#: A request to hand over is believed for this long (a waiter renews it while it waits).
REQUEST_FRESH_S = 1.0
#: After handing over, how long this process leaves the file to the other one.
YIELD_S = 0.015
_WATCH_S = 0.01
_T = TypeVar("_T")


def request_file(catalog_path: Path | None) -> Path | None:
    """Where a process asks the holder of ``catalog_path`` to hand it over."""
    return None if catalog_path is None else catalog_path.with_name(catalog_path.name + ".waiting")


def _ask(request: Path) -> None:
    with contextlib.suppress(OSError):
        request.write_text(str(os.getpid()))


def holder_of(pid: int | None) -> str:
    """``process 123 (kilo ingest /card)``: the holder of a lock, as a person reads it."""
    if pid is None:
        return "another process"
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        words = [w.decode(errors="replace") for w in raw.split(b"\0") if w]
    except OSError:
        words = []
    if words and Path(words[0]).name.startswith("python") and len(words) > 1:
        words = words[2:] if words[1] == "-m" else words[1:]
    if words:
        words[0] = Path(words[0]).name
        return f"process {pid} ({' '.join(words)[:80]})"
    return f"process {pid}"


class Lease:
    """The open connection of a catalog file, held while it is used and handed over when
    another process asks (see the module's text). ``link`` attaches the file again when it
    is needed, raising :class:`CatalogLocked` (with the holder's pid) while another process
    has it."""

    def __init__(self, link: FileLink, con: duckdb.DuckDBPyConnection, wait_s: float) -> None:
        self.link = link
        self._con: duckdb.DuckDBPyConnection | None = con
        self._connect = link.attach
        self._request = request_file(link.path)
        self.wait_s = wait_s
        self.generation = 0  # bumped on each close: per-thread cursors are made again
        self.writes = 0  # bumped around each statement that may write (see touch)
        self._writes_lock = threading.Lock()
        self.on_release: list[Callable[[], None]] = []  # each catalog drops its cursors
        self.refs = 1  # the catalogs of this process that share it (one per open_catalog)
        self._cv = threading.Condition()
        self._users = 0
        self._yield_until = 0.0
        self._wanted = False  # another process asked (the watcher looks every 10 ms)
        self._closed = False
        self._watcher: threading.Thread | None = None
        if self._request is not None:
            self._watcher = threading.Thread(target=self._watch, name="kilo-lease", daemon=True)
            self._watcher.start()

    def touch(self) -> None:
        """Count a write (before and after it): a reader that saw the count before the
        write's end never sees it again after."""
        with self._writes_lock:
            self.writes += 1

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The connection; only valid inside :meth:`held`."""
        assert self._con is not None, "the catalog is used outside Lease.held()"
        return self._con

    @contextlib.contextmanager
    def held(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The open connection for the block (opened, waiting if needed, when it is not)."""
        with self._cv:
            if self._con is None:
                self._reopen()
            self._users += 1
        try:
            yield self.con
        finally:
            with self._cv:
                self._users -= 1
                if self._users == 0 and self._wanted:
                    self._release()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new connection of this process's instance, reading the library by default (a
        catalog's own, or a thread's); only valid inside :meth:`held`."""
        return self.link.use(self.con.cursor())

    @property
    def holds_file(self) -> bool:
        """Whether this process has the file open now (it does not ask for it)."""
        return self._con is not None

    def lent(self) -> bool:
        """Whether another process has the file now (this one handed it over and cannot
        take it back at once): work that can wait (a batch of results) waits instead of
        stalling. Asks for the file back when so."""
        with self._cv:
            if self._con is not None or self._request is None:
                return False
            if time.monotonic() < self._yield_until:
                return True
            try:
                self._con = self._connect()
            except CatalogLocked:
                _ask(self._request)
                return True
            return False

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        with self._cv:
            self._closed = True
            if self._con is not None:
                self._close_con()
            self.link.close()
            self._cv.notify_all()

    # -- handing over ---------------------------------------------------------------------
    def _reopen(self) -> None:
        started = time.monotonic()
        pause = self._yield_until - started
        if pause > 0:
            time.sleep(pause)
        self._con = connect_waiting(self._connect, self._request, self.wait_s)
        log.debug("catalog taken back after %.1f ms", (time.monotonic() - started) * 1000)

    def _asked(self) -> bool:
        """Whether another process asked for the file within the last second (file I/O:
        the watcher calls it, outside the lock)."""
        if self._request is None:
            return False
        try:
            if time.time() - self._request.stat().st_mtime > REQUEST_FRESH_S:
                return False
            return self._request.read_text().strip() != str(os.getpid())
        except (OSError, ValueError):
            return False

    def _close_con(self) -> None:
        assert self._con is not None
        for drop in list(self.on_release):
            drop()
        try:
            self.link.detach(self._con)
        except duckdb.Error:  # the file must be let go either way: drop the whole instance
            log.debug("detaching the catalog failed; closing it", exc_info=True)
            self.link.close()
        self._con = None

    def _release(self) -> None:
        started = time.monotonic()
        self._close_con()
        log.debug("catalog handed over (closing took %.1f ms)", (time.monotonic() - started) * 1000)
        self._wanted = False
        self.generation += 1
        self._yield_until = time.monotonic() + YIELD_S

    def _watch(self) -> None:
        """Look for a request every 10 ms; while nothing of this process uses the file,
        hand it over at once (else the last user does, in :meth:`held`)."""
        while True:
            asked = self._asked()
            with self._cv:
                if self._closed:
                    return
                self._wanted = asked and self._con is not None
                if self._users == 0 and self._wanted:
                    self._release()
                self._cv.wait(_WATCH_S)


_SHARED: dict[str, Lease] = {}
_SHARED_LOCK = threading.Lock()


def shared_lease(path: Path, make: Callable[[], Lease]) -> Lease:
    """The lease of ``path`` this process already has (DuckDB attaches a file once per
    process, so every catalog of one file in a process shares it), or a new one from
    ``make()``."""
    key = str(path.resolve())
    with _SHARED_LOCK:
        lease = _SHARED.get(key)
        if lease is not None and not lease.closed:
            lease.refs += 1
            return lease
        lease = make()
        _SHARED[key] = lease
        return lease


def drop_lease(lease: Lease) -> None:
    """One catalog of the lease is closed; the last one closes it."""
    with _SHARED_LOCK:
        lease.refs -= 1
        if lease.refs > 0:
            return
        for key, known in list(_SHARED.items()):
            if known is lease:
                del _SHARED[key]
    lease.close()


def connect_waiting(connect: Callable[[], _T], request: Path | None, wait_s: float) -> _T:
    """``connect()``, asking the holder to hand over and retrying while another process has
    the file, for at most ``wait_s``; then :class:`CatalogLocked` naming the holder."""
    deadline = time.monotonic() + wait_s
    delay = 0.002
    while True:
        try:
            con = connect()
        except CatalogLocked as exc:
            if request is None or time.monotonic() + delay > deadline:
                pid = exc.details.get("pid")
                raise CatalogLocked(
                    f"the catalog is held by {holder_of(pid)} for more than {wait_s:g} s; "
                    "wait for it to finish or stop it",
                    path=exc.path,
                    details=exc.details,
                ) from None
            _ask(request)
            time.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 1.5, 0.01)
            continue
        if request is not None:
            with contextlib.suppress(OSError, ValueError):
                if request.read_text().strip() == str(os.getpid()):
                    request.unlink()
        return con
