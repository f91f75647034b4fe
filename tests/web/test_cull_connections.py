"""The cull screen's connections to the server in Chromium: only a page in view follows the
project's realtime stream. A browser gives a host six HTTP/1.1 connections; a cull screen
left behind (a frame opened by URL, a reload, the back button) used to keep its stream open
in Chromium's back/forward cache for about a minute, so six of them took every connection
and the next request (the 100% loupe of benchmarks/studio_browser.py) waited ~50 s."""

from __future__ import annotations

from typing import Any

import pytest

from kilo.ingest import ingest
from kilo.projects import create_project
from support.api import EXAMPLES
from support.web_browser import needs_browser, needs_build, until

pytestmark = [needs_browser, needs_build, pytest.mark.slow]
PHOTOS = ("cv_leuvenA.jpg", "cv_aloeL.jpg", "group_t1.jpg")
#: more cull screens than a browser has connections to one host
VISITS = 8


def _here(browser: Any) -> str:
    found = browser.find_elements("css selector", "[data-testid=stage]")
    return str(found[0].get_attribute("data-asset")) if found else ""


def _loupe_width(browser: Any) -> int:
    return int(
        browser.execute_script(
            "const i = document.querySelector('[data-testid=loupe] img');"
            "return i && i.complete ? i.naturalWidth : 0"
        )
    )


def test_a_cull_screen_left_behind_gives_its_connection_back(
    studio: tuple[str, Any], browser: Any
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    from kilo_server.auth import mint_open_token

    origin, app = studio
    catalog = app.state.catalog
    streams = app.state.broadcaster  # .listeners: the realtime streams open right now
    project = create_project(catalog, "Connections", owner_user_id=catalog.local_user_id)
    assert ingest(catalog, project.id, [EXAMPLES / n for n in PHOTOS]).failed == 0
    token = mint_open_token(catalog, catalog.local_user_id)
    cull = f"/projects/{project.id}/cull"
    browser.get(f"{origin}/v1/x-kilo/auth/open?token={token}&next={cull}")
    until(lambda: _here(browser), timeout=60)
    until(lambda: streams.listeners == 1)
    for visit in range(VISITS):  # each a new page (a new URL), as a frame opened by link is
        browser.get(f"{origin}{cull}?visit={visit}")
        until(lambda: _here(browser), timeout=60)
        # the page left behind closed its stream: only the one in view follows
        until(lambda: streams.listeners == 1, timeout=20)
    # a connection is free for the loupe: it is painted
    ActionChains(browser).send_keys(" ").perform()
    until(lambda: _loupe_width(browser) > 0, timeout=60)
    # back: the page comes again (from the back/forward cache or loaded anew) and follows
    browser.back()
    until(lambda: _here(browser), timeout=60)
    until(lambda: streams.listeners == 1, timeout=20)
    assert browser.execute_script("return document.visibilityState") == "visible"
    # a hidden tab keeps no stream; shown again, it follows the project again
    main = browser.current_window_handle
    browser.switch_to.new_window("tab")
    browser.get(f"{origin}/v1/x-kilo/health")
    until(lambda: streams.listeners == 0, timeout=20)
    browser.close()
    browser.switch_to.window(main)
    until(lambda: streams.listeners == 1, timeout=20)
