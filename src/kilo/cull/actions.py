"""The cull action log: every decision is recorded with the exact before/after state of what it
touched (the user's ratings and the clusters' winner/reviewed flags), so undo and redo put
the catalog back exactly.

The log is a linear history per (project, user): ``undo`` reverts the newest action that is
not undone, ``redo`` re-applies the most recently undone one, and a new action discards what
could still be redone (as in every editor).

>>> with tracked(catalog, project_id, user_id, "pick", asset_ids=[a]):   # doctest: +SKIP
...     write_the_change()
>>> undo(catalog, project_id)                                            # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from kilo.catalog import Catalog
from kilo.clock import from_catalog, utcnow
from kilo.cull._state import State, capture, restore
from kilo.errors import NotFound
from kilo.jobspec import EventType
from kilo.records import json_object

__all__ = [
    "ActionHandle",
    "CullAction",
    "get_action",
    "list_actions",
    "record_action",
    "redo",
    "tracked",
    "undo",
]


class CullAction(BaseModel):
    """One entry of the action log, as undo/redo and ``--json`` report it."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    id: int
    project_id: str
    user_id: str
    kind: str
    asset_ids: list[str] = Field(default_factory=list)
    cluster_ids: list[str] = Field(default_factory=list)
    undone: bool = False
    created_at: datetime

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


def _load(value: Any) -> State:
    return json_object(value)


def _to_model(row: dict[str, Any]) -> CullAction:
    before = _load(row["before_state"])
    created = from_catalog(row["created_at"])
    assert created is not None
    return CullAction(
        id=int(row["id"]),
        project_id=row["project_id"],
        user_id=row["user_id"],
        kind=row["kind"],
        asset_ids=sorted(before.get("ratings", {})),
        cluster_ids=sorted(
            {*before.get("clusters", {}), *before.get("stacks", {}).get("clusters", {})}
        ),
        undone=bool(row["undone"]),
        created_at=created,
    )


def record_action(
    catalog: Catalog,
    project_id: str,
    user_id: str,
    kind: str,
    before: State,
    after: State,
) -> CullAction:
    """Append an action (and drop the redo history); returns it as logged. Joins open
    transactions."""
    with catalog.transaction():
        catalog.execute(
            "DELETE FROM cull_actions WHERE project_id = ? AND user_id = ? AND undone",
            [project_id, user_id],
        )
        row = catalog.fetchdict(
            "INSERT INTO cull_actions (project_id, user_id, kind, before_state, after_state, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
            [project_id, user_id, kind, before, after, utcnow()],
        )
    assert row is not None
    return _to_model(row)


@dataclass
class ActionHandle:
    """Filled in when a :func:`tracked` block commits: the logged action. It is built inside
    the transaction, so it is what this call did even if another thread undoes it (and a
    later action drops it as redo history) a moment later."""

    action: CullAction | None = None

    @property
    def id(self) -> int | None:
        return self.action.id if self.action is not None else None


@contextmanager
def tracked(
    catalog: Catalog,
    project_id: str,
    user_id: str,
    kind: str,
    *,
    asset_ids: Iterable[str] = (),
    cluster_ids: Iterable[str] = (),
) -> Iterator[ActionHandle]:
    """Run the block in one transaction and log it as one undoable action.

    ``asset_ids``/``cluster_ids`` must name everything the block may change. Reads the block
    makes to decide its change (a toggle's current value) belong inside it: the transaction
    holds the catalog for the block, so no other thread's change lands in between.
    """
    assets = sorted(set(asset_ids))
    clusters = sorted(set(cluster_ids))
    with catalog.transaction():
        handle = ActionHandle()
        before = capture(catalog, user_id, assets, clusters)
        yield handle
        after = capture(catalog, user_id, assets, clusters)
        handle.action = record_action(catalog, project_id, user_id, kind, before, after)


def _step(
    catalog: Catalog, project_id: str, user_id: str | None, *, redo: bool
) -> CullAction | None:
    user = user_id or catalog.local_user_id
    with catalog.transaction():
        row = catalog.fetchdict(
            "SELECT * FROM cull_actions WHERE project_id = ? AND user_id = ? AND undone = ? "
            f"ORDER BY id {'ASC' if redo else 'DESC'} LIMIT 1",
            [project_id, user, redo],
        )
        if row is None:
            return None
        state = _load(row["after_state"] if redo else row["before_state"])
        restore(catalog, user, state)
        catalog.execute("UPDATE cull_actions SET undone = ? WHERE id = ?", [not redo, row["id"]])
        row["undone"] = not redo
        catalog.emit_event(
            EventType.CULL_REDONE if redo else EventType.CULL_UNDONE,
            project_id=project_id,
            data={"actionId": int(row["id"]), "kind": row["kind"]},
        )
    action = _to_model(row)
    if action.cluster_ids:
        from kilo.cull.taste import refresh_taste

        refresh_taste(catalog, user)
    return action


def undo(catalog: Catalog, project_id: str, user_id: str | None = None) -> CullAction | None:
    """Revert the user's newest action in the project; None when there is nothing to undo."""
    return _step(catalog, project_id, user_id, redo=False)


def redo(catalog: Catalog, project_id: str, user_id: str | None = None) -> CullAction | None:
    """Re-apply the most recently undone action; None when there is nothing to redo."""
    return _step(catalog, project_id, user_id, redo=True)


def get_action(catalog: Catalog, action_id: int) -> CullAction:
    row = catalog.fetchdict("SELECT * FROM cull_actions WHERE id = ?", [action_id])
    if row is None:
        raise NotFound(f"no cull action {action_id}")
    return _to_model(row)


def list_actions(
    catalog: Catalog, project_id: str, user_id: str | None = None, *, limit: int = 50
) -> list[CullAction]:
    """The user's log in the project, newest first (undone entries included)."""
    rows = catalog.fetchdicts(
        "SELECT * FROM cull_actions WHERE project_id = ? AND user_id = ? ORDER BY id DESC LIMIT ?",
        [project_id, user_id or catalog.local_user_id, limit],
    )
    return [_to_model(r) for r in rows]
