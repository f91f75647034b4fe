"""Identifying candidate files: content type by magic bytes, sha256, frame count, and the copy
into the store with ``copy=True``. I/O bound, so it runs in threads (hashlib and file reads
release the GIL); it never touches the catalog.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from kilo.errors import KiloError
from kilo.imaging.decode import count_frames, read_source
from kilo.imaging.sniff import SNIFF_BYTES, extension, looks_like_photo_name, sniff_content_type
from kilo.ingest.discover import Found
from kilo.settings import Settings

log = logging.getLogger(__name__)

#: the store key of a copied original (content-addressed, so a second copy is a no-op)
ORIGINALS_PREFIX = "originals"


@dataclass(slots=True)
class Identified:
    found: Found
    content_type: str | None = None
    sha256: str | None = None
    frame_count: int = 1
    original_uri: str | None = None  # the store copy with copy=True
    error: str | None = None  # quarantine reason
    ignored: bool = False  # not a photo at all (README.md, a video): silently left out


def _read_head(uri: str, settings: Settings) -> bytes:
    if "://" in uri and not uri.startswith("file://"):
        from kilo.store import filesystem

        fs, path = filesystem(uri, settings)
        head: bytes = fs.cat_file(path, start=0, end=SNIFF_BYTES)
        return head
    from kilo.store import local_path

    with open(local_path(uri), "rb") as fh:
        return fh.read(SNIFF_BYTES)


def original_key(sha256: str, uri: str) -> str:
    return f"{ORIGINALS_PREFIX}/{sha256[:2]}/{sha256}{extension(uri)}"


def identify(found: Found, settings: Settings, *, copy: bool = False) -> Identified:
    """What ``found`` is. Never raises: problems become ``error`` (photo names) or ``ignored``."""
    result = Identified(found)
    claims_photo = looks_like_photo_name(found.uri)
    if found.error:
        result.error = found.error
        return result
    try:
        if found.size == 0:
            if claims_photo:
                result.error = "empty file (0 bytes)"
            else:
                result.ignored = True
            return result
        head = _read_head(found.uri, settings)
        ctype = sniff_content_type(head, found.uri)
        if ctype is None:
            if claims_photo:
                result.error = "not a supported image: its content does not match any format"
            else:
                result.ignored = True
            return result
        data = read_source(found.uri, settings)
    except KiloError as exc:
        result.error = exc.reason
        return result
    except OSError as exc:
        result.error = f"cannot read: {exc.strerror or exc}"
        return result
    except Exception as exc:
        log.debug("%s: cannot read", found.uri, exc_info=True)
        result.error = f"cannot read: {type(exc).__name__}: {exc}"
        return result
    result.content_type = ctype
    result.sha256 = hashlib.sha256(data).hexdigest()
    result.frame_count = count_frames(data, ctype)
    if copy:
        from kilo.store import Store

        store = Store(settings)
        key = original_key(result.sha256, found.uri)
        try:
            if not store.exists(key):
                store.write_bytes(key, data)
            result.original_uri = store.url(key)
        except KiloError as exc:
            result.error = f"cannot copy into the store: {exc.reason}"
        except Exception as exc:
            log.debug("%s: cannot copy into the store", found.uri, exc_info=True)
            result.error = f"cannot copy into the store: {exc}"
    return result


def identify_many(files: list[Found], settings: Settings, copy: bool) -> list[Identified]:
    """:func:`identify` of each file, in order (one task of a Dask worker)."""
    return [identify(f, settings, copy=copy) for f in files]
