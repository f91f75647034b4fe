"""One router per tag of the contract; each route parses, checks ownership, calls the same
library function the CLI calls and returns the library's model."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header, Query

from kilo.models import Error

Cursor = Annotated[str | None, Query(description="Continuation cursor of a listing.")]
Limit = Annotated[int, Query(ge=1, le=200, description="Page size.")]
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", min_length=8, max_length=128)
]


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error responses a route documents, each with the Error schema."""
    return {s: {"model": Error} for s in statuses}
