"""The client's gallery page in a real browser: Debian's headless chromium, driven through
chromedriver by selenium, against a real server on loopback. The visitor is refused without
the password, gets in with it, favorites two photos, comments (with a script in the text,
shown as text), walks the lightbox by keyboard, submits the selection; the catalog has all
of it. Screenshots at 1280x800 and 360x740 go to ``KILO_TEST_ARTIFACTS`` (default: the
test's temporary folder)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kilo.gallery import create_gallery
from kilo.ingest import ingest
from kilo.projects import create_project
from support.api import EXAMPLES, LiveServer
from support.web_browser import artifacts as _artifacts
from support.web_browser import until as _until

CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMEDRIVER is None or shutil.which("chromium") is None,
    reason="needs Debian's chromium and chromium-driver (scripts/setup.sh installs them)",
)


@pytest.fixture
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,800",
        "--lang=en",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def _comment_in_the_lightbox(browser: Any, count: int, evil: str, shots: Path) -> None:
    """The lightbox by keyboard, a comment with a script in it, shown as text."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.find_elements(By.CSS_SELECTOR, "#grid .tile")[2].click()
    _until(lambda: browser.find_element(By.ID, "lightbox").is_displayed())
    assert browser.find_element(By.ID, "position").text == f"3 / {count}"
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.ARROW_RIGHT)
    _until(lambda: browser.find_element(By.ID, "position").text == f"4 / {count}")
    body.send_keys(Keys.ARROW_LEFT)
    _until(lambda: browser.find_element(By.ID, "position").text == f"3 / {count}")
    browser.find_element(By.ID, "comments-open").click()
    browser.find_element(By.ID, "comment").send_keys(evil)
    browser.find_element(By.CSS_SELECTOR, "#comment-form button").click()
    shown = _until(lambda: browser.find_elements(By.CSS_SELECTOR, "#comments li"))
    assert shown[0].text == evil
    assert browser.execute_script("return window.pwned === undefined")
    browser.save_screenshot(str(shots / "gallery-lightbox-1280.png"))
    body.send_keys(Keys.ESCAPE)  # closes the drawer, then the lightbox
    body.send_keys(Keys.ESCAPE)
    _until(lambda: not browser.find_element(By.ID, "lightbox").is_displayed())


def _check_the_phone_layout(browser: Any, shots: Path) -> None:
    """The phone: two columns, nothing wider than the screen."""
    browser.set_window_size(360, 740)
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= 360
    columns = browser.execute_script(
        "return getComputedStyle(document.getElementById('grid')).gridTemplateColumns"
    )
    assert len(columns.split()) == 2
    browser.save_screenshot(str(shots / "gallery-grid-360.png"))


def test_a_client_opens_favorites_comments_and_submits_in_chromium(
    live_server: LiveServer, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    cat = live_server.catalog
    project = create_project(cat, "Smith wedding")
    files = sorted(EXAMPLES.glob("*.jpg"))[:6]
    assert ingest(cat, project.id, files).failed == 0
    ids = [str(r[0]) for r in cat.fetchall("SELECT id FROM assets ORDER BY filename")]
    gallery = create_gallery(
        cat, project.id, title="Smith wedding", asset_ids=ids, password="rings"
    )
    page = live_server.url.removesuffix("/v1") + gallery.share_path
    shots = _artifacts(tmp_path)

    browser.get(page)
    _until(lambda: browser.find_element(By.ID, "locked").is_displayed())
    assert browser.find_elements(By.CSS_SELECTOR, "#grid img") == []  # nothing before the password
    browser.save_screenshot(str(shots / "gallery-password-1280.png"))
    field = browser.find_element(By.ID, "password")
    field.send_keys("wrong", Keys.ENTER)
    _until(lambda: "did not work" in browser.find_element(By.ID, "password-error").text)
    field.clear()
    field.send_keys("rings", Keys.ENTER)
    tiles = _until(lambda: browser.find_elements(By.CSS_SELECTOR, "#grid .tile"))
    assert len(tiles) == len(ids)
    _until(
        lambda: all(
            img.get_attribute("naturalWidth") not in (None, "0")
            for img in browser.find_elements(By.CSS_SELECTOR, "#grid img")
        )
    )

    pressed = (
        "return document.querySelectorAll('#grid .tile')[arguments[0]]"
        ".querySelector('.heart').getAttribute('aria-pressed')"
    )
    for i in (0, 1):  # the grid is drawn again after each favorite: look the tile up anew
        browser.find_elements(By.CSS_SELECTOR, "#grid .tile .heart")[i].click()
        _until(lambda i=i: browser.execute_script(pressed, i) == "true")
    _until(lambda: "2 favorites" in browser.find_element(By.ID, "summary").text)
    browser.save_screenshot(str(shots / "gallery-grid-1280.png"))

    evil = "<img src=x onerror=window.pwned=1><script>window.pwned=2</script> lovely"
    _comment_in_the_lightbox(browser, len(ids), evil, shots)
    _check_the_phone_layout(browser, shots)

    browser.execute_script("window.confirm = () => true")
    browser.find_element(By.ID, "submit").click()
    _until(lambda: "selection sent" in browser.find_element(By.ID, "summary").text)

    # the catalog has it all
    favs = {str(r[0]) for r in cat.fetchall("SELECT asset_id FROM favorites")}
    assert favs == set(ids[:2])
    assert cat.scalar("SELECT text FROM comments") == evil
    assert cat.scalar("SELECT count(*) FROM gallery_selections") == 1
    # the page's own rules: no inline script allowed, no referrer, no framing
    assert (
        browser.execute_script("return document.querySelectorAll('script:not([src])').length") == 0
    )
