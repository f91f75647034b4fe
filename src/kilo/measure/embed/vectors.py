"""The ``embeddings`` table: which assets still need a vector, bulk writes, bulk reads.

Vectors are written through DuckDB's numpy scan (one statement per batch), about 100x faster
than one INSERT per row.
"""

from __future__ import annotations

import numpy as np

from kilo.catalog import Catalog
from kilo.clock import to_utc_naive, utcnow


def write_vectors(
    catalog: Catalog, model_id: str, asset_ids: list[str], vectors: np.ndarray
) -> int:
    """Insert or replace the vectors of ``asset_ids`` (rows of ``vectors``) for ``model_id``."""
    if not asset_ids:
        return 0
    mat = np.asarray(vectors, dtype=np.float32)
    if mat.ndim != 2 or mat.shape[0] != len(asset_ids):
        raise ValueError("vectors must be one row per asset id")
    dim = int(mat.shape[1])
    cols = np.ascontiguousarray(mat.T)  # DuckDB scans a 2-D array as one column per row
    ids = np.array(asset_ids, dtype=object)
    vec_sql = "[" + ", ".join(f"v.column{j}" for j in range(dim)) + "]::FLOAT[]"
    now = to_utc_naive(utcnow())
    with catalog.locked() as con:
        # DuckDB refuses register() while an earlier result (a fetchone) is unfinished.
        con.execute("SELECT 1").fetchall()
        con.register("kilo_embed_ids", ids)
        con.register("kilo_embed_vecs", cols)
        try:
            con.execute(
                f"INSERT OR REPLACE INTO embeddings (asset_id, model_id, dim, vector, created_at) "
                f"SELECT i.column0, ?, ?, {vec_sql}, ? "
                f"FROM kilo_embed_ids i POSITIONAL JOIN kilo_embed_vecs v",
                [model_id, dim, now],
            )
        finally:
            con.unregister("kilo_embed_ids")
            con.unregister("kilo_embed_vecs")
    return len(asset_ids)


def read_vectors(
    catalog: Catalog, model_id: str, *, asset_ids: list[str] | None = None
) -> tuple[list[str], np.ndarray]:
    """(asset ids, matrix) of the stored vectors of ``model_id`` (all, or of ``asset_ids``)."""
    sql = "SELECT asset_id, vector FROM embeddings WHERE model_id = ?"
    params: list[object] = [model_id]
    if asset_ids is not None:
        if not asset_ids:
            return [], np.zeros((0, 0), dtype=np.float32)
        sql += " AND asset_id IN (SELECT unnest(?::VARCHAR[]))"
        params.append(list(asset_ids))
    sql += " ORDER BY created_at, asset_id"
    with catalog.locked() as con:
        data = con.execute(sql, params).fetchnumpy()
    ids = [str(x) for x in data["asset_id"]]
    if not ids:
        return [], np.zeros((0, 0), dtype=np.float32)
    return ids, np.stack(list(data["vector"])).astype(np.float32, copy=False)


def vector_count(catalog: Catalog, model_id: str) -> int:
    return int(catalog.scalar("SELECT count(*) FROM embeddings WHERE model_id = ?", [model_id]))
