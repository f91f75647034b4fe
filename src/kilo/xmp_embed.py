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
``-overwrite_original``; many files in one exiftool run, :func:`embed_each`), kilo checks
that the image data of a JPEG (every byte from the first SOS marker on) and of a PNG (its
``IDAT`` chunks) is unchanged, gives the copy the original's mode, flushes it to disk and
renames it over the original. A failure at any step leaves the original as it was.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shutil
import stat
import struct
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kilo.errors import DecodeError, KiloError, StoreError

__all__ = [
    "EMBEDDABLE",
    "EmbedError",
    "PacketFor",
    "can_embed",
    "embed_each",
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


def _argfile(lines: list[str]) -> Path:
    """An exiftool argument file (one argument a line; file names as their bytes)."""
    fd, name = tempfile.mkstemp(prefix="kilo-exiftool-", suffix=".args")
    with os.fdopen(fd, "wb") as fh:
        fh.write(b"".join(os.fsencode(line) + b"\n" for line in lines))
    return Path(name)


def _run_batch(lines: list[str]) -> bytes:
    """One exiftool run over an argument file; its output, whatever its exit code (the
    caller checks each file)."""
    args = _argfile(lines)
    try:
        done = subprocess.run(
            [_exiftool(), "-@", str(args)],
            capture_output=True,
            timeout=_TIMEOUT_S * max(1, len(lines) // 8),
            check=False,
        )
        return done.stdout
    except (OSError, subprocess.TimeoutExpired):
        return b""  # each file is then tried alone, which says why
    finally:
        args.unlink(missing_ok=True)


def _read_many(paths: Sequence[Path]) -> dict[Path, bytes | None]:
    """The XMP inside each file that one exiftool run could read (others are left out)."""
    try:
        found = json.loads(_run_batch(["-j", "-b", "-XMP", *map(str, paths)]) or b"[]")
    except ValueError:
        return {}
    by_name = {str(p): p for p in paths}
    out: dict[Path, bytes | None] = {}
    for entry in found:
        path = by_name.get(str(entry.get("SourceFile")))
        value = entry.get("XMP")
        if path is None or not isinstance(value, str | type(None)):
            continue
        if value is None:
            out[path] = None
        elif value.startswith("base64:"):
            out[path] = base64.b64decode(value[len("base64:") :])
        else:
            out[path] = value.encode("utf-8")
    return out


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


@dataclass(slots=True)
class _Job:
    index: int
    path: Path
    mode: int = 0
    image: str | None = None  # sha256 of the compressed image data (JPEG, PNG)
    work: Path = field(default_factory=Path)

    @property
    def copy(self) -> Path:
        return self.work / self.path.name  # same extension: exiftool keeps the format

    @property
    def packet(self) -> Path:
        return self.work / "packet.xmp"

    def write_args(self) -> list[str]:
        return ["-q", "-o", str(self.copy), f"-XMP<={self.packet}", str(self.path)]


def _image_hash(path: Path) -> str | None:
    data = image_data(path.read_bytes(), path.suffix)
    return None if data is None else hashlib.sha256(data).hexdigest()


def _prepare(index: int, path: Path, packet: str) -> _Job:
    if not can_embed(path.name):
        raise EmbedError("kilo writes XMP only into JPEG, TIFF, PNG and DNG files", path=str(path))
    if "\n" in str(path) or "\r" in str(path):
        raise EmbedError(
            "a file name with a line break cannot be given to exiftool", path=str(path)
        )
    path = path.absolute()  # never read as an option
    try:
        job = _Job(index, path, stat.S_IMODE(path.stat().st_mode), _image_hash(path))
        job.work = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".kilo", dir=path.parent))
        job.packet.write_text(packet, encoding="utf-8")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise StoreError(f"cannot write beside the file: {reason}", path=str(path)) from None
    return job


def _commit(job: _Job) -> None:
    """Check the copy exiftool wrote, give it the original's mode, flush it and rename it
    over the original."""
    path = job.path
    if not job.copy.exists():  # the batch run refused it: once more alone, to say why
        _run([*job.write_args()[:-1], "--", str(path)], path)
    try:
        if _image_hash(job.copy) != job.image:
            raise EmbedError("exiftool changed the image data: not written", path=str(path))
        os.chmod(job.copy, job.mode)
        with open(job.copy, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(job.copy, path)
        _fsync_folder(path.parent)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise StoreError(f"cannot replace the file: {reason}", path=str(path)) from None


def _write_many(items: Sequence[tuple[int, Path, str]]) -> Iterator[tuple[int, KiloError | None]]:
    """Write each packet into its file: one exiftool run for all, then each file checked
    and renamed on its own."""
    jobs: list[_Job] = []
    try:
        for index, path, packet in items:
            try:
                jobs.append(_prepare(index, path, packet))
            except KiloError as exc:
                yield index, exc
        if jobs:
            _run_batch([arg for job in jobs for arg in [*job.write_args(), "-execute"]])
        for job in jobs:
            try:
                _commit(job)
            except KiloError as exc:
                yield job.index, exc
            else:
                yield job.index, None
    finally:
        for job in jobs:
            shutil.rmtree(job.work, ignore_errors=True)


#: the XMP packet to write into a file, given the XMP already in it (None: none)
PacketFor = Callable[[bytes | None], str]


def embed_each(
    items: Sequence[tuple[Path, PacketFor]], *, chunk: int = 32
) -> Iterator[tuple[int, KiloError | None]]:
    """Write into many local files, ``chunk`` at a time with two exiftool runs (one reads
    the XMP in them, one writes the new packets). Yields (index in ``items``, None) for each
    file written and (index, the error) for each left as it was; the packet of a file is
    ``packet_for(the XMP already in it)`` (it may raise a KiloError)."""
    for start in range(0, len(items), chunk):
        part = items[start : start + chunk]
        found = _read_many([path.absolute() for path, _ in part])
        planned: list[tuple[int, Path, str]] = []
        for offset, (path, packet_for) in enumerate(part):
            try:
                absolute = path.absolute()
                existing = found[absolute] if absolute in found else read_embedded_xmp(absolute)
                planned.append((start + offset, path, packet_for(existing)))
            except KiloError as exc:
                yield start + offset, exc
        yield from _write_many(planned)


def embed_xmp(path: Path, packet: str) -> None:
    """Replace the XMP packet inside the local file ``path`` (JPEG, TIFF, PNG or DNG) with
    ``packet``, atomically, keeping the file's mode and its image data byte for byte.

    Raises EmbedError (exiftool missing or refusing the file, image data changed),
    DecodeError (a JPEG or PNG kilo cannot read) or StoreError (the folder is not
    writable); the original is then unchanged.
    """
    for _, error in _write_many([(0, path, packet)]):
        if error is not None:
            raise error
