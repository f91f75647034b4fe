"""Projects: a shoot (a wedding, a session) and everything ingested into it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any, Literal

from kilo.catalog import Catalog
from kilo.catalog.file_reads import count_project_stats
from kilo.catalog.ids import MIN_PREFIX
from kilo.clock import from_catalog, new_id, parse_uuid, utcnow
from kilo.errors import InvalidInput, NotFound
from kilo.jobspec import EventType
from kilo.models import (
    CreateProjectRequest,
    PagedProjects,
    PageInfo,
    Project,
    ProjectStatus,
    UpdateProjectRequest,
    parse_request,
)
from kilo.paging import Keyset, check_limit
from kilo.text import check_title, printable

TITLE_MAX = 500
DESCRIPTION_MAX = 10_000
_STATUSES = ("active", "archived", "deleted")
_KEYSET = Keyset("projects", "created_at, id", descending=True)


def _check_title(title: str | None) -> str:
    if title is None or not isinstance(title, str):
        raise InvalidInput("the title is empty")
    return check_title(title, max_length=TITLE_MAX)


def _check_timezone(tz: str | None) -> str | None:
    if tz is None:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"unknown timezone {tz!r} (use an IANA name like Europe/Paris)"
        ) from None
    return tz


def _check_description(text: str | None) -> str | None:
    if text is not None and len(text) > DESCRIPTION_MAX:
        raise InvalidInput(f"description is longer than {DESCRIPTION_MAX} characters")
    return text


def project_stats(catalog: Catalog, project_id: str, user_id: str | None = None) -> dict[str, int]:
    """Counts computed from the catalog: assets, picks and rejects (of the user), reviewed."""
    row = count_project_stats(catalog, project_id, user_id or catalog.local_user_id)
    return {
        "assetCount": int(row[0]),
        "pickedCount": int(row[1]),
        "rejectedCount": int(row[2]),
        "clustersReviewed": int(row[3]),
    }


def _to_model(catalog: Catalog, row: dict[str, Any], user_id: str | None = None) -> Project:
    """The project of ``row``; its pick and reject counts are ``user_id``'s decisions (the
    local user's by default: the HTTP API passes the signed-in user)."""
    return Project(
        id=row["id"],
        studio_id=row["studio_id"],
        owner_user_id=row["owner_user_id"],
        title=row["title"],
        description=row["description"],
        shoot_date=row["shoot_date"],
        timezone=row["timezone"],
        status=row["status"],
        stats=project_stats(catalog, row["id"], user_id),
        created_at=from_catalog(row["created_at"]),
        updated_at=from_catalog(row["updated_at"]),
    )


def create_project(
    catalog: Catalog,
    title: str | CreateProjectRequest,
    *,
    description: str | None = None,
    shoot_date: date | None = None,
    timezone: str | None = None,
    owner_user_id: str | None = None,
) -> Project:
    """Create a project. ``title`` may be a :class:`CreateProjectRequest`."""
    if isinstance(title, CreateProjectRequest):
        req = title
        title, description, shoot_date, timezone = (
            req.title,
            req.description,
            req.shoot_date,
            req.timezone,
        )
    clean_title = _check_title(title)
    now = utcnow()
    project_id = new_id()
    owner = owner_user_id or catalog.local_user_id
    with catalog.transaction():
        _check_title_free(catalog, owner, clean_title)
        catalog.execute(
            "INSERT INTO projects (id, owner_user_id, title, description, shoot_date, timezone, "
            "status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'active', ?, ?)",
            [
                project_id,
                owner,
                clean_title,
                _check_description(description),
                shoot_date,
                _check_timezone(timezone),
                now,
                now,
            ],
        )
        catalog.emit_event(
            EventType.PROJECT_CREATED, project_id=project_id, data={"title": clean_title}
        )
    return get_project(catalog, project_id, user_id=owner)


def _check_title_free(
    catalog: Catalog, owner: str | None, title: str, project_id: str | None = None
) -> None:
    """Titles are a user's names for their projects (every command takes one): no two of a
    user's projects (deleted ones aside) share a title, in any letter case."""
    taken = catalog.scalar(
        "SELECT id FROM projects WHERE owner_user_id IS NOT DISTINCT FROM ? AND "
        "lower(title) = lower(?) AND status <> 'deleted' AND id IS DISTINCT FROM ? LIMIT 1",
        [owner, title, project_id],
    )
    if taken:
        raise InvalidInput(
            f'you have a project titled "{title}" already ({str(taken)[:8]}); choose another title'
        )


def _row(catalog: Catalog, project_id: str) -> dict[str, Any]:
    pid = parse_uuid(project_id, "project id")
    row = catalog.fetchdict("SELECT * FROM projects WHERE id = ?", [pid])
    if row is None:
        raise NotFound(f"no project with id {pid}")
    return row


def require_project(catalog: Catalog, project_id: str, *, user_id: str | None = None) -> str:
    """The canonical id of an existing project (NotFound otherwise), without computing its
    stats as :func:`get_project` does: for whatever only needs to know it is there. With
    ``user_id``: only a project of that user's that is not deleted; anyone else's is
    reported exactly as one that does not exist."""
    pid = parse_uuid(project_id, "project id")
    if user_id is None:
        found = catalog.table("projects").exists(pid)
    else:
        row = catalog.table("projects").get(pid, ("owner_user_id", "status"))
        found = row is not None and row["owner_user_id"] == user_id and row["status"] != "deleted"
    if not found:
        raise NotFound(f"no project with id {pid}")
    return pid


def require_project_zone(catalog: Catalog, project_id: str) -> tuple[str, str | None]:
    """As :func:`require_project` (no user check), with the project's time zone name: one
    read for whatever shows capture times (:func:`kilo.clock.local_capture_time`)."""
    pid = parse_uuid(project_id, "project id")
    row = catalog.table("projects").get(pid, ("timezone",))
    if row is None:
        raise NotFound(f"no project with id {pid}")
    return pid, row["timezone"]


def get_project(catalog: Catalog, project_id: str, *, user_id: str | None = None) -> Project:
    """One project; its pick and reject counts are ``user_id``'s (default: the local user)."""
    return _to_model(catalog, _row(catalog, project_id), user_id)


def resolve_project(
    catalog: Catalog,
    id_or_title: str,
    *,
    owner_user_id: str | None = None,
    user_id: str | None = None,
) -> Project:
    """A project by id, a unique id prefix, its title (case-insensitive) or a unique start of
    its title (``Smith`` for "Smith wedding"), deleted projects left out of the titles.
    With ``owner_user_id`` only that user's projects are looked at (the CLI passes its local
    user), else every user's. ``user_id``: whose picks the stats count."""
    pid = lookup_owned(catalog, "projects", id_or_title, owner_user_id=owner_user_id)
    return get_project(catalog, pid, user_id=user_id)


def list_projects(
    catalog: Catalog,
    *,
    cursor: str | None = None,
    limit: int | None = None,
    status: ProjectStatus | None = None,
    include_archived: bool = True,
    owner_user_id: str | None = None,
    user_id: str | None = None,
) -> PagedProjects:
    """Projects, newest first, one page at a time (only ``owner_user_id``'s when given);
    their pick and reject counts are ``user_id``'s (default: the local user)."""
    limit = check_limit(limit)
    where = ["status <> 'deleted'"]
    params: list[Any] = []
    if status is not None:
        if status not in _STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(_STATUSES)}")
        where = ["status = ?"]
        params.append(status)
    elif not include_archived:
        where.append("status = 'active'")
    if owner_user_id is not None:
        where.append("owner_user_id = ?")
        params.append(owner_user_id)
    rows, next_cursor = _KEYSET.fetch_page(
        catalog, "SELECT * FROM projects", where, params, cursor, limit
    )
    return PagedProjects(
        items=[_to_model(catalog, r, user_id) for r in rows],
        page_info=PageInfo(next_cursor=next_cursor),
    )


_UNSET: Any = object()


def update_project(
    catalog: Catalog,
    project_id: str,
    changes: UpdateProjectRequest | None = None,
    *,
    user_id: str | None = None,
    **fields: Any,
) -> Project:
    """Change title, description, shootDate, timezone or status. Only given fields change.
    ``user_id``: whose picks the returned project's stats count (default: the local user)."""
    if changes is None:
        changes = parse_request(UpdateProjectRequest, fields)
    given = changes.model_dump(exclude_unset=True)
    row = _row(catalog, project_id)
    sets: dict[str, Any] = {}
    if "title" in given:
        sets["title"] = _check_title(given["title"])
    if "description" in given:
        sets["description"] = _check_description(given["description"])
    if "shoot_date" in given:
        sets["shoot_date"] = given["shoot_date"]
    if "timezone" in given:
        sets["timezone"] = _check_timezone(given["timezone"])
    if "status" in given:
        if given["status"] not in _STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(_STATUSES)}")
        sets["status"] = given["status"]
    if not sets:
        return _to_model(catalog, row, user_id)
    sets["updated_at"] = utcnow()
    assignments = ", ".join(f"{col} = ?" for col in sets)
    with catalog.transaction():
        if "title" in sets:
            _check_title_free(catalog, row["owner_user_id"], sets["title"], row["id"])
        catalog.execute(
            f"UPDATE projects SET {assignments} WHERE id = ?", [*sets.values(), row["id"]]
        )
        catalog.emit_event(
            EventType.PROJECT_UPDATED, project_id=row["id"], data={"fields": sorted(given)}
        )
    return get_project(catalog, row["id"], user_id=user_id)


def archive_project(catalog: Catalog, project_id: str, *, user_id: str | None = None) -> Project:
    return update_project(
        catalog, project_id, UpdateProjectRequest(status="archived"), user_id=user_id
    )


def project_titles(catalog: Catalog, project_ids: Sequence[str]) -> dict[str, str]:
    """Titles by project id, in one query (what tables show instead of uuids)."""
    ids = [p for p in dict.fromkeys(project_ids) if p]
    rows = catalog.table("projects").rows_for(ids, select=("title",)) if ids else {}
    return {pid: str(row["title"]) for pid, row in rows.items()}


def project_owners(catalog: Catalog, project_ids: Sequence[str]) -> dict[str, str]:
    """Whose each project is (its owner's email) by project id, in one query: what
    listings show an administrator who sees every user's projects."""
    ids = sorted({p for p in project_ids if p})
    if not ids:
        return {}
    rows = catalog.fetchall(
        "SELECT p.id, coalesce(u.email, p.owner_user_id) FROM projects p LEFT JOIN users u "
        "ON u.id = p.owner_user_id WHERE list_contains(?::VARCHAR[], p.id)",
        [ids],
    )
    return {str(pid): str(email) for pid, email in rows}


def owned_projects(column: str) -> str:
    """SQL: the project id ``column`` names a project of the user ``?``."""
    return f"{column} IN (SELECT id FROM projects WHERE owner_user_id = ?)"


# -- a person's reference to one of their projects (or galleries) -------------------------
Owned = Literal["projects", "galleries"]
#: kind -> (what a person calls one, the rows it is looked up in: ``x`` the thing itself,
#: ``p`` its project)
_OWNED: dict[str, tuple[str, str]] = {
    "projects": ("project", "projects x JOIN projects p ON p.id = x.id"),
    "galleries": ("gallery", "galleries x JOIN projects p ON p.id = x.project_id"),
}
_PREFIX = re.compile(r"^[0-9a-f][0-9a-f-]*$")


def lookup_owned(
    catalog: Catalog,
    kind: Owned,
    ref: str,
    *,
    owner_user_id: str | None = None,
    project_id: str | None = None,
) -> str:
    """The id of the project (or gallery) ``ref`` names: its id, a unique id prefix, its
    title in any case, or a unique start of its title; among ``owner_user_id``'s when given
    (the CLI's local user), else every user's. Deleted projects are left out but for a
    whole id. Several matches are refused naming each candidate, its project and its owner;
    none is NotFound."""
    what, source = _OWNED[kind]
    text = ref.strip() if isinstance(ref, str) else ""
    if not text:
        raise InvalidInput(f"give a {what} id or title")
    where, params = ["TRUE"], []
    if owner_user_id is not None:
        where.append("p.owner_user_id = ?")
        params.append(owner_user_id)
    if project_id is not None and kind != "projects":
        where.append("x.project_id = ?")
        params.append(parse_uuid(project_id, "project id"))
    scope = " AND ".join(where)
    try:
        whole = str(uuid.UUID(text))
    except ValueError:
        whole = None
    if whole is not None:
        found = catalog.scalar(
            f"SELECT x.id FROM {source} WHERE x.id = ? AND {scope}", [whole, *params]
        )
        if found is None:
            raise NotFound(f"no {what} with id {whole}")
        return whole
    low = text.lower()
    steps = [("lower(x.title) = ?", "named")]
    if len(low) >= MIN_PREFIX and _PREFIX.match(low):
        steps.append(("starts_with(x.id, ?)", "id"))
    steps.append(("starts_with(lower(x.title), ?)", "start"))
    for condition, how in steps:
        rows = catalog.fetchall(
            f"SELECT x.id, x.title, p.title, u.email FROM {source} LEFT JOIN users u "
            f"ON u.id = p.owner_user_id WHERE {condition} AND {scope} "
            "AND p.status <> 'deleted' ORDER BY x.id LIMIT 4",
            [low, *params],
        )
        if len(rows) == 1:
            return str(rows[0][0])
        if rows:
            raise InvalidInput(_ambiguous(kind, text, how, rows))
    raise NotFound(f"no {what} with id or title {printable(text)!r}")


def _ambiguous(kind: Owned, ref: str, how: str, rows: Sequence[tuple[Any, ...]]) -> str:
    """Why ``ref`` names nothing for sure, with the candidates: their short id, title,
    project (galleries) and owner."""
    what = _OWNED[kind][0]
    shown = printable(ref)
    which = "; ".join(
        f'{str(r[0])[:8]} "{printable(str(r[1]))}"'
        + (f' in "{printable(str(r[2]))}"' if kind != "projects" else "")
        + f", owner {printable(str(r[3] or '(none)'))}"
        for r in rows[:3]
    ) + ("; ..." if len(rows) > 3 else "")
    if how == "id":
        return f"{what} id {shown!r} is ambiguous ({which}): give more characters, or the whole id"
    plural = "galleries" if kind == "galleries" else "projects"
    if how == "start":
        return f"several {plural}' titles start with {shown!r} ({which}); use more of it, or the id"
    return f"several {plural} are titled {shown!r} ({which}); use the {what} id"
