"""The client's gallery page, ``/g/{shareSlug}``: one HTML shell (jinja2, autoescaped), a
script and a stylesheet served from the package, no build step. The page talks only to the
public ``/v1/share`` routes. Every response forbids inline script and framing, sends no
referrer (the link must not leak to the sites a client visits next) and is not indexed.

Where the visitor's token lives: in an HttpOnly cookie (:class:`VisitorCookie`), never in
the page's script. Web storage (localStorage, sessionStorage) is readable by every script
of the origin, and this origin also serves files people upload: one HTML file rendered as
a page (before it was served as an attachment under a sandbox policy) read every gallery
visitor's token there. sessionStorage would only narrow that to a tab and lose a client's
favorites with it; an HttpOnly cookie is out of every script's reach, lasts the visit
(12 h), and its ``SameSite=Strict`` and per-link ``Path`` (``/v1/share/<slug>`` and
``/v1/x-kilo/share/<slug>``) send it only with this link's own calls from this site. The
page asks for this way with a header (``X-Kilo-Visitor: cookie``, which no cross-site form
can send); every other client keeps the contract's way untouched: a ``Bearer`` header (it
wins over a cookie), and the token in the JSON of ``POST /share/{slug}/auth`` and of a new
visit. The page's way differs in one thing: a ``GET /share/{slug}`` let in by the cookie
does not echo the token back (that would hand it to a script again): ``token: null``."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kilo.errors import NotFound
from kilo.gallery.visitors import SESSION_TTL

router = APIRouter(include_in_schema=False)
STATIC = "/g/static"
POLICY = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "no-store",
}
_FILES = {"gallery.js": "text/javascript; charset=utf-8", "gallery.css": "text/css; charset=utf-8"}


@lru_cache(maxsize=1)
def _template() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("kilo_server", "templates"), autoescape=True
    )
    return env.get_template("gallery.html")


@router.get(f"{STATIC}/{{name}}")
def gallery_static(name: str) -> Response:
    if name not in _FILES:
        raise NotFound("no such file")
    data = (resources.files("kilo_server") / "static" / name).read_bytes()
    headers = {**POLICY, "Cache-Control": "public, max-age=3600"}
    return Response(data, media_type=_FILES[name], headers=headers)


@router.get("/g/{shareSlug}", response_class=HTMLResponse)
def gallery_page(shareSlug: Annotated[str, Path(min_length=8, max_length=128)]) -> HTMLResponse:
    """The page; whether the gallery exists is for its script to learn from the API (the
    same answer for every link, so the page itself tells nothing)."""
    html = _template().render(slug=shareSlug, api="/v1", static=STATIC)
    return HTMLResponse(html, headers=POLICY)


COOKIE = "kilo_visitor"
#: a share route of the API (its slug), and the two that hand out tokens
_SHARE_PATH = re.compile(r"/v1/(?:x-kilo/)?share/([A-Za-z0-9_-]{8,128})(?:/.*)?")
_ISSUING = re.compile(r"/v1/share/[A-Za-z0-9_-]{8,128}(/auth)?")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,128}")
_COOKIE_BASES = ("/v1/share", "/v1/x-kilo/share")
#: the header (name, value) by which the gallery page asks for the cookie
OPT_IN = (b"x-kilo-visitor", b"cookie")


class VisitorCookie:
    """ASGI middleware carrying a gallery visitor's token in an HttpOnly cookie (see the
    module's text), for requests that ask for it (:data:`OPT_IN`): on a share route, one
    without ``Authorization`` but with the link's cookie is let in as if it sent
    ``Bearer <token>``; an answer of the two routes that hand out tokens sets the cookie
    (or ends it when the gallery asks for its password again), and does not echo a token
    the cookie brought."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = _SHARE_PATH.fullmatch(scope.get("path", "")) if scope["type"] == "http" else None
        headers = list(scope.get("headers", [])) if found else []
        if found is None or OPT_IN not in headers:
            await self.app(scope, receive, send)
            return
        from_cookie = None
        if not any(name == b"authorization" for name, _ in headers):
            from_cookie = _cookie_token(headers)
            if from_cookie is not None:
                headers.append((b"authorization", f"Bearer {from_cookie}".encode()))
                scope = {**scope, "headers": headers}
        if not _ISSUING.fullmatch(scope["path"]):
            await self.app(scope, receive, send)
            return
        answer = _Answer(found.group(1), from_cookie, scope.get("scheme") == "https")
        await self.app(scope, receive, answer.collect)
        await answer.send_to(send)


def _cookie_token(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name != b"cookie":
            continue
        for part in value.decode("latin-1").split(";"):
            key, _, token = part.strip().partition("=")
            if key == COOKIE and _TOKEN.fullmatch(token):
                return token
    return None


class _Answer:
    """A token route's answer, held whole (a small JSON) until its cookie is decided."""

    def __init__(self, slug: str, from_cookie: str | None, secure: bool) -> None:
        self.slug, self.from_cookie, self.secure = slug, from_cookie, secure
        self.start: Message | None = None
        self.body = b""

    async def collect(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")

    async def send_to(self, send: Send) -> None:
        if self.start is None:  # the route sent nothing (the server answers for it)
            return
        headers = [(n, v) for n, v in self.start.get("headers", []) if n != b"content-length"]
        body: bytes = self.body
        cookies: list[str] = []
        if self.start["status"] == 200:
            try:
                data = json.loads(body)
            except ValueError:
                data = None
            if isinstance(data, dict):
                body, cookies = self._decide(data)
        headers += [(b"set-cookie", c.encode()) for c in cookies]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**self.start, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _decide(self, data: dict[str, Any]) -> tuple[bytes, list[str]]:
        """The body to send and the cookies to set for a 200 answer ``data``."""
        token = data.get("token")
        if data.get("requiresAuth"):  # the cookie's visit ended: forget it
            return self.body, self._cookies("", 0) if self.from_cookie else []
        if not isinstance(token, str) or not _TOKEN.fullmatch(token):
            return self.body, []
        if token == self.from_cookie:  # let in by the cookie: not given back to a script
            return json.dumps({**data, "token": None}, separators=(",", ":")).encode(), []
        return self.body, self._cookies(token, int(SESSION_TTL.total_seconds()))

    def _cookies(self, token: str, max_age: int) -> list[str]:
        flags = f"Max-Age={max_age}; HttpOnly; SameSite=Strict"
        if self.secure:
            flags += "; Secure"
        return [f"{COOKIE}={token}; Path={base}/{self.slug}; {flags}" for base in _COOKIE_BASES]
