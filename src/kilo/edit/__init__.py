"""Non-destructive edits: the parameter set, the render pipeline, Fix, versions, XMP.

>>> from kilo.edit import EditParams, render_image
>>> out = render_image(photo, EditParams(exposure=0.3, temperature=5600))   # doctest: +SKIP
"""

from kilo.edit.develop_sidecar import (
    params_to_xmp,
    read_xmp_sidecar,
    write_xmp_sidecar,
    xmp_to_params,
)
from kilo.edit.fix import ImageStats, fix_image, measure_image
from kilo.edit.params import CropRect, EditParams, Hsl, HslBand, describe_params
from kilo.edit.render import compose_before_after, render_image
from kilo.edit.versions import (
    apply_version,
    create_version,
    get_apply_status,
    get_version,
    latest_version,
    list_versions,
    render_asset,
    render_before_after,
)

__all__ = [
    "CropRect",
    "EditParams",
    "Hsl",
    "HslBand",
    "ImageStats",
    "apply_version",
    "compose_before_after",
    "create_version",
    "describe_params",
    "fix_image",
    "get_apply_status",
    "get_version",
    "latest_version",
    "list_versions",
    "measure_image",
    "params_to_xmp",
    "read_xmp_sidecar",
    "render_asset",
    "render_before_after",
    "render_image",
    "write_xmp_sidecar",
    "xmp_to_params",
]
