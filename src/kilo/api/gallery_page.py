"""The client's gallery page, ``/g/{shareSlug}``: one HTML shell (jinja2, autoescaped), a
script and a stylesheet served from the package, no build step. The page talks only to the
public ``/v1/share`` routes. Every response forbids inline script and framing, sends no
referrer (the link must not leak to the sites a client visits next) and is not indexed."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse, Response

from kilo.errors import NotFound

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

    env = jinja2.Environment(loader=jinja2.PackageLoader("kilo.api", "templates"),
                             autoescape=True)  # fmt: skip
    return env.get_template("gallery.html")


@router.get(f"{STATIC}/{{name}}")
def gallery_static(name: str) -> Response:
    if name not in _FILES:
        raise NotFound("no such file")
    data = (resources.files("kilo.api") / "static" / name).read_bytes()
    headers = {**POLICY, "Cache-Control": "public, max-age=3600"}
    return Response(data, media_type=_FILES[name], headers=headers)


@router.get("/g/{shareSlug}", response_class=HTMLResponse)
def gallery_page(shareSlug: Annotated[str, Path(min_length=8, max_length=128)]) -> HTMLResponse:
    """The page; whether the gallery exists is for its script to learn from the API (the
    same answer for every link, so the page itself tells nothing)."""
    html = _template().render(slug=shareSlug, api="/v1", static=STATIC)
    return HTMLResponse(html, headers=POLICY)
