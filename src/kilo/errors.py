"""The one error tree of kilo.

Every failure the library reports on purpose is a :class:`KiloError`. Each subclass carries
``code`` (the ``Error.code`` of the HTTP contract), an optional ``path`` (the file or URI it
concerns) and ``reason`` (one line a person can act on). Front ends map these to exit codes
(CLI) or HTTP statuses (API) in one place each.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

#: what a terminal would obey rather than show: C0 and C1 controls, DEL, line separators
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """``text`` safe to show: bytes that are not UTF-8 (surrogate escapes) as ``\\xff`` and
    control characters as ``\\x1b``-style escapes. Every error's message goes through it
    (the error tree is the bottom of kilo, so it lives here); :mod:`kilo.text` exports it
    with the other rules for outside text."""
    try:
        raw = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that is no escaped byte
        raw = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return CONTROL_CHARACTERS.sub(lambda m: f"\\x{ord(m.group()):02x}", raw)


class KiloError(Exception):
    """Base of every error kilo raises on purpose."""

    code: ClassVar[str] = "internal"
    http_status: ClassVar[int] = 500

    def __init__(
        self,
        reason: str,
        *,
        path: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.reason = reason
        self.path = path
        self.details = dict(details or {})
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """One line: the reason, prefixed by the path it concerns when there is one."""
        one_line = printable(" ".join(self.reason.split()))
        return f"{printable(self.path)}: {one_line}" if self.path else one_line

    def to_error(self) -> dict[str, Any]:
        """The spec's ``Error`` object."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        details = dict(self.details)
        if self.path:
            details.setdefault("path", self.path)
        if details:
            body["details"] = details
        return body


class InvalidInput(KiloError):
    """The caller passed something malformed or out of range."""

    code = "bad_request"
    http_status = 400


class Unauthorized(KiloError):
    code = "unauthorized"
    http_status = 401


class Forbidden(KiloError):
    code = "forbidden"
    http_status = 403


class NotFound(KiloError):
    code = "not_found"
    http_status = 404


class Conflict(KiloError):
    code = "conflict"
    http_status = 409


class Gone(KiloError):
    """Something existed but has expired (a gallery link, a download URL)."""

    code = "gone"
    http_status = 410


class RateLimited(KiloError):
    code = "rate_limited"
    http_status = 429


class CatalogError(KiloError):
    """The catalog file cannot be used (not DuckDB, damaged, newer schema)."""

    code = "catalog_error"
    http_status = 500


class CatalogLocked(CatalogError):
    """Another process holds the catalog open for writing."""

    code = "catalog_locked"
    http_status = 503


class StoreError(KiloError):
    """Reading or writing the store (local folder or object storage) failed."""

    code = "store_error"
    http_status = 502


class DecodeError(KiloError):
    """A file could not be decoded as a photo (corrupt, truncated, unsupported)."""

    code = "unsupported_media"
    http_status = 415


class ModelUnavailable(KiloError):
    """A model (CLIP weights) is not available on this machine."""

    code = "model_unavailable"
    http_status = 503


class PartialFailure(KiloError):
    """A batch finished but some items failed; the result is attached."""

    code = "partial_failure"
    http_status = 207

    def __init__(self, reason: str, *, result: Any = None, **kw: Any) -> None:
        super().__init__(reason, **kw)
        self.result = result


def describe_exception(exc: BaseException) -> str:
    """One line for an item that failed (a job, a photo of a batch): a KiloError's message,
    else "Type: text" with the text's whitespace collapsed."""
    if isinstance(exc, KiloError):
        return exc.message
    text = printable(" ".join(str(exc).split()))
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
