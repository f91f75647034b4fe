"""Culling decisions: per-user ratings (pick / reject / rate / star), bulk actions with
idempotency, an undoable action log, cluster decisions, the personal taste model and XMP
sidecars.

>>> from kilo.cull import upsert_rating, undo                       # doctest: +SKIP
>>> upsert_rating(catalog, asset_id, picked=True)                   # doctest: +SKIP
>>> undo(catalog, project_id)                                       # doctest: +SKIP
"""

from __future__ import annotations

from kilo.cull.actions import CullAction, list_actions, redo, undo
from kilo.cull.decisions import (
    AcceptWinnersReport,
    accept_winners,
    mark_reviewed,
    pick_asset,
    pick_winner,
    reject_cluster,
    set_rating,
    toggle_reject,
    toggle_star,
)
from kilo.cull.ratings import apply_bulk, get_rating, list_ratings, upsert_rating

__all__ = [
    "AcceptWinnersReport",
    "CullAction",
    "accept_winners",
    "apply_bulk",
    "get_rating",
    "list_actions",
    "list_ratings",
    "mark_reviewed",
    "pick_asset",
    "pick_winner",
    "redo",
    "reject_cluster",
    "set_rating",
    "toggle_reject",
    "toggle_star",
    "undo",
    "upsert_rating",
]
