"""The store: where kilo writes renditions, copies of originals and exports.

An fsspec URL (a local folder by default, ``s3://bucket/prefix`` works). Writes are atomic:
local files are written under a temporary name and renamed; object stores put whole objects.
So a killed process never leaves a half-written rendition behind.
"""

from __future__ import annotations

import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import fsspec

from kilo.errors import StoreError
from kilo.settings import Settings


def is_local(url: str) -> bool:
    return "://" not in url or url.startswith("file://")


def local_path(url: str) -> Path:
    return Path(url[len("file://") :] if url.startswith("file://") else url)


@lru_cache(maxsize=16)
def _fs(protocol: str, options_key: tuple[tuple[str, str], ...]) -> Any:
    import json

    options = {k: json.loads(v) for k, v in options_key}
    return fsspec.filesystem(protocol, **options)


def filesystem(url: str, settings: Settings) -> tuple[Any, str]:
    """(fsspec filesystem, path within it) for ``url``."""
    import json

    protocol = url.split("://", 1)[0] if "://" in url else "file"
    options = settings.storage_options(url)
    fs = _fs(protocol, tuple(sorted((k, json.dumps(v)) for k, v in options.items())))
    path = url.split("://", 1)[1] if "://" in url else url
    return fs, path


def join(base: str, *parts: str) -> str:
    return "/".join([base.rstrip("/"), *(p.strip("/") for p in parts)])


class Store:
    """Keys below one base URL."""

    def __init__(self, settings: Settings, base_url: str | None = None) -> None:
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


def write_bytes(url: str, data: bytes, settings: Settings) -> str:
    try:
        if is_local(url):
            path = local_path(url)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            return str(path)
        fs, path_in = filesystem(url, settings)
        fs.pipe_file(path_in, data)
        return url
    except OSError as exc:
        raise StoreError(f"cannot write: {exc.strerror or exc}", path=url) from None
    except Exception as exc:
        raise StoreError(f"cannot write: {exc}", path=url) from None


def read_bytes(url: str, settings: Settings) -> bytes:
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


def exists(url: str, settings: Settings) -> bool:
    if is_local(url):
        return local_path(url).exists()
    fs, path_in = filesystem(url, settings)
    return bool(fs.exists(path_in))


def delete(url: str, settings: Settings) -> None:
    if is_local(url):
        local_path(url).unlink(missing_ok=True)
        return
    fs, path_in = filesystem(url, settings)
    if fs.exists(path_in):
        fs.rm_file(path_in)
