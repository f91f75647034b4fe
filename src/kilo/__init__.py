"""kilo: an AI-first photography toolkit.

A library first: composable functions over a DuckDB catalog, one module per capability
(``kilo.catalog``, ``kilo.ingest``, ``kilo.signals``, ``kilo.embed``, ``kilo.cluster``,
``kilo.rank``, ``kilo.cull``, ``kilo.edit``, ``kilo.style``, ``kilo.search``, ``kilo.export``,
``kilo.jobs``...). The most used entry points are importable from here, lazily, so that
``import kilo`` stays fast::

    import kilo
    cat = kilo.open_catalog()
    project = kilo.create_project(cat, "Smith wedding")
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "Settings": "kilo.settings",
    "load_settings": "kilo.settings",
    "open_catalog": "kilo.catalog",
    "Catalog": "kilo.catalog",
    "KiloError": "kilo.errors",
    "create_project": "kilo.projects",
    "get_project": "kilo.projects",
    "list_projects": "kilo.projects",
    "update_project": "kilo.projects",
    "archive_project": "kilo.projects",
    "run_jobs": "kilo.jobs",
}

__all__ = ["__version__", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kilo' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
