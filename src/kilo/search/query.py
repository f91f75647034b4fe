"""One search request as the search strategies answer it (listing by filters, metadata,
semantic, by hashes), and the cursor of its next page."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

from kilo.paging import encode_cursor
from kilo.search.filters import SearchFilters

__all__ = ["MinScore", "Query", "Sort", "next_cursor"]

Sort = Literal["score", "time"]
MinScore = float | Literal["auto"] | None


@dataclasses.dataclass
class Query:
    """A search call checked and resolved: its filters parsed, its page located."""

    text: str
    filters: SearchFilters
    like: str | Path | bytes | None
    sort: Sort
    min_score: MinScore
    user_id: str
    offset: int
    limit: int
    fingerprint: str


def next_cursor(query: Query, total: int) -> str | None:
    """The cursor of the page after ``query``'s when ``total`` results reach past it."""
    end = query.offset + query.limit
    return encode_cursor("search", [end, query.fingerprint]) if total > end else None
