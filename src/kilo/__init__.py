"""kilo: an AI-first photography toolkit.

A library first: composable functions over a DuckDB catalog, one module per capability
(``kilo.catalog``, ``kilo.ingest``, the culling engine's ``kilo.measure`` and ``kilo.group``,
``kilo.cull``, ``kilo.edit``, ``kilo.style``, ``kilo.search``, ``kilo.export``,
``kilo.jobs``...). The most used entry points are importable from here, lazily, so that
``import kilo`` stays fast::

    import kilo
    cat = kilo.open_catalog()
    project = kilo.create_project(cat, "Smith wedding")
"""

import lazy_loader

__version__ = "0.1.0"

__getattr__, __dir__, _names = lazy_loader.attach_stub(__name__, __file__)
__all__ = ["__version__", *_names]
