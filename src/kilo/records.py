"""Catalog rows: decoding JSON columns, splitting many rows into statement-sized chunks
(inserting many rows at once is ``Catalog.insert_many``, deleting them
``Catalog.table(name).delete_in``). Plain values only: the catalog builds on this module."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

__all__ = ["chunks", "json_object"]

_T = TypeVar("_T")


def chunks(items: Sequence[_T], size: int) -> Iterator[list[_T]]:
    """``items`` in consecutive lists of at most ``size`` (one statement's worth of rows)."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def json_object(value: Any) -> dict[str, Any]:
    """The JSON object in a catalog column: ``{}`` for NULL or a non-object value, a copy of a
    mapping, the decoded object of JSON text."""
    if value is None:
        return {}
    if isinstance(value, str):
        loaded = json.loads(value)
        return loaded if isinstance(loaded, dict) else {}
    return dict(value)
