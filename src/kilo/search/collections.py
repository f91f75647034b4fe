"""Smart collections: a saved query + filters under a name, run again on demand.

A collection stores the query, not its results, so running it always reflects the catalog as
it is now (new photos, changed ratings, new vectors). Names are unique per user.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from kilo.catalog import Catalog
from kilo.clock import from_catalog, new_id, parse_uuid, utcnow
from kilo.errors import Conflict, NotFound
from kilo.models import KiloModel, SearchResponse
from kilo.projects import require_project
from kilo.records import json_object
from kilo.search.engine import search
from kilo.search.filters import parse_filters
from kilo.search.query import Sort
from kilo.text import check_title


class SmartCollection(KiloModel):
    id: str
    name: str
    project_id: str | None = None
    query: str
    filters: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime


def _to_model(row: dict[str, Any]) -> SmartCollection:
    filters = json_object(row["filters"])
    created = from_catalog(row["created_at"])
    updated = from_catalog(row["updated_at"])
    assert created is not None and updated is not None
    return SmartCollection(
        id=row["id"],
        name=row["name"],
        project_id=row["project_id"],
        query=row["query"],
        filters=filters or {},
        created_at=created,
        updated_at=updated,
    )


def _check_name(name: str) -> str:
    return check_title(str(name or ""), what="collection name", max_length=200)


def save_collection(
    catalog: Catalog,
    name: str,
    project_id: str | None,
    query: str,
    *,
    filters: dict[str, Any] | None = None,
    replace: bool = False,
    user_id: str | None = None,
) -> SmartCollection:
    """Save (or with ``replace``, overwrite) a named query. Filters are validated now."""
    name = _check_name(name)
    user = user_id or catalog.local_user_id
    pid = require_project(catalog, project_id) if project_id else None
    clean = parse_filters(filters or {}).to_dict()
    now = utcnow()
    with catalog.transaction():
        existing = catalog.fetchone(
            "SELECT id FROM smart_collections WHERE user_id = ? AND name = ?", [user, name]
        )
        if existing and not replace:
            raise Conflict(
                f"a collection named {name!r} exists; save it again with --replace "
                "(replace=True in Python) to change it"
            )
        cid = str(existing[0]) if existing else new_id()
        catalog.table("smart_collections").upsert(
            {
                "id": cid,
                "user_id": user,
                "project_id": pid,
                "name": name,
                "query": query,
                "filters": clean,
                "created_at": now,
                "updated_at": now,
            },
            key=("user_id", "name"),
            update=("project_id", "query", "filters", "updated_at"),
        )
    return get_collection(catalog, cid, user_id=user)


def get_collection(
    catalog: Catalog, name_or_id: str, *, user_id: str | None = None
) -> SmartCollection:
    user = user_id or catalog.local_user_id
    row = catalog.fetchdict(
        "SELECT * FROM smart_collections WHERE user_id = ? AND (id = ? OR name = ?)",
        [user, name_or_id, " ".join(str(name_or_id).split())],
    )
    if row is None:
        raise NotFound(f"no collection named {name_or_id!r}")
    return _to_model(row)


def list_collections(
    catalog: Catalog, *, project_id: str | None = None, user_id: str | None = None
) -> list[SmartCollection]:
    user = user_id or catalog.local_user_id
    sql = "SELECT * FROM smart_collections WHERE user_id = ?"
    params: list[Any] = [user]
    if project_id:
        sql += " AND project_id = ?"
        params.append(parse_uuid(project_id, "project id"))
    return [_to_model(r) for r in catalog.fetchdicts(sql + " ORDER BY name", params)]


def run_collection(
    catalog: Catalog,
    name_or_id: str,
    *,
    limit: int | None = 50,
    cursor: str | None = None,
    sort: Sort = "score",
    user_id: str | None = None,
) -> SearchResponse:
    """Run the saved query against the catalog as it is now."""
    coll = get_collection(catalog, name_or_id, user_id=user_id)
    return search(
        catalog,
        coll.project_id,
        coll.query,
        filters=coll.filters,
        limit=limit,
        cursor=cursor,
        sort=sort,
        user_id=user_id,
    )


def delete_collection(catalog: Catalog, name_or_id: str, *, user_id: str | None = None) -> None:
    coll = get_collection(catalog, name_or_id, user_id=user_id)
    catalog.execute("DELETE FROM smart_collections WHERE id = ?", [coll.id])
