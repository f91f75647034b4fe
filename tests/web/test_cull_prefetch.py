"""The cull screen's prefetch in Chromium against a real server, watched on the network
(DevTools' network events): a burst of arrow keys never leaves the frame on screen queued
behind prefetches that earlier keys started. Prefetches go out at low priority, at most
two at a time, and the stale ones are aborted; the frame on screen is asked for at high
priority. Every request is slowed by Chromium's network emulation, so that the requests of
a burst are all on the wire together (what a loaded server does to them)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kilo.projects import create_project
from support.api import EXAMPLES
from support.web_browser import artifacts, make_browser, needs_browser, needs_build, until

pytestmark = [needs_browser, needs_build, pytest.mark.slow]
#: the app's cap on prefetches on the wire at once (web/src/lib/prefetch.ts MAX_ACTIVE)
MAX_ACTIVE = 2


@pytest.fixture
def logged_browser() -> Iterator[Any]:
    driver = make_browser(1440, 900, network_log=True)
    try:
        yield driver
    finally:
        driver.quit()


def _previews(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each preview request of the log: url, priority, when sent, when it ended and how."""
    out: dict[str, dict[str, Any]] = {}
    for event in events:
        method, params = event["method"], event["params"]
        rid = params.get("requestId")
        if method == "Network.requestWillBeSent" and "/preview?" in params["request"]["url"]:
            out[rid] = {
                "url": params["request"]["url"],
                "priority": params["request"]["initialPriority"],
                "sent": params["timestamp"],
                "end": None,
                "canceled": False,
            }
        elif rid in out and method in ("Network.loadingFinished", "Network.loadingFailed"):
            out[rid]["end"] = params["timestamp"]
            out[rid]["canceled"] = bool(params.get("canceled"))
    return out


def test_a_burst_of_keys_gets_the_frame_on_screen_ahead_of_prefetches(
    studio: tuple[str, Any], logged_browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    from kilo.ingest import ingest
    from kilo_server.auth import mint_open_token

    browser = logged_browser
    origin, app = studio
    catalog = app.state.catalog
    project = create_project(catalog, "Prefetch", owner_user_id=catalog.local_user_id)
    names = sorted(p.name for p in EXAMPLES.iterdir() if p.suffix in (".jpg", ".png"))
    assert ingest(catalog, project.id, [EXAMPLES / n for n in names]).failed == 0
    token = mint_open_token(catalog, catalog.local_user_id)
    browser.get(f"{origin}/v1/x-kilo/auth/open?token={token}&next=/projects/{project.id}/cull")
    until(lambda: browser.find_element("css selector", "[data-testid=stage-image]"))
    text = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        f"fetch('/v1/x-kilo/projects/{project.id}/cull', {{headers: {{'X-Kilo-Studio': '1'}}}})"
        ".then(r => r.text()).then(done);"
    )
    frames = [m for s in json.loads(text)["stacks"] for m in s["members"]]
    assert len(frames) == len(names) >= 8
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 400, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    browser.get_log("performance")  # what came before the burst
    # the page's fetches of previews, the prefetches (priority low) counted from their start
    # to their end (the body read, or aborted)
    browser.execute_script(
        "const real = window.fetch; const w = window.kiloWatch = {now: 0, max: 0, prio: []};"
        "window.fetch = (url, init) => {"
        "  if (!String(url).includes('/preview?')) return real(url, init);"
        "  w.prio.push(init && init.priority);"
        "  if (!init || init.priority !== 'low') return real(url, init);"
        "  w.now++; w.max = Math.max(w.max, w.now);"
        "  let on = true; const off = () => { if (on) { on = false; w.now--; } };"
        "  if (init.signal) init.signal.addEventListener('abort', off);"
        "  const p = real(url, init);"
        "  p.then(r => r.clone().blob()).catch(() => 0).finally(off);"
        "  return p; };"
    )
    keys = len(frames) - 1
    chain = ActionChains(browser)
    for _ in range(keys):
        chain.send_keys(Keys.ARROW_RIGHT)
    chain.perform()
    last = frames[keys]
    until(
        lambda: browser.execute_script(
            "const s = document.querySelector('[data-testid=stage]');"
            "const i = document.querySelector('[data-testid=stage-image]');"
            "return s.getAttribute('data-asset') === arguments[0] && i.dataset.ready === '1'",
            last["assetId"],
        )
    )
    browser.save_screenshot(str(artifacts(tmp_path) / "web-cull-filmstrip-burst-1440.png"))
    watch = browser.execute_script("return window.kiloWatch")
    events = [json.loads(e["message"])["message"] for e in browser.get_log("performance")]
    got = list(_previews(events).values())
    # prefetches at low priority, never more than MAX_ACTIVE on the wire at once; the frames
    # the stage shows that were not prefetched, at high priority
    assert watch["prio"].count("low") > 0 and set(watch["prio"]) <= {"low", "high"}, watch
    assert watch["max"] <= MAX_ACTIVE, watch
    low = [r for r in got if r["priority"] in ("VeryLow", "Low")]
    high = [r for r in got if r["priority"] in ("High", "VeryHigh")]
    assert len(low) == watch["prio"].count("low"), (got, watch)
    assert len(high) == watch["prio"].count("high") > 0, (got, watch)
    # the stale ones (frames the keys went past) were cancelled, not served: of the burst's
    # requests the server answered in full only the last frame's and a prefetch or two
    assert all(r["end"] is not None for r in got), got
    assert any(r["canceled"] for r in got), got
    served = [r for r in got if not r["canceled"]]
    assert len(served) <= 1 + MAX_ACTIVE, got
    assert [r["url"] for r in served].count(origin + last["previewUrl"]) == 1, got
