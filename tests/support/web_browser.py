"""Helpers of the studio web app's browser tests (tests/web): the built app, a Chromium
driven by selenium at a given viewport, waiting for the page, email sign-in."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from support.api import Mailbox

WEBAPP = Path(__file__).resolve().parents[2] / "server" / "kilo_server" / "webapp"
CHROMEDRIVER = shutil.which("chromedriver")
needs_browser = pytest.mark.skipif(
    CHROMEDRIVER is None or shutil.which("chromium") is None,
    reason="needs Debian's chromium and chromium-driver (scripts/setup.sh installs them)",
)
needs_build = pytest.mark.skipif(
    not (WEBAPP / "index.html").is_file(),
    reason="the web app is not built (scripts/setup.sh: npm ci + npm run build in web/)",
)


def make_browser(width: int, height: int, network_log: bool = False) -> Any:
    """Chromium at this viewport; ``network_log``: its DevTools network events are kept for
    ``driver.get_log("performance")``."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
        "--force-device-scale-factor=1",
        "--lang=en",
    ):
        options.add_argument(arg)
    if network_log:
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    if width < MIN_WINDOW_WIDTH:
        # a phone: headless Chromium keeps its window at least 500 px wide (the correction
        # below then gave a 280 px page for 390), so the viewport is emulated as a phone's
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
    else:
        inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
        driver.set_window_size(2 * width - inner[0], 2 * height - inner[1])
    got = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    assert got == [width, height], f"asked for a {width}x{height} page, got {got}"
    return driver


#: the narrowest window headless Chromium keeps
MIN_WINDOW_WIDTH = 500


def until(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    """``check()`` once it is truthy (retried while the page gets there)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            got = check()
            if got:
                return got
        except Exception:  # the element is not there yet
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError("the page did not get there in time")
        time.sleep(0.05)


def artifacts(tmp_path: Path) -> Path:
    out = Path(os.environ.get("KILO_TEST_ARTIFACTS", tmp_path / "artifacts"))
    out.mkdir(parents=True, exist_ok=True)
    return out


def sign_in_by_email(browser: Any, box: Mailbox, email: str) -> None:
    """The sign-in screen's email code flow (no studio cookie in this browser)."""
    from selenium.webdriver.common.by import By

    until(lambda: browser.find_element(By.CSS_SELECTOR, "[data-testid=signin-email]"))
    browser.find_element(By.CSS_SELECTOR, "[data-testid=signin-email]").send_keys(email)
    box.messages.clear()  # the code of this sign-in, not an earlier one
    browser.find_element(By.CSS_SELECTOR, "[data-testid=signin-send]").click()
    code = box.code_for(email, timeout=60)  # a busy machine may take its time
    field = until(lambda: browser.find_element(By.CSS_SELECTOR, "[data-testid=signin-code]"))
    field.send_keys(code)
    browser.find_element(By.CSS_SELECTOR, "[data-testid=signin-verify]").click()
