"""How a :class:`~kilo.catalog.Catalog` reaches its file: one DuckDB instance per open
catalog (in memory), with the library file ATTACHed to it while this process holds it and
DETACHed when it hands the file to another process (:mod:`kilo.catalog.lease`).

Making a DuckDB instance costs ~12 ms of CPU; attaching a file to a live one ~1 ms, and
detaching it checkpoints and drops the file lock like a close. So a hand-over costs the
file, not a database engine, and settings made on the instance survive it.

The catalog holds password and token hashes: it is its owner's only, whatever the umask. A
new catalog file is made by DuckDB inside a fresh private folder, set to 0600 there and
linked into place, so it is never readable by others, not even for a moment; each writable
attach also takes group and other rights off the file, its write-ahead log and the folder
that holds them (0700: DuckDB makes the log again after each checkpoint, with the umask's
rights, so only the folder keeps it private).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
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
            if not self.read_only and not self.path.exists():
                create_private(self.path)
            self.read_only = _attach(instance, self.path, self.read_only)
            if not self.read_only:
                keep_private(self.path)
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


def create_private(path: Path) -> None:
    """An empty DuckDB database at ``path`` that only its owner can read (see the module's
    text). A file another process made meanwhile is left as it is; where the folder takes
    no hard links (a FAT card), DuckDB makes the file in place and it is set to 0600 at
    once."""
    try:
        staging = Path(tempfile.mkdtemp(prefix=".kilo-new-", dir=path.parent))  # 0700
    except OSError:
        return  # no writable folder: the attach says why
    try:
        staged = staging / path.name
        duckdb.connect(str(staged)).close()
        staged.chmod(0o600)
        with contextlib.suppress(FileExistsError):  # another process made it first
            os.link(staged, path)
    except (OSError, duckdb.Error):
        pass  # made in place by the attach, then kept private by keep_private
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def keep_private(path: Path) -> None:
    """Take group and other rights off the catalog file, its write-ahead log and their
    folder (when this user owns them; a library on a disk without modes is left alone)."""
    wal = path.with_name(path.name + ".wal")
    for item, private in ((path, 0o600), (wal, 0o600), (path.parent, 0o700)):
        with contextlib.suppress(OSError):
            mode = stat.S_IMODE(item.stat().st_mode)
            if mode & 0o077:
                item.chmod(mode & private)


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
            raise CatalogLocked(
                _lock_message(exc, path), path=str(path), details={"pid": lock_holder(exc)}
            ) from None
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
