"""Catalog rows: decoding JSON columns, deleting many rows at once (inserting many rows at
once is ``Catalog.insert_many``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kilo.catalog import Catalog

__all__ = ["delete_where_in", "json_object"]


def json_object(value: Any) -> dict[str, Any]:
    """The JSON object in a catalog column: ``{}`` for NULL or a non-object value, a copy of a
    mapping, the decoded object of JSON text."""
    if value is None:
        return {}
    if isinstance(value, str):
        loaded = json.loads(value)
        return loaded if isinstance(loaded, dict) else {}
    return dict(value)


def delete_where_in(catalog: Catalog, table: str, column: str, values: Sequence[Any]) -> None:
    """``DELETE FROM table WHERE column IN (values)``, in chunks."""
    for start in range(0, len(values), 1000):
        part = list(values[start : start + 1000])
        marks = ", ".join("?" for _ in part)
        catalog.execute(f"DELETE FROM {table} WHERE {column} IN ({marks})", part)
