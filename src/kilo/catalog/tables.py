"""Reads that many capabilities share, written once: the newest file of a kind of an asset
(a thumbnail, a preview, the original copy), as a SQL fragment for a query over ``assets a``
or as one lookup. The start of the table layer: capabilities call these instead of spelling
the same subquery out (it stood in nine modules)."""

from __future__ import annotations

from typing import Literal

from kilo.catalog import Catalog

__all__ = ["FileKind", "latest_file", "latest_file_uri"]

FileKind = Literal["original", "thumbnail", "preview", "export", "sidecar"]
_KINDS = frozenset({"original", "thumbnail", "preview", "export", "sidecar"})


def latest_file(kind: FileKind, asset: str = "a") -> str:
    """SQL: the URI of the newest ``kind`` file of the asset aliased ``asset`` (a scalar
    subquery; NULL when there is none)."""
    if kind not in _KINDS:
        raise ValueError(f"unknown file kind {kind!r}")
    return (
        f"(SELECT f.uri FROM asset_files f WHERE f.asset_id = {asset}.id AND f.kind = '{kind}' "
        "ORDER BY f.created_at DESC LIMIT 1)"
    )


def latest_file_uri(catalog: Catalog, asset_id: str, kind: FileKind) -> str | None:
    """The URI of the asset's newest ``kind`` file, None when there is none."""
    uri = catalog.scalar(f"SELECT {latest_file(kind)} FROM assets a WHERE a.id = ?", [asset_id])
    return str(uri) if uri else None
