"""The studio's cull screen in Chromium against a real server, signed in as ``kilo open``
does (its one-time link), on a real shoot (five photos, two of them copies of one picture,
ingested and analysed): every key of the design document's map, compare 2-up and 4-up, the
100% loupe from the original's pixels, undo and redo, a held arrow key, and the decisions
in the catalog after each."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kilo.projects import create_project
from support.api import EXAMPLES
from support.web_browser import artifacts, needs_browser, needs_build, until

pytestmark = [needs_browser, needs_build, pytest.mark.slow]
PHOTOS = (
    "flower.png.im_q85_420.jpg",
    "flower.png.im_q85_444.jpg",
    "cv_leuvenA.jpg",
    "cv_aloeL.jpg",
    "group_t1.jpg",
)


def _open_cull(browser: Any, origin: str, catalog: Any, project_id: str) -> None:
    """Into the cull screen as the photographer at this machine (kilo open's link)."""
    from kilo_server.auth import mint_open_token

    token = mint_open_token(catalog, catalog.local_user_id)
    browser.get(f"{origin}/v1/x-kilo/auth/open?token={token}&next=/projects/{project_id}/cull")
    until(lambda: browser.find_element("css selector", "[data-testid=cull]"))


def _view(browser: Any, project_id: str) -> dict[str, Any]:
    """The cull view as the page reads it (the same session)."""
    text = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        f"fetch('/v1/x-kilo/projects/{project_id}/cull', {{headers: {{'X-Kilo-Studio': '1'}}}})"
        ".then(r => r.text()).then(done);"
    )
    return dict(json.loads(text))


def _here(browser: Any) -> str:
    return str(
        browser.find_element("css selector", "[data-testid=stage]").get_attribute("data-asset")
    )


def _press(browser: Any, *keys: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    chain = ActionChains(browser)
    for key in keys:
        chain.send_keys(key)
    chain.perform()


def _shift(browser: Any, key: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    ActionChains(browser).key_down(Keys.SHIFT).send_keys(key).key_up(Keys.SHIFT).perform()


def _settled(browser: Any) -> None:
    """Every decision left the page's outbox (the server answered each)."""
    until(
        lambda: browser.execute_script("return localStorage.getItem('kilo.outbox')") in ("[]", None)
    )


def _rating(catalog: Any, asset_id: str) -> dict[str, Any]:
    from kilo.cull._state import read_ratings

    return dict(read_ratings(catalog, catalog.local_user_id, [asset_id])[asset_id] or {})


def _cluster(catalog: Any, cluster_id: str) -> dict[str, Any]:
    from kilo.cull._state import read_clusters

    return dict(read_clusters(catalog, [cluster_id])[cluster_id])


def _stack_of(catalog: Any, asset_id: str) -> str | None:
    """The duplicate group or burst the frame is in (None: in none)."""
    row = catalog.fetchone(
        "SELECT m.cluster_id FROM cluster_members m JOIN clusters c ON c.id = m.cluster_id "
        "WHERE m.asset_id = ? AND c.kind <> 'moment'",
        [asset_id],
    )
    return None if row is None else str(row[0])


def test_every_key_of_the_map_lands_in_the_catalog(
    studio: tuple[str, Any], browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    from kilo.analyze import analyze
    from kilo.ingest import ingest

    origin, app = studio
    catalog = app.state.catalog
    shots = artifacts(tmp_path)
    project = create_project(catalog, "Cull by keys", owner_user_id=catalog.local_user_id)
    assert ingest(catalog, project.id, [EXAMPLES / n for n in PHOTOS]).failed == 0
    analyze(catalog, project.id)
    _open_cull(browser, origin, catalog, project.id)
    view = _view(browser, project.id)
    assert view["aiReady"] is True
    order = [m["assetId"] for s in view["stacks"] for m in s["members"]]
    assert sorted(order) == sorted({*order}) and len(order) == len(PHOTOS)
    browser.save_screenshot(str(shots / "web-cull-ready-1440.png"))

    # the canvas has the photo's true aspect ratio (never stretched)
    until(
        lambda: browser.execute_script(
            "const i = document.querySelector('[data-testid=stage-image]');"
            "return i && i.dataset.ready === '1' && i.dataset.natural"
        )
    )
    box, natural = browser.execute_script(
        "const s = document.querySelector('[data-testid=stage]').getBoundingClientRect();"
        "const [w, h] = document.querySelector('[data-testid=stage-image]')"
        ".dataset.natural.split('x').map(Number);"
        "return [s.width / s.height, w / h]"
    )
    assert abs(box - natural) / natural < 0.02

    # arrows: right and left through the frames in order; the URL keeps the place
    start = _here(browser)
    i = order.index(start)
    _press(browser, Keys.ARROW_RIGHT)
    until(lambda: _here(browser) == order[i + 1])
    until(lambda: f"frame={order[i + 1]}" in browser.current_url)
    browser.refresh()
    until(lambda: _here(browser) == order[i + 1])  # reload keeps the frame
    _press(browser, Keys.ARROW_LEFT)
    until(lambda: _here(browser) == start)

    # 1-5, S, D (toggle): one frame's decisions
    _press(browser, "3", "s", "d")
    _settled(browser)
    got = _rating(catalog, start)
    assert (got["rating"], got["starred"], got["rejected"]) == (3, True, True)
    _press(browser, "d", "5")
    _settled(browser)
    got = _rating(catalog, start)
    assert (got["rating"], got["rejected"]) == (5, False)

    # F on the duplicate pair: the winner is set, the stack reviewed, the screen moves on
    dup = next(s for s in view["stacks"] if s["kind"] == "duplicate")
    first = dup["members"][0]["assetId"]
    while _here(browser) != first:
        _press(
            browser,
            Keys.ARROW_RIGHT
            if order.index(_here(browser)) < order.index(first)
            else Keys.ARROW_LEFT,
        )
    _press(browser, "f")
    until(lambda: _here(browser) not in dup["memberIds"])
    _settled(browser)
    cluster = _cluster(catalog, dup["clusterId"])
    assert cluster["winner_asset_id"] == first and cluster["reviewed"] is True
    assert _rating(catalog, first)["picked"] is True
    browser.save_screenshot(str(shots / "web-cull-after-winner-1440.png"))

    # Z undoes the pick, Shift+Z redoes it
    _press(browser, "z")
    _settled(browser)
    until(lambda: _cluster(catalog, dup["clusterId"])["reviewed"] is not True)
    _shift(browser, "Z")
    _settled(browser)
    until(lambda: _cluster(catalog, dup["clusterId"])["reviewed"] is True)

    # Shift+D rejects the whole stack
    while _here(browser) not in dup["memberIds"]:
        _press(browser, Keys.ARROW_UP)
    _shift(browser, "D")
    _settled(browser)
    assert all(_rating(catalog, a)["rejected"] for a in dup["memberIds"])
    until(lambda: browser.find_element(By.CSS_SELECTOR, "[data-stack] .lock"))

    # C: compare 2-up, then 4-up, then off
    _press(browser, "c")
    grid = until(lambda: browser.find_element(By.CSS_SELECTOR, "[data-testid=compare]"))
    assert grid.get_attribute("data-count") == "2"
    browser.save_screenshot(str(shots / "web-cull-compare-2up-1440.png"))
    _press(browser, "c")
    until(
        lambda: (
            browser.find_element(By.CSS_SELECTOR, "[data-testid=compare]").get_attribute(
                "data-count"
            )
            == "4"
        )
    )
    browser.save_screenshot(str(shots / "web-cull-compare-4up-1440.png"))
    _press(browser, "c")
    until(lambda: not browser.find_elements(By.CSS_SELECTOR, "[data-testid=compare]"))

    # Space: the 100% loupe, from the original's pixels
    here = _here(browser)
    width = next(m["width"] for s in view["stacks"] for m in s["members"] if m["assetId"] == here)
    _press(browser, " ")
    until(
        lambda: (
            browser.execute_script(
                "const i = document.querySelector('[data-testid=loupe] img');"
                "return i && i.complete && i.naturalWidth"
            )
            == width
        )
    )
    browser.save_screenshot(str(shots / "web-cull-loupe-1440.png"))
    _press(browser, Keys.ESCAPE)
    until(lambda: browser.find_elements(By.CSS_SELECTOR, "[data-testid=stage]"))

    # a held arrow key: every key event moves one frame, none is dropped
    while order.index(_here(browser)) > 0:
        _press(browser, Keys.ARROW_LEFT)
    _press(browser, *[Keys.ARROW_RIGHT] * (len(order) - 1))
    until(lambda: _here(browser) == order[-1])

    # the drawer splits the duplicate pair; Z takes the split back, Shift+Z does it again
    second = dup["members"][1]["assetId"]
    while _here(browser) != second:
        _press(browser, Keys.ARROW_LEFT)
    browser.find_element(By.CSS_SELECTOR, "[data-testid=btn-drawer]").click()
    drawer = until(lambda: browser.find_element(By.CSS_SELECTOR, "[data-testid=split-drawer]"))
    next(b for b in drawer.find_elements(By.TAG_NAME, "button") if "Split" in b.text).click()
    until(lambda: _stack_of(catalog, second) not in (None, dup["clusterId"]))
    _press(browser, "z")
    _settled(browser)
    until(lambda: _stack_of(catalog, second) == dup["clusterId"])
    assert _stack_of(catalog, first) == dup["clusterId"]
    _shift(browser, "Z")
    _settled(browser)
    until(lambda: _stack_of(catalog, second) not in (None, dup["clusterId"]))


def test_decisions_made_offline_are_sent_in_order_when_the_server_is_back(
    studio: tuple[str, Any], browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    from kilo.ingest import ingest

    origin, app = studio
    catalog = app.state.catalog
    project = create_project(catalog, "Offline", owner_user_id=catalog.local_user_id)
    assert ingest(catalog, project.id, [EXAMPLES / n for n in PHOTOS[2:]]).failed == 0
    _open_cull(browser, origin, catalog, project.id)
    until(lambda: _here(browser))
    here = _here(browser)
    # the connection drops (Chromium's own network emulation): the page cannot reach anyone
    browser.set_network_conditions(offline=True, latency=0, throughput=0)
    _press(browser, "2", "s", "4")  # 2, star, then 4: the last rating must win
    until(lambda: browser.find_element(By.CSS_SELECTOR, "[data-testid=banner-offline]"))
    assert "3 queued" in browser.find_element(By.CSS_SELECTOR, "[data-testid=outbox-pill]").text
    assert _rating(catalog, here) == {}  # nothing reached the catalog
    browser.save_screenshot(str(artifacts(tmp_path) / "web-cull-offline-1440.png"))
    browser.set_network_conditions(offline=False, latency=0, throughput=-1)
    _settled(browser)
    got = _rating(catalog, here)
    assert (got["rating"], got["starred"]) == (4, True)
    until(lambda: not browser.find_elements(By.CSS_SELECTOR, "[data-testid=banner-offline]"))


def test_a_held_arrow_through_500_frames_of_3000_drops_no_key(
    studio: tuple[str, Any], browser: Any
) -> None:
    from selenium.webdriver.common.keys import Keys

    from support.studio import build_big_project

    origin, app = studio
    catalog = app.state.catalog
    project = create_project(catalog, "Big wedding", owner_user_id=catalog.local_user_id)
    build_big_project(catalog, project.id, catalog.local_user_id, n=3000)  # no pixels
    _open_cull(browser, origin, catalog, project.id)
    order = [m["assetId"] for s in _view(browser, project.id)["stacks"] for m in s["members"]]
    assert len(order) == 3000
    until(lambda: _here(browser) == order[0])
    # 500 key events as fast as the driver sends them (one chain: no pause between them)
    _press(browser, *[Keys.ARROW_RIGHT] * 500)
    until(lambda: _here(browser) == order[500])
    until(lambda: f"frame={order[500]}" in browser.current_url)
    _press(browser, *[Keys.ARROW_LEFT] * 250)
    until(lambda: _here(browser) == order[250])
