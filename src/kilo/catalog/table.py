"""One catalog table as an object, in the spirit of sqlite-utils' ``Table``: the plain reads
and writes by key (get a row, a value, whether it exists; rows, keys and counts matching a
condition; update, delete) spelled once, so capabilities do not each write them.

>>> assets = catalog.table("assets")              # doctest: +SKIP
>>> assets.value(asset_id, "project_id")          # doctest: +SKIP
>>> assets.keys_where("project_id = ? AND state = 'ready'", [pid])   # doctest: +SKIP
>>> assets.update(asset_id, {"notes": "bride's side"})               # doctest: +SKIP

Statements that are more than one table by key are written in the table's one owner (a
repository such as :mod:`kilo.catalog.assets_repo`, or the capability that owns the
aggregate; ``OWNERS`` in tests/guards/test_sql_owners.py names each), called by name;
everything that is a single table by key comes through here, upserts included.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kilo.catalog import on_conflict
from kilo.clock import utcnow
from kilo.records import chunks

if TYPE_CHECKING:
    from kilo.catalog import Catalog

__all__ = ["TABLE_KEYS", "Table"]

# Every table the layer serves: its key column(s) and the alias its reads use (the one the
# capabilities' SQL fragments use too: ``a`` for assets, ``r`` for ratings ...).
TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "projects": ("id",),
    "assets": ("id",),
    "asset_files": ("id",),
    "ratings": ("asset_id", "user_id"),
    "clusters": ("id",),
    "cluster_members": ("cluster_id", "asset_id"),
    "edit_versions": ("id",),
    "exports": ("id",),
    "jobs": ("id",),
    "quarantine": ("id",),
    "style_profiles": ("id",),
    "galleries": ("id",),
    "users": ("id",),
    "preference_models": ("user_id",),
    "smart_collections": ("id",),
    "gallery_sessions": ("token_hash",),
}
_ALIASES = {
    "projects": "p",
    "assets": "a",
    "asset_files": "f",
    "ratings": "r",
    "clusters": "c",
    "cluster_members": "m",
    "edit_versions": "v",
    "exports": "e",
    "jobs": "j",
    "quarantine": "q",
    "style_profiles": "s",
    "galleries": "g",
    "users": "u",
    "preference_models": "pm",
    "smart_collections": "sc",
    "gallery_sessions": "gs",
}
_STAMPED = frozenset(
    {
        "projects",
        "assets",
        "ratings",
        "clusters",
        "exports",
        "jobs",
        "style_profiles",
        "galleries",
        "preference_models",
        "smart_collections",
    }
)
_COLUMN = re.compile(r"^[a-z_][a-z0-9_]*$")


def _columns(names: Iterable[str]) -> list[str]:
    out = list(names)
    for name in out:
        if not _COLUMN.match(name):  # names are code's, never a user's; refuse anything else
            raise ValueError(f"not a column name: {name!r}")
    return out


class Table:
    """Reads and writes of one table by key. ``key`` is a value for a one-column key, a
    tuple for a composite one (ratings: (asset_id, user_id))."""

    def __init__(self, catalog: Catalog, name: str) -> None:
        if name not in TABLE_KEYS:
            raise ValueError(f"no table layer for {name!r}")
        self.catalog = catalog
        self.name = name
        self.key_columns = TABLE_KEYS[name]
        self._from = f"{name} {_ALIASES[name]}"

    def __repr__(self) -> str:
        return f"<Table {self.name}>"

    def _key_where(self, key: Any) -> tuple[str, list[Any]]:
        values = list(key) if isinstance(key, tuple) else [key]
        if len(values) != len(self.key_columns):
            raise ValueError(f"{self.name} is keyed by {', '.join(self.key_columns)}")
        return " AND ".join(f"{c} = ?" for c in self.key_columns), values

    @staticmethod
    def _where(where: str | None) -> str:
        return f" WHERE {where}" if where else ""

    # -- reads ---------------------------------------------------------------------------
    def get(self, key: Any, select: Sequence[str] | None = None) -> dict[str, Any] | None:
        """The row with ``key`` as a dict (only ``select``'s columns if given), or None."""
        cols = ", ".join(_columns(select)) if select else "*"
        where, params = self._key_where(key)
        return self.catalog.fetchdict(f"SELECT {cols} FROM {self._from} WHERE {where}", params)

    def value(self, key: Any, column: str) -> Any:
        """One column of the row with ``key``; None when there is no such row."""
        where, params = self._key_where(key)
        return self.catalog.scalar(
            f"SELECT {_columns([column])[0]} FROM {self._from} WHERE {where}", params
        )

    def exists(self, key: Any) -> bool:
        where, params = self._key_where(key)
        return (
            self.catalog.fetchone(f"SELECT 1 FROM {self._from} WHERE {where}", params) is not None
        )

    def rows_where(
        self,
        where: str | None = None,
        params: Sequence[Any] = (),
        *,
        select: Sequence[str] | None = None,
        order_by: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Rows matching ``where`` (SQL with ``?`` placeholders) as dicts."""
        cols = ", ".join(_columns(select)) if select else "*"
        sql = f"SELECT {cols} FROM {self._from}{self._where(where)}"
        if order_by:
            sql += f" ORDER BY {order_by}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return self.catalog.fetchdicts(sql, list(params))

    def rows_for(
        self, keys: Sequence[str], select: Sequence[str] | None = None
    ) -> dict[str, dict[str, Any]]:
        """The rows whose (one-column) key is in ``keys``, by key, in one query; keys with no
        row are left out."""
        col = self._single_key()
        cols = _columns(select) if select else ["*"]
        if select and col not in cols:
            cols = [col, *cols]
        rows = self.catalog.fetchdicts(
            f"SELECT {', '.join(cols)} FROM {self._from} "
            f"WHERE {col} IN (SELECT unnest(?::VARCHAR[]))",
            [list(keys)],
        )
        return {str(r[col]): r for r in rows}

    def _single_key(self) -> str:
        if len(self.key_columns) != 1:
            raise ValueError(f"{self.name} has a composite key")
        return self.key_columns[0]

    def keys_where(
        self, where: str | None = None, params: Sequence[Any] = (), *, order_by: str | None = None
    ) -> list[str]:
        """The (one-column) keys of the rows matching ``where``, as strings."""
        col = self._single_key()
        sql = f"SELECT {col} FROM {self._from}{self._where(where)}"
        if order_by:
            sql += f" ORDER BY {order_by}"
        return [str(r[0]) for r in self.catalog.fetchall(sql, list(params))]

    def count_where(self, where: str | None = None, params: Sequence[Any] = ()) -> int:
        sql = f"SELECT count(*) FROM {self._from}{self._where(where)}"
        return int(self.catalog.scalar(sql, list(params)) or 0)

    # -- writes --------------------------------------------------------------------------
    def update(self, key: Any, values: Mapping[str, Any], *, stamp: bool = True) -> None:
        """Set ``values`` on the row with ``key`` (and ``updated_at`` to now where the table
        has it, unless ``stamp`` is False). A missing row is left missing."""
        changes = dict(values)
        if stamp and self.name in _STAMPED and "updated_at" not in changes:
            changes["updated_at"] = utcnow()
        if not changes:
            return
        sets = ", ".join(f"{c} = ?" for c in _columns(changes))
        where, params = self._key_where(key)
        self.catalog.execute(
            f"UPDATE {self.name} SET {sets} WHERE {where}", [*changes.values(), *params]
        )

    def insert(self, row: Mapping[str, Any]) -> None:
        self.insert_all([row])

    def insert_all(self, rows: Sequence[Mapping[str, Any]], *, chunk: int = 500) -> None:
        """Insert rows (dicts with the same keys) in multi-row statements of ``chunk``."""
        if not rows:
            return
        cols = _columns(rows[0])
        marks = "(" + ", ".join("?" for _ in cols) + ")"
        for part in chunks(rows, chunk):
            self.catalog.execute(
                f"INSERT INTO {self.name} ({', '.join(cols)}) VALUES "
                + ", ".join(marks for _ in part),
                [r[c] for r in part for c in cols],
            )

    def upsert(
        self, row: Mapping[str, Any], *, key: Sequence[str] = (), update: Sequence[str] = ()
    ) -> None:
        """Insert ``row``, or set its other columns on the row that has its ``key`` already
        (``INSERT ... ON CONFLICT (key) DO UPDATE``, one statement: never a DELETE and an
        INSERT). ``key``: the table's key by default, or another unique set of its columns;
        ``update``: only these columns change on a row that exists (default: all but the
        key, so a generated ``id`` or a ``created_at`` can be kept by leaving them out)."""
        self.upsert_all([row], key=key, update=update)

    def upsert_all(
        self,
        rows: Sequence[Mapping[str, Any]],
        *,
        key: Sequence[str] = (),
        update: Sequence[str] = (),
        types: Mapping[str, str] | None = None,
        chunk: int = 500,
    ) -> None:
        """:meth:`upsert` many rows (dicts with the same keys; at most one per key). With
        ``types`` (column -> SQL type) every column travels as one typed list, in one
        statement however many rows (:meth:`Catalog.insert_many`): the bulk path."""
        if not rows:
            return
        cols = _columns(rows[0])
        conflict = list(key) or list(self.key_columns)
        if types is not None:
            self.catalog.insert_many(
                self.name,
                [(c, types[c]) for c in cols],
                [[r[c] for c in cols] for r in rows],
                upsert=conflict,
                update=update,
            )
            return
        tail = on_conflict(conflict, cols, update)
        marks = "(" + ", ".join("?" for _ in cols) + ")"
        for part in chunks(rows, chunk):
            self.catalog.execute(
                f"INSERT INTO {self.name} ({', '.join(cols)}) VALUES "
                + ", ".join(marks for _ in part)
                + tail,
                [r[c] for r in part for c in cols],
            )

    def delete(self, key: Any) -> None:
        where, params = self._key_where(key)
        self.catalog.execute(f"DELETE FROM {self.name} WHERE {where}", params)

    def delete_where(self, where: str, params: Sequence[Any] = ()) -> None:
        self.catalog.execute(f"DELETE FROM {self.name} WHERE {where}", list(params))

    def delete_in(self, column: str, values: Sequence[Any]) -> None:
        """``DELETE ... WHERE column IN (values)``, in statements of at most 1000 values."""
        (name,) = _columns([column])
        for part in chunks(values, 1000):
            marks = ", ".join("?" for _ in part)
            self.catalog.execute(f"DELETE FROM {self.name} WHERE {name} IN ({marks})", part)
