"""Idempotency keys (the HTTP ``Idempotency-Key``): a request repeated with the same key gets
the first response without acting again; the same key with another request is a Conflict.
Call both functions inside the transaction that does the work, so that the check and the
use of a key are one step (two threads with one key cannot both act)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, TypeVar

from kilo.catalog import Catalog
from kilo.clock import utcnow
from kilo.errors import Conflict, InvalidInput
from kilo.records import json_object

__all__ = ["check_idempotency_key", "once", "remember_response", "request_digest"]

_T = TypeVar("_T")


def request_digest(payload: Any) -> str:
    """A stable hash of a request (canonical JSON)."""
    raw = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def check_idempotency_key(
    catalog: Catalog, scope: str, key: str | None, digest: str
) -> dict[str, Any] | None:
    """The response stored for ``key`` in ``scope`` (None: first use, or no key). Conflict
    when the key came with another request."""
    if key is None:
        return None
    if not key.strip() or len(key) > 255:
        raise InvalidInput("an idempotency key must be 1 to 255 characters")
    row = catalog.fetchone(
        "SELECT request_hash, response FROM idempotency_keys WHERE scope = ? AND key = ?",
        [scope, key],
    )
    if row is None:
        return None
    if row[0] != digest:
        raise Conflict(f"idempotency key {key!r} was used for a different request")
    return json_object(row[1])


def remember_response(
    catalog: Catalog, scope: str, key: str | None, digest: str, response: dict[str, Any]
) -> None:
    """Store the response of the first request made with ``key`` (nothing without a key)."""
    if key is None:
        return
    catalog.execute(
        "INSERT INTO idempotency_keys (scope, key, request_hash, response, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        [scope, key, digest, response, utcnow()],
    )


def once(
    catalog: Catalog,
    scope: str,
    key: str | None,
    request: Any,
    act: Callable[[], _T],
    *,
    save: Callable[[_T], dict[str, Any]],
    replay: Callable[[dict[str, Any]], _T],
) -> _T:
    """Run ``act`` in one transaction with the key's check and use: the first time (or
    without a key) its result is kept as ``save(result)``; a repeat of ``request`` with
    ``key`` returns ``replay(kept)`` without acting; another request with ``key``,
    Conflict."""
    digest = request_digest(request)
    with catalog.transaction():
        stored = check_idempotency_key(catalog, scope, key, digest)
        if stored is not None:
            return replay(stored)
        result = act()
        remember_response(catalog, scope, key, digest, save(result))
    return result
