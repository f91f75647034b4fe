"""What clients did in a gallery, for the photographer: the activity log, each visitor's
favorites, and :func:`apply_selections`, which brings the favorites back into culling as
picks (one undoable cull action) and, when asked, into the XMP sidecars Lightroom reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from kilo.catalog import Catalog
from kilo.clock import from_catalog
from kilo.gallery.manage import get_gallery
from kilo.gallery.visitors import (
    list_activity_rows,
    list_favorite_rows,
    list_submissions,
    list_visitor_ids,
)
from kilo.models import GalleryActivity, GallerySelection
from kilo.records import json_object

Who = Literal["submitted", "all"]


def _labels(catalog: Catalog, gallery_id: str) -> dict[str, str]:
    """visitor id -> v1, v2 ... in the order visitors first came (no address, no id)."""
    return {v: f"v{i + 1}" for i, v in enumerate(list_visitor_ids(catalog, gallery_id))}


def list_activity(catalog: Catalog, gallery_id: str) -> list[GalleryActivity]:
    """Every view, favorite, comment, download and submission, oldest first."""
    g = get_gallery(catalog, gallery_id)
    labels = _labels(catalog, g.id)
    out = []
    for at, kind, visitor, aid, filename, detail, text in list_activity_rows(catalog, g.id):
        extra = json_object(detail)
        if kind == "submit" and extra.get("name"):
            text = f"{extra.get('count', 0)} photos, as {extra['name']}"
        elif kind == "submit":
            text = f"{extra.get('count', 0)} photos"
        out.append(
            GalleryActivity(
                at=from_catalog(at),
                kind=kind,
                visitor=labels.get(str(visitor), "?"),
                asset_id=aid,
                filename=filename,
                text=text,
            )
        )
    return out


def list_selections(catalog: Catalog, gallery_id: str) -> list[GallerySelection]:
    """Each visitor's favorites in gallery order, and when they submitted them."""
    g = get_gallery(catalog, gallery_id)
    labels = _labels(catalog, g.id)
    rows = list_favorite_rows(catalog, g.id)
    sent = {str(v): (n, from_catalog(t)) for v, n, t in list_submissions(catalog, g.id)}
    by: dict[str, list[tuple[str, str | None]]] = {}
    for visitor, aid, filename in rows:
        by.setdefault(str(visitor), []).append((str(aid), filename))
    for visitor in sent:
        by.setdefault(visitor, [])
    return [
        GallerySelection(
            visitor=labels.get(v, "?"),
            name=sent.get(v, (None, None))[0],
            asset_ids=[a for a, _ in picks],
            filenames=[n for _, n in picks],
            submitted_at=sent.get(v, (None, None))[1],
        )
        for v, picks in sorted(by.items(), key=lambda kv: labels.get(kv[0], "~"))
    ]


@dataclass
class AppliedSelection:
    """What :func:`apply_selections` did."""

    picked: list[str] = field(default_factory=list)
    already: int = 0
    xmp_written: int = 0


def apply_selections(
    catalog: Catalog,
    gallery_id: str,
    *,
    who: Who = "all",
    user_id: str | None = None,
    write_xmp: bool = False,
) -> AppliedSelection:
    """Pick, for ``user_id`` (the local user by default), every photo a visitor favorited
    (``who="submitted"``: only submitted selections), in one cull action that ``kilo cull
    undo`` takes back; with ``write_xmp``, write those photos' sidecars (a pick is the Green
    label Lightroom shows, see :mod:`kilo.cull.decision_sidecar`)."""
    from kilo.cull import apply_bulk, get_rating
    from kilo.models import BulkCullAction, BulkCullActionRequest

    g = get_gallery(catalog, gallery_id)
    chosen: list[str] = []
    for sel in list_selections(catalog, g.id):
        if who == "all" or sel.submitted_at is not None:
            chosen += [a for a in sel.asset_ids if a not in chosen]
    user = user_id or catalog.local_user_id
    out = AppliedSelection()
    todo = [a for a in chosen if not get_rating(catalog, a, user_id=user).picked]
    out.already = len(chosen) - len(todo)
    if todo:
        request = BulkCullActionRequest(
            actions=[BulkCullAction(asset_id=a, picked=True) for a in todo]
        )
        apply_bulk(catalog, g.project_id, request, user_id=user)
        out.picked = todo
    if write_xmp and chosen:
        from kilo.cull.decision_sidecar import write_xmp_sidecars

        report = write_xmp_sidecars(catalog, g.project_id, asset_ids=chosen, user_id=user)
        out.xmp_written = sum(1 for r in report if r.status == "ok")
    return out


def summarise_activity(
    catalog: Catalog, gallery_id: str, by: Literal["asset", "visitor"]
) -> list[dict[str, Any]]:
    """Counts of views, favorites (net of un-favorites), comments and downloads per photo
    or per visitor, busiest first."""
    rows: dict[str, dict[str, Any]] = {}
    for a in list_activity(catalog, gallery_id):
        key = (a.filename or a.asset_id or "(all photos)") if by == "asset" else a.visitor
        if by == "asset" and a.kind in ("view", "submit"):
            continue
        row = rows.setdefault(
            key, {by: key, "views": 0, "favorites": 0, "comments": 0, "downloads": 0}
        )
        field_name = {
            "view": "views",
            "favorite": "favorites",
            "unfavorite": "favorites",
            "comment": "comments",
            "download": "downloads",
        }.get(a.kind)
        if field_name:
            row[field_name] += -1 if a.kind == "unfavorite" else 1
    return sorted(
        rows.values(),
        key=lambda r: (-(r["favorites"] + r["comments"] + r["downloads"]), str(r[by])),
    )
