"""The catalog's schema: the bundled numbered migrations, applying the missing ones to a
writable catalog, and checking that a read-only one needs none."""

from __future__ import annotations

import re
from importlib import resources

import duckdb

from kilo.clock import to_utc_naive, utcnow
from kilo.errors import CatalogError

__all__ = ["SCHEMA_VERSION", "bundled_migrations", "check_schema", "migrate"]

_MIGRATION_RE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def bundled_migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every bundled migration, in order."""
    found = []
    for entry in resources.files("kilo.catalog.migrations").iterdir():
        match = _MIGRATION_RE.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if len(set(versions)) != len(versions):
        raise CatalogError("two bundled migrations share a number")
    return found


SCHEMA_VERSION = max((v for v, _, _ in bundled_migrations()), default=0)


def migrate(con: duckdb.DuckDBPyConnection, path: str) -> None:
    """Apply the bundled migrations the catalog lacks, each in its own transaction."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        "version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    row = con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    current = int(row[0]) if row else 0
    if current > SCHEMA_VERSION:
        raise CatalogError(
            f"the catalog has schema version {current}, newer than this kilo "
            f"understands ({SCHEMA_VERSION}); upgrade kilo",
            path=path,
        )
    for version, name, sql in bundled_migrations():
        if version <= current:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql)
            con.execute(
                "INSERT INTO schema_version VALUES (?, ?, ?)",
                [version, name, to_utc_naive(utcnow())],
            )
            con.execute("COMMIT")
        except Exception as exc:
            con.execute("ROLLBACK")
            raise CatalogError(f"migration {name} failed: {exc}", path=path) from exc


def check_schema(con: duckdb.DuckDBPyConnection, path: str) -> None:
    """Refuse a read-only catalog whose schema is not this kilo's (it cannot be migrated)."""
    row = con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    version = int(row[0]) if row else 0
    if version > SCHEMA_VERSION:
        raise CatalogError("the catalog has a newer schema; upgrade kilo", path=path)
    if version < SCHEMA_VERSION:
        raise CatalogError(
            "the catalog was made by an older kilo and needs an upgrade, which a "
            "read-only library cannot take; open it once where it is writable",
            path=path,
        )
