"""Exports: full-size, web, Instagram carousel and story files, and contact sheet PDFs,
written to a folder or ``s3://`` as ``export.run`` jobs.

>>> from kilo.export import create_export, run_export
>>> exp = run_export(catalog, create_export(catalog, pid, "web", dest="out/").id)  # doctest: +SKIP
"""

from kilo.assets import select_assets
from kilo.export.core import (
    PagedExports,
    create_export,
    download_export,
    get_export,
    list_exports,
    recover_exports,
    run_export,
)
from kilo.export.presets import PRESETS, ExportSettings, parse_settings

__all__ = [
    "PRESETS",
    "ExportSettings",
    "PagedExports",
    "create_export",
    "download_export",
    "get_export",
    "list_exports",
    "parse_settings",
    "recover_exports",
    "run_export",
    "select_assets",
]
