"""Per-user ratings: a 1-5 rating (or none), picked, rejected, starred and notes per asset.

Picked and rejected exclude each other: setting one clears the other. Every change is one
undoable action in the cull log (:mod:`kilo.cull.actions`). :func:`apply_bulk` applies many
changes all or nothing, and replays a stored response when an idempotency key comes back.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from kilo.catalog import Catalog
from kilo.catalog.file_reads import asset_project
from kilo.catalog.idempotency import check_idempotency_key, remember_response, request_digest
from kilo.catalog.ids import resolve_id, resolve_ids
from kilo.clock import from_catalog, parse_uuid, to_utc_naive, utcnow
from kilo.cull._state import (
    RatingRow,
    picked_among,
    rated_asset_ids,
    read_ratings,
    write_ratings,
)
from kilo.cull.actions import tracked
from kilo.errors import InvalidInput
from kilo.jobspec import EventType
from kilo.models import (
    BulkCullAction,
    BulkCullActionRequest,
    BulkCullActionResponse,
    Rating,
    UpsertRatingRequest,
    parse_request,
)
from kilo.projects import require_project

__all__ = [
    "apply_bulk",
    "apply_changes",
    "check_assets",
    "find_asset",
    "get_rating",
    "list_ratings",
    "merge_rating",
    "picked_among",
    "upsert_rating",
]

NOTES_MAX = 10_000
_FIELDS = ("rating", "picked", "rejected", "starred", "notes")


def _to_model(asset_id: str, user_id: str, row: RatingRow | None) -> Rating:
    if row is None:
        return Rating(asset_id=asset_id, user_id=user_id)
    updated = row["updated_at"]
    return Rating(
        asset_id=asset_id,
        user_id=user_id,
        rating=row["rating"],
        picked=row["picked"],
        rejected=row["rejected"],
        starred=row["starred"],
        notes=row["notes"],
        updated_at=from_catalog(datetime.fromisoformat(updated)) if updated else None,
    )


def check_assets(catalog: Catalog, project_id: str | None, asset_ids: Iterable[str]) -> list[str]:
    """Canonical ids of ``asset_ids`` (ids, unique id prefixes or file names); NotFound names
    the first that is not in the project."""
    return resolve_ids(catalog, "assets", asset_ids, project_id=project_id)


def find_asset(catalog: Catalog, project_id: str, ref: str) -> str:
    """The id of an asset of the project named by its id, a unique id prefix or its file name
    (which must be unique in the project)."""
    return resolve_id(catalog, "assets", ref, project_id=project_id)


def merge_rating(row: RatingRow | None, changes: dict[str, Any]) -> RatingRow:
    """The row after applying ``changes`` (only the keys given; None clears a field).

    Picked and rejected are exclusive: setting one true clears the other; both true is refused.
    """
    unknown = set(changes) - set(_FIELDS)
    if unknown:
        raise InvalidInput(f"unknown rating field(s): {', '.join(sorted(unknown))}")
    if changes.get("picked") is True and changes.get("rejected") is True:
        raise InvalidInput("an asset cannot be both picked and rejected")
    rating = changes.get("rating")
    if rating is not None and (
        isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5
    ):
        raise InvalidInput(f"rating must be an integer from 1 to 5 or null, got {rating!r}")
    notes = changes.get("notes")
    if notes is not None and len(notes) > NOTES_MAX:
        raise InvalidInput(f"notes are longer than {NOTES_MAX} characters")
    new: RatingRow = (
        dict(row)
        if row
        else {
            "rating": None,
            "picked": False,
            "rejected": False,
            "starred": False,
            "notes": None,
            "updated_at": None,
        }
    )
    for key, value in changes.items():
        new[key] = value
    if changes.get("picked") is True:
        new["rejected"] = False
    if changes.get("rejected") is True:
        new["picked"] = False
    new["updated_at"] = to_utc_naive(utcnow()).isoformat()
    return new


def apply_changes(
    catalog: Catalog, user_id: str, changes: list[tuple[str, dict[str, Any]]]
) -> list[str]:
    """Write ``(asset_id, changes)`` pairs in order (no logging, no checks of ids). Returns the
    distinct asset ids in first-seen order. Call inside a transaction."""
    current = read_ratings(catalog, user_id, [a for a, _ in changes])
    order: list[str] = []
    for asset_id, fields in changes:
        current[asset_id] = merge_rating(current[asset_id], fields)
        if asset_id not in order:
            order.append(asset_id)
    write_ratings(catalog, user_id, {a: current[a] for a in order})
    return order


def get_rating(catalog: Catalog, asset_id: str, user_id: str | None = None) -> Rating:
    """The user's rating of an asset (all fields null when never rated)."""
    aid = parse_uuid(asset_id, "asset id")
    asset_project(catalog, aid)
    user = user_id or catalog.local_user_id
    return _to_model(aid, user, read_ratings(catalog, user, [aid])[aid])


def list_ratings(
    catalog: Catalog, project_id: str, user_id: str | None = None
) -> dict[str, Rating]:
    """Every rating row of the user in the project, by asset id."""
    user = user_id or catalog.local_user_id
    rows = read_ratings(catalog, user, rated_asset_ids(catalog, project_id, user))
    return {aid: _to_model(aid, user, row) for aid, row in rows.items()}


def upsert_rating(
    catalog: Catalog,
    asset_id: str,
    request: UpsertRatingRequest | None = None,
    *,
    user_id: str | None = None,
    kind: str = "rate",
    **fields: Any,
) -> Rating:
    """Set some of rating/picked/rejected/starred/notes of one asset; fields not given keep
    their value, a given None clears. One undoable action."""
    if request is None:
        request = parse_request(UpsertRatingRequest, fields)  # one-line InvalidInput
    elif fields:
        raise InvalidInput("pass either a request or keyword fields, not both")
    changes = {k: getattr(request, k) for k in request.model_fields_set}
    aid = parse_uuid(asset_id, "asset id")
    project_id = asset_project(catalog, aid)
    user = user_id or catalog.local_user_id
    merge_rating(None, changes)  # validate before opening the transaction
    with tracked(catalog, project_id, user, kind, asset_ids=[aid]):
        apply_changes(catalog, user, [(aid, changes)])
        catalog.emit_event(
            EventType.RATINGS_UPDATED, project_id=project_id, asset_id=aid, data={"assetIds": [aid]}
        )
        return get_rating(catalog, aid, user)  # as this call left it


def _action_changes(action: BulkCullAction) -> dict[str, Any]:
    return {k: getattr(action, k) for k in action.model_fields_set if k != "asset_id"}


def apply_bulk(
    catalog: Catalog,
    project_id: str,
    request: BulkCullActionRequest,
    *,
    user_id: str | None = None,
    idempotency_key: str | None = None,
) -> BulkCullActionResponse:
    """Apply many pick/reject/rate/star changes in one transaction: all or nothing.

    One asset id that is malformed or not in the project raises (NotFound / InvalidInput)
    and changes nothing. Fields an action does not mention keep their value; an explicit
    null clears. Actions on the same asset apply in order. With ``idempotency_key`` a
    repeated request returns the first response without acting again; the same key with a
    different request raises :class:`Conflict`. The whole request is one undoable action.
    """
    pid = require_project(catalog, project_id)
    user = user_id or catalog.local_user_id
    scope = f"cull.apply:{pid}:{user}"
    digest = request_digest(
        [{"assetId": a.asset_id, **_action_changes(a)} for a in request.actions]
    )
    with catalog.transaction():  # the key's check and its use are one step
        stored = check_idempotency_key(catalog, scope, idempotency_key, digest)
        if stored is not None:
            return BulkCullActionResponse.model_validate(stored)
        ids = check_assets(catalog, pid, [a.asset_id for a in request.actions])
        changes = [(aid, _action_changes(a)) for aid, a in zip(ids, request.actions, strict=True)]
        for _, fields in changes:
            merge_rating(None, fields)
        with tracked(catalog, pid, user, "bulk", asset_ids=ids):
            updated = apply_changes(catalog, user, changes)
            response = BulkCullActionResponse(ok=True, updated_asset_ids=updated)
            remember_response(catalog, scope, idempotency_key, digest, response.dump())
            catalog.emit_event(
                EventType.RATINGS_UPDATED, project_id=pid, data={"assetIds": updated}
            )
    return response
