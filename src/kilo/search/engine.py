"""One search call: filters in DuckDB, vectors from the hnswlib index, readable scores.

Three modes, named in ``SearchResponse.mode``:

* ``semantic``: the text (and/or the ``like`` image) is embedded with the CLIP model of the
  library's vectors; neighbours come from the index. A selective filter is applied first in
  DuckDB; when at most ``EXACT_MAX_CANDIDATES`` assets pass it, their vectors are scored
  exactly (brute force), otherwise the ANN search runs with the filter as a label predicate,
  so a filter never starves the result list.
* ``metadata``: no weights (or no vectors yet): words match filename, keywords, IPTC, camera,
  lens and notes; the ``notice`` says semantic search needs a CLIP model and how to get one.
* ``filter``: no words at all (only filters or date words): the matching assets by time.

Scores are cosine similarities. The ``auto`` cut-off keeps a text result only when the image
is closer to the query than to every generic caption ("a photo", "an image", ...), the
zero-shot test CLIP was trained for; an image query keeps results at least ``Z_IMAGE``
robust standard deviations (median and MAD) above the query's typical similarity to the
library. When nothing passes,
the response is empty and its ``notice`` says there was no good match.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from kilo.catalog import Catalog
from kilo.catalog.assets_repo import read_capture_instants
from kilo.catalog.file_reads import CAPTURE_INSTANT, latest_file_uri, read_capture_instant_sql
from kilo.clock import parse_uuid
from kilo.errors import InvalidInput, ModelUnavailable, NotFound
from kilo.models import SearchResponse, SearchResult
from kilo.paging import check_limit, decode_cursor
from kilo.projects import require_project
from kilo.search.candidates import filtered_neighbours, library_size
from kilo.search.filters import (
    SearchFilters,
    extract_date_words,
    filter_sql,
    from_clause,
    parse_filters,
)
from kilo.search.index import VectorIndex, open_index
from kilo.search.metadata import highlights_of, query_words, word_score_sql
from kilo.search.query import MinScore, Query, Sort, next_cursor

TIME_SORT_POOL = 1000
Z_IMAGE = 3.0
CALIBRATION_SAMPLE = 1000
MIN_CALIBRATION = 30
NEUTRAL_PROMPTS = (
    "a photo",
    "a picture",
    "an image",
    "a photo of something",
    "a photo of an object",
    "a photo of a scene",
    "a photo of a person",
    "a photo of a place",
)

_NEUTRALS: dict[str, np.ndarray] = {}
_SAMPLES: dict[tuple[int, int], np.ndarray] = {}


def search(
    catalog: Catalog,
    project_id: str | None,
    q: str,
    *,
    filters: dict[str, Any] | SearchFilters | None = None,
    limit: int | None = 50,
    cursor: str | None = None,
    like: str | Path | bytes | None = None,
    sort: Sort = "score",
    min_score: MinScore = "auto",
    user_id: str | None = None,
) -> SearchResponse:
    """Search a project (or the whole library with ``project_id=None``).

    ``q`` is free text (date words like ``2024-06`` become a date filter); ``like`` is an asset
    id, an image file or image bytes for "more like this" (combined with ``q`` when both are
    given); ``filters`` is the spec's AdvancedSearchRequest filters object; ``sort`` is
    ``score`` or ``time`` (capture time); ``min_score`` is ``"auto"`` (calibrated cut-off), a
    cosine floor, or None (no cut-off). Pages with ``cursor`` = ``nextCursor``.
    """
    started = time.perf_counter()
    query = _prepare(catalog, project_id, q, filters, limit, cursor, like, sort, min_score, user_id)
    if not query.text and query.like is None:
        resp = _filter_listing(catalog, query)
    else:
        resp = _semantic_or_metadata(catalog, query)
    resp.took_ms = round((time.perf_counter() - started) * 1000)
    return resp


def _prepare(
    catalog: Catalog,
    project_id: str | None,
    q: str,
    filters: dict[str, Any] | SearchFilters | None,
    limit: int | None,
    cursor: str | None,
    like: str | Path | bytes | None,
    sort: str,
    min_score: MinScore,
    user_id: str | None,
) -> Query:
    f = dataclasses.replace(parse_filters(filters))
    if project_id is not None:
        pid = parse_uuid(project_id, "project id")
        if f.project_id and f.project_id != pid:
            raise InvalidInput("filters.project names another project than the one searched")
        f.project_id = pid
    if f.project_id:
        require_project(catalog, f.project_id)
    if sort not in ("score", "time"):
        raise InvalidInput(f"sort must be score or time, got {sort!r}")
    if min_score is not None and min_score != "auto" and not isinstance(min_score, int | float):
        raise InvalidInput("min_score must be 'auto', a number or None")
    text, start, end = extract_date_words(q or "")
    if start is not None and end is not None:
        f.date_start = max(start, f.date_start) if f.date_start else start
        f.date_end = min(end, f.date_end) if f.date_end else end
    like_key = like if isinstance(like, str) else (str(like) if like is not None else None)
    if isinstance(like, bytes):
        like_key = hashlib.sha1(like).hexdigest()
    raw = json.dumps([q, f.to_dict(), like_key, sort, str(min_score)], sort_keys=True)
    fingerprint = hashlib.sha1(raw.encode()).hexdigest()[:12]
    key = decode_cursor("search", cursor)
    offset = 0
    if key is not None:
        if len(key) != 2 or key[1] != fingerprint or not isinstance(key[0], int):
            raise InvalidInput("cursor belongs to another search")
        offset = int(key[0])
    return Query(
        text=text,
        filters=f,
        like=like,
        sort=sort,  # type: ignore[arg-type]
        min_score=min_score,
        user_id=user_id or catalog.local_user_id,
        offset=offset,
        limit=check_limit(limit),
        fingerprint=fingerprint,
    )


# -- no words: filters only ---------------------------------------------------------------
def _capture_instant(catalog: Catalog, query: Query) -> str:
    """SQL: when each photo was taken (CAPTURE_INSTANT), the project's zone and shoot offset
    read once when the search is in one project."""
    pid = query.filters.project_id
    return CAPTURE_INSTANT if pid is None else read_capture_instant_sql(catalog, pid)


def _filter_listing(catalog: Catalog, query: Query) -> SearchResponse:
    where, params, ratings = filter_sql(query.filters, query.user_id)
    instant = _capture_instant(catalog, query)
    rows = catalog.fetchall(
        f"SELECT a.id FROM {from_clause(ratings)} WHERE {where} "
        f"ORDER BY {instant} NULLS LAST, a.filename, a.frame_index, a.id LIMIT ? OFFSET ?",
        [*params, query.limit + 1, query.offset],
    )
    results = [
        SearchResult(asset_id=str(r[0]), score=1.0, highlights=["matches the filters"])
        for r in rows[: query.limit]
    ]
    more = query.offset + len(rows)
    return SearchResponse(results=results, next_cursor=next_cursor(query, more), mode="filter")


# -- words or an image ---------------------------------------------------------------------
def _semantic_or_metadata(catalog: Catalog, query: Query) -> SearchResponse:
    from kilo.measure.embed import load_embedder, semantic_search_help

    settings = catalog.settings
    emb = load_embedder(settings)
    idx = open_index(catalog, emb.model_id) if emb is not None else None
    if emb is None or idx is None or len(idx) == 0:
        if query.like is not None and not query.text:
            from kilo.search.similar import similar_by_hashes

            return similar_by_hashes(catalog, query)  # no vectors: by perceptual hashes
        if query.like is not None:
            from kilo.measure.embed import embedder_status

            reason = (
                embedder_status(settings)
                if emb is None
                else f"no asset has a vector for {emb.model_id} yet (run kilo analyze PROJECT)"
            )
            raise ModelUnavailable(f"'more like this' with words needs image vectors. {reason}")
        notice = (
            semantic_search_help(settings)
            if emb is None
            else (
                f"No asset has a vector for {emb.model_id} yet, so this answer matched metadata "
                "and keywords only; run `kilo analyze PROJECT` to embed the photos."
            )
        )
        resp = _metadata_search(catalog, query)
        resp.notice = notice
        return resp
    return _semantic_search(catalog, query, emb, idx)


def _metadata_search(catalog: Catalog, query: Query) -> SearchResponse:
    words = query_words(query.text)
    if not words:
        return _filter_listing(catalog, query)
    where, params, ratings = filter_sql(query.filters, query.user_id)
    score_sql, score_params, cond_sql, cond_params = word_score_sql(words)
    order = "score DESC, t NULLS LAST" if query.sort == "score" else "t NULLS LAST, score DESC"
    rows = catalog.fetchall(
        f"SELECT a.id, {score_sql} AS score, {_capture_instant(catalog, query)} AS t FROM "
        f"{from_clause(ratings)} WHERE {where} AND {cond_sql} "
        f"ORDER BY {order}, a.filename, a.frame_index, a.id LIMIT ? OFFSET ?",
        [*score_params, *params, *cond_params, query.limit + 1, query.offset],
    )
    page = rows[: query.limit]
    details = catalog.table("assets").rows_for([r[0] for r in page], _HIGHLIGHT_COLUMNS)
    results = [
        SearchResult(
            asset_id=str(r[0]),
            score=round(float(r[1]), 4),
            highlights=highlights_of(details.get(r[0], {}), words),
        )
        for r in page
    ]
    total = query.offset + len(rows)
    return SearchResponse(results=results, next_cursor=next_cursor(query, total), mode="metadata")


_HIGHLIGHT_COLUMNS = (
    "filename",
    "keywords",
    "iptc",
    "camera_make",
    "camera_model",
    "lens_model",
    "notes",
)


def _semantic_search(catalog: Catalog, query: Query, emb: Any, idx: VectorIndex) -> SearchResponse:
    qvec, kind, exclude = _query_vector(catalog, emb, query.text, query.like)
    f = query.filters
    notice: str | None = None
    pool = query.offset + query.limit + 1 + len(exclude)
    if query.sort == "time":
        pool = max(pool, TIME_SORT_POOL)
    if f.is_empty() and f.project_id is None:
        total = library_size(catalog)
        missing = max(0, total - len(idx))
        ids, scores = idx.query(qvec, pool)
    else:
        ids, scores, total, missing = filtered_neighbours(
            catalog, query.filters, query.user_id, emb.model_id, idx, qvec, pool
        )
    if missing:
        notice = (
            f"{missing} of {total} matching assets have no vector for {emb.model_id} yet and "
            "cannot be found by meaning; run `kilo analyze PROJECT` to embed them."
        )
    keep = [i for i, a in enumerate(ids) if a not in exclude]
    ids, scores = [ids[i] for i in keep], scores[keep]
    passed, highlights, why = _cut(query.min_score, kind, qvec, ids, scores, emb, idx)
    ranked = [(ids[i], float(scores[i]), highlights[i]) for i in range(len(ids)) if passed[i]]
    if not ranked and ids:
        notice = " ".join(x for x in (f"No good match: {why}", notice) if x)
    if query.sort == "time":
        ranked = _by_time(catalog, ranked)
    page = ranked[query.offset : query.offset + query.limit]
    results = [SearchResult(asset_id=a, score=round(s, 4), highlights=h) for a, s, h in page]
    return SearchResponse(
        results=results,
        next_cursor=next_cursor(query, len(ranked)),
        mode="semantic",
        notice=notice,
    )


def _by_time(catalog: Catalog, ranked: list[tuple[str, float, list[str]]]) -> list[Any]:
    times = read_capture_instants(catalog, [r[0] for r in ranked])
    return sorted(ranked, key=lambda r: (times.get(r[0]) is None, times.get(r[0]) or 0, -r[1]))


def _cut(
    min_score: MinScore,
    kind: str,
    qvec: np.ndarray,
    ids: list[str],
    scores: np.ndarray,
    emb: Any,
    idx: VectorIndex,
) -> tuple[list[bool], list[list[str]], str]:
    """Which results pass the cut-off, their highlights, and why none did (if so)."""
    n = len(ids)
    base = [[f"cosine {s:.3f}"] for s in scores]
    if n == 0:
        return [], [], ""
    if min_score is None:
        return [True] * n, base, ""
    if not isinstance(min_score, str):
        passed = [bool(s >= float(min_score)) for s in scores]
        return passed, base, f"no result reaches the score floor {float(min_score):.3f}"
    if kind == "text":
        neutral = _neutral_vectors(emb)
        vecs = idx.vectors_of(np.array([idx.labels[a] for a in ids], dtype=np.int64))
        generic = (vecs @ neutral.T).max(axis=1)
        margin = scores - generic
        hl = [[*b, f"{m:+.3f} vs generic captions"] for b, m in zip(base, margin, strict=True)]
        best = float(np.max(margin))
        why = (
            f"the closest photo (cosine {float(scores[0]):.3f}) is nearer to a generic caption "
            f"than to the query (margin {best:+.3f})"
        )
        return [bool(m > 0) for m in margin], hl, why
    if len(idx) < MIN_CALIBRATION:
        return [True] * n, [[*b, "library too small to calibrate a cut-off"] for b in base], ""
    # Robust spread (median, MAD): a large group of true matches must not widen the yardstick.
    dist = _calibration_sample(idx) @ qvec
    mu = float(np.median(dist))
    sigma = 1.4826 * float(np.median(np.abs(dist - mu))) or float(dist.std()) or 1e-6
    z = (scores - mu) / sigma
    hl = [[*b, f"{zz:.1f} sd above the library"] for b, zz in zip(base, z, strict=True)]
    why = (
        f"the closest photo is only {float(z.max()):.1f} sd above the library's typical "
        f"similarity (needs {Z_IMAGE})"
    )
    return [bool(zz >= Z_IMAGE) for zz in z], hl, why


def _neutral_vectors(emb: Any) -> np.ndarray:
    vecs = _NEUTRALS.get(emb.model_id)
    if vecs is None:
        vecs = _NEUTRALS[emb.model_id] = emb.embed_texts(list(NEUTRAL_PROMPTS))
    return vecs


def _calibration_sample(idx: VectorIndex) -> np.ndarray:
    key = (id(idx), int(math.log2(max(1, len(idx)))))
    sample = _SAMPLES.get(key)
    if sample is None:
        sample = _SAMPLES[key] = idx.sample_vectors(CALIBRATION_SAMPLE)
    return sample


def _query_vector(
    catalog: Catalog, emb: Any, text: str, like: str | Path | bytes | None
) -> tuple[np.ndarray, str, set[str]]:
    """(unit query vector, "text" | "image" | "combined", asset ids to leave out)."""
    parts: list[np.ndarray] = []
    exclude: set[str] = set()
    if text:
        parts.append(emb.embed_texts([text])[0])
    if like is not None:
        vec, asset_id = _like_vector(catalog, emb, like)
        parts.append(vec)
        if asset_id:
            exclude.add(asset_id)
    total = np.sum(parts, axis=0).astype(np.float32)
    norm = float(np.linalg.norm(total)) or 1.0
    kind = "text" if like is None else ("image" if not text else "combined")
    return total / norm, kind, exclude


def _open_image(source: str | Path | bytes) -> Any:
    from kilo.imaging import load_image

    return load_image(source, max_px=1024)


def _like_vector(
    catalog: Catalog, emb: Any, like: str | Path | bytes
) -> tuple[np.ndarray, str | None]:
    from kilo.measure.embed.vectors import read_vectors

    if isinstance(like, bytes):
        return emb.embed_images([_open_image(like)])[0], None
    text = str(like)
    asset_id: str | None = None
    try:
        asset_id = parse_uuid(text, "asset id")
    except InvalidInput:
        asset_id = None
    if asset_id is not None:
        if not catalog.table("assets").exists(asset_id):
            raise NotFound(f"no asset with id {asset_id}")
        _, vecs = read_vectors(catalog, emb.model_id, asset_ids=[asset_id])
        if len(vecs):
            return vecs[0], asset_id
        uri = latest_file_uri(catalog, asset_id, "preview")
        if uri is None:
            raise InvalidInput(f"asset {asset_id} has no preview yet to search with")
        from kilo.store import read_bytes

        return emb.embed_images([_open_image(read_bytes(str(uri), catalog.settings))])[0], asset_id
    path = Path(text).expanduser()
    if not path.is_file():
        raise InvalidInput(f"like must be an asset id or an image file; {text!r} is neither")
    return emb.embed_images([_open_image(path)])[0], None
