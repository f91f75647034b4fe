"""The store: where kilo writes renditions, copies of originals and exports.

An fsspec URL (a local folder by default, ``s3://bucket/prefix`` works). Writes are atomic:
local files are written under a temporary name and renamed; object stores put whole objects.
So a killed process never leaves a half-written rendition behind. A new local file gets the
mode any program would give it (``0o666`` less the umask, :func:`new_file_mode`), not the
``0600`` of a temporary file; a file written over keeps its mode.
"""

from __future__ import annotations

import os
import stat
import tempfile
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, unquote_to_bytes

from kilo.errors import StoreError
from kilo.text import printable


class StoreConfig(Protocol):
    """What the store needs of the settings (:class:`kilo.settings.Settings` has it; worker
    processes get a :class:`PlainStoreConfig`, so they never import pydantic-settings)."""

    @property
    def store_url(self) -> str: ...

    def storage_options(self, url: str) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class PlainStoreConfig:
    store_url: str
    s3_endpoint_url: str | None = None
    s3_region: str | None = None

    def storage_options(self, url: str) -> dict[str, Any]:
        return s3_storage_options(url, self.s3_endpoint_url, self.s3_region)


def s3_storage_options(url: str, endpoint_url: str | None, region: str | None) -> dict[str, Any]:
    """fsspec options for ``url``: the S3 endpoint (or ``AWS_ENDPOINT_URL``) and region."""
    if not url.startswith(("s3://", "s3a://")):
        return {}
    client_kwargs: dict[str, Any] = {}
    endpoint = endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        client_kwargs["endpoint_url"] = endpoint
    if region:
        client_kwargs["region_name"] = region
    return {"client_kwargs": client_kwargs} if client_kwargs else {}


def is_local(url: str) -> bool:
    return "://" not in url or url.startswith("file://")


def uri_for_path(path: str | Path) -> str:
    """How kilo records a local path: the path itself when it is valid UTF-8 text, else a
    ``file://`` URI with the bytes that are not percent-escaped (``bad_%FF.jpg``). Lossless:
    :func:`local_path` gives back the exact bytes, so a card with a file named in another
    encoding still ingests, exports and writes sidecars next to the right file."""
    text = os.fspath(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "file://" + quote(os.fsencode(text), safe="/")
    return text


def local_path(url: str) -> Path:
    """The local path of a plain path or a ``file://`` URI (percent-escapes decoded to the
    file name's exact bytes)."""
    if url.startswith("file://"):
        return Path(os.fsdecode(unquote_to_bytes(url[len("file://") :])))
    return Path(url)


def display_name(uri: str) -> str:
    """The file name of ``uri`` as a person reads it (escaped by :func:`printable`)."""
    local = is_local(uri)
    name = local_path(uri).name if local else uri.rstrip("/").rsplit("/", 1)[-1]
    return printable(name or uri)


@lru_cache(maxsize=16)
def _fs(protocol: str, options_key: tuple[tuple[str, str], ...]) -> Any:
    import json

    import fsspec  # imported on first use: local stores never need it

    options = {k: json.loads(v) for k, v in options_key}
    return fsspec.filesystem(protocol, **options)


def filesystem(url: str, settings: StoreConfig) -> tuple[Any, str]:
    """(fsspec filesystem, path within it) for ``url``."""
    import json

    protocol = url.split("://", 1)[0] if "://" in url else "file"
    options = settings.storage_options(url)
    fs = _fs(protocol, tuple(sorted((k, json.dumps(v)) for k, v in options.items())))
    path = url.split("://", 1)[1] if "://" in url else url
    return fs, path


def presign_put(url: str, settings: StoreConfig, expires_s: int) -> str | None:
    """A presigned PUT URL for the object at ``url`` (an s3 store; a client uploads straight
    to the bucket), None for a local store."""
    if is_local(url):
        return None
    fs, path = filesystem(url, settings)
    if not hasattr(fs, "url"):
        return None
    return str(fs.url(path, expires=expires_s, client_method="put_object"))


def join(base: str, *parts: str) -> str:
    return "/".join([base.rstrip("/"), *(p.strip("/") for p in parts)])


class Store:
    """Keys below one base URL."""

    def __init__(self, settings: StoreConfig, base_url: str | None = None) -> None:
        self.settings = settings
        self.base = (base_url or settings.store_url).rstrip("/")

    def url(self, key: str) -> str:
        return join(self.base, key)

    def write_bytes(self, key: str, data: bytes) -> str:
        """Write ``data`` at ``key`` atomically; returns its URL."""
        return write_bytes(self.url(key), data, self.settings)

    def read_bytes(self, key_or_url: str) -> bytes:
        url = (
            key_or_url
            if ("://" in key_or_url or key_or_url.startswith("/"))
            else self.url(key_or_url)
        )
        return read_bytes(url, self.settings)

    def exists(self, key: str) -> bool:
        return exists(self.url(key), self.settings)

    def delete(self, key: str) -> None:
        delete(self.url(key), self.settings)


#: local folders this process made or found (no mkdir per write); bounded
_FOLDERS: set[Path] = set()
_FOLDERS_MAX = 4096


def note_folder(folder: Path) -> None:
    """Remember that ``folder`` exists, so writes into it skip the mkdir."""
    if len(_FOLDERS) >= _FOLDERS_MAX:
        _FOLDERS.clear()
    _FOLDERS.add(folder)


_UMASK_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def process_umask() -> int:
    """This process's umask, read once: from ``/proc/self/status`` (Linux: reading it changes
    nothing), else by setting and restoring it under a lock."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:
        old = os.umask(0o077)
        os.umask(old)
    return old


def new_file_mode() -> int:
    """The mode of a new user-visible file: ``0o666`` less the umask (``0o644`` under 022)."""
    return 0o666 & ~process_umask()


def mode_for(path: Path) -> int:
    """The mode a file written at ``path`` gets: the mode of the file it replaces, else
    :func:`new_file_mode`."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return new_file_mode()


def _temp_file(path: Path) -> tuple[int, str]:
    """A new temporary file beside ``path`` (its folder made if needed)."""
    if path.parent not in _FOLDERS:
        path.parent.mkdir(parents=True, exist_ok=True)
        note_folder(path.parent)
    try:
        return tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except FileNotFoundError:  # removed since we saw it
        _FOLDERS.discard(path.parent)
        path.parent.mkdir(parents=True, exist_ok=True)
        return tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)


def write_local(path: Path, data: bytes) -> None:
    """Write ``data`` at the local ``path`` atomically (a temporary file beside it, renamed),
    with the mode of :func:`mode_for`. Raises OSError."""
    mode = mode_for(path)
    fd, tmp = _temp_file(path)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes(url: str, data: bytes, settings: StoreConfig) -> str:
    try:
        if is_local(url):
            path = local_path(url)
            write_local(path, data)
            return uri_for_path(path)
        fs, path_in = filesystem(url, settings)
        fs.pipe_file(path_in, data)
        return url
    except OSError as exc:
        raise StoreError(f"cannot write: {exc.strerror or exc}", path=url) from None
    except Exception as exc:
        raise StoreError(f"cannot write: {exc}", path=url) from None


def read_bytes(url: str, settings: StoreConfig) -> bytes:
    try:
        if is_local(url):
            return local_path(url).read_bytes()
        fs, path_in = filesystem(url, settings)
        data: bytes = fs.cat_file(path_in)
        return data
    except FileNotFoundError:
        raise StoreError("no such file", path=url) from None
    except OSError as exc:
        raise StoreError(f"cannot read: {exc.strerror or exc}", path=url) from None


def exists(url: str, settings: StoreConfig) -> bool:
    if is_local(url):
        return local_path(url).exists()
    fs, path_in = filesystem(url, settings)
    return bool(fs.exists(path_in))


def delete(url: str, settings: StoreConfig) -> None:
    if is_local(url):
        local_path(url).unlink(missing_ok=True)
        return
    fs, path_in = filesystem(url, settings)
    if fs.exists(path_in):
        fs.rm_file(path_in)
