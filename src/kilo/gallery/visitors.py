"""The client's side of a gallery, behind one gate.

Every public request goes through :func:`open_gallery` (the link: missing, expired and
revoked links are one and the same ``NotFound``) and, for anything but the first look,
:func:`visit` (the visitor's session: its token, stored as a SHA-256 hash, must belong to
this gallery and this link, and be unexpired). A visitor gets a session by opening a gallery
without a password, or by :func:`authenticate` with the right one; each visitor has their
own (a session is never shared). Favorites, comments and the submitted selection are the
visitor's; the activity log records each with the visitor's short label, never an address.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kilo.catalog import Catalog
from kilo.clock import from_catalog, new_id, parse_uuid, utcnow
from kilo.errors import Conflict, InvalidInput, NotFound, Unauthorized
from kilo.gallery.manage import ended, has_gallery_asset, read_shared_gallery, status_of
from kilo.gallery.passwords import check_password
from kilo.jobspec import EventType

SESSION_TTL = timedelta(hours=12)
MAX_COMMENT = 2000
NO_GALLERY = "no such gallery, or its link has ended"
NO_ENTRY = "wrong password, or no such gallery"


@dataclass(frozen=True)
class Visit:
    """A visitor inside a gallery: what the gate lets a request use."""

    gallery: dict[str, Any]
    session_id: str
    visitor_id: str

    @property
    def gallery_id(self) -> str:
        return str(self.gallery["id"])


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_gallery(catalog: Catalog, slug: str, now: datetime | None = None) -> dict[str, Any]:
    """The gallery of a live link, or NotFound (the same for a missing, expired or revoked
    link, so a link tells nothing about what it was)."""
    row = read_shared_gallery(catalog, str(slug)[:128])
    if row is None or status_of(row, now) != "active":
        raise NotFound(NO_GALLERY)
    return row


def visit(catalog: Catalog, slug: str, token: str | None, now: datetime | None = None) -> Visit:
    """The gate: the live gallery of ``slug`` and the visitor whose session ``token`` is.
    NotFound for the link; Unauthorized for a missing, wrong, ended or expired session."""
    gallery = open_gallery(catalog, slug, now)
    if not token:
        raise Unauthorized("open the gallery first (its password, if it has one)")
    found = _session(catalog, gallery, "token_hash", _hash(token), now)
    if found is None:
        raise Unauthorized("this visit has ended; open the gallery again")
    return found


def session_visit(
    catalog: Catalog, slug: str, session_id: str, now: datetime | None = None
) -> Visit:
    """The gate for image URLs, which carry a session id (signed by the server) instead of
    the token: the same checks of the link and the session."""
    gallery = open_gallery(catalog, slug, now)
    found = _session(catalog, gallery, "session_id", str(session_id)[:64], now)
    if found is None:
        raise NotFound("no such image, or its link has ended")
    return found


def _session(
    catalog: Catalog, gallery: dict[str, Any], column: str, value: str, now: datetime | None
) -> Visit | None:
    """The session of ``gallery`` whose ``column`` (token_hash or session_id) is ``value``,
    when it was opened from the gallery's current link and has not expired."""
    row = catalog.fetchone(
        f"SELECT session_id, visitor_id, expires_at, share_slug FROM gallery_sessions "
        f"WHERE {column} = ? AND gallery_id = ?",
        [value, gallery["id"]],
    )
    if row is None or row[3] != gallery["share_slug"] or ended(row[2], now):
        return None
    return Visit(gallery, str(row[0]), str(row[1]))


def start_visit(
    catalog: Catalog, gallery: dict[str, Any], now: datetime | None = None
) -> tuple[str, Visit]:
    """A new visitor session of ``gallery``: (token, visit). The token is shown once.

    The gallery is read again inside the transaction that opens the session: when its
    password, link or status changed since ``gallery`` was read (a password checked while
    the photographer set a new one, a view of an open gallery that was just protected),
    there is no session (Unauthorized), as there would be none a moment later."""
    token = secrets.token_urlsafe(32)
    at = now or utcnow()
    session_id, visitor_id = secrets.token_urlsafe(12), new_id()
    with catalog.transaction():
        _check_unchanged(catalog, gallery, now)
        catalog.execute(
            "INSERT INTO gallery_sessions (token_hash, gallery_id, expires_at, created_at, "
            "session_id, visitor_id, share_slug) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                _hash(token),
                gallery["id"],
                at + SESSION_TTL,
                at,
                session_id,
                visitor_id,
                gallery["share_slug"],
            ],
        )
        log_activity(catalog, gallery["id"], visitor_id, "view", at=at)
    return token, Visit(gallery, session_id, visitor_id)


def _check_unchanged(catalog: Catalog, gallery: dict[str, Any], now: datetime | None) -> None:
    """Unauthorized unless ``gallery`` still has the link and password it was read with,
    and is live (call inside the transaction that acts on it)."""
    row = catalog.table("galleries").get(
        gallery["id"], ("share_slug", "password_hash", "status", "expires_at")
    )
    if (
        row is None
        or row["share_slug"] != gallery["share_slug"]
        or row["password_hash"] != gallery["password_hash"]
        or status_of(row, now) != "active"
    ):
        raise Unauthorized(NO_ENTRY)


def authenticate(catalog: Catalog, slug: str, password: str, now: datetime | None = None) -> str:
    """A session token for the right password. A wrong password, a gallery without one and
    a link that is missing, expired or revoked all answer the same Unauthorized, after the
    same argon2 work. The check runs outside the catalog's lock (argon2 is slow); the
    session is opened only if the password checked is still the gallery's
    (:func:`start_visit`)."""
    try:
        gallery: dict[str, Any] | None = open_gallery(catalog, slug, now)
    except NotFound:
        gallery = None
    stored = gallery["password_hash"] if gallery else None
    if not check_password(stored, password) or gallery is None:
        raise Unauthorized(NO_ENTRY)
    return start_visit(catalog, gallery, now)[0]


def gallery_asset(catalog: Catalog, v: Visit, asset_id: str) -> str:
    """The canonical id of a photo of this gallery (NotFound otherwise)."""
    aid = parse_uuid(asset_id, "asset id")
    if not has_gallery_asset(catalog, v.gallery_id, aid):
        raise NotFound("no such photo in this gallery")
    return aid


def set_favorite(catalog: Catalog, v: Visit, asset_id: str, favorite: bool) -> None:
    aid = gallery_asset(catalog, v, asset_id)
    _check_open(catalog, v)
    with catalog.transaction():
        if favorite:
            high = v.gallery["max_picks"]
            count = _favorite_count(catalog, v)
            mine = catalog.fetchone(
                "SELECT 1 FROM favorites WHERE gallery_id = ? AND asset_id = ? AND client_id = ?",
                [v.gallery_id, aid, v.visitor_id],
            )
            if mine:
                return
            if high and count >= high:
                raise InvalidInput(f"this gallery takes at most {high} favorites")
            catalog.execute(
                "INSERT INTO favorites VALUES (?, ?, ?, ?)",
                [v.gallery_id, aid, v.visitor_id, utcnow()],
            )
        else:
            catalog.execute(
                "DELETE FROM favorites WHERE gallery_id = ? AND asset_id = ? AND client_id = ?",
                [v.gallery_id, aid, v.visitor_id],
            )
        log_activity(
            catalog, v.gallery_id, v.visitor_id, "favorite" if favorite else "unfavorite", aid
        )


def add_comment(catalog: Catalog, v: Visit, asset_id: str, text: str) -> str:
    """Store a comment as plain text (1..2000 characters; pages always show it escaped)."""
    aid = gallery_asset(catalog, v, asset_id)
    clean = (text or "").strip()
    if not clean or len(clean) > MAX_COMMENT:
        raise InvalidInput(f"a comment is 1 to {MAX_COMMENT} characters")
    cid = new_id()
    with catalog.transaction():
        catalog.execute(
            "INSERT INTO comments (id, gallery_id, asset_id, client_id, text, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [cid, v.gallery_id, aid, v.visitor_id, clean, utcnow()],
        )
        log_activity(catalog, v.gallery_id, v.visitor_id, "comment", aid, {"commentId": cid})
    return cid


def submit_selection(catalog: Catalog, v: Visit, name: str | None = None) -> int:
    """Lock the visitor's favorites as their selection and tell the photographer (an event
    on the project's stream, a line in the activity log); how many photos it holds."""
    _check_open(catalog, v)
    count = _favorite_count(catalog, v)
    low, high = v.gallery["min_picks"], v.gallery["max_picks"]
    if low and count < low:
        raise InvalidInput(f"pick at least {low} favorites first (you have {count})")
    if high and count > high:
        raise InvalidInput(f"pick at most {high} favorites (you have {count})")
    label = (name or "").strip()[:100] or None
    with catalog.transaction():
        catalog.execute(
            "INSERT INTO gallery_selections VALUES (?, ?, ?, ?)",
            [v.gallery_id, v.visitor_id, label, utcnow()],
        )
        log_activity(
            catalog, v.gallery_id, v.visitor_id, "submit", None, {"count": count, "name": label}
        )
        catalog.emit_event(
            EventType.GALLERY_SELECTION,
            project_id=v.gallery["project_id"],
            data={"galleryId": v.gallery_id, "count": count},
        )
    return count


def submitted(catalog: Catalog, v: Visit) -> bool:
    return (
        catalog.fetchone(
            "SELECT 1 FROM gallery_selections WHERE gallery_id = ? AND visitor_id = ?",
            [v.gallery_id, v.visitor_id],
        )
        is not None
    )


def _check_open(catalog: Catalog, v: Visit) -> None:
    if submitted(catalog, v):
        raise Conflict("your selection is submitted; ask the photographer to change it")


def _favorite_count(catalog: Catalog, v: Visit) -> int:
    return int(
        catalog.scalar(
            "SELECT count(*) FROM favorites WHERE gallery_id = ? AND client_id = ?",
            [v.gallery_id, v.visitor_id],
        )
    )


def log_activity(
    catalog: Catalog,
    gallery_id: str,
    visitor_id: str | None,
    kind: str,
    asset_id: str | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    catalog.execute(
        "INSERT INTO gallery_activity VALUES (?, ?, ?, ?, ?, ?, ?)",
        [new_id(), gallery_id, visitor_id, kind, asset_id, detail or {}, at or utcnow()],
    )


def own_comments(catalog: Catalog, v: Visit, asset_id: str) -> list[tuple[str, datetime]]:
    """The visitor's own comments on one photo, oldest first (visitors never see each
    other's; the photographer sees all in the activity log)."""
    aid = gallery_asset(catalog, v, asset_id)
    rows = catalog.fetchall(
        "SELECT text, created_at FROM comments WHERE gallery_id = ? AND asset_id = ? "
        "AND client_id = ? ORDER BY created_at, id",
        [v.gallery_id, aid, v.visitor_id],
    )
    return [(str(t), from_catalog(at) or utcnow()) for t, at in rows]


# -- what the photographer's side reads of the visits ---------------------------------------
def list_visitor_ids(catalog: Catalog, gallery_id: str) -> list[str]:
    """The gallery's visitors in the order they first came."""
    rows = catalog.fetchall(
        "SELECT visitor_id FROM gallery_activity WHERE gallery_id = ? AND visitor_id IS NOT "
        "NULL GROUP BY visitor_id ORDER BY min(created_at), visitor_id",
        [gallery_id],
    )
    return [str(r[0]) for r in rows]


def list_activity_rows(catalog: Catalog, gallery_id: str) -> list[tuple[Any, ...]]:
    """(at, kind, visitor, asset id, file name, detail, comment text) of every activity of
    the gallery, oldest first."""
    return catalog.fetchall(
        "SELECT ac.created_at, ac.kind, ac.visitor_id, ac.asset_id, a.filename, ac.detail, "
        "c.text FROM gallery_activity ac LEFT JOIN assets a ON a.id = ac.asset_id "
        "LEFT JOIN comments c ON c.id = ac.detail->>'commentId' "
        "WHERE ac.gallery_id = ? ORDER BY ac.created_at, ac.id",
        [gallery_id],
    )


def list_favorite_rows(catalog: Catalog, gallery_id: str) -> list[tuple[Any, ...]]:
    """(visitor, asset id, file name) of every favorite, in gallery order."""
    return catalog.fetchall(
        "SELECT f.client_id, f.asset_id, a.filename FROM favorites f JOIN gallery_assets ga "
        "ON ga.gallery_id = f.gallery_id AND ga.asset_id = f.asset_id "
        "LEFT JOIN assets a ON a.id = f.asset_id WHERE f.gallery_id = ? ORDER BY ga.position",
        [gallery_id],
    )


def list_submissions(catalog: Catalog, gallery_id: str) -> list[tuple[Any, ...]]:
    """(visitor, name, submitted at) of every submitted selection."""
    return catalog.fetchall(
        "SELECT visitor_id, name, submitted_at FROM gallery_selections WHERE gallery_id = ?",
        [gallery_id],
    )


def list_view_rows(catalog: Catalog, gallery_id: str, visitor_id: str) -> list[tuple[Any, ...]]:
    """(asset id, width, height, orientation, file name, favorites, comments, whether this
    visitor favorited it, frame index, frame count) of the gallery's photos in its order."""
    return catalog.fetchall(
        "SELECT ga.asset_id, a.width_px, a.height_px, a.orientation, a.filename, "
        "(SELECT count(*) FROM favorites f WHERE f.gallery_id = ga.gallery_id "
        " AND f.asset_id = ga.asset_id), "
        "(SELECT count(*) FROM comments c WHERE c.gallery_id = ga.gallery_id "
        " AND c.asset_id = ga.asset_id), "
        "EXISTS (SELECT 1 FROM favorites f WHERE f.gallery_id = ga.gallery_id "
        " AND f.asset_id = ga.asset_id AND f.client_id = ?), a.frame_index, a.frame_count "
        "FROM gallery_assets ga JOIN assets a ON a.id = ga.asset_id "
        "WHERE ga.gallery_id = ? ORDER BY ga.position",
        [visitor_id, gallery_id],
    )
