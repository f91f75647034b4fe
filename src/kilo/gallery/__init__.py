"""Client galleries: a link the photographer sends, a page the client opens, favorites and
comments that come back into culling.

* :mod:`kilo.gallery.manage`: create, get, list, update, add/remove photos, revoke, new link;
* :mod:`kilo.gallery.visitors`: the one gate every public request goes through, visitor
  sessions, favorites, comments, submitting a selection;
* :mod:`kilo.gallery.view`: what a visitor sees, and the images as served (no metadata,
  the watermark burned in);
* :mod:`kilo.gallery.selections`: the activity log, each visitor's favorites, and
  :func:`apply_selections` (favorites -> picks, and XMP).
"""

from kilo.gallery.manage import (
    add_gallery_assets,
    create_gallery,
    get_gallery,
    list_galleries,
    remove_gallery_assets,
    resolve_gallery,
    revoke_gallery,
    rotate_link,
    update_gallery,
)
from kilo.gallery.selections import (
    AppliedSelection,
    apply_selections,
    list_activity,
    list_selections,
)

__all__ = [
    "AppliedSelection",
    "add_gallery_assets",
    "apply_selections",
    "create_gallery",
    "get_gallery",
    "list_activity",
    "list_galleries",
    "list_selections",
    "remove_gallery_assets",
    "resolve_gallery",
    "revoke_gallery",
    "rotate_link",
    "update_gallery",
]
