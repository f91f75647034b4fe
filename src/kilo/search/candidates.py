"""Which assets a semantic search ranks when filters are set, and what it costs DuckDB.

A filter matching at most ``EXACT_MAX_CANDIDATES`` assets with vectors: one query returns
their ids and their vectors are scored exactly. A broader one: the ANN over-fetched by the
inverse match rate, its hits checked against the filters in DuckDB, and ANN with the matches
as a label predicate when that comes up short. Matches are kept while the catalog's data
version and the index stay the same, so paging or new words with the same filters ask
DuckDB nothing again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np

from kilo.catalog import Catalog
from kilo.catalog.assets_repo import count_unembedded
from kilo.search.filters import SearchFilters, filter_sql, from_clause
from kilo.search.index import VectorIndex

#: Up to this many filtered candidates, exact scoring beats filtered ANN (benchmarks/search.py).
EXACT_MAX_CANDIDATES = 15_000
_MATCHES: dict[tuple[Any, ...], tuple[int, int, np.ndarray | None]] = {}
_COUNTS: dict[tuple[Any, ...], int] = {}


def filtered_neighbours(
    catalog: Catalog,
    filters: SearchFilters,
    user_id: str,
    model_id: str,
    idx: VectorIndex,
    qvec: np.ndarray,
    pool: int,
) -> tuple[list[str], np.ndarray, int, int]:
    """Top ``pool`` among the assets passing the filters: (ids, scores, matching, missing).

    Few matches: exact scores over their vectors. Many (a broad filter such as the project of
    a one-project library): plain ANN over-fetched by the inverse match rate, then checked
    against the filters in DuckDB; ANN with a label predicate when that comes up short.
    """
    where, params, ratings = filter_sql(filters, user_id)
    src = f"FROM {from_clause(ratings)} WHERE {where}"
    matching, missing, labels = _matches(catalog, src, params, model_id, idx)
    if labels is not None:
        ids, scores = idx.exact(qvec, labels, pool)
        return ids, scores, matching, missing
    with_vectors = matching - missing
    k = min(len(idx), int(pool * len(idx) / max(1, with_vectors) * 1.5) + 16)
    ids, scores = idx.query(qvec, k)
    ok = {
        str(r[0])
        for r in catalog.fetchall(
            f"SELECT a.id {src} AND a.id IN (SELECT unnest(?::VARCHAR[]))", [*params, ids]
        )
    }
    keep = [i for i, a in enumerate(ids) if a in ok]
    if len(keep) >= min(pool, with_vectors) or k >= len(idx):
        keep = keep[:pool]
        return [ids[i] for i in keep], scores[keep], matching, missing
    allowed = _labels_of(catalog.fetchall(f"SELECT a.id {src}", params), idx)
    ids, scores = idx.query(qvec, pool, allowed=set(allowed.tolist()))
    return ids, scores, matching, missing


def library_size(catalog: Catalog) -> int:
    """Assets not quarantined (kept while the catalog's data version stays the same)."""
    return _per_version(
        catalog, ("size",), lambda: catalog.table("assets").count_where("state <> 'quarantined'")
    )


def _per_version(catalog: Catalog, what: tuple[Any, ...], count: Callable[[], int]) -> int:
    """``count()``, asked again only when the catalog's data version has changed."""
    key = (*what, catalog.data_version())
    if key not in _COUNTS:
        if len(_COUNTS) >= 16:
            _COUNTS.clear()
        _COUNTS[key] = int(count())
    return _COUNTS[key]


def _matches(
    catalog: Catalog, src: str, params: list[Any], model_id: str, idx: VectorIndex
) -> tuple[int, int, np.ndarray | None]:
    """(assets passing the filters, how many of them lack a vector, the sorted index labels
    of the others when there are at most ``EXACT_MAX_CANDIDATES``, else None). Kept while
    neither the catalog (its data version) nor the index changes: paging, or new words with
    the same filters, ask DuckDB nothing again."""
    key = (src, json.dumps(params, default=str), catalog.data_version(), id(idx), idx.mutations)
    hit = _MATCHES.get(key)
    if hit is not None:
        return hit
    rows = catalog.fetchall(f"SELECT a.id {src} LIMIT ?", [*params, EXACT_MAX_CANDIDATES + 1])
    if len(rows) <= EXACT_MAX_CANDIDATES:  # one query: the matches themselves
        labels: np.ndarray | None = _labels_of(rows, idx)
        matching, missing = len(rows), len(rows) - len(labels)  # type: ignore[arg-type]
    else:
        labels = None
        matching = int(catalog.scalar(f"SELECT count(*) {src}", params))
        missing = 0
        if _unembedded(catalog, model_id):  # an anti-join over all vectors: only if needed
            missing = int(
                catalog.scalar(
                    f"SELECT count(*) {src} AND NOT EXISTS (SELECT 1 FROM embeddings e "
                    "WHERE e.asset_id = a.id AND e.model_id = ?)",
                    [*params, model_id],
                )
            )
    if len(_MATCHES) >= 64:
        _MATCHES.clear()
    _MATCHES[key] = matching, missing, labels
    return matching, missing, labels


def _unembedded(catalog: Catalog, model_id: str) -> int:
    """Assets of the library (not quarantined) without a vector of ``model_id``; 0 in an
    analyzed library, which lets a broad filter skip counting its own (per data version)."""
    return _per_version(
        catalog,
        ("unembedded", model_id),
        lambda: count_unembedded(catalog, model_id),
    )


def _labels_of(rows: list[tuple[Any, ...]], idx: VectorIndex) -> np.ndarray:
    """The sorted index labels of the asset ids in ``rows`` (those with a vector)."""
    get = idx.labels.get
    labels = np.fromiter((get(r[0], -1) for r in rows), dtype=np.int64, count=len(rows))
    labels = np.sort(labels[labels >= 0])
    if idx.deleted:
        labels = labels[~np.isin(labels, np.fromiter(idx.deleted, dtype=np.int64))]
    return labels
