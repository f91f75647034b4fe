"""Per-invocation state: settings from the global options, the catalog opened on first use."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from kilo.catalog import Catalog
    from kilo.settings import Settings


@dataclass
class State:
    home: Path | None = None
    store: str | None = None
    _settings: Settings | None = None
    _catalog: Catalog | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from kilo.settings import load_settings

            self._settings = load_settings(home=self.home, store=self.store)
        return self._settings

    def catalog(self) -> Catalog:
        if self._catalog is None:
            from kilo.catalog import open_catalog

            self._catalog = open_catalog(self.settings)
        return self._catalog

    def reset(self, *, home: Path | None, store: str | None) -> None:
        """Start an invocation afresh (the CLI can run several times in one process)."""
        self.close()
        self.home, self.store = home, store
        self._settings = None
        self.extra.clear()

    def close(self) -> None:
        if self._catalog is not None:
            self._catalog.close()
            self._catalog = None


STATE = State()


def state(ctx: typer.Context | None = None) -> State:
    return STATE
