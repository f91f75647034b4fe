"""The browser studio's web app, served at ``/`` by ``kilo serve``: the static files the
web build puts in ``kilo_server/webapp/`` (``index.html`` and hashed ``assets/``; the
setting ``webapp_dir`` points elsewhere).

A plain ASGI middleware in front of the app, so the API's routing (404s, 405s, ``Allow``)
is untouched: it answers only GET and HEAD of paths outside ``/v1`` and ``/g/``.
``/assets/*`` are cached for a year (their names carry their hash); any other path that a
browser asks for as a page gets ``index.html`` (``no-cache``: a reload of
``/projects/<id>/cull`` opens the app there); other files of the folder are served as they
are. Every answer carries the app's strict Content-Security-Policy. Without a built
``index.html`` the page says how to build it."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

from kilo.settings import Settings

__all__ = ["APP_CSP", "WebApp", "webapp_folder"]

APP_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
    "style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'"
)
IMMUTABLE = "public, max-age=31536000, immutable"
NOT_BUILT = (
    b"<!doctype html><html lang=en><meta charset=utf-8><title>kilo</title>"
    b"<p>The kilo studio (the web app) is not built here. Run <code>bash scripts/setup.sh"
    b"</code> in the kilo folder (it builds the app with node and npm), then reload this "
    b"page. The API is at <a href=/v1/docs>/v1/docs</a>.</p></html>"
)
_API_PREFIXES = ("/v1/", "/g/")
_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css"}


def webapp_folder(settings: Settings) -> Path:
    """Where the built web app is: the ``webapp_dir`` setting, else the package's."""
    return settings.webapp_dir or Path(__file__).resolve().parent / "webapp"


def _inside(root: Path, rel: str) -> Path | None:
    """The file ``rel`` under ``root`` (no way out of it: ``..``, absolute parts and links
    leading outside are refused), None when there is none."""
    if "\x00" in rel or "\\" in rel:
        return None
    try:
        base = root.resolve()
        path = (base / rel.lstrip("/")).resolve()
    except (OSError, ValueError):
        return None
    if base not in path.parents or not path.is_file():
        return None
    return path


def _kind(path: Path) -> str:
    kind = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
    kind = kind or "application/octet-stream"
    return f"{kind}; charset=utf-8" if kind.startswith("text/") else kind


class WebApp:
    """ASGI middleware: the web app's files for GET/HEAD outside the API (see the
    module)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.root = webapp_folder(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if (
            scope["type"] != "http"
            or scope.get("method") not in ("GET", "HEAD")
            or path == "/v1"
            or path.startswith(_API_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        status, body, headers = self._answer(path, _accepts_html(scope))
        if status == 200 and path.startswith("/assets/") and _accepts_gzip(scope):
            body, headers = _gzipped(path, body, headers)
        headers += [
            (b"content-security-policy", APP_CSP.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        head = scope.get("method") == "HEAD"
        await send({"type": "http.response.body", "body": b"" if head else body})

    def _answer(self, path: str, html: bool) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        if path.startswith("/assets/"):
            found = _inside(self.root, path)
            if found is None:
                return _missing()
            return 200, found.read_bytes(), _headers(_kind(found), IMMUTABLE)
        found = _inside(self.root, path) if path not in ("", "/") else None
        if found is not None and found.name != "index.html":
            return 200, found.read_bytes(), _headers(_kind(found), "no-cache")
        if not (html or path in ("", "/")):
            return _missing()
        index = self.root / "index.html"
        if not index.is_file():
            return 200, NOT_BUILT, _headers("text/html; charset=utf-8", "no-cache")
        return 200, index.read_bytes(), _headers("text/html; charset=utf-8", "no-cache")


def _headers(kind: str, cache: str) -> list[tuple[bytes, bytes]]:
    return [(b"content-type", kind.encode()), (b"cache-control", cache.encode())]


def _missing() -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    return 404, b"not found", _headers("text/plain; charset=utf-8", "no-cache")


def _accepts_html(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"accept":
            return b"text/html" in value
    return False


#: compressed hashed assets (their names change with their content), by path
_GZIPPED: dict[tuple[str, int], bytes] = {}
_COMPRESSIBLE = (b"text/", b"application/javascript", b"application/json", b"image/svg+xml")


def _accepts_gzip(scope: Scope) -> bool:
    """Whether Accept-Encoding lists gzip (or ``*``) without ``q=0``."""
    for name, value in scope.get("headers", []):
        if name != b"accept-encoding":
            continue
        for item in value.decode("latin-1").lower().split(","):
            coding, _, params = item.strip().partition(";")
            q = params.replace(" ", "").removeprefix("q=")
            if coding.strip() in ("gzip", "*") and q not in ("0", "0.0", "0.00", "0.000"):
                return True
    return False


def _gzipped(
    path: str, body: bytes, headers: list[tuple[bytes, bytes]]
) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """The asset gzip-compressed (once per file; the JS goes out at about a third of its
    size) when it is text, else as it is."""
    import gzip

    kind = dict(headers).get(b"content-type", b"")
    if not kind.startswith(_COMPRESSIBLE) or len(body) < 1024:
        return body, headers
    key = (path, len(body))
    packed = _GZIPPED.get(key)
    if packed is None:
        packed = _GZIPPED[key] = gzip.compress(body, compresslevel=9, mtime=0)
    return packed, [*headers, (b"content-encoding", b"gzip"), (b"vary", b"accept-encoding")]
