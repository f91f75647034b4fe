"""An XMP packet written into a photo's own file (opt-in): JPEG, TIFF, PNG and DNG.

Lightroom Classic reads the metadata of JPEG, TIFF, PNG, PSD and DNG files from the files
themselves and ignores sidecars beside them, so a decision reaches it in such a file only
when it is embedded. kilo never does that unless asked (``kilo cull write-xmp --embed``).

The writer is exiftool (Image::ExifTool, Debian's libimage-exiftool-perl, already a system
tool of kilo's setup), run as a separate process. Why: one well-kept writer for all four
formats, which rewrites only the metadata (the JPEG APP1 segment, the PNG ``iTXt`` chunk,
the TIFF/DNG XMP tag) and copies the image data byte for byte; Pillow re-encodes on save,
piexif writes EXIF but not XMP, and no maintained Python library here writes XMP into TIFF
and DNG files.

Atomic: exiftool writes a new copy into a private folder beside the file (``-o``, never
``-overwrite_original``), kilo checks that the image data of a JPEG (every byte from the
first SOS marker on) and of a PNG (its ``IDAT`` chunks) is unchanged, gives the copy the
original's mode, flushes it to disk and renames it over the original. A failure at any step
leaves the original as it was.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import struct
import subprocess
import tempfile
from pathlib import Path

from kilo.errors import DecodeError, KiloError, StoreError

__all__ = [
    "EMBEDDABLE",
    "EmbedError",
    "can_embed",
    "embed_xmp",
    "image_data",
    "read_embedded_xmp",
]

#: extensions whose own XMP kilo can write (and Lightroom Classic reads)
EMBEDDABLE = (".jpg", ".jpeg", ".tif", ".tiff", ".png", ".dng")
_TIMEOUT_S = 120


class EmbedError(KiloError):
    """The XMP could not be written into the file (the file is unchanged)."""

    code = "embed_failed"
    http_status = 500


def can_embed(name: str) -> bool:
    """Whether kilo can write XMP into a file of this name (by its extension)."""
    return Path(name).suffix.lower() in EMBEDDABLE


def _exiftool() -> str:
    found = shutil.which("exiftool")
    if found is None:
        raise EmbedError("exiftool is not installed (scripts/setup.sh installs it)")
    return found


def _run(args: list[str], path: Path) -> bytes:
    try:
        done = subprocess.run(
            [_exiftool(), *args], capture_output=True, timeout=_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EmbedError(f"exiftool did not run: {exc}", path=str(path)) from None
    if done.returncode != 0:
        why = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise EmbedError(f"exiftool: {why[-1] if why else 'failed'}", path=str(path))
    return done.stdout


def read_embedded_xmp(path: Path) -> bytes | None:
    """The XMP packet inside the file, None when it has none."""
    data = _run(["-b", "-XMP", "--", str(path)], path)
    return data if data.strip() else None


def _jpeg_scan(data: bytes) -> bytes:
    """Every byte of a JPEG from its first SOS marker on (the compressed image)."""
    if data[:2] != b"\xff\xd8":
        raise DecodeError("not a JPEG file")
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            raise DecodeError(f"broken JPEG marker at byte {i}")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xDA:
            return data[i:]
        if 0xD0 <= marker <= 0xD8 or marker == 0x01:
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        i += 2 + length
    raise DecodeError("a JPEG without image data (no SOS marker)")


def _png_idat(data: bytes) -> bytes:
    """The ``IDAT`` chunks of a PNG, in order (the compressed image)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise DecodeError("not a PNG file")
    i, out = 8, []
    while i + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[i : i + 8])
        if kind == b"IDAT":
            out.append(data[i + 8 : i + 8 + length])
        i += 12 + length
    return b"".join(out)


def image_data(data: bytes, suffix: str) -> bytes | None:
    """The bytes of the compressed image inside a JPEG or PNG file (what embedding must not
    change); None for other formats."""
    suffix = suffix.lower()
    if suffix in (".jpg", ".jpeg"):
        return _jpeg_scan(data)
    if suffix == ".png":
        return _png_idat(data)
    return None


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def embed_xmp(path: Path, packet: str) -> None:
    """Replace the XMP packet inside the local file ``path`` (JPEG, TIFF, PNG or DNG) with
    ``packet``, atomically, keeping the file's mode and its image data byte for byte.

    Raises EmbedError (exiftool missing or refusing the file, image data changed) or
    StoreError (the folder is not writable); the original is then unchanged.
    """
    if not can_embed(path.name):
        raise EmbedError("kilo writes XMP only into JPEG, TIFF, PNG and DNG files", path=str(path))
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        before = image_data(path.read_bytes(), path.suffix)
        work = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".kilo", dir=path.parent))
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise StoreError(f"cannot write beside the file: {reason}", path=str(path)) from None
    try:
        source = work / "packet.xmp"
        source.write_text(packet, encoding="utf-8")
        copy = work / path.name  # same extension: exiftool keeps the file's format
        _run(["-q", "-o", str(copy), f"-XMP<={source}", "--", str(path)], path)
        if before is not None and image_data(copy.read_bytes(), path.suffix) != before:
            raise EmbedError("exiftool changed the image data: not written", path=str(path))
        os.chmod(copy, mode)
        with open(copy, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(copy, path)
        _fsync_folder(path.parent)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise StoreError(f"cannot replace the file: {reason}", path=str(path)) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
