"""Content type by magic bytes (the first bytes of a file), not by its name.

Camera RAW formats are mostly TIFF containers, so a TIFF signature with a RAW extension is
RAW; a RAW extension alone is never trusted.
"""

from __future__ import annotations

from pathlib import PurePosixPath

#: bytes of a file's start that :func:`sniff_content_type` needs
SNIFF_BYTES = 64

RAW_EXTENSIONS = frozenset(
    {
        ".3fr",
        ".ari",
        ".arw",
        ".bay",
        ".cr2",
        ".cr3",
        ".crw",
        ".dcr",
        ".dng",
        ".erf",
        ".fff",
        ".iiq",
        ".k25",
        ".kdc",
        ".mef",
        ".mos",
        ".mrw",
        ".nef",
        ".nrw",
        ".orf",
        ".pef",
        ".raf",
        ".raw",
        ".rw2",
        ".rwl",
        ".sr2",
        ".srf",
        ".srw",
        ".x3f",
    }
)
IMAGE_EXTENSIONS = frozenset(
    {
        ".jpg",
        ".jpeg",
        ".jpe",
        ".jfif",
        ".png",
        ".tif",
        ".tiff",
        ".webp",
        ".heic",
        ".heif",
        ".hif",
        ".avif",
        ".mpo",
        ".gif",
        ".bmp",
    }
)
SIDECAR_EXTENSIONS = frozenset({".xmp"})

_HEIF_BRANDS = {
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"heim": "image/heic",
    b"heis": "image/heic",
    b"hevc": "image/heic-sequence",
    b"hevx": "image/heic-sequence",
    b"mif1": "image/heif",
    b"msf1": "image/heif-sequence",
    b"avif": "image/avif",
    b"avis": "image/avif",
}
RAW_CONTENT_TYPE = "image/x-raw"


def extension(name: str) -> str:
    """Lower-case extension of a path or URL (``.jpg``), '' when none."""
    return PurePosixPath(name.rsplit("/", 1)[-1]).suffix.lower()


def is_raw_name(name: str) -> bool:
    """Whether a file name (or URI) has a camera RAW extension."""
    return extension(name) in RAW_EXTENSIONS


def looks_like_photo_name(name: str) -> bool:
    """True when the name claims to be a photo (so a failure to read it is a quarantine)."""
    ext = extension(name)
    return ext in IMAGE_EXTENSIONS or ext in RAW_EXTENSIONS


def sniff_content_type(head: bytes, name: str = "") -> str | None:
    """The image content type of a file from its first bytes (and name, for RAW), or None.

    >>> sniff_content_type(b"\\xff\\xd8\\xff\\xe0....")
    'image/jpeg'
    >>> sniff_content_type(b"hello", "IMG_1.CR2") is None
    True
    """
    ext = extension(name)
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand == b"crx ":
            return RAW_CONTENT_TYPE  # Canon CR3
        if brand in _HEIF_BRANDS:
            return _HEIF_BRANDS[brand]
        # compatible brands follow the major brand and minor version
        box_end = min(len(head), int.from_bytes(head[0:4], "big") or len(head))
        compatible = [head[i : i + 4] for i in range(16, box_end - 3, 4)]
        for b in compatible:
            if b in _HEIF_BRANDS:
                return _HEIF_BRANDS[b]
        return None
    if head.startswith(b"FUJIFILMCCD-RAW"):
        return RAW_CONTENT_TYPE
    if head[:4] in (b"IIRO", b"IIRS", b"MMOR") or head[:4] == b"IIU\x00":
        return RAW_CONTENT_TYPE  # Olympus ORF, Panasonic RW2
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        if head[8:10] == b"CR" or ext in RAW_EXTENSIONS:
            return RAW_CONTENT_TYPE
        return "image/tiff"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:2] == b"BM" and len(head) >= 14:
        return "image/bmp"
    return None


def is_sidecar(name: str) -> bool:
    return extension(name) in SIDECAR_EXTENSIONS
