"""Search: CLIP text and image queries, metadata filters, smart collections.

>>> resp = search(catalog, project.id, "bride laughing", filters={"picked": True})  # doctest: +SKIP
>>> [(r.asset_id, r.score) for r in resp.results]                                   # doctest: +SKIP

Vectors come from the ``embeddings`` table (written by the ``project.embed`` job) through an
hnswlib index per (library, model id) kept in ``HOME/index``; without a CLIP model the same
call answers from metadata and keywords and says how to get semantic search.
"""

from __future__ import annotations

from kilo.search.candidates import EXACT_MAX_CANDIDATES
from kilo.search.collections import (
    SmartCollection,
    delete_collection,
    get_collection,
    list_collections,
    run_collection,
    save_collection,
)
from kilo.search.engine import search
from kilo.search.filters import SearchFilters, parse_filters
from kilo.search.index import VectorIndex, build_index, open_index

__all__ = [
    "EXACT_MAX_CANDIDATES",
    "SearchFilters",
    "SmartCollection",
    "VectorIndex",
    "build_index",
    "delete_collection",
    "get_collection",
    "list_collections",
    "open_index",
    "parse_filters",
    "run_collection",
    "save_collection",
    "search",
]
