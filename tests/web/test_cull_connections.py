"""The cull screen's connections to the server in Chromium: only a page in view follows the
project's realtime stream. A browser gives a host six HTTP/1.1 connections; a cull screen
left behind (a frame opened by URL, a reload, the back button) used to keep its stream open
in Chromium's back/forward cache for about a minute, so six of them took every connection
and the next request (the 100% loupe of benchmarks/studio_browser.py) waited ~50 s."""

from __future__ import annotations

import time
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


def _stage_state(browser: Any) -> dict[str, Any]:
    return dict(
        browser.execute_script(
            "const c = document.querySelector('[data-testid=stage-image]');"
            "const p = window.kiloPrefetch;"
            "return {mark: window.kiloMark || 0, width: c ? c.width : 0,"
            " ready: c ? c.dataset.ready || '' : '', closed: p.counts.closed,"
            " bitmaps: p.state().bitmaps}"
        )
    )


def test_a_cull_screen_in_the_back_forward_cache_lets_its_pixels_go_and_draws_them_again(
    studio: tuple[str, Any], browser: Any
) -> None:
    """A page left for another stays in Chromium's back/forward cache with its JS and DOM;
    its decoded frames and canvases are let go (they were ~35 MB a page in the renderer,
    six pages in benchmarks/studio_browser.py), and drawn again when back is pressed."""
    from kilo_server.auth import mint_open_token

    origin, app = studio
    catalog = app.state.catalog
    project = create_project(catalog, "Back and forth", owner_user_id=catalog.local_user_id)
    assert ingest(catalog, project.id, [EXAMPLES / n for n in PHOTOS]).failed == 0
    token = mint_open_token(catalog, catalog.local_user_id)
    cull = f"/projects/{project.id}/cull"
    browser.get(f"{origin}/v1/x-kilo/auth/open?token={token}&next={cull}")
    until(lambda: _stage_state(browser)["ready"] == "1", timeout=60)
    browser.execute_script("window.kiloMark = 1")  # survives only in the cache
    before = _stage_state(browser)
    assert before["bitmaps"] >= 1 and before["width"] > 0
    browser.get(f"{origin}/v1/x-kilo/health")
    browser.back()
    until(lambda: bool(_here(browser)), timeout=60)
    after = _stage_state(browser)
    assert after["mark"] == 1, "the page was loaded anew, not restored from the cache"
    # every bitmap it held was closed on the way out, and the frame is drawn again
    assert after["closed"] >= before["closed"] + before["bitmaps"]
    until(lambda: _stage_state(browser)["ready"] == "1" and _stage_state(browser)["width"] > 0)


def _asked_for(browser: Any, part: str) -> int:
    return int(
        browser.execute_script(
            "return performance.getEntriesByType('resource')"
            ".filter(e => e.name.includes(arguments[0])).length",
            part,
        )
    )


@pytest.mark.shared_photos
def test_a_raw_frame_looked_at_has_its_loupe_made_ahead_and_a_jpeg_does_not(
    studio: tuple[str, Any], browser: Any
) -> None:
    """A RAW's first 100% loupe is a demosaic (~0.3 s): a RAW frame on screen for a
    quarter of a second has its loupe asked for ahead, so Space shows it from the cache;
    a JPEG's loupe is a plain read and is never asked for ahead."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    from kilo_server.auth import mint_open_token
    from support.shared import SHARED_PHOTOS, require_shared

    raw = require_shared(SHARED_PHOTOS / "raw" / "mate_Dune.dng", "a real DNG")
    origin, app = studio
    catalog = app.state.catalog
    project = create_project(catalog, "Loupes ahead", owner_user_id=catalog.local_user_id)
    assert ingest(catalog, project.id, [raw, EXAMPLES / "cv_aloeL.jpg"]).failed == 0
    token = mint_open_token(catalog, catalog.local_user_id)
    cull = f"/projects/{project.id}/cull"
    browser.get(f"{origin}/v1/x-kilo/auth/open?token={token}&next={cull}")
    until(lambda: bool(_here(browser)), timeout=60)
    seen = {}
    for visit in range(2):  # both frames, whichever comes first
        here = _here(browser)
        name = browser.execute_script(
            "return document.querySelector('[data-testid=stage-image]').getAttribute('aria-label')"
        )
        until(lambda: _stage_state(browser)["ready"] == "1", timeout=60)
        time.sleep(1.0)  # looked at
        seen[str(name)] = _asked_for(browser, f"/{here}/loupe")
        if visit == 0:
            ActionChains(browser).send_keys(Keys.ARROW_RIGHT).perform()
            until(lambda here=here: _here(browser) not in ("", here), timeout=30)
    assert seen == {"mate_Dune.dng": 1, "cv_aloeL.jpg": 0}, seen
