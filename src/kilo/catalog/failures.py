"""How DuckDB failures become kilo's errors: one translation (Ctrl-C's RuntimeError
included) used by every query, by ``locked()`` and by COMMIT."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar, cast

import duckdb

from kilo.errors import CatalogError, Conflict, InvalidInput


def lock_holder(exc: Exception) -> int | None:
    """The pid of the process DuckDB says holds the file's lock, when it says."""
    pid = re.search(r"PID (\d+)", str(exc))
    return int(pid.group(1)) if pid else None


def _lock_message(exc: Exception, path: Path) -> str:
    pid = lock_holder(exc)
    holder = f" (held by process {pid})" if pid else ""
    return f"the catalog is locked by another kilo process{holder}; wait for it or stop it"


def translate_error(exc: Exception) -> BaseException | None:
    """The one place a DuckDB failure becomes part of kilo's error tree (None: not DuckDB's).

    Ctrl-C during a statement is a KeyboardInterrupt again (DuckDB raises its
    InterruptException, or a plain RuntimeError "Query interrupted" when the signal arrives
    mid-query: left as it is, an ``except Exception`` would take it for a failed item and the
    interrupt would be lost); a damaged file, or one that cannot be read or written, is a
    CatalogError saying so; a broken constraint a Conflict; anything else a CatalogError with
    DuckDB's first line."""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if isinstance(exc, duckdb.InterruptException) or (
        isinstance(exc, RuntimeError) and "query interrupted" in first.lower()
    ):
        return KeyboardInterrupt()
    if not isinstance(exc, duckdb.Error):
        return None
    if isinstance(exc, duckdb.IOException):
        if _damaged(first):
            return CatalogError(_damaged_message(first))
        return CatalogError(f"cannot read or write the catalog file ({first})")
    if isinstance(exc, duckdb.ConstraintException):
        return Conflict(f"the catalog refused a change ({first})")
    if "read-only mode" in first:
        return CatalogError("the library is read-only here: it can be read, not changed")
    if isinstance(exc, duckdb.InvalidInputException) and "UTF-8" in first:
        return InvalidInput(f"text that is not valid UTF-8 ({first})")
    return CatalogError(f"catalog query failed ({first})")


def _damaged(first: str) -> bool:
    return any(s in first.lower() for s in ("read enough bytes", "corrupt", "checksum"))


def _damaged_message(first: str) -> str:
    return f"the catalog file is damaged or incomplete ({first}); restore it from a backup"


@contextmanager
def _translated() -> Iterator[None]:
    """Raise DuckDB's failures as :func:`translate_error` names them."""
    try:
        yield
    except (duckdb.Error, RuntimeError) as exc:
        error = translate_error(exc)
        if error is None:
            raise
        raise error from exc


_F = TypeVar("_F", bound=Callable[..., Any])


def _guarded(method: _F) -> _F:
    @functools.wraps(method)
    def run(*args: Any, **kwargs: Any) -> Any:
        with _translated():
            return method(*args, **kwargs)

    return cast(_F, run)
