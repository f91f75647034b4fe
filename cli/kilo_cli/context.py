"""Per-invocation state: settings from the global options, the catalog opened on first use."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from kilo.catalog import Catalog
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
    _settings: Settings | None = None
    _catalog: Catalog | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from kilo.settings import load_settings

            self._settings = load_settings(home=self.home, store=self.store,
                                           executor=self.executor)  # fmt: skip
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

    def reset(self, *, home: Path | None, store: str | None) -> None:
        """Start an invocation afresh (the CLI can run several times in one process)."""
        self.close()
        self.home, self.store, self.executor = home, store, None
        self._settings = None
        self.extra.clear()

    def close(self) -> None:
        if self._catalog is not None:
            self._catalog.close()
            self._catalog = None


STATE = State()


def state(ctx: typer.Context | None = None) -> State:
    return STATE
