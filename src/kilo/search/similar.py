"""'More like this' without image vectors: photos ranked by their perceptual hashes (pHash,
dHash and aHash, which analysis stores for every photo), closest first.

Hashes see the layout of light and dark, not meaning: frames of the same burst, re-encodes,
crops and near-duplicates come first; a different photo of the same subject does not. The
answer says so in its notice. Color is not compared.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from kilo.catalog import Catalog
from kilo.catalog.ids import lookup_id
from kilo.catalog.measures_repo import read_hashes, select_hashes
from kilo.errors import InvalidInput
from kilo.models import SearchResponse, SearchResult
from kilo.search.filters import filter_sql, from_clause
from kilo.search.query import Query, next_cursor

#: with min_score "auto": about 20 of 64 bits apart on average (unrelated photos are ~32)
AUTO_MIN_SCORE = 0.68
NOTICE = (
    "No image vectors here (no CLIP model, or the photos are not embedded yet), so these are "
    "ranked by perceptual hashes: frames of one burst, re-encodes and near-duplicates come "
    "first, other photos of the same subject do not."
)


def similar_by_hashes(catalog: Catalog, query: Query) -> SearchResponse:
    """The photos (within the query's filters) closest to ``query.like`` by hashes."""
    probe, probe_id = _probe(catalog, query.like)
    where, params, ratings = filter_sql(query.filters, query.user_id)
    rows = select_hashes(catalog, from_clause(ratings), where, params)
    rows = [r for r in rows if str(r[0]) != probe_id]
    if not rows:
        return SearchResponse(results=[], mode="hashes", notice=NOTICE)
    hashes = np.array([[int(v) & (2**64 - 1) for v in r[1:]] for r in rows], dtype=np.uint64)
    wanted = np.array([v & (2**64 - 1) for v in probe], dtype=np.uint64)
    bits = np.bitwise_count(np.bitwise_xor(hashes, wanted)).astype(np.float64)
    scores = 1.0 - bits.mean(axis=1) / 64.0
    order = np.lexsort((np.array([str(r[0]) for r in rows]), -scores))
    floor = AUTO_MIN_SCORE if query.min_score == "auto" else (query.min_score or 0.0)
    kept = [i for i in order if scores[i] >= floor]
    page = kept[query.offset : query.offset + query.limit]
    results = [
        SearchResult(
            asset_id=str(rows[i][0]),
            score=round(float(scores[i]), 4),
            highlights=[f"{round(bits[i].mean())} of 64 hash bits apart"],
        )
        for i in page
    ]
    return SearchResponse(
        results=results, next_cursor=next_cursor(query, len(kept)), mode="hashes", notice=NOTICE
    )


def _probe(catalog: Catalog, like: str | Path | bytes | None) -> tuple[list[int], str | None]:
    """(pHash, dHash, aHash) of what ``like`` names, and its asset id when it is one."""
    from kilo.imaging import load_image
    from kilo.measure.hashing import compute_hashes

    if like is None:
        raise InvalidInput("give --like: an asset id or an image file")
    if isinstance(like, bytes):
        return _triple(compute_hashes(load_image(like, max_px=1024))), None
    text = str(like).strip()
    path = Path(text).expanduser()
    if not path.is_file():
        aid = lookup_id(catalog, "assets", text)
        stored = read_hashes(catalog, aid)
        if stored is not None:
            return stored, aid
        from kilo.assets import open_rendition

        return _triple(compute_hashes(open_rendition(catalog, aid, "preview"))), aid
    return _triple(compute_hashes(load_image(path, max_px=1024))), None


def _triple(h: Any) -> list[int]:
    return [int(h.phash), int(h.dhash), int(h.ahash)]
