"""Every model named after a component schema of ``openapi.yaml``, by that name (for the
spec-validation test and the API adapter)."""

from __future__ import annotations

from kilo.models import base, culling, delivery, library
from kilo.models.base import KiloModel

_MODULES = {m.__name__ for m in (base, culling, delivery, library)}

#: contract schema name -> model (the models of this package; reports elsewhere in kilo
#: that subclass KiloModel are not contract schemas).
SCHEMA_MODELS: dict[str, type[KiloModel]] = {
    cls.__name__: cls
    for cls in KiloModel.__subclasses__()
    if cls.__module__ in _MODULES
    and cls.__name__
    not in {
        "ProjectStats",
        "PublicGalleryAsset",
        "SearchResult",
        "BulkCullAction",
        "FinalizeUploadItem",
        "GalleryActivity",
        "GallerySelection",
    }
}
