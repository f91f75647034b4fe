"""Decoding, metadata and renditions of photos (JPEG, PNG, TIFF, WebP, HEIC/HEIF, MPO, RAW).

>>> from kilo.imaging import load_image
>>> img = load_image("photo.jpg", max_px=2048)   # doctest: +SKIP
"""

from kilo.imaging.decode import Decoded, count_frames, decode_image, load_image, read_source
from kilo.imaging.metadata import Metadata, extract_metadata, read_metadata
from kilo.imaging.renditions import Rendition, make_renditions
from kilo.imaging.resize import fit_size, resize_long_edge
from kilo.imaging.sniff import looks_like_photo_name, sniff_content_type

__all__ = [
    "Decoded",
    "Metadata",
    "Rendition",
    "count_frames",
    "decode_image",
    "extract_metadata",
    "fit_size",
    "load_image",
    "looks_like_photo_name",
    "make_renditions",
    "read_metadata",
    "read_source",
    "resize_long_edge",
    "sniff_content_type",
]
