"""The ``signals``, ``perceptual_hashes`` and ``faces`` tables: what the engine measured of
one photo (its quality signals of a version, its three 64-bit hashes, the faces it found),
written together when an analysis lands and read by culling, ranking and search. Also the
reads of ``embeddings`` (the image vectors) that search and Style DNA share; the vectors
are written, and read in bulk, by their owner, :mod:`kilo.embed.vectors`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kilo.clock import utcnow

if TYPE_CHECKING:
    from kilo.catalog import Catalog

__all__ = [
    "list_embedded_ids",
    "list_faces",
    "list_unmeasured",
    "read_embedding_state",
    "read_hashes",
    "read_latest_vector",
    "read_signal_values",
    "save_measures",
    "select_hashes",
    "unmeasured_by_project",
]

#: SQL: the asset ``a`` lacks signals of the version ``?`` or its hashes
_UNMEASURED = (
    "NOT EXISTS (SELECT 1 FROM signals s WHERE s.asset_id = a.id AND s.version = ?) OR "
    "NOT EXISTS (SELECT 1 FROM perceptual_hashes h WHERE h.asset_id = a.id)"
)


def save_measures(
    catalog: Catalog,
    asset_id: str,
    version: str,
    signals: dict[str, Any],
    hashes: tuple[int, int, int | None],
    faces: Sequence[Sequence[Any]],
) -> None:
    """An analysis of the asset: its signals of ``version``, its (pHash, dHash, aHash) and
    its faces (x, y, w, h, score, eyes, openness, source each), replacing what was there."""
    now = utcnow()
    catalog.execute(
        "INSERT OR REPLACE INTO signals (asset_id, version, values, computed_at) "
        "VALUES (?, ?, ?, ?)",
        [asset_id, version, json.dumps(signals), now],
    )
    catalog.execute(
        "INSERT OR REPLACE INTO perceptual_hashes (asset_id, phash, dhash, ahash, computed_at) "
        "VALUES (?, ?, ?, ?, ?)",
        [asset_id, *hashes, now],
    )
    catalog.execute("DELETE FROM faces WHERE asset_id = ?", [asset_id])
    if faces:
        catalog.executemany(
            "INSERT INTO faces (asset_id, idx, x, y, w, h, score, eyes, openness, source) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [[asset_id, k, *f] for k, f in enumerate(faces)],
        )


def list_unmeasured(catalog: Catalog, project_id: str, version: str) -> list[str]:
    """The project's assets (quarantined ones aside) lacking signals of ``version`` or
    hashes, oldest ingested first."""
    return catalog.table("assets").keys_where(
        f"a.project_id = ? AND a.state <> 'quarantined' AND ({_UNMEASURED})",
        [project_id, version],
        order_by="a.ingested_at, a.id",
    )


def unmeasured_by_project(
    catalog: Catalog, version: str, process_type: str
) -> list[tuple[Any, ...]]:
    """(project id, asset id) of the processed assets lacking signals of ``version`` or
    hashes, in projects with no ``process_type`` job queued or running."""
    return catalog.fetchall(
        f"SELECT a.project_id, a.id FROM assets a WHERE a.state = 'ready' AND ({_UNMEASURED}) "
        "AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.project_id = a.project_id "
        "AND j.type = ? AND j.status IN ('queued', 'running'))",
        [version, process_type],
    )


def read_signal_values(catalog: Catalog, asset_ids: Sequence[str]) -> list[tuple[Any, ...]]:
    """(asset id, signal values as stored) of those of ``asset_ids`` that have signals."""
    return catalog.fetchall(
        'SELECT asset_id, "values" FROM signals WHERE list_contains(?, asset_id)',
        [list(asset_ids)],
    )


def list_faces(catalog: Catalog, asset_ids: Sequence[str]) -> list[tuple[Any, ...]]:
    """(asset id, x, y, w, h, eyes, openness) of the faces of ``asset_ids``, by asset and
    largest first."""
    return catalog.fetchall(
        "SELECT asset_id, x, y, w, h, eyes, openness FROM faces "
        "WHERE asset_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY asset_id, w * h DESC",
        [list(asset_ids)],
    )


def read_hashes(catalog: Catalog, asset_id: str) -> list[int] | None:
    """(pHash, dHash, aHash, the pHash standing in for a missing aHash) of the asset."""
    row = catalog.fetchone(
        "SELECT phash, dhash, coalesce(ahash, phash) FROM perceptual_hashes WHERE asset_id = ?",
        [asset_id],
    )
    return None if row is None else [int(v) for v in row]


def select_hashes(
    catalog: Catalog, source: str, where: str, params: Sequence[Any]
) -> list[tuple[Any, ...]]:
    """(asset id, pHash, dHash, aHash or pHash) of the assets ``a`` of ``source`` (SQL:
    what follows FROM) matching ``where`` that have hashes."""
    return catalog.fetchall(
        f"SELECT a.id, h.phash, h.dhash, coalesce(h.ahash, h.phash) FROM {source} "
        f"JOIN perceptual_hashes h ON h.asset_id = a.id WHERE {where}",
        list(params),
    )


def read_embedding_state(
    catalog: Catalog, model_id: str
) -> tuple[int, datetime | None, int | None]:
    """(how many vectors of ``model_id``, when the newest was written, their dimension)."""
    row = catalog.fetchone(
        "SELECT count(*), max(created_at), max(dim) FROM embeddings WHERE model_id = ?", [model_id]
    )
    assert row is not None
    return int(row[0]), row[1], None if row[2] is None else int(row[2])


def list_embedded_ids(
    catalog: Catalog, model_id: str, *, since: datetime | None = None
) -> list[str]:
    """The assets with a vector of ``model_id`` (only those written at ``since`` or later
    when given)."""
    where = "model_id = ?"
    params: list[Any] = [model_id]
    if since is not None:
        where += " AND created_at >= ?"
        params.append(since)
    rows = catalog.fetchall(f"SELECT asset_id FROM embeddings WHERE {where}", params)
    return [str(r[0]) for r in rows]


def read_latest_vector(catalog: Catalog, asset_id: str) -> tuple[Any, ...] | None:
    """(model id, vector) of the asset's newest vector of any model; None without one."""
    return catalog.fetchone(
        "SELECT model_id, vector FROM embeddings WHERE asset_id = ? ORDER BY created_at DESC "
        "LIMIT 1",
        [asset_id],
    )
