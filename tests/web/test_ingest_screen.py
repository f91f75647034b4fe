"""The studio's Import screen in Chromium against a real server: photos chosen in the
browser go up through the contract's signed uploads (prepare, PUT, finalize) and are in
the catalog; after a reload the finished rows are remembered (IndexedDB) and choosing the
same files again uploads only the new one; "Go to Cull" is active at once; the phone
layout fits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kilo.assets import list_assets
from kilo.catalog.users_repo import find_user_id
from kilo.projects import list_projects
from support.api import EXAMPLES, Mailbox
from support.web_browser import (
    artifacts,
    make_browser,
    needs_browser,
    needs_build,
    sign_in_by_email,
    until,
)

pytestmark = [needs_browser, needs_build, pytest.mark.slow]
EMAIL = "ana@studio.example"


def _choose(browser: Any, files: list[Path]) -> None:
    """The file picker, as a user's choice (selenium types the paths into the input)."""
    field = browser.find_element("css selector", "[data-testid=file-input]")
    browser.execute_script("arguments[0].hidden = false", field)
    field.send_keys("\n".join(str(f) for f in files))
    browser.execute_script("arguments[0].hidden = true", field)


def _rows(browser: Any) -> dict[str, str]:
    return {
        r.find_element("css selector", ".name").text: r.find_element("css selector", ".status").text
        for r in browser.find_elements("css selector", "[data-testid=upload-row]")
    }


def test_browser_uploads_land_in_the_catalog_and_resume_skips_finished_files(
    studio: tuple[str, Any], browser: Any, mailbox: tuple[Mailbox, int], tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    origin, app = studio
    catalog = app.state.catalog
    shots = artifacts(tmp_path)
    browser.get(origin + "/projects")
    sign_in_by_email(browser, mailbox[0], EMAIL)
    until(lambda: browser.find_element(By.CSS_SELECTOR, "[data-testid=projects-empty]"))
    browser.find_element(By.CSS_SELECTOR, "[data-testid=new-project]").click()
    title = until(lambda: browser.find_element(By.CSS_SELECTOR, "[data-testid=new-project-title]"))
    title.send_keys("Uploads", Keys.ENTER)
    until(lambda: browser.current_url.endswith("/ingest"))
    project = list_projects(catalog, owner_user_id=find_user_id(catalog, EMAIL)).items[0]
    cull = browser.find_element(By.CSS_SELECTOR, "[data-testid=go-to-cull]")
    assert cull.is_enabled() and cull.get_attribute("href").endswith(f"/projects/{project.id}/cull")

    photos = sorted(EXAMPLES.glob("*.jpg"))[:4]
    _choose(browser, photos[:3])
    until(lambda: list(_rows(browser).values()) == ["Uploaded"] * 3, timeout=60)
    browser.save_screenshot(str(shots / "web-ingest-uploaded-1440.png"))
    names = lambda: sorted(a.filename for a in list_assets(catalog, project.id).items)  # noqa: E731
    until(lambda: names() == sorted(p.name for p in photos[:3]))

    # a closed tab: the finished rows are remembered; the same files again, plus one new
    # (an e-mail sign-in's token lives in memory only: a reload asks for it again)
    browser.refresh()
    sign_in_by_email(browser, mailbox[0], EMAIL)
    until(lambda: list(_rows(browser).values()) == ["Uploaded"] * 3)
    _choose(browser, photos)
    until(lambda: list(_rows(browser).values()) == ["Uploaded"] * 4, timeout=60)
    until(lambda: names() == sorted(p.name for p in photos))  # nothing uploaded twice

    browser.find_element(By.CSS_SELECTOR, "[data-testid=go-to-cull]").click()
    until(lambda: browser.current_url == f"{origin}/projects/{project.id}/cull")

    phone = make_browser(390, 844)
    try:
        phone.get(f"{origin}/projects/{project.id}/ingest")
        sign_in_by_email(phone, mailbox[0], EMAIL)
        until(lambda: phone.find_element(By.CSS_SELECTOR, "[data-testid=drop-zone]"))
        assert phone.execute_script("return document.documentElement.scrollWidth") <= 390
        phone.save_screenshot(str(shots / "web-ingest-390.png"))
    finally:
        phone.quit()


def test_go_to_cull_during_a_local_ingest_shows_frames_as_they_are_ready(
    studio_with_jobs: tuple[str, Any], browser: Any, tmp_path: Path
) -> None:
    import shutil

    from selenium.webdriver.common.by import By

    from kilo.projects import create_project
    from kilo_server import auth

    origin, app = studio_with_jobs
    catalog = app.state.catalog
    card = tmp_path / "card"
    card.mkdir()
    photos = sorted(EXAMPLES.glob("*.jpg"))
    for p in photos:
        shutil.copy(p, card / p.name)
    project = create_project(catalog, "Card", owner_user_id=catalog.local_user_id)
    token = auth.mint_open_token(catalog, catalog.local_user_id)
    browser.get(f"{origin}/v1/x-kilo/auth/open?token={token}&next=/projects/{project.id}/ingest")
    field = until(lambda: browser.find_element(By.CSS_SELECTOR, "[data-testid=local-path]"))
    field.send_keys(str(card))
    browser.find_element(By.CSS_SELECTOR, "[data-testid=local-form] button").click()
    browser.find_element(By.CSS_SELECTOR, "[data-testid=go-to-cull]").click()  # at once
    until(lambda: browser.current_url.startswith(f"{origin}/projects/{project.id}/cull"))
    # the open cull screen fills as the ingest goes on, without a reload
    frames = "return document.querySelectorAll('[data-testid=filmstrip] .tile').length"
    stacks = "return document.querySelectorAll('[data-stack]').length"
    until(lambda: browser.find_elements(By.CSS_SELECTOR, "[data-testid=stage]"), timeout=120)
    until(lambda: browser.execute_script(stacks) + browser.execute_script(frames) > 1, timeout=120)
    browser.save_screenshot(str(artifacts(tmp_path) / "web-cull-during-ingest-1440.png"))
    members = (
        "return [...document.querySelectorAll('[data-stack]')]"
        ".map(b => Number(b.querySelector('.st-meta').textContent.split('·').pop()))"
        ".reduce((a, b) => a + b, 0)"
    )
    until(lambda: browser.execute_script(members) == len(photos), timeout=120)
