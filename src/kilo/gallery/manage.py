"""The photographer's side of client galleries: create, read, change, fill, revoke and
re-link them.

>>> g = create_gallery(cat, project.id, title="Smith wedding", asset_ids=picked,
...                    password="rings", expires_at=None)          # doctest: +SKIP
>>> g.share_path                                                    # doctest: +SKIP
'/g/N2x1...'

A link is a slug of 128 random bits (``secrets``); the password is kept as an argon2id hash.
A gallery expires after 30 days unless told otherwise (``expires_at``; an explicit None in an
update means never). Revoking a gallery or giving it a new link ends every visitor session
and every image URL made from the old one: they are checked against the gallery on each use
(:mod:`kilo.gallery.visitors`).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from kilo.catalog import Catalog
from kilo.clock import from_catalog, new_id, parse_uuid, to_utc_naive, utcnow
from kilo.errors import InvalidInput, NotFound
from kilo.gallery.passwords import hash_password
from kilo.jobspec import EventType
from kilo.models import CreateGalleryRequest, Gallery, UpdateGalleryRequest, parse_request
from kilo.projects import owned_projects
from kilo.text import check_title

DEFAULT_EXPIRY = timedelta(days=30)
SLUG_BYTES = 16  # 128 bits
_COLUMNS = (
    "id, project_id, title, share_slug, password_hash, expires_at, watermark, allow_downloads, "
    "status, created_at, updated_at, download_size, watermark_text, min_picks, max_picks, "
    "show_filenames, revoked_at, watermark_logo"
)


def new_slug() -> str:
    return secrets.token_urlsafe(SLUG_BYTES)


def create_gallery(
    catalog: Catalog,
    project_id: str,
    request: CreateGalleryRequest | dict[str, Any] | None = None,
    /,
    *,
    watermark_logo: str | Path | None = None,
    **fields: Any,
) -> Gallery:
    """A new gallery of photos of ``project_id`` (``request``, or its fields by name).
    ``watermark_logo``: an image file on this machine burned into the served photos instead
    of the text (the CLI's and the library's option only: over HTTP it would name a file
    of the server)."""
    req = parse_request(CreateGalleryRequest, request if request is not None else fields)
    logo = _check_logo(watermark_logo)
    pid = parse_uuid(project_id, "project id")
    if not catalog.table("projects").exists(pid):
        raise NotFound(f"no project with id {pid}")
    _check_bounds(req.min_picks, req.max_picks)
    asset_ids = _project_assets(catalog, pid, req.asset_ids)
    now = utcnow()
    expires = req.expires_at if "expires_at" in req.model_fields_set else now + DEFAULT_EXPIRY
    gid = new_id()
    with catalog.transaction():
        catalog.execute(
            "INSERT INTO galleries (id, project_id, title, share_slug, password_hash, expires_at, "
            "watermark, allow_downloads, status, created_at, updated_at, download_size, "
            "watermark_text, min_picks, max_picks, show_filenames, watermark_logo) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                gid,
                pid,
                check_title(req.title, max_length=200),
                new_slug(),
                hash_password(req.password) if req.password else None,
                to_utc_naive(expires) if expires else None,
                req.watermark,
                req.allow_downloads,
                now,
                now,
                req.download_size,
                req.watermark_text,
                req.min_picks or None,
                req.max_picks or None,
                req.show_filenames,
                logo,
            ],
        )
        _append_assets(catalog, gid, asset_ids, now)
        catalog.emit_event(EventType.GALLERY_CREATED, project_id=pid, data={"galleryId": gid})
    return get_gallery(catalog, gid)


def get_gallery(catalog: Catalog, gallery_id: str) -> Gallery:
    gid = parse_uuid(gallery_id, "gallery id")
    rows = _rows(catalog, "g.id = ?", [gid])
    if not rows:
        raise NotFound(f"no gallery with id {gid}")
    return rows[0]


def list_galleries(
    catalog: Catalog, project_id: str | None = None, *, owner_user_id: str | None = None
) -> list[Gallery]:
    """Galleries, newest first (of one project, or of every project; only of
    ``owner_user_id``'s projects when given)."""
    where, params = ["TRUE"], []
    if project_id is not None:
        where.append("g.project_id = ?")
        params.append(parse_uuid(project_id, "project id"))
    if owner_user_id is not None:
        where.append(owned_projects("g.project_id"))
        params.append(owner_user_id)
    return _rows(catalog, " AND ".join(where), params)


def resolve_gallery(
    catalog: Catalog,
    ref: str,
    project_id: str | None = None,
    *,
    owner_user_id: str | None = None,
) -> str:
    """The gallery ``ref`` names: its id, a unique id prefix, its title or the start of it;
    among the galleries of ``owner_user_id``'s projects when given (the CLI's local user).
    Several matches are refused naming each one's project and owner."""
    from kilo.projects import lookup_owned

    return lookup_owned(
        catalog, "galleries", ref, owner_user_id=owner_user_id, project_id=project_id
    )


def update_gallery(
    catalog: Catalog,
    gallery_id: str,
    request: UpdateGalleryRequest | dict[str, Any] | None = None,
    /,
    *,
    watermark_logo: str | Path | None = None,
    **fields: Any,
) -> Gallery:
    """Change what is given; ``password=None`` takes the password off, ``expires_at=None``
    makes the link never expire; ``watermark_logo=""`` goes back to the text."""
    req = parse_request(UpdateGalleryRequest, request if request is not None else fields)
    current = get_gallery(catalog, gallery_id)
    given = req.model_fields_set
    changes: dict[str, Any] = {}
    if watermark_logo is not None:
        changes["watermark_logo"] = _check_logo(watermark_logo) if str(watermark_logo) else None
    for name in (
        "title",
        "watermark",
        "allow_downloads",
        "download_size",
        "watermark_text",
        "show_filenames",
    ):
        if name in given and getattr(req, name) is not None:
            value = getattr(req, name)
            changes[name] = check_title(value, max_length=200) if name == "title" else value
    for name in ("min_picks", "max_picks"):
        if name in given:
            changes[name] = getattr(req, name) or None
    _check_bounds(
        changes.get("min_picks", current.min_picks), changes.get("max_picks", current.max_picks)
    )
    if "password" in given:
        changes["password_hash"] = hash_password(req.password) if req.password else None
    if "expires_at" in given:
        changes["expires_at"] = to_utc_naive(req.expires_at) if req.expires_at else None
    if changes:
        changes["updated_at"] = utcnow()
        with catalog.transaction():
            catalog.table("galleries").update(current.id, changes)
            if "password_hash" in changes:  # a new password: who was let in must ask again
                _end_sessions(catalog, current.id)
    return get_gallery(catalog, current.id)


def add_gallery_assets(catalog: Catalog, gallery_id: str, asset_ids: list[str]) -> Gallery:
    """Append photos (of the gallery's project) in the order given; ones already in stay."""
    g = get_gallery(catalog, gallery_id)
    ids = _project_assets(catalog, g.project_id, asset_ids)
    with catalog.transaction():
        _append_assets(catalog, g.id, ids, utcnow())
        catalog.table("galleries").update(g.id, {"updated_at": utcnow()})
    return get_gallery(catalog, g.id)


def remove_gallery_assets(catalog: Catalog, gallery_id: str, asset_ids: list[str]) -> Gallery:
    """Take photos out (their image links stop working at once); unknown ones are ignored."""
    g = get_gallery(catalog, gallery_id)
    ids = [parse_uuid(a, "asset id") for a in asset_ids]
    catalog.execute(
        "DELETE FROM gallery_assets WHERE gallery_id = ? AND asset_id IN (SELECT unnest(?))",
        [g.id, ids],
    )
    return get_gallery(catalog, g.id)


def revoke_gallery(catalog: Catalog, gallery_id: str) -> Gallery:
    """End the link for good: the page, its images and every visitor session stop working."""
    g = get_gallery(catalog, gallery_id)
    now = utcnow()
    with catalog.transaction():
        catalog.table("galleries").update(
            g.id, {"status": "revoked", "revoked_at": now, "updated_at": now}
        )
        _end_sessions(catalog, g.id)
    return get_gallery(catalog, g.id)


def rotate_link(catalog: Catalog, gallery_id: str) -> Gallery:
    """A new link for the gallery (the old one, its sessions and image URLs stop working);
    a revoked gallery is made active again this way."""
    g = get_gallery(catalog, gallery_id)
    now = utcnow()
    with catalog.transaction():
        changes = {
            "share_slug": new_slug(),
            "status": "active",
            "revoked_at": None,
            "updated_at": now,
        }
        catalog.table("galleries").update(g.id, changes)
        _end_sessions(catalog, g.id)
    return get_gallery(catalog, g.id)


# -- helpers ------------------------------------------------------------------------------
def _check_logo(path: str | Path | None) -> str | None:
    """The logo's absolute path, when it is an image file Pillow opens."""
    if path is None:
        return None
    from PIL import Image, UnidentifiedImageError

    logo = Path(path).expanduser().absolute()
    try:
        with Image.open(logo) as img:
            img.verify()
    except (OSError, UnidentifiedImageError):
        raise InvalidInput(f"the watermark logo is not an image file: {logo}") from None
    return str(logo)


def _check_bounds(low: int | None, high: int | None) -> None:
    if low and high and low > high:
        raise InvalidInput(f"min picks ({low}) is more than max picks ({high})")


def _project_assets(catalog: Catalog, project_id: str, refs: list[str]) -> list[str]:
    from kilo.catalog.ids import resolve_ids

    ids = list(dict.fromkeys(resolve_ids(catalog, "assets", refs, project_id=project_id)))
    if not ids:
        raise InvalidInput("give at least one photo")
    return ids


def _append_assets(catalog: Catalog, gallery_id: str, ids: list[str], now: datetime) -> None:
    start = int(
        catalog.scalar(
            "SELECT coalesce(max(position), -1) + 1 FROM gallery_assets WHERE gallery_id = ?",
            [gallery_id],
        )
    )
    have = {
        str(r[0])
        for r in catalog.fetchall(
            "SELECT asset_id FROM gallery_assets WHERE gallery_id = ?", [gallery_id]
        )
    }
    new = [a for a in ids if a not in have]
    catalog.insert_many(
        "gallery_assets",
        [
            ("gallery_id", "VARCHAR"),
            ("asset_id", "VARCHAR"),
            ("position", "INTEGER"),
            ("added_at", "TIMESTAMP"),
        ],
        [[gallery_id, a, start + i, now] for i, a in enumerate(new)],
    )


def _end_sessions(catalog: Catalog, gallery_id: str) -> None:
    catalog.table("gallery_sessions").delete_where("gallery_id = ?", [gallery_id])


def read_shared_gallery(catalog: Catalog, slug: str) -> dict[str, Any] | None:
    """What a visitor's side needs of the gallery shared as ``slug``; None when there is
    none, or its project is deleted (a deleted project's galleries end with it)."""
    return catalog.fetchdict(
        "SELECT g.id, g.project_id, g.title, g.share_slug, g.password_hash, g.expires_at, "
        "g.watermark, g.allow_downloads, g.status, g.download_size, g.watermark_text, "
        "g.min_picks, g.max_picks, g.show_filenames, g.watermark_logo FROM galleries g "
        "JOIN projects p ON p.id = g.project_id AND p.status <> 'deleted' "
        "WHERE g.share_slug = ?",
        [slug],
    )


def has_gallery_asset(catalog: Catalog, gallery_id: str, asset_id: str) -> bool:
    """Whether the photo ``asset_id`` is in the gallery."""
    return bool(
        catalog.fetchone(
            "SELECT 1 FROM gallery_assets WHERE gallery_id = ? AND asset_id = ?",
            [gallery_id, asset_id],
        )
    )


def status_of(row: dict[str, Any], now: datetime | None = None) -> str:
    """``active``, ``revoked`` or ``expired`` (at ``now``)."""
    if row["status"] == "revoked":
        return "revoked"
    return "expired" if ended(row["expires_at"], now) else "active"


def ended(expires: datetime | None, now: datetime | None = None) -> bool:
    """Whether a catalog timestamp ``expires`` (None: never) has passed at ``now``."""
    at = from_catalog(expires)
    return at is not None and at <= (now or utcnow())


def _rows(catalog: Catalog, where: str, params: list[Any]) -> list[Gallery]:
    cols = ", ".join(f"g.{c.strip()}" for c in _COLUMNS.split(","))
    rows = catalog.fetchdicts(
        f"SELECT {cols}, (SELECT count(*) FROM gallery_assets ga WHERE ga.gallery_id = g.id) "
        f"AS asset_count FROM galleries g WHERE {where} ORDER BY g.created_at DESC, g.id",
        params,
    )
    return [
        Gallery(
            id=r["id"],
            project_id=r["project_id"],
            title=r["title"],
            share_slug=r["share_slug"],
            expires_at=from_catalog(r["expires_at"]) if r["expires_at"] else None,
            watermark=bool(r["watermark"]),
            allow_downloads=bool(r["allow_downloads"]),
            requires_password=r["password_hash"] is not None,
            asset_count=int(r["asset_count"]),
            created_at=from_catalog(r["created_at"]),
            status=status_of(r),
            share_path=f"/g/{r['share_slug']}",
            download_size=r["download_size"] or "web",
            watermark_text=r["watermark_text"],
            watermark_logo=r["watermark_logo"] is not None,
            min_picks=r["min_picks"],
            max_picks=r["max_picks"],
            show_filenames=bool(r["show_filenames"]),
            updated_at=from_catalog(r["updated_at"]) if r["updated_at"] else None,
        )
        for r in rows
    ]
