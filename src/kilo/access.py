"""Who may see what: every project has an owner, and everything in a project (assets,
clusters, edit versions, exports, jobs, galleries) is the owner's. Anything of another user
is reported exactly as a thing that does not exist (NotFound with the same message), so an
id of someone else's photo tells nothing.

Ids here are whole uuids: prefixes and names are for a person at their own terminal, not
for a server where they would let one user probe another's ids.
"""

from __future__ import annotations

from typing import Literal

from kilo.catalog import Catalog
from kilo.catalog.file_reads import owned_asset_ids, project_owner
from kilo.clock import parse_uuid
from kilo.errors import NotFound

__all__ = ["Owned", "check_owner", "check_owner_assets"]

Owned = Literal["projects", "assets", "clusters", "edit_versions", "exports", "jobs", "galleries"]

_NOUNS = {
    "projects": "project",
    "assets": "asset",
    "clusters": "cluster",
    "edit_versions": "edit version",
    "exports": "export",
    "jobs": "job",
    "galleries": "gallery",
}


def check_owner(catalog: Catalog, user_id: str, kind: Owned, value: str) -> str:
    """The canonical id ``value`` names when ``user_id`` owns its project; otherwise
    :class:`NotFound` (InvalidInput when ``value`` is not a uuid)."""
    noun = _NOUNS[kind]
    ident = parse_uuid(value, f"{noun} id")
    if project_owner(catalog, kind, ident) != user_id:
        raise NotFound(f"no {noun} with id {ident}")
    return ident


def check_owner_assets(catalog: Catalog, user_id: str, values: list[str]) -> list[str]:
    """The canonical ids of ``values`` (whole uuids of assets) when ``user_id`` owns every
    one, in one query; NotFound names the first that is not theirs."""
    ids = [parse_uuid(v, "asset id") for v in values]
    mine = owned_asset_ids(catalog, user_id, ids)
    for ident in ids:
        if ident not in mine:
            raise NotFound(f"no asset with id {ident}")
    return ids
