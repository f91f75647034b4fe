"""The studio web app in a real browser: Debian's headless chromium through selenium, the
built app (``npm run build`` in web/, which scripts/setup.sh runs) served with the API by a
real server on loopback. Screenshots go to ``KILO_TEST_ARTIFACTS`` (default: the test's
temporary folder)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kilo.settings import Settings
from support.api import api_settings, mailbox, running_app  # noqa: F401
from support.web_browser import WEBAPP, make_browser


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

    # the built app of this checkout, served by the server itself at /
    settings = api_settings.model_copy(update={"webapp_dir": WEBAPP})
    app = create_app(settings, run_jobs=run_jobs)
    with running_app(app) as port:
        yield f"http://127.0.0.1:{port}", app


@pytest.fixture
def browser() -> Iterator[Any]:
    driver = make_browser(1440, 900)
    try:
        yield driver
    finally:
        driver.quit()
