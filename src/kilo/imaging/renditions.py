"""Renditions (thumbnail, preview) of a photo's bytes, as cheaply as correctness allows.

Measured on 2 cores (``benchmarks/ingest.py``), for JPEG sources:

* Decoding with OpenCV's libjpeg-turbo DCT scaling (``IMREAD_REDUCED_COLOR_2/4/8``, the same
  scales as Pillow's draft mode) straight into a numpy array, resizing with OpenCV and
  encoding with ``cv2.imencode`` costs about 60% of the same work done through Pillow (whose
  RGBX-to-numpy copies and encoder are the slow parts).
* Downscaling halves with ``INTER_LINEAR`` (an exact 2x2 box) and finishes with one
  ``INTER_LINEAR`` step below 2x: as smooth as ``INTER_AREA``, several times faster.
* A JPEG that already fits the preview (long edge <= 2048), is upright, sRGB (or untagged),
  baseline or progressive Huffman, and not over 3.2 bits per pixel **is** its own preview:
  its entropy-coded data is kept as is and only its metadata segments (EXIF, XMP, IPTC,
  comments: GPS and serial numbers must not reach a client gallery) are dropped. No decode,
  no re-encode, no generation loss. Its thumbnail is then decoded at 1/2-1/8 DCT scale.

The fast JPEG path needs a complete file (it ends with the EOI marker) that Pillow identifies
as a plain JPEG in RGB or L; anything else (CMYK, MPO, HEIC, PNG, RAW, truncated files...)
goes through :func:`kilo.imaging.decode.decode_image`, which raises ``DecodeError`` with the
reason for files that cannot be decoded.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from kilo.imaging.decode import _icc_transform, to_srgb
from kilo.imaging.resize import fit_size, resize_array
from kilo.imaging.sniff import RAW_CONTENT_TYPE, SNIFF_BYTES, sniff_content_type

log = logging.getLogger(__name__)

JPEG_QUALITY = 85
#: a JPEG above this many bytes per pixel is re-encoded rather than used as the preview
MAX_LOSSLESS_BYTES_PER_PX = 0.4
#: JPEG segments a lossless preview keeps: SOF0-2, DHT, DQT, DRI, APP0 (JFIF), APP14 (Adobe)
_KEEP_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC4, 0xDB, 0xDD, 0xE0, 0xEE})
_SOF_MARKERS = frozenset(
    {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
)


@dataclass(frozen=True, slots=True)
class Rendition:
    kind: str
    data: bytes
    width: int
    height: int
    content_type: str = "image/jpeg"


@dataclass(slots=True)
class Rendered:
    """Renditions of one frame and what was learnt on the way."""

    width: int  # full resolution, after orientation
    height: int
    format: str
    frame_count: int
    orientation: int | None
    method: str
    renditions: list[Rendition] = field(default_factory=list)


def encode_jpeg(image: Image.Image, quality: int = JPEG_QUALITY) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def encode_array(bgr: Any, quality: int = JPEG_QUALITY) -> bytes:
    """JPEG bytes of a BGR (or gray) numpy image: libjpeg-turbo, 4:2:0, no optimize pass."""
    import cv2

    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - only on an empty array
        raise ValueError("JPEG encoding failed")
    return bytes(buf)


def make_renditions(preview: Image.Image, sizes: dict[str, int]) -> list[Rendition]:
    """JPEG renditions of an RGB, oriented, sRGB image, largest first, each made from the last.

    ``sizes`` maps kind to long edge, e.g. ``{"preview": 2048, "thumbnail": 512}``.
    """
    import cv2
    import numpy as np

    arr = np.asarray(preview if preview.mode in ("RGB", "L") else preview.convert("RGB"))
    if arr.ndim == 3:
        arr = cv2.cvtColor(arr, cv2.COLOR_RGB2BGR)
    return _renditions_of_array(arr, sizes)


def _renditions_of_array(arr: Any, sizes: dict[str, int]) -> list[Rendition]:
    out: list[Rendition] = []
    for kind, px in sorted(sizes.items(), key=lambda kv: -kv[1]):
        arr = resize_array(arr, px)
        out.append(Rendition(kind, encode_array(arr), int(arr.shape[1]), int(arr.shape[0])))
    return out


# -- the fast JPEG path -----------------------------------------------------------------------
def strip_jpeg_metadata(data: bytes) -> bytes | None:
    """The JPEG without its metadata segments (EXIF, XMP, IPTC, comments, maker APPn), the
    image data untouched; None when it is not a plain Huffman-coded JPEG (arithmetic,
    lossless, hierarchical) or its segments do not parse."""
    if not data.startswith(b"\xff\xd8"):
        return None
    out = [b"\xff\xd8"]
    pos, end = 2, len(data)
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if length < 2 or pos + 2 + length > end:
            return None
        segment = data[pos : pos + 2 + length]
        if marker == 0xDA:  # start of scan: the rest is image data (and later scans)
            out.append(data[pos:])
            return b"".join(out)
        if marker in _SOF_MARKERS and marker not in _KEEP_MARKERS:
            return None
        keep = marker in _KEEP_MARKERS or (marker == 0xE2 and segment[4:16] == b"ICC_PROFILE\x00")
        if keep:
            out.append(segment)
        pos += 2 + length
    return None


def _orient(arr: Any, orientation: int | None) -> Any:
    import cv2

    if not orientation or orientation == 1:
        return arr
    ops: dict[int, Any] = {
        2: lambda a: cv2.flip(a, 1),
        3: lambda a: cv2.rotate(a, cv2.ROTATE_180),
        4: lambda a: cv2.flip(a, 0),
        5: lambda a: cv2.transpose(a),
        6: lambda a: cv2.rotate(a, cv2.ROTATE_90_CLOCKWISE),
        7: lambda a: cv2.rotate(cv2.transpose(a), cv2.ROTATE_180),
        8: lambda a: cv2.rotate(a, cv2.ROTATE_90_COUNTERCLOCKWISE),
    }
    op = ops.get(orientation)
    return arr if op is None else op(arr)


def _dct_scale(full: tuple[int, int], max_px: int) -> int:
    """The largest DCT scale denominator (1, 2, 4, 8) that keeps the image >= the target,
    as Pillow's draft mode picks it."""
    want = fit_size(full, max_px)
    for scale in (8, 4, 2):
        if full[0] // scale >= want[0] and full[1] // scale >= want[1]:
            return scale
    return 1


def _decode_scaled(data: bytes, scale: int) -> Any:
    import cv2
    import numpy as np

    flag = {
        1: cv2.IMREAD_COLOR,
        2: cv2.IMREAD_REDUCED_COLOR_2,
        4: cv2.IMREAD_REDUCED_COLOR_4,
        8: cv2.IMREAD_REDUCED_COLOR_8,
    }[scale]
    return cv2.imdecode(np.frombuffer(data, np.uint8), flag | cv2.IMREAD_IGNORE_ORIENTATION)


def _to_srgb_array(bgr: Any, icc: bytes | None) -> Any:
    """Convert a BGR array tagged with ``icc`` to sRGB (no-op for sRGB or untagged)."""
    if not icc:
        return bgr
    import cv2
    import numpy as np

    rgb = Image.fromarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    out = to_srgb(rgb, icc)
    return bgr if out is rgb else cv2.cvtColor(np.asarray(out), cv2.COLOR_RGB2BGR)


def _is_srgb(icc: bytes | None) -> bool:
    if not icc:
        return True
    import hashlib

    try:
        return _icc_transform(hashlib.sha1(icc).hexdigest(), icc, "RGB") is None
    except Exception:
        log.debug("unreadable ICC profile: treated as not sRGB", exc_info=True)
        return False


def _jpeg_header(im: Image.Image) -> tuple[tuple[int, int], Any, int] | None:
    """(size, ICC profile, EXIF orientation) of a plain RGB/L JPEG parsed by Pillow."""
    if im.format != "JPEG" or im.mode not in ("RGB", "L"):
        return None
    try:
        orientation = int(im.getexif().get(0x0112) or 1)
    except Exception:
        orientation = 1
    return im.size, im.info.get("icc_profile"), orientation


def _plain_header(
    data: bytes, opened: Image.Image | None = None
) -> tuple[tuple[int, int], bytes | None, int] | None:
    """(size, ICC profile or None, EXIF orientation) of a complete, plain RGB/L JPEG; None
    for anything else (truncated or with trailing data: Pillow decides, with the reason).
    ``opened``: the same bytes already parsed by Pillow (headers only)."""
    if not data.rstrip(b"\x00\r\n ").endswith(b"\xff\xd9"):
        return None
    im = opened if opened is not None else open_jpeg(data)
    if im is None:
        return None
    try:
        header = _jpeg_header(im)
    except Exception:
        log.debug("JPEG header unreadable; the general decoder decides", exc_info=True)
        return None
    finally:
        if opened is None:
            im.close()
    if header is None:
        return None
    full, icc, orientation = header
    return full, icc if isinstance(icc, bytes) and icc else None, orientation


def _decode_fitted(
    data: bytes, full: tuple[int, int], icc: bytes | None, orientation: int, max_px: int
) -> tuple[Any, int] | None:
    """A JPEG decoded at the DCT scale ``max_px`` needs, resized to fit it, in sRGB (from
    ``icc``) and upright: (BGR array, DCT scale); None when OpenCV cannot decode it."""
    scale = _dct_scale(full, max_px)
    from kilo.imaging.budget import check_budget

    check_budget(full, (full[0] // scale) * (full[1] // scale) * 3 * 2)  # decoded + resized
    arr = _decode_scaled(data, scale)
    if arr is None or arr.ndim != 3:
        return None
    arr = resize_array(arr, max_px)
    if icc:
        arr = _to_srgb_array(arr, icc)
    return _orient(arr, orientation), scale


def decode_jpeg_fitted(data: bytes, max_px: int) -> tuple[Any, tuple[int, int]] | None:
    """A complete, plain RGB/L JPEG straight to at most ``max_px`` on its long edge, in sRGB
    and upright, as a BGR uint8 array, with the photo's full upright size: the fast path
    renditions take, for exports too. None when it does not apply (the general decoder then
    decides, with the reason)."""
    header = _plain_header(data)
    if header is None:
        return None
    full, icc, orientation = header
    decoded = _decode_fitted(data, full, icc, orientation, max_px)
    if decoded is None:
        return None
    upright = (full[1], full[0]) if orientation in (5, 6, 7, 8) else full
    return decoded[0], upright


def _jpeg_renditions(
    data: bytes, sizes: dict[str, int], opened: Image.Image | None = None
) -> Rendered | None:
    """The fast path for a complete, plain RGB/L JPEG; None when it does not apply.
    ``opened``: the same bytes already parsed by Pillow (headers only), to parse them once."""
    header = _plain_header(data, opened)
    if header is None:
        return None
    full, icc, orientation = header
    upright = orientation in (5, 6, 7, 8)
    oriented = (full[1], full[0]) if upright else full
    order = sorted(sizes.items(), key=lambda kv: -kv[1])
    big_kind, big_px = order[0]
    lossless = max(full) <= big_px and orientation == 1 and _is_srgb(icc)
    stripped = strip_jpeg_metadata(data) if lossless else None
    if stripped is not None and len(stripped) > MAX_LOSSLESS_BYTES_PER_PX * full[0] * full[1]:
        stripped = None  # too heavy to serve as a preview: re-encoded
    out: list[Rendition] = []
    if stripped is not None:
        out.append(Rendition(big_kind, stripped, full[0], full[1]))
        order = order[1:]
    if not order:
        return Rendered(oriented[0], oriented[1], "JPEG", 1, orientation, "lossless preview", out)
    decoded = _decode_fitted(
        data, full, icc if stripped is None else None, orientation, order[0][1]
    )
    if decoded is None:
        return None
    arr, scale = decoded
    out += _renditions_of_array(arr, dict(order))
    how = f"DCT 1/{scale}" if scale > 1 else "full decode"
    method = f"lossless preview, thumbnail {how}" if stripped is not None else how
    return Rendered(oriented[0], oriented[1], "JPEG", 1, orientation, method, out)


def _raw_renditions(
    data: bytes, sizes: dict[str, int], name: str, content_type: str | None
) -> Rendered | None:
    """A RAW file's renditions from its embedded JPEG preview, through the fast JPEG path,
    when the preview is as large as the largest rendition needs; else None (develop it)."""
    if content_type is None and sniff_content_type(data[:SNIFF_BYTES], name) != RAW_CONTENT_TYPE:
        return None
    from kilo.imaging.decode import embedded_jpeg

    found = embedded_jpeg(data)
    if found is None:
        return None
    jpeg, full, orientation = found
    header = _plain_header(jpeg)
    big = max(sizes.values())
    if header is None or max(header[0]) < min(big, max(full)):
        return None
    size, icc, _ = header  # the preview's own EXIF orientation is ignored: the raw's counts
    decoded = _decode_fitted(jpeg, size, icc, orientation, big)
    if decoded is None:
        return None
    arr, scale = decoded
    how = f"embedded preview, DCT 1/{scale}" if scale > 1 else "embedded preview"
    return Rendered(full[0], full[1], "RAW", 1, orientation, how, _renditions_of_array(arr, sizes))


def open_jpeg(data: bytes) -> Image.Image | None:
    """A JPEG's bytes parsed by Pillow, headers only (no pixels decoded), or None (the
    readers then report why). Renditions and metadata can share it; the caller closes it."""
    try:
        return Image.open(io.BytesIO(data), formats=["JPEG"])
    except Exception:
        return None


def render_renditions(
    data: bytes,
    sizes: dict[str, int],
    *,
    name: str = "",
    content_type: str | None = None,
    frame: int = 0,
    opened: Image.Image | None = None,
) -> Rendered:
    """JPEG renditions (``sizes``: kind -> long edge) of one frame of a photo's bytes, sRGB,
    upright. Raises :class:`kilo.errors.DecodeError` when the file cannot be decoded.
    ``opened``: a JPEG's bytes already parsed by Pillow (see :func:`open_jpeg`)."""
    if content_type in (None, "image/jpeg") and frame == 0 and data.startswith(b"\xff\xd8"):
        fast = _jpeg_renditions(data, sizes, opened)
        if fast is not None:
            return fast
    if frame == 0 and content_type in (None, RAW_CONTENT_TYPE):
        fast = _raw_renditions(data, sizes, name, content_type)
        if fast is not None:
            return fast
    from kilo.imaging.decode import decode_image

    decoded = decode_image(
        data, name=name, content_type=content_type, max_px=max(sizes.values()), frame=frame
    )
    return Rendered(
        decoded.width,
        decoded.height,
        decoded.format,
        decoded.frame_count,
        decoded.orientation,
        decoded.method,
        make_renditions(decoded.image, sizes),
    )
