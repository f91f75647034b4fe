"""Two browser tabs on one project's cull screen and a terminal ``kilo cull apply`` (a
separate process on the same library) decide on the same and on different frames, one
after another: every decision ends in the catalog (the last writer wins on a frame, nothing
is lost), and each tab comes to show the others' decisions by itself (its poll of the
view's version), without a key pressed or a reload."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kilo.projects import create_project
from support.api import EXAMPLES
from support.web_browser import needs_browser, needs_build, until

pytestmark = [needs_browser, needs_build, pytest.mark.slow]
PHOTOS = ("cv_aloeL.jpg", "cv_aloeR.jpg", "cv_leuvenA.jpg", "cv_leuvenB.jpg", "group_t1.jpg")
KILO = Path(sys.executable).parent / "kilo"
BADGES = (
    "const t = document.querySelector(`.tile[data-asset='${arguments[0]}']`);"
    "if (!t) return null;"
    "const r = t.querySelector('.rating');"
    "return {picked: !!t.querySelector('.badge.pick'),"
    " rejected: !!t.querySelector('.badge.reject'), starred: !!t.querySelector('.badge.star'),"
    " rating: r ? Number(r.title.split(' ')[1]) : null}"
)


def _terminal(home: Path, project_id: str, *args: str) -> None:
    """``kilo cull apply`` in its own process, on the library the server has open."""
    env = {**os.environ, "KILO_HOME": str(home), "KILO_CLIP_ENABLED": "false"}
    done = subprocess.run(
        [str(KILO), "cull", "apply", project_id, *args, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def _tab_press(browser: Any, tab: str, *keys: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    browser.switch_to.window(tab)
    chain = ActionChains(browser)
    for key in keys:
        chain.send_keys(key)
    chain.perform()
    _sent(browser)


def _sent(browser: Any) -> None:
    """This tab's outbox is empty again (the top bar counts what it has queued)."""
    until(
        lambda: (
            not browser.find_elements("css selector", "[data-testid=outbox-pill]")
            and browser.execute_script("return document.readyState") == "complete"
        )
    )


def _tab_shows(browser: Any, tab: str, asset_id: str) -> dict[str, Any]:
    browser.switch_to.window(tab)
    return dict(browser.execute_script(BADGES, asset_id) or {})


def _catalog_state(catalog: Any, asset_id: str) -> dict[str, Any]:
    from kilo.cull._state import read_ratings

    got = read_ratings(catalog, catalog.local_user_id, [asset_id])[asset_id] or {}
    return {
        "picked": bool(got.get("picked")),
        "rejected": bool(got.get("rejected")),
        "starred": bool(got.get("starred")),
        "rating": got.get("rating") or None,
    }


def test_two_tabs_and_a_terminal_keep_every_decision(
    studio: tuple[str, Any], browser: Any, api_settings: Any
) -> None:
    from kilo.ingest import ingest
    from kilo_server.auth import mint_open_token

    origin, app = studio
    catalog = app.state.catalog
    project = create_project(catalog, "Three hands", owner_user_id=catalog.local_user_id)
    done = ingest(catalog, project.id, [EXAMPLES / n for n in PHOTOS])
    assert done.failed == 0
    token = mint_open_token(catalog, catalog.local_user_id)
    browser.get(f"{origin}/v1/x-kilo/auth/open?token={token}&next=/projects/{project.id}/cull")
    until(lambda: browser.find_element("css selector", "[data-testid=stage]"))
    order = browser.execute_script(
        "return [...document.querySelectorAll('.tile[data-asset]')].map(t => t.dataset.asset)"
    )
    assert len(order) == len(PHOTOS)
    a, b = browser.current_window_handle, None
    browser.switch_to.new_window("tab")
    b = browser.current_window_handle
    browser.get(f"{origin}/projects/{project.id}/cull?frame={order[1]}")
    until(lambda: browser.find_element("css selector", "[data-testid=stage]"))
    home = api_settings.home
    f0, f1, f2, f3, f4 = order

    _tab_press(browser, a, "3")  # A: f0 rated 3
    _tab_press(browser, b, "d")  # B: f1 rejected
    _terminal(home, project.id, "--rate", f"{f2}=4", "--star", f2)  # terminal: f2
    _tab_press(browser, a, "\ue014", "5")  # A: on to f1, rated 5 (B's reject stays)
    _terminal(home, project.id, "--rate", f"{f0}=1")  # terminal: f0 again, after A
    _tab_press(browser, b, "\ue014", "\ue014", "2")  # B: f3 rated 2
    _tab_press(browser, a, "\ue014", "\ue014", "4")  # A: f3 rated 4, after B
    _tab_press(browser, a, "\ue014", "f")  # A: f4 picked
    _tab_press(browser, b, "\ue014", "d")  # B: f4 rejected, after A's pick
    _terminal(home, project.id, "--star", f3, "--clear", f1)  # terminal, last: f3 and f1

    want = {
        f0: {"picked": False, "rejected": False, "starred": False, "rating": 1},
        f1: {"picked": False, "rejected": False, "starred": False, "rating": 5},
        f2: {"picked": False, "rejected": False, "starred": True, "rating": 4},
        f3: {"picked": False, "rejected": False, "starred": True, "rating": 4},
        f4: {"picked": False, "rejected": True, "starred": False, "rating": None},
    }
    for asset_id, state in want.items():
        assert _catalog_state(catalog, asset_id) == state, asset_id
    # each tab shows every decision, its own and the others', without a key or a reload
    for tab in (a, b):
        for asset_id, state in want.items():
            until(lambda t=tab, x=asset_id, s=state: _tab_shows(browser, t, x) == s, timeout=60)


def test_a_tab_keeps_another_tabs_queued_decisions_for_after_a_reload(
    studio: tuple[str, Any], browser: Any
) -> None:
    """Tab A loses its connection and queues a decision; tab B, online, decides and sends;
    A is closed before it could send. A new tab sends A's decision: B's write of the shared
    queue kept it (it once wrote its own empty list over it, and A's decision was lost)."""
    from kilo.ingest import ingest
    from kilo_server.auth import mint_open_token

    origin, app = studio
    catalog = app.state.catalog
    project = create_project(catalog, "Closed tab", owner_user_id=catalog.local_user_id)
    assert ingest(catalog, project.id, [EXAMPLES / n for n in PHOTOS[:2]]).failed == 0
    token = mint_open_token(catalog, catalog.local_user_id)
    cull = f"/projects/{project.id}/cull"
    browser.get(f"{origin}/v1/x-kilo/auth/open?token={token}&next={cull}")
    until(lambda: browser.find_element("css selector", "[data-testid=stage]"))
    f0, f1 = browser.execute_script(
        "return [...document.querySelectorAll('.tile[data-asset]')].map(t => t.dataset.asset)"
    )
    a = browser.current_window_handle
    browser.switch_to.new_window("tab")
    b = browser.current_window_handle
    browser.get(f"{origin}{cull}?frame={f1}")
    until(lambda: browser.find_element("css selector", "[data-testid=stage]"))

    browser.switch_to.window(a)  # A only: Chromium's network emulation of this tab
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0},
    )
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(browser).send_keys("3").perform()  # A: f0 rated 3, queued
    until(lambda: f0 in (browser.execute_script("return localStorage.getItem('kilo.outbox')")))
    _tab_press(browser, b, "d")  # B: f1 rejected and sent
    until(lambda: _catalog_state(catalog, f1)["rejected"] is True)
    assert f0 in browser.execute_script("return localStorage.getItem('kilo.outbox')")
    assert _catalog_state(catalog, f0)["rating"] is None
    browser.switch_to.window(a)
    browser.close()  # A goes away with its decision unsent
    browser.switch_to.window(b)
    browser.switch_to.new_window("tab")  # a new tab takes over what is queued
    browser.get(f"{origin}{cull}")
    until(lambda: _catalog_state(catalog, f0)["rating"] == 3)
    until(
        lambda: browser.execute_script("return localStorage.getItem('kilo.outbox')") in ("[]", None)
    )
