"""One owner per table: each table's SQL is written in one module, and the SQL written
anywhere else may only become less (a ratchet).

Precisely:

* a *SQL literal* is a string literal in the code of ``src/kilo``, ``cli/kilo_cli`` or
  ``server/kilo_server`` (an ``ast.Constant`` string, or an f-string taken whole with each
  ``{...}`` read as ``{}``; implicitly joined pieces are one literal; docstrings are not
  code) that contains, in upper case, ``SELECT``, ``INSERT [OR x] INTO``, ``UPDATE t SET``,
  ``DELETE FROM`` or ``WITH name AS (``;
* its *subject* is the table it writes (``INSERT INTO t``, ``UPDATE t``, ``DELETE FROM t``)
  or, for a read, the first table named after ``FROM``; a table spelled by a placeholder
  (``{}``) or no table at all leaves it without a subject;
* it is *owned* when it stands in ``src/kilo/catalog/`` (the catalog itself, the table
  layer and the shared reads) or in the module ``OWNERS`` names for its subject; one
  without a subject (a fragment, or a query whose table is filled in) is owned in a module
  that owns some table (the pieces of its own queries). Every other SQL literal counts
  against ``SQL_OUTSIDE_OWNERS``;
* in ``src/kilo/catalog/`` a literal that writes a table stands in that table's owner
  (the shared modules read; they do not write other owners' tables).

``SQL_OUTSIDE_OWNERS`` may only go down: the test fails when there are more (write the
SQL in the owner and call it by name) and when there are fewer (lower the number to the
count, so it stays true).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ROOTS = ("src/kilo", "cli/kilo_cli", "server/kilo_server")
SHARED = "src/kilo/catalog/"
MIGRATIONS = REPO / "src/kilo/catalog/migrations"

#: every table of the schema -> the one module that writes its SQL (repo-relative path)
OWNERS: dict[str, str] = {
    "schema_version": "src/kilo/catalog/schema.py",
    "meta": "src/kilo/catalog/__init__.py",
    "events": "src/kilo/catalog/events_repo.py",
    "idempotency_keys": "src/kilo/catalog/idempotency.py",
    "users": "src/kilo/catalog/users_repo.py",
    "login_challenges": "server/kilo_server/auth.py",
    "refresh_tokens": "server/kilo_server/auth.py",
    "studio_sessions": "server/kilo_server/auth.py",
    "projects": "src/kilo/projects.py",
    "assets": "src/kilo/catalog/assets_repo.py",
    "asset_files": "src/kilo/catalog/assets_repo.py",
    "source_files": "src/kilo/ingest/register.py",
    "quarantine": "src/kilo/quarantine.py",
    "ratings": "src/kilo/cull/_state.py",
    "cull_actions": "src/kilo/cull/actions.py",
    "preference_models": "src/kilo/cull/taste.py",
    "clusters": "src/kilo/group/clusters.py",
    "cluster_members": "src/kilo/group/clusters.py",
    "signals": "src/kilo/catalog/measures_repo.py",
    "perceptual_hashes": "src/kilo/catalog/measures_repo.py",
    "faces": "src/kilo/catalog/measures_repo.py",
    "embeddings": "src/kilo/measure/embed/vectors.py",
    "edit_versions": "src/kilo/edit/versions.py",
    "style_profiles": "src/kilo/style/learn.py",
    "style_events": "src/kilo/style/learn.py",
    "exports": "src/kilo/export/core.py",
    "jobs": "src/kilo/jobs/queue.py",
    "galleries": "src/kilo/gallery/manage.py",
    "gallery_assets": "src/kilo/gallery/manage.py",
    "gallery_sessions": "src/kilo/gallery/visitors.py",
    "gallery_selections": "src/kilo/gallery/visitors.py",
    "gallery_activity": "src/kilo/gallery/visitors.py",
    "favorites": "src/kilo/gallery/visitors.py",
    "comments": "src/kilo/gallery/visitors.py",
    "smart_collections": "src/kilo/search/collections.py",
}

#: SQL literals outside their owners. It may only go down (see the module's docstring).
SQL_OUTSIDE_OWNERS = 14

_SQL = re.compile(
    r"\b(SELECT\b|INSERT\s+(OR\s+\w+\s+)?INTO\b|UPDATE\s+\S+\s+SET\b|DELETE\s+FROM\b"
    r"|WITH\s+(RECURSIVE\s+)?\w+\s+AS\s*\()"
)
_WRITE = re.compile(r"\b(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+(\S+)")
_READ = re.compile(r"\bFROM\s+(\S+)")
_TABLE = re.compile(r"^[a-z_][a-z0-9_]*$")


def _text(node: ast.Constant | ast.JoinedStr) -> str:
    if isinstance(node, ast.Constant):
        return str(node.value)
    return "".join(str(v.value) if isinstance(v, ast.Constant) else "{}" for v in node.values)


def _literals(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, text) of every string literal of the code, f-strings whole."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
        ):
            skip.add(id(body[0].value))  # a docstring
        if isinstance(node, ast.JoinedStr):
            skip.update(id(n) for n in ast.walk(node) if n is not node)
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.JoinedStr) or (
            isinstance(node, ast.Constant) and isinstance(node.value, str)
        ):
            yield node.lineno, _text(node)


def subject(sql: str) -> str | None:
    """The table a SQL literal writes, else the first it reads; None when it names none."""
    match = _WRITE.search(sql) or _READ.search(sql)
    if match is None:
        return None
    name = match.group(1).rstrip("(),;")
    return name if _TABLE.match(name) else None


def sql_literals() -> list[tuple[str, int, str]]:
    """(path from the repo, line, text) of every SQL literal of the code."""
    found = []
    for root in ROOTS:
        for path in sorted((REPO / root).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
            found += [(rel, line, text) for line, text in _literals(tree) if _SQL.search(text)]
    return found


def _owned(rel: str, text: str) -> bool:
    table = subject(text)
    if table is None:
        return rel.startswith(SHARED) or rel in OWNERS.values()
    return rel.startswith(SHARED) or OWNERS.get(table) == rel


def outside_owners() -> list[tuple[str, int, str]]:
    return [(rel, line, text) for rel, line, text in sql_literals() if not _owned(rel, text)]


def shared_writes() -> list[tuple[str, int, str]]:
    """Literals of ``src/kilo/catalog/`` writing a table another module owns."""
    return [
        (rel, line, text)
        for rel, line, text in sql_literals()
        if rel.startswith(SHARED)
        and _WRITE.search(text)
        and (table := subject(text)) is not None
        and OWNERS.get(table) != rel
    ]


def _schema_tables() -> set[str]:
    names = {"schema_version"}  # made by kilo.catalog.schema before any migration
    for sql in MIGRATIONS.glob("*.sql"):
        names.update(re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)", sql.read_text()))
    return names


def test_every_table_has_one_owner_that_exists() -> None:
    assert set(OWNERS) == _schema_tables(), "OWNERS names each table of the schema once"
    gone = sorted({p for p in OWNERS.values() if not (REPO / p).is_file()})
    assert not gone, f"OWNERS names modules that are gone (point it at their new home): {gone}"


def test_sql_outside_owners_only_goes_down() -> None:
    found = outside_owners()
    listing = "\n".join(f"  {rel}:{line}: {text.strip()[:90]}" for rel, line, text in found)
    assert len(found) <= SQL_OUTSIDE_OWNERS, (
        f"{len(found)} SQL literals outside their table's owner, more than "
        f"{SQL_OUTSIDE_OWNERS}: write the SQL in the owner (OWNERS) and call it by name\n"
        f"{listing}"
    )
    assert len(found) == SQL_OUTSIDE_OWNERS, (
        f"only {len(found)} SQL literals outside owners now: lower SQL_OUTSIDE_OWNERS "
        f"to {len(found)}"
    )


def test_the_shared_catalog_modules_write_only_their_own_tables() -> None:
    found = [f"{rel}:{line}: {text.strip()[:90]}" for rel, line, text in shared_writes()]
    assert not found, "a write in src/kilo/catalog/ outside its table's owner:\n" + "\n".join(found)


def test_the_subject_of_a_literal() -> None:
    assert subject("SELECT a.id FROM assets a JOIN ratings r ON r.asset_id = a.id") == "assets"
    assert subject("INSERT OR REPLACE INTO signals (asset_id) SELECT x FROM y") == "signals"
    assert subject("UPDATE jobs SET status = ? WHERE id IN (SELECT id FROM z)") == "jobs"
    assert subject("DELETE FROM ratings WHERE asset_id = ?") == "ratings"
    assert subject("SELECT {} FROM {} WHERE x = ?") is None
    assert subject("SELECT 1") is None
