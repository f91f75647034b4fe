"""Writing a rendered photo to a file the user named: checked before any pixel is rendered
(the format from the extension, the folder, the size), written atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from PIL import Image

from kilo.errors import InvalidInput
from kilo.store import mode_for

__all__ = ["FORMATS", "MAX_RENDER_PX", "check_output", "check_render_px", "write_image"]

#: extension -> (Pillow format, save options)
FORMATS: dict[str, tuple[str, dict[str, object]]] = {
    ".jpg": ("JPEG", {"quality": 92}),
    ".jpeg": ("JPEG", {"quality": 92}),
    ".png": ("PNG", {}),
    ".tif": ("TIFF", {"compression": "tiff_lzw"}),
    ".tiff": ("TIFF", {"compression": "tiff_lzw"}),
    ".webp": ("WEBP", {"quality": 90}),
}
MAX_RENDER_PX = 16384


def check_render_px(max_px: int | None) -> int | None:
    """A render's long edge: None (full size) or 16 to 16384 pixels."""
    if max_px is not None and not 16 <= max_px <= MAX_RENDER_PX:
        raise InvalidInput(f"the long edge must be from 16 to {MAX_RENDER_PX} px, got {max_px}")
    return max_px


def check_output(path: str | Path) -> Path:
    """``path`` if an image can be written there: a known extension, an existing folder, not
    a folder itself."""
    target = Path(path)
    if target.is_dir() or str(path).endswith(("/", os.sep)):
        raise InvalidInput("is a folder: give a file name such as photo.jpg", path=str(path))
    suffix = target.suffix.lower()
    if suffix not in FORMATS:
        known = ", ".join(sorted(FORMATS))
        what = f"unknown extension {suffix!r}" if suffix else "no extension"
        raise InvalidInput(f"{what}: use one of {known}", path=str(path))
    if not target.parent.is_dir():
        raise InvalidInput("the folder does not exist", path=str(target.parent))
    return target


def write_image(image: Image.Image, path: str | Path) -> Path:
    """Save ``image`` in the format of ``path``'s extension, atomically (a temporary file in
    the same folder, then a rename): a failed write leaves nothing half-written."""
    target = check_output(path)
    fmt, options = FORMATS[target.suffix.lower()]
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    mode = mode_for(target)  # the umask's mode (0644 under 022), not mkstemp's 0600
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except OSError as exc:
        raise InvalidInput(f"cannot write here: {exc.strerror or exc}", path=str(target)) from None
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            image.save(fh, format=fmt, **options)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise InvalidInput(f"cannot write: {exc.strerror or exc}", path=str(target)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
