"""Per-invocation state: settings from the global options, the catalog opened on first use,
and whose projects the command sees.

The CLI works as the catalog's local user (``catalog.local_user_id``, the photographer at
this machine): project titles and id prefixes resolve among that user's projects, listings
show theirs, and pick counts are theirs. Users who signed in over HTTP have projects of their
own in the same catalog; ``kilo --all-users`` (or KILO_ALL_USERS=1) is the administrator's
view of every user's, and listings then show whose each one is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from kilo.catalog import Catalog
    from kilo.models import Project
    from kilo.settings import Settings


ExecutorOpt = Annotated[
    str | None,
    typer.Option(
        "--executor",
        help="Where the work runs: local (this machine's cores), dask:local (a Dask cluster "
        "here) or dask://host:8786 (default: KILO_EXECUTOR, else local).",
    ),
]


@dataclass
class State:
    home: Path | None = None
    store: str | None = None
    executor: str | None = None
    #: the administrator's view: every user's projects (``kilo --all-users``)
    all_users: bool = False
    _settings: Settings | None = None
    _catalog: Catalog | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from kilo.settings import load_settings

            self._settings = load_settings(home=self.home, store=self.store, executor=self.executor)
        return self._settings

    def use_executor(self, executor: str | None) -> None:
        """A command's ``--executor``: it wins over KILO_EXECUTOR (call before catalog())."""
        if executor is not None and self._catalog is None:
            self.executor, self._settings = executor, None

    def catalog(self, *, executor: str | None = None) -> Catalog:
        """The library's catalog; ``executor`` (a command's ``--executor``) wins over
        KILO_EXECUTOR."""
        self.use_executor(executor)
        if self._catalog is None:
            from kilo.catalog import open_catalog

            self._catalog = open_catalog(self.settings)
        return self._catalog

    def owner(self) -> str | None:
        """The user whose projects commands see: the local user, None (everyone's) with
        ``--all-users``."""
        return None if self.all_users else self.catalog().local_user_id

    def reset(self, *, home: Path | None, store: str | None, all_users: bool = False) -> None:
        """Start an invocation afresh (the CLI can run several times in one process)."""
        self.close()
        self.home, self.store, self.executor, self.all_users = home, store, None, all_users
        self._settings = None
        self.extra.clear()

    def close(self) -> None:
        if self._catalog is not None:
            self._catalog.close()
            self._catalog = None


STATE = State()


def find_project(catalog: Catalog, ref: str) -> Project:
    """The project ``ref`` (an id, id prefix, title or start of one) names among the projects
    this invocation sees (:meth:`State.owner`); when only another user's matches, NotFound
    says so and how to see it."""
    from kilo.errors import InvalidInput, NotFound
    from kilo.projects import lookup_owned, resolve_project

    owner = None if STATE.all_users else catalog.local_user_id
    try:
        return resolve_project(catalog, ref, owner_user_id=owner)
    except NotFound as exc:
        if owner is None:
            raise
        try:
            lookup_owned(catalog, "projects", ref)
        except NotFound:
            raise exc from None
        except InvalidInput:
            pass  # several other users' match
        raise NotFound(
            f"{exc.reason} among your projects; another user's matches "
            "(kilo --all-users works on every user's)"
        ) from None


def state(ctx: typer.Context | None = None) -> State:
    return STATE


def first_time(notice: str) -> bool:
    """True the first time this library's CLI gives ``notice`` (a long explanation is worth
    reading once, not on every command); remembered in HOME/.notices. A library that cannot
    be written to says it every time."""
    import hashlib

    seen = STATE.settings.home / ".notices"
    key = hashlib.sha256(notice.encode()).hexdigest()[:16]
    try:
        if key in seen.read_text().split():
            return False
    except OSError:
        pass
    try:
        with seen.open("a") as fh:
            fh.write(key + "\n")
    except OSError:
        pass
    return True
