"""How a :class:`~kilo.catalog.Catalog` reaches its file: one DuckDB instance per open
catalog (in memory), with the library file ATTACHed to it while this process holds it and
DETACHed when it hands the file to another process (:mod:`kilo.catalog.lease`).

Making a DuckDB instance costs ~12 ms of CPU; attaching a file to a live one ~1 ms, and
detaching it checkpoints and drops the file lock like a close. So a hand-over costs the
file, not a database engine, and settings made on the instance survive it.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import duckdb

from kilo.catalog.failures import _damaged, _damaged_message, _lock_message, lock_holder
from kilo.errors import CatalogError, CatalogLocked

#: The name the library file is attached under (and made the default database as).
DB = "kilo"
_NOT_WRITABLE = ("read-only file system", "permission denied")


class FileLink:
    """The DuckDB instance of one open catalog, and the file attached to it or not."""

    def __init__(self, path: Path | None, read_only: bool) -> None:
        self.path = path
        self.read_only = read_only
        self._instance: duckdb.DuckDBPyConnection | None = None

    def attach(self) -> duckdb.DuckDBPyConnection:
        """The connection with the file attached (the instance is made on first use); raises
        :class:`CatalogLocked` while another process has the file."""
        if self.path is None:  # an in-memory catalog: nothing to attach, nothing to share
            if self._instance is None:
                self._instance = duckdb.connect(":memory:")
            return self._instance
        fresh = self._instance is None
        instance = self._instance if self._instance is not None else duckdb.connect()
        try:
            self.read_only = _attach(instance, self.path, self.read_only)
        except BaseException:
            if fresh:
                instance.close()
            raise
        self._instance = instance
        return instance

    def detach(self, con: duckdb.DuckDBPyConnection) -> None:
        """Give the file up (DuckDB checkpoints it); the instance stays for the next attach."""
        if self.path is None:
            return
        con.execute("USE memory")
        con.execute(f"DETACH {DB}")

    def close(self) -> None:
        if self._instance is not None:
            with contextlib.suppress(duckdb.Error):
                self._instance.close()
            self._instance = None

    def use(self, cursor: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
        """A new cursor of the instance, reading the library by default."""
        if self.path is not None:
            cursor.execute(f"USE {DB}")
        return cursor


def _attach(instance: duckdb.DuckDBPyConnection, path: Path, read_only: bool) -> bool:
    """Attach ``path``; returns whether it is read-only: a library on a read-only disk (a
    write-protected card, a mounted backup) or without write permission opens for reading."""
    target = str(path).replace("'", "''")
    try:
        instance.execute(f"ATTACH '{target}' AS {DB}" + (" (READ_ONLY)" if read_only else ""))
        instance.execute(f"USE {DB}")
        return read_only
    except duckdb.IOException as exc:
        text = str(exc)
        first = text.splitlines()[0] if text else type(exc).__name__
        if "lock" in text.lower():
            raise CatalogLocked(_lock_message(exc, path), path=str(path),
                                details={"pid": lock_holder(exc)}) from None  # fmt: skip
        if not read_only and path.exists():
            if any(s in text.lower() for s in _NOT_WRITABLE):
                return _attach(instance, path, True)
            raise CatalogError(_damaged_message(first), path=str(path)) from None
        raise CatalogError(f"cannot open the catalog: {first}", path=str(path)) from None
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if _damaged(first):
            raise CatalogError(_damaged_message(first), path=str(path)) from None
        raise CatalogError(f"not a usable DuckDB catalog ({first})", path=str(path)) from None
