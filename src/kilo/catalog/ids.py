"""The one way a person's reference becomes an id: a full uuid, a unique prefix of one (as
the tables print them: ``c9c3193f``), or a name (an asset's file name, or for a frame of a
multi-frame file the name tables show, ``bird_burst.heic [2/4]``; a project's title) that is
unique where it is looked up. Every capability that takes an id takes all three.

>>> resolve_id(catalog, "assets", "IMG_0042.jpg", project_id=pid)     # doctest: +SKIP
'c9c3193f-5b1e-4c55-9f7e-0f6b4a2d1e10'
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kilo.catalog import Catalog
from kilo.errors import InvalidInput, NotFound
from kilo.text import printable

__all__ = [
    "MIN_PREFIX",
    "TABLES",
    "Table",
    "lookup_id",
    "resolve_id",
    "resolve_ids",
    "short_ref",
]

#: the shortest id prefix taken (shorter ones match too much to be meant)
MIN_PREFIX = 4
_PREFIX = re.compile(r"^[0-9a-f][0-9a-f-]*$")
#: a frame of a multi-frame file as kilo.text.display_name shows it: "bird_burst.heic [2/4]"
_FRAME_NAME = re.compile(r"^(.+) \[(\d+)/(\d+)\]$")


@dataclass(frozen=True)
class Table:
    """How ids of one kind are looked up: the table, its name column (matched exactly, or
    case-insensitively), and what a person calls one."""

    table: str
    what: str
    name_column: str | None = None
    name_ci: bool = False
    scoped: bool = True  # has a project_id column
    name_prefix: bool = False  # the start of a name is taken too ("Smith" for "Smith wedding")
    live: str = ""  # SQL condition for the rows a prefix or a name may name


TABLES: dict[str, Table] = {
    "assets": Table("assets", "asset", "filename"),
    "projects": Table(
        "projects",
        "project",
        "title",
        name_ci=True,
        scoped=False,
        name_prefix=True,
        live="status <> 'deleted'",
    ),
    "clusters": Table("clusters", "cluster", "title"),
    "exports": Table("exports", "export"),
    "jobs": Table("jobs", "job"),
    "galleries": Table("galleries", "gallery", "title", name_ci=True, name_prefix=True),
    "edit_versions": Table("edit_versions", "edit version", "name", scoped=False),
}


def _canonical(ref: str) -> str | None:
    try:
        return str(uuid.UUID(ref))
    except ValueError:
        return None


def resolve_ids(
    catalog: Catalog,
    kind: str,
    refs: Iterable[str],
    *,
    project_id: str | None = None,
) -> list[str]:
    """The ids that ``refs`` name, in order (full uuids checked in one query, so thousands
    cost one statement). NotFound names the first that matches nothing; InvalidInput one
    that matches several (give more characters, or the id)."""
    spec = TABLES[kind]
    wanted = [str(r).strip() for r in refs]
    full = {r: c for r in wanted if (c := _canonical(r)) is not None}
    scope, params = _scope(spec, project_id)
    known: set[str] = set()
    if full:
        rows = catalog.fetchall(
            f"SELECT id FROM {spec.table} WHERE list_contains(?::VARCHAR[], id){scope}",
            [sorted(set(full.values())), *params],
        )
        known = {str(r[0]) for r in rows}
    out = []
    for ref in wanted:
        canonical = full.get(ref)
        if canonical is not None:
            if canonical not in known:
                raise NotFound(f"no {spec.what} with id {canonical}{_where(project_id)}")
            out.append(canonical)
        else:
            out.append(_by_prefix_or_name(catalog, spec, ref, scope, params, project_id))
    return out


def resolve_id(catalog: Catalog, kind: str, ref: str, *, project_id: str | None = None) -> str:
    """The id that ``ref`` (an id, a unique id prefix or a unique name) names."""
    if not isinstance(ref, str) or not ref.strip():
        raise InvalidInput(f"give a {TABLES[kind].what} id or name")
    return resolve_ids(catalog, kind, [ref], project_id=project_id)[0]


def lookup_id(catalog: Catalog, kind: str, ref: str, *, project_id: str | None = None) -> str:
    """Like :func:`resolve_id`, but a full uuid is returned as it is, unchecked: for getters
    that read the row next and say NotFound themselves (no extra query)."""
    canonical = _canonical(str(ref).strip()) if isinstance(ref, str) else None
    if canonical is not None:
        return canonical
    return resolve_id(catalog, kind, ref, project_id=project_id)


def _scope(spec: Table, project_id: str | None) -> tuple[str, list[str]]:
    if project_id is None or not spec.scoped:
        return "", []
    return " AND project_id = ?", [project_id]


def _where(project_id: str | None) -> str:
    return " in this project" if project_id else ""


def _by_prefix_or_name(
    catalog: Catalog,
    spec: Table,
    ref: str,
    scope: str,
    params: Sequence[str],
    project_id: str | None,
) -> str:
    """The one id that ``ref`` names, tried as: the exact name, an id prefix, the start of
    a name (where the kind allows it). Several matches at a step are refused with the
    candidates, none at all is NotFound."""
    low = ref.lower()
    scope += f" AND {spec.live}" if spec.live else ""
    frame = _FRAME_NAME.match(ref) if spec.table == "assets" else None
    if frame is not None:  # "bird_burst.heic [2/4]", as tables name a frame of a file
        rows = catalog.fetchall(
            f"SELECT id FROM {spec.table} WHERE filename = ? AND frame_index = ? "
            f"AND frame_count = ?{scope} ORDER BY id LIMIT 3",
            [frame[1], int(frame[2]) - 1, int(frame[3]), *params],
        )
        if len(rows) == 1:
            return str(rows[0][0])
        if len(rows) > 1:
            raise InvalidInput(_ambiguous(spec, ref, "named", rows, project_id))
    name = f"lower({spec.name_column})" if spec.name_ci else spec.name_column
    steps: list[tuple[str, str, str]] = []  # (condition, argument, how a tie is told)
    if name is not None:
        steps.append((f"{name} = ?", low if spec.name_ci else ref, "named"))
    if len(low) >= MIN_PREFIX and _PREFIX.match(low):
        steps.append(("starts_with(id, ?)", low, "id"))
    if name is not None and spec.name_prefix:
        steps.append((f"starts_with({name}, ?)", low if spec.name_ci else ref, "start"))
    where_from = ", project_id" if spec.scoped else ""  # an ambiguity says each one's project
    for condition, arg, how in steps:
        rows = catalog.fetchall(
            f"SELECT id{where_from} FROM {spec.table} WHERE {condition}{scope} ORDER BY id LIMIT 3",
            [arg, *params],
        )
        if len(rows) == 1:
            return str(rows[0][0])
        if len(rows) > 1:
            spans = spec.scoped and project_id is None
            found = _in_projects(catalog, rows) if spans else [(str(r[0]), "") for r in rows]
            raise InvalidInput(_ambiguous(spec, ref, how, found, project_id))
    by = f"id or {spec.name_column}" if spec.name_column else "id"
    by = by.replace("filename", "file name")
    raise NotFound(f"no {spec.what} with {by} {printable(ref)!r}{_where(project_id)}")


def _ambiguous(
    spec: Table, ref: str, how: str, rows: Sequence[tuple[str, str]], project_id: str | None
) -> str:
    shown, which = printable(ref), _candidates(rows)
    if how == "id":
        return (
            f"{spec.what} id {shown!r} is ambiguous ({which}): give more characters, "
            "or the whole id"
        )
    if how == "start":
        return (
            f"several {spec.what}s' {spec.name_column}s start with {shown!r} ({which}); "
            f"use more of it, or the {spec.what} id"
        )
    where = _where(project_id)
    return f"several {spec.what}s are named {shown!r}{where} ({which}); use the {spec.what} id"


def _in_projects(catalog: Catalog, rows: Sequence[tuple[object, ...]]) -> list[tuple[str, str]]:
    """(id, "in 'PROJECT'") of each candidate: the same file name in two projects is told
    apart by where it is."""
    pids = sorted({str(r[1]) for r in rows if r[1] is not None})
    titles = catalog.table("projects").rows_for(pids, select=("title",)) if pids else {}
    return [
        (str(r[0]), f"in {printable(str(titles[str(r[1])]['title']))!r}")
        if str(r[1]) in titles
        else (str(r[0]), "")
        for r in rows
    ]


def _candidates(rows: Sequence[tuple[str, str]]) -> str:
    """The first matches by their short ids, as tables print them (``a1b2c3d4, 0f9e8d7c,
    ...``), each with its project when the lookup spans projects (``a1b2c3d4 in 'Smith'``)."""
    shown = ", ".join(f"{i[:8]} {where}".rstrip() for i, where in rows[:2])
    return shown + (", ..." if len(rows) > 2 else "")


def short_ref(catalog: Catalog, kind: str, full_id: str, *, length: int = 8) -> str:
    """The shortest prefix of ``full_id``, from ``length`` characters (what tables print),
    that names only it: what a printed command line can give instead of a file name that
    may occur twice."""
    for n in range(length, len(full_id)):
        try:
            if resolve_id(catalog, kind, full_id[:n]) == full_id:
                return full_id[:n]
        except (InvalidInput, NotFound):
            continue
    return full_id
