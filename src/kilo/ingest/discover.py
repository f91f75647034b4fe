"""Finding candidate files below local folders and fsspec URLs (``s3://bucket/prefix``).

Hidden files and OS junk are skipped; ``.xmp`` sidecars are attached to the photo they
describe (``IMG_1.xmp`` or ``IMG_1.CR2.xmp`` next to ``IMG_1.CR2``; a RAW+JPEG pair's
``IMG_1.xmp`` is the raw's, as Lightroom Classic pairs it). Symbolic links to folders
are not followed (no loops), links to files only when they stay inside the source; a file
that cannot even be listed is reported with the reason. Local paths are recorded losslessly
(:func:`kilo.store.uri_for_path`: a name that is not UTF-8 still ingests).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kilo.errors import InvalidInput, KiloError, NotFound, StoreError
from kilo.imaging.sniff import is_sidecar
from kilo.settings import Settings
from kilo.store import display_name, local_path, uri_for_path

JUNK_NAMES = frozenset(
    {
        "thumbs.db",
        "desktop.ini",
        "ehthumbs.db",
        "__macosx",
        "system volume information",
        "$recycle.bin",
        "@eadir",
        "#recycle",
        "lost+found",
        "icon\r",
    }
)


@dataclass(slots=True)
class Found:
    """A candidate file: where it is, its size and modification time, or why it is unusable."""

    uri: str
    size: int = 0
    mtime: float = 0.0
    sidecar_uri: str | None = None
    error: str | None = None
    skip: str | None = None  # left out on purpose, with the reason (a link out of the source)

    @property
    def name(self) -> str:
        """The file name as shown and stored for people (escaped when it is not text)."""
        return display_name(self.uri)


@dataclass
class Discovery:
    files: list[Found] = field(default_factory=list)
    ignored: int = 0  # hidden files, OS junk, sidecars without a photo


def is_junk(name: str) -> bool:
    return name.startswith(".") or name.lower() in JUNK_NAMES or name.startswith("~$")


def _is_url(source: str) -> bool:
    return "://" in source and not source.startswith("file://")


def _sidecar_keys(uri: str) -> list[str]:
    """Keys under which a photo looks up its sidecar: ``dir/IMG_1.cr2`` and ``dir/IMG_1``."""
    low = uri.lower()
    stem = low.rsplit(".", 1)[0] if "." in low.rsplit("/", 1)[-1] else low
    return [low, stem]


def _attach_sidecars(found: list[Found], sidecars: dict[str, str]) -> int:
    """Give each photo its sidecar: ``IMG_1.CR2.xmp`` (darktable's name) is that file's;
    ``IMG_1.xmp`` (Lightroom's) is the raw file's when a raw of that stem was found, as
    Lightroom Classic pairs it (a RAW+JPEG pair's JPEG does not take the raw's keywords and
    decisions), else the one photo of that stem's. Returns how many sidecars found no photo."""
    from kilo.imaging.sniff import is_raw_name

    raw_stems = {_sidecar_keys(f.uri)[1] for f in found if is_raw_name(f.uri)}
    used: set[str] = set()
    for f in found:
        own, stem = _sidecar_keys(f.uri)
        for key in (own, stem):
            if key == stem and stem in raw_stems and not is_raw_name(f.uri):
                continue  # the raw's sidecar, not this JPEG's
            if key in sidecars:
                f.sidecar_uri = sidecars[key]
                used.add(key)
                break
    return len(sidecars.keys() - used)


def _walk_local(root: str, out: Discovery, sidecars: dict[str, str], follow_symlinks: bool) -> None:
    top = os.path.abspath(local_path(root))
    try:
        st = os.stat(top)
    except FileNotFoundError:
        raise NotFound("no such file or folder", path=root) from None
    except OSError as exc:
        out.files.append(_unusable(top, f"cannot read: {exc.strerror or exc}"))
        return
    if not stat.S_ISDIR(st.st_mode):
        out.files.append(Found(uri_for_path(top), st.st_size, st.st_mtime))
        return
    inside = os.path.realpath(top)

    def onerror(exc: OSError) -> None:
        where = getattr(exc, "filename", None) or top
        out.files.append(_unusable(str(where), f"cannot list folder: {exc.strerror or exc}"))

    for dirpath, dirnames, filenames in os.walk(top, onerror=onerror, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not is_junk(d))
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            if is_junk(name):
                out.ignored += 1
                continue
            if is_sidecar(name):
                uri = uri_for_path(path)
                sidecars[uri.lower()[: -len(".xmp")]] = uri
                continue
            if not follow_symlinks and os.path.islink(path) and not _within(path, inside):
                out.files.append(Found(uri_for_path(path), skip=OUTSIDE_LINK))
                continue
            try:
                fst = os.stat(path)
            except OSError as exc:
                out.files.append(_unusable(path, f"cannot read: {exc.strerror or exc}"))
                continue
            if stat.S_ISDIR(fst.st_mode):  # a symlink to a folder: not followed
                out.ignored += 1
                continue
            if not stat.S_ISREG(fst.st_mode):
                out.files.append(_unusable(path, "not a regular file"))
                continue
            out.files.append(Found(uri_for_path(path), fst.st_size, fst.st_mtime))


OUTSIDE_LINK = "a link to a file outside the source folder (not followed; see --follow-symlinks)"


def _within(path: str, folder: str) -> bool:
    """Whether the file a link points at lies inside ``folder`` (both resolved)."""
    target = os.path.realpath(path)
    return os.path.commonpath([target, folder]) == folder


def _unusable(path: str, reason: str) -> Found:
    return Found(uri_for_path(path), error=reason)


def _mtime(info: dict[str, Any]) -> float:
    for key in ("mtime", "LastModified", "last_modified", "updated", "created"):
        value = info.get(key)
        if value is None:
            continue
        if hasattr(value, "timestamp"):
            return float(value.timestamp())
        try:
            return float(value)
        except (TypeError, ValueError):
            continue
    return 0.0


def _list_error(exc: Exception, url: str) -> StoreError:
    """A store that cannot be listed, said as a person can act on it."""
    text = str(exc) or type(exc).__name__
    if "credentials" in text.lower():
        text = (
            "no credentials for the object store (set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)"
        )
    return StoreError(f"cannot list: {text}", path=url)


def _walk_url(url: str, settings: Settings, out: Discovery, sidecars: dict[str, str]) -> None:
    from kilo.store import filesystem

    fs, root = filesystem(url, settings)
    protocol = url.split("://", 1)[0]
    try:
        listing: dict[str, dict[str, Any]] = fs.find(root, detail=True, withdirs=False)
    except FileNotFoundError:
        raise NotFound("no such file or prefix", path=url) from None
    except Exception as exc:
        raise _list_error(exc, url) from None
    if not listing:
        try:
            if not fs.exists(root):
                raise NotFound("no such file or prefix", path=url)
        except KiloError:
            raise
        except Exception as exc:
            raise _list_error(exc, url) from None
    base = root.rstrip("/")
    for path in sorted(listing):
        info = listing[path]
        if info.get("type") == "directory":
            continue
        rel = path[len(base) :].strip("/") if path.startswith(base) else path
        parts = [p for p in rel.split("/") if p] or [path.rsplit("/", 1)[-1]]
        if any(is_junk(p) for p in parts):
            out.ignored += 1
            continue
        uri = f"{protocol}://{path}"
        if is_sidecar(parts[-1]):
            sidecars[uri.lower()[: -len(".xmp")]] = uri
            continue
        out.files.append(Found(uri, int(info.get("size") or 0), _mtime(info)))


def discover(
    sources: Sequence[str | Path], settings: Settings, *, follow_symlinks: bool = False
) -> Discovery:
    """Every candidate file below ``sources`` (deduplicated, in a stable order). A symbolic
    link to a file is followed only when it points inside its source folder (else the file is
    listed with ``skip`` set), unless ``follow_symlinks``.

    Raises :class:`NotFound` when a source does not exist at all (before any work is done).
    """
    if not sources:
        raise InvalidInput("give at least one source (a folder, a file or an s3:// URL)")
    out = Discovery()
    sidecars: dict[str, str] = {}
    for source in sources:
        text = str(source)
        if _is_url(text):
            _walk_url(text, settings, out, sidecars)
        else:
            _walk_local(text, out, sidecars, follow_symlinks)
    seen: set[str] = set()
    unique: list[Found] = []
    for f in out.files:
        if f.uri not in seen:
            seen.add(f.uri)
            unique.append(f)
    out.files = unique
    out.ignored += _attach_sidecars(out.files, sidecars)
    return out
