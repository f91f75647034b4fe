"""The studio's Projects screen in Chromium against a real server: email sign-in, the
first-run empty state, a project made through the New project modal (it is in the catalog,
and the app moves to its import screen), cards with their counts after an ingest, the
project switcher, reload keeping the place, and the phone layout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kilo.catalog.users_repo import find_user_id
from kilo.ingest import ingest
from kilo.projects import create_project, list_projects
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


def _text(browser: Any, css: str) -> str:
    from selenium.webdriver.common.by import By

    return str(browser.find_element(By.CSS_SELECTOR, css).text)


def test_first_run_create_a_project_and_see_its_card(
    studio: tuple[str, Any], browser: Any, mailbox: tuple[Mailbox, int], tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    origin, app = studio
    catalog = app.state.catalog
    shots = artifacts(tmp_path)
    browser.get(origin + "/")
    sign_in_by_email(browser, mailbox[0], EMAIL)
    until(lambda: "Your first project" in _text(browser, "[data-testid=projects-empty]"))
    assert browser.current_url == origin + "/projects"  # / opens the projects screen
    browser.save_screenshot(str(shots / "web-projects-empty-1440.png"))

    browser.find_element(By.CSS_SELECTOR, "[data-testid=new-project]").click()
    title = until(lambda: browser.find_element(By.CSS_SELECTOR, "[data-testid=new-project-title]"))
    title.send_keys("Lake wedding", Keys.ENTER)
    until(lambda: browser.current_url.endswith("/ingest"))
    user = find_user_id(catalog, EMAIL)
    made = [p for p in list_projects(catalog, owner_user_id=user).items]
    assert [p.title for p in made] == ["Lake wedding"]  # in the catalog, owned by the user
    assert browser.current_url == f"{origin}/projects/{made[0].id}/ingest"
    until(lambda: "Lake wedding" in _text(browser, "[data-testid=project-switcher]"))

    # a second project with photos in it: its card counts them
    full = create_project(catalog, "Studio portraits", owner_user_id=user)
    assert ingest(catalog, full.id, sorted(EXAMPLES.glob("*.jpg"))[:4]).failed == 0
    browser.find_element(By.LINK_TEXT, "Projects").click()
    until(lambda: len(browser.find_elements(By.CSS_SELECTOR, "[data-testid=project-card]")) == 2)
    cards = {
        c.find_element(By.TAG_NAME, "h2").text: c.text
        for c in browser.find_elements(By.CSS_SELECTOR, "[data-testid=project-card]")
    }
    assert set(cards) == {"Lake wedding", "Studio portraits"}
    assert "Photos\n4" in cards["Studio portraits"]
    assert "Photos\n0" in cards["Lake wedding"]
    assert browser.find_elements(By.CSS_SELECTOR, "[data-testid=project-card] svg.ring")
    browser.save_screenshot(str(shots / "web-projects-cards-1440.png"))

    # jump actions: Cull of a card opens that project's cull screen at its own URL
    card = next(
        c
        for c in browser.find_elements(By.CSS_SELECTOR, "[data-testid=project-card]")
        if "Studio portraits" in c.text
    )
    card.find_element(By.LINK_TEXT, "Cull").click()
    until(lambda: browser.current_url == f"{origin}/projects/{full.id}/cull")
    browser.back()
    until(lambda: browser.current_url == origin + "/projects")
    until(lambda: len(browser.find_elements(By.CSS_SELECTOR, "[data-testid=project-card]")) == 2)


def test_the_palette_reaches_new_project_and_the_phone_layout_fits(
    studio: tuple[str, Any], browser: Any, mailbox: tuple[Mailbox, int], tmp_path: Path
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    origin, app = studio
    shots = artifacts(tmp_path)
    browser.get(origin + "/projects")
    sign_in_by_email(browser, mailbox[0], EMAIL)
    until(lambda: browser.find_element(By.CSS_SELECTOR, "[data-testid=projects-empty]"))
    ActionChains(browser).key_down(Keys.CONTROL).send_keys("k").key_up(Keys.CONTROL).perform()
    field = until(lambda: browser.find_element(By.CSS_SELECTOR, "[data-testid=palette-input]"))
    field.send_keys("new project")
    browser.save_screenshot(str(shots / "web-palette-1440.png"))
    field.send_keys(Keys.ENTER)
    title = until(lambda: browser.find_element(By.CSS_SELECTOR, "[data-testid=new-project-title]"))
    title.send_keys("From the palette", Keys.ENTER)
    until(lambda: browser.current_url.endswith("/ingest"))
    user = find_user_id(app.state.catalog, EMAIL)
    titles = [p.title for p in list_projects(app.state.catalog, owner_user_id=user).items]
    assert titles == ["From the palette"]

    phone = make_browser(390, 844)
    try:
        phone.get(origin + "/projects")
        sign_in_by_email(phone, mailbox[0], EMAIL)
        until(lambda: phone.find_elements(By.CSS_SELECTOR, "[data-testid=project-card]"))
        wide = phone.execute_script("return document.documentElement.scrollWidth")
        assert wide <= 390  # nothing sticks out sideways
        phone.save_screenshot(str(shots / "web-projects-390.png"))
    finally:
        phone.quit()
