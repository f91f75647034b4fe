"""Capture times on the studio's cull screen, in Chromium against a real server: an undated
photo says "undated" (never its file's time, which says when it was copied), and a dated
one shows its own wall-clock time (with its offset, or floating) whatever the browser's
time zone, as every kilo front end does (kilo.clock.format_capture)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kilo.projects import create_project
from support.api import EXAMPLES
from support.web_browser import artifacts, needs_browser, needs_build, until

pytestmark = [needs_browser, needs_build, pytest.mark.slow]

#: example photo -> what its caption says (cv_leuvenA: 11:46:10 UTC taken at +02:00 by its
#: GPS time; cv_aloeL: no offset, the camera's wall clock; flower: no capture time at all)
EXPECTED = {
    "cv_leuvenA.jpg": "2019-04-14 13:46:10",
    "cv_aloeL.jpg": "2011-02-01 12:39:51",
    "flower.png.im_q85_420.jpg": "undated",
}


def _caption(browser: Any, origin: str, project_id: str, asset_id: str) -> str:
    browser.get(f"{origin}/projects/{project_id}/cull?frame={asset_id}")
    until(
        lambda: (
            browser.find_element("css selector", "[data-testid=stage]").get_attribute("data-asset")
            == asset_id
        )
    )
    return str(browser.find_element("css selector", "[data-testid=meta]").text)


def test_captions_show_the_photos_own_time_or_undated(
    studio: tuple[str, Any], browser: Any, tmp_path: Path
) -> None:
    from kilo.ingest import ingest
    from kilo_server.auth import mint_open_token

    origin, app = studio
    catalog = app.state.catalog
    project = create_project(catalog, "Times", owner_user_id=catalog.local_user_id)
    done = ingest(catalog, project.id, [EXAMPLES / name for name in EXPECTED])
    assert done.failed == 0
    ids = {Path(r.item).name: r.asset_id for r in done.results}
    # a browser far from every photo's zone: a converted time would show other hours
    browser.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": "Pacific/Auckland"})
    token = mint_open_token(catalog, catalog.local_user_id)
    browser.get(f"{origin}/v1/x-kilo/auth/open?token={token}&next=/projects/{project.id}/cull")
    until(lambda: browser.find_element("css selector", "[data-testid=cull]"))
    for name, want in EXPECTED.items():
        caption = _caption(browser, origin, project.id, ids[name])
        assert name in caption and want in caption, (name, caption)
        browser.save_screenshot(str(artifacts(tmp_path) / f"web-cull-time-{name}-1440.png"))
        if want == "undated":
            # the file's time (this year's ingest) is nowhere in it
            assert "2026" not in caption and ":" not in caption.replace(name, ""), caption
