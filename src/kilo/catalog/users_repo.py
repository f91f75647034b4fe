"""The ``users`` table: who signs in (the HTTP server's accounts) and the catalog's own
local user (the CLI's and a notebook's). Rows are plain dicts; the front ends make their
models of them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kilo.clock import utcnow

if TYPE_CHECKING:
    from kilo.catalog import Catalog

__all__ = ["find_user", "find_user_id", "get_user_row", "insert_user", "user_exists"]


def user_exists(catalog: Catalog, email: str) -> bool:
    """Whether a user has ``email`` (in any letter case)."""
    return bool(catalog.scalar("SELECT 1 FROM users WHERE lower(email) = lower(?)", [email]))


def find_user(catalog: Catalog, email: str) -> dict[str, Any] | None:
    """The row of the user with ``email`` (in any letter case), None when there is none."""
    return catalog.fetchdict("SELECT * FROM users WHERE lower(email) = lower(?)", [email])


def find_user_id(catalog: Catalog, email: str) -> str | None:
    """The id of the user whose address is exactly ``email``."""
    found = catalog.scalar("SELECT id FROM users WHERE email = ?", [email])
    return None if found is None else str(found)


def get_user_row(catalog: Catalog, user_id: str) -> dict[str, Any] | None:
    """The row of the user with ``user_id``, None when there is none."""
    return catalog.table("users").get(user_id)


def insert_user(catalog: Catalog, user_id: str, email: str, display_name: str) -> None:
    catalog.table("users").insert(
        {"id": user_id, "email": email, "display_name": display_name, "created_at": utcnow()}
    )
