"""The studio web app in a real browser: Debian's headless chromium through selenium, the
built app (``npm run build`` in web/, which scripts/setup.sh runs) served with the API by a
real server on loopback. Screenshots go to ``KILO_TEST_ARTIFACTS`` (default: the test's
temporary folder)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kilo.settings import Settings
from support.api import api_settings, mailbox, running_app  # noqa: F401
from support.web_browser import WEBAPP, make_browser


def _spa(app: Any) -> Any:
    """``app`` with the built web app at every path outside /v1 and /g/ (index.html for the
    app's own URLs), for a server that does not serve it itself yet."""

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(("/v1/", "/g/")):
            await app(scope, receive, send)
            return
        target = (WEBAPP / path.lstrip("/")).resolve()
        if WEBAPP.resolve() not in target.parents or not target.is_file():
            target = WEBAPP / "index.html"
        kind = {".js": b"text/javascript", ".css": b"text/css", ".html": b"text/html"}.get(
            target.suffix, b"application/octet-stream"
        )
        body = target.read_bytes()
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", kind)]}
        )
        await send({"type": "http.response.body", "body": body})

    return asgi


@pytest.fixture
def studio(api_settings: Settings) -> Iterator[tuple[str, Any]]:  # noqa: F811
    """(the server's origin, the app) with the web app at /."""
    yield from _serve(api_settings, run_jobs=False)


@pytest.fixture
def studio_with_jobs(api_settings: Settings) -> Iterator[tuple[str, Any]]:  # noqa: F811
    """As :func:`studio`, with the server's own job workers running (an ingest proceeds)."""
    yield from _serve(api_settings, run_jobs=True)


def _serve(api_settings: Settings, run_jobs: bool) -> Iterator[tuple[str, Any]]:  # noqa: F811
    from kilo_server import create_app

    app = create_app(api_settings, run_jobs=run_jobs)
    import kilo_server

    # a server with its own web app module serves the app itself
    own = (Path(kilo_server.__file__).parent / "webapp.py").is_file()
    served = app if own else _spa(app)
    with running_app(served) as port:
        yield f"http://127.0.0.1:{port}", app


@pytest.fixture
def browser() -> Iterator[Any]:
    driver = make_browser(1440, 900)
    try:
        yield driver
    finally:
        driver.quit()
