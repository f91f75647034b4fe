"""Attacks on what the server serves, as real concurrent requests against a live server
(and a real Chromium where a browser decides): an HTML page uploaded as a photo and opened
from its signed link on the API's origin, a visitor token within reach of a script of that
origin, private JSON a cache may keep or a browser sniff, a 405 that hides what a path
serves, signed links that outlive a deleted project, and a catalog of token and password
hashes readable by other users of the machine."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from kilo.catalog import open_catalog
from kilo.export.core import create_export, run_export
from kilo.gallery import create_gallery
from kilo.ingest import ingest
from kilo.projects import create_project
from kilo.settings import load_settings
from kilo_server.files import signed_file_url
from support.api import EXAMPLES, LiveServer, Mailbox, login

PAGE = (
    b"<!doctype html><html><head><title>uploaded</title></head><body>"
    b"<script>document.title = 'LEAK ' + JSON.stringify(localStorage) + document.cookie;"
    b"</script><svg xmlns='http://www.w3.org/2000/svg' onload='document.title+=1'/></body></html>"
)
#: an upload: (file name, bytes, the content type the client claims)
Upload = tuple[str, bytes, str]
SVG = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(document.domain)</script></svg>"


def _parallel(calls: list[Any]) -> list[Any]:
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda call: call(), calls))


def _upload(http: httpx.Client, a: dict[str, str], pid: str, upload: Upload) -> str:
    """One file through the contract's upload flow (prepare, PUT, finalize), claiming
    its content type; its asset id."""
    name, data, content_type = upload
    files = [{"filename": name, "byteSize": len(data), "contentType": content_type}]
    got = http.post(f"/projects/{pid}/assets:prepareUpload", json={"files": files}, headers=a)
    assert got.status_code == 200, got.text
    (u,) = got.json()["uploads"]
    typed = {"Content-Type": content_type}
    put = http.put(u["uploadUrl"].removeprefix("/v1"), content=data, headers=typed)
    assert put.status_code == 200, put.text
    digest = hashlib.sha256(data).hexdigest()
    item = {"assetId": u["assetId"], "checksumSha256": digest, "contentType": content_type}
    done = http.post(f"/projects/{pid}/assets:finalizeUpload", json={"assets": [item]}, headers=a)
    assert done.status_code == 200, done.text
    return str(u["assetId"])


def _original_url(http: httpx.Client, a: dict[str, str], asset_id: str) -> str | None:
    """The signed URL of the upload's original; None when finalize refused the file (its
    asset is gone)."""
    got = http.get(f"/assets/{asset_id}/files", headers=a)
    if got.status_code == 404:
        return None
    assert got.status_code == 200, got.text
    (original,) = [f["url"] for f in got.json()["files"] if f["kind"] == "original"]
    return str(original).removeprefix("/v1")


def _html_original(catalog: Any, asset_id: str, folder: Path) -> str:
    """Make ``asset_id``'s original an HTML page recorded as finalize recorded uploads it
    could not sniff (the client's ``text/html`` kept, a library made before this fix has
    them); the signed URL of that file."""
    page = folder / "evil.html"
    page.write_bytes(PAGE)
    query = "SELECT id FROM asset_files WHERE asset_id = ? AND kind = 'original'"
    fid = str(catalog.scalar(query, [asset_id]))
    catalog.table("asset_files").update(
        fid, {"uri": str(page), "byte_size": len(PAGE), "content_type": "text/html"}
    )
    return signed_file_url(catalog, fid)[0].removeprefix("/v1")


@pytest.fixture
def owner(live_server: LiveServer, mailbox: tuple[Mailbox, int]) -> Iterator[Any]:
    """(client of the live server, a's Authorization header, a's project id)."""
    with httpx.Client(base_url=live_server.url, timeout=60) as http:
        a = login(http, mailbox[0], "a@example.com")  # type: ignore[arg-type]
        pid = http.post("/projects", json={"title": "Uploads"}, headers=a).json()["id"]
        yield http, a, pid


def test_an_uploaded_html_page_is_served_as_an_inert_attachment(
    live_server: LiveServer, owner: Any, tmp_path: Path
) -> None:
    http, a, pid = owner
    cat = live_server.catalog
    photo = (EXAMPLES / "cv_aloeL.jpg").read_bytes()
    uploads: list[Upload] = [
        ("evil.html", PAGE, "text/html"),
        ("evil.svg", SVG, "image/svg+xml"),
        ("IMG_0001.jpg", PAGE, "image/jpeg"),  # HTML that claims to be a photo
        ("real.jpg", photo, "image/jpeg"),
    ]
    ids = [_upload(http, a, pid, u) for u in uploads]
    *hostile, real_url = [_original_url(http, a, aid) for aid in ids]  # not processed yet
    assert real_url is not None
    quarantined = cat.fetchall("SELECT source_uri FROM quarantine")
    refused = {str(r[0]).rsplit("/", 1)[-1] for r in quarantined}
    for (name, _, _), url in zip(uploads, hostile, strict=False):
        assert url is not None or name in refused, name  # kept, or refused at finalize
    urls = [u for u in hostile if u is not None]
    # and whatever a library already holds: an HTML original recorded as text/html
    planted = _upload(http, a, pid, ("planted.jpg", photo, "image/jpeg"))
    urls.append(_html_original(cat, planted, tmp_path))
    got = _parallel([lambda u=u: http.get(u) for u in [*urls, real_url]])
    for res in got:
        assert res.status_code == 200
        csp = res.headers.get("content-security-policy", "")
        assert "sandbox" in csp and "default-src 'none'" in csp
        assert "script-src" not in csp
        assert res.headers.get("x-content-type-options") == "nosniff"
    for res in got[:-1]:  # whatever they claimed: bytes to save, never a page or an image
        assert res.content in (PAGE, SVG)
        assert res.headers["content-type"] == "application/octet-stream"
        assert res.headers["content-disposition"].startswith("attachment")
    real = got[-1]  # a real photo is still shown inline, as what its bytes are
    assert real.content == photo and real.headers["content-type"] == "image/jpeg"
    assert "content-disposition" not in real.headers


CHROMEDRIVER = shutil.which("chromedriver")
needs_chromium = pytest.mark.skipif(
    CHROMEDRIVER is None or shutil.which("chromium") is None,
    reason="needs Debian's chromium and chromium-driver (scripts/setup.sh installs them)",
)


HEADLESS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for arg in HEADLESS:
        options.add_argument(arg)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(tmp_path / "downloads")}
    )
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def _until(check: Any, timeout: float = 15.0) -> Any:
    import time

    deadline = time.monotonic() + timeout
    while True:
        try:
            got = check()
            if got:
                return got
        except Exception:
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError("the page did not get there in time")
        time.sleep(0.05)


@needs_chromium
def test_chromium_a_script_of_the_api_origin_cannot_reach_a_visitor_token(
    live_server: LiveServer, owner: Any, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    http, a, pid = owner
    cat = live_server.catalog
    origin = live_server.url.removesuffix("/v1")
    photos = sorted(EXAMPLES.glob("cv_*.jpg"))[:2]
    photo = photos[0].read_bytes()
    assert ingest(cat, pid, photos).failed == 0
    ids = [str(r[0]) for r in cat.fetchall("SELECT id FROM assets WHERE project_id = ?", [pid])]
    gallery = create_gallery(cat, pid, title="Private", asset_ids=ids, password="rings")
    evil = _html_original(cat, _upload(http, a, pid, ("more.jpg", photo, "image/jpeg")), tmp_path)

    browser.get(f"{origin}{gallery.share_path}")  # the client signs in to the gallery
    field = _until(lambda: browser.find_element(By.ID, "password"))
    _until(lambda: browser.find_element(By.ID, "locked").is_displayed())
    field.send_keys("rings", Keys.ENTER)
    _until(lambda: len(browser.find_elements(By.CSS_SELECTOR, "#grid .tile")) == 2)
    # the token is the browser's (an HttpOnly cookie of the link's API paths) ...
    hashes = {str(r[0]) for r in cat.fetchall("SELECT token_hash FROM gallery_sessions")}
    jar = browser.execute_cdp_cmd("Storage.getCookies", {})["cookies"]
    cookies = [c for c in jar if c["name"] == "kilo_visitor"]
    assert {c["path"] for c in cookies} == {
        f"/v1/share/{gallery.share_slug}",
        f"/v1/x-kilo/share/{gallery.share_slug}",
    }
    for cookie in cookies:
        assert hashlib.sha256(cookie["value"].encode()).hexdigest() in hashes
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    token = cookies[0]["value"]
    reach = (
        "return [localStorage.length, sessionStorage.length, document.cookie,"
        " JSON.stringify(localStorage) + JSON.stringify(sessionStorage)]"
    )
    assert browser.execute_script(reach) == [0, 0, "", "{}{}"]  # ... and not the page's

    # the uploaded page, opened from its signed link: saved, never run on this origin
    browser.get(origin + "/v1" + evil)
    assert "LEAK" not in browser.title and token not in browser.page_source
    # any script of the origin (run here in a page of it) finds no token: not in storage,
    # not in document.cookie, not in what the API answers with the cookie
    browser.get(origin + "/g/static/gallery.css")
    got = browser.execute_script(reach)
    assert got[:3] == [0, 0, ""] and token not in got[3]
    fetched = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {headers: {'X-Kilo-Visitor': 'cookie'}})"
        ".then(r => r.text()).then(done, e => done(String(e)));",
        f"/v1/share/{gallery.share_slug}",
    )
    assert '"token":null' in fetched and token not in fetched
    assert '"requiresAuth":false' in fetched  # the cookie did let it in: only not echoed


def test_private_json_is_never_stored_nor_sniffed(live_server: LiveServer, owner: Any) -> None:
    http, a, pid = owner
    cat = live_server.catalog
    assert ingest(cat, pid, sorted(EXAMPLES.glob("cv_*.jpg"))[:1]).failed == 0
    aid = str(cat.scalar("SELECT id FROM assets WHERE project_id = ?", [pid]))
    open_one = create_gallery(cat, pid, title="Open", asset_ids=[aid])
    locked = create_gallery(cat, pid, title="Locked", asset_ids=[aid], password="rings")
    view = http.get(f"/share/{open_one.share_slug}").json()
    token = view["token"]
    calls = {
        "projects": lambda: http.get("/projects", headers=a),
        "project": lambda: http.get(f"/projects/{pid}", headers=a),
        "assets": lambda: http.get(f"/projects/{pid}/assets", headers=a),
        "share view with token": lambda: http.get(
            f"/share/{open_one.share_slug}", headers={"Authorization": f"Bearer {token}"}
        ),
        "new visit": lambda: http.get(f"/share/{open_one.share_slug}"),
        "auth": lambda: http.post(f"/share/{locked.share_slug}/auth", json={"password": "rings"}),
        "401": lambda: http.get("/projects"),
        "404": lambda: http.get("/share/not-a-real-link-at-all"),
        "400": lambda: http.post("/auth/login", json={}),
        "contract": lambda: http.get("/openapi.json"),
    }
    got = dict(zip(calls, _parallel(list(calls.values())), strict=True))
    for name, res in got.items():
        assert res.headers["content-type"].startswith("application/json"), name
        assert res.headers.get("cache-control") == "no-store", (name, res.headers)
        assert res.headers.get("x-content-type-options") == "nosniff", name
    assert got["share view with token"].json()["token"] == token  # the contract's echo
    image = http.get(view["assets"][0]["thumbUrl"].removeprefix("/v1"))
    assert image.headers["content-type"] == "image/jpeg"
    assert image.headers["cache-control"].startswith("private, max-age=")  # kept
    assert image.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in image.headers["content-security-policy"]


def test_the_visitor_cookie_is_only_for_the_page_that_asks_and_never_echoed(
    live_server: LiveServer, owner: Any
) -> None:
    pid = owner[2]
    cat = live_server.catalog
    assert ingest(cat, pid, sorted(EXAMPLES.glob("cv_*.jpg"))[:1]).failed == 0
    aid = str(cat.scalar("SELECT id FROM assets WHERE project_id = ?", [pid]))
    slug = create_gallery(cat, pid, title="Locked", asset_ids=[aid], password="rings").share_slug
    page = {"X-Kilo-Visitor": "cookie"}
    origin = live_server.url.removesuffix("/v1")
    apps, browsers = (httpx.Client(base_url=live_server.url, timeout=60) for _ in range(2))
    with apps, browsers:
        # a client of the contract: the token in the JSON, no cookie
        plain = apps.post(f"/share/{slug}/auth", json={"password": "rings"})
        assert plain.json()["token"] and "set-cookie" not in plain.headers
        # the page: the token in the JSON too (the contract), and as an HttpOnly cookie
        auth = browsers.post(f"/share/{slug}/auth", json={"password": "rings"}, headers=page)
        token = auth.json()["token"]
        cookies = auth.headers.get_list("set-cookie")
        assert sorted(c.split("; ")[1] for c in cookies) == [
            f"Path=/v1/share/{slug}",
            f"Path=/v1/x-kilo/share/{slug}",
        ]
        for c in cookies:
            assert c.startswith(f"kilo_visitor={token};") and "HttpOnly" in c, c
            assert "SameSite=Strict" in c, c
        # let in by the cookie, concurrently: the view, favorites; the token never echoed
        favorite = {"assetId": aid, "favorite": True}
        calls = [lambda: browsers.get(f"/share/{slug}", headers=page)] * 4 + [
            lambda: browsers.post(f"/share/{slug}/favorite", headers=page, json=favorite)
        ]
        views = _parallel(calls)
        assert [v.status_code for v in views] == [200] * 5
        assert all(v.json()["token"] is None and v.json()["assets"] for v in views[:4])
        assert cat.scalar("SELECT count(*) FROM favorites") == 1
        # the cookie without the page's header, or from another site's form: nothing
        bare = browsers.get(f"/share/{slug}")
        assert bare.json()["requiresAuth"] and bare.json()["assets"] == []
        form = {"assetId": aid, "favorite": "false"}
        with httpx.Client(cookies={"kilo_visitor": token}) as other_site:
            forged = other_site.post(f"{origin}/v1/share/{slug}/favorite", data=form)
        assert forged.status_code in (400, 404)
        assert cat.scalar("SELECT count(*) FROM favorites") == 1


def _concrete(template: str) -> str:
    out = template
    for name in ("shareSlug", "slug"):
        out = out.replace("{" + name + "}", "made-up-link-0001")
    while "{" in out:
        start, end = out.index("{"), out.index("}")
        out = out[:start] + "0b6b5d0c-3c5e-4a57-9a7c-9f0f4cbbb0a1" + out[end + 1 :]
    return out


def test_a_405_lists_every_method_the_path_serves(live_server: LiveServer) -> None:
    methods = ("GET", "POST", "PUT", "PATCH", "DELETE")
    origin = live_server.url.removesuffix("/v1")
    with httpx.Client(base_url=origin, timeout=60) as http:
        spec = http.get("/v1/openapi.json").json()
        paths = sorted({_concrete("/v1" + p) for p in spec["paths"]} | {"/g/made-up-link-0001"})
        probes = [(m, p) for p in paths for m in methods]
        answers = _parallel([lambda m=m, p=p: http.request(m, p) for m, p in probes])
    answered: dict[str, set[str]] = {p: set() for p in paths}
    allowed: dict[str, list[tuple[str, set[str]]]] = {p: [] for p in paths}
    for (method, path), res in zip(probes, answers, strict=True):
        if res.status_code != 405:
            answered[path].add(method)
            continue
        allow = {m.strip() for m in res.headers.get("allow", "").split(",") if m.strip()}
        allowed[path].append((method, allow))
    assert sum(len(v) for v in allowed.values()) > len(paths)  # most paths refuse some
    for path, refusals in allowed.items():
        assert answered[path], path  # every path serves something
        for method, allow in refusals:
            # Allow lists exactly the methods that answer with anything but a 405
            assert allow == answered[path], (method, path, allow, answered[path])


def test_signed_links_stop_when_the_project_is_deleted(live_server: LiveServer, owner: Any) -> None:
    http, a, pid = owner
    cat = live_server.catalog
    report = ingest(cat, pid, sorted(EXAMPLES.glob("cv_*.jpg"))[:2])
    assert report.failed == 0
    user = cat.scalar("SELECT owner_user_id FROM projects WHERE id = ?", [pid])
    export = create_export(cat, pid, "web", asset_ids=list(report.asset_ids), user_id=user)
    run_export(cat, export.id)
    urls = [http.get(f"/exports/{export.id}/download", headers=a).json()["url"]]
    for aid in report.asset_ids:
        urls.append(http.get(f"/assets/{aid}", headers=a).json()["bestPreviewUrl"])
        urls += [f["url"] for f in http.get(f"/assets/{aid}/files", headers=a).json()["files"]]
    body = {"title": "Smith wedding", "assetIds": list(report.asset_ids)}
    gallery = http.post(f"/projects/{pid}/galleries", json=body, headers=a).json()
    urls.append(f"/share/{gallery['shareSlug']}")  # the client's link ends with the project
    urls = [u.removeprefix("/v1") for u in urls]
    assert len(urls) >= 2 + 2 * 3
    assert {r.status_code for r in _parallel([lambda u=u: http.get(u) for u in urls])} == {200}
    gone = http.patch(f"/projects/{pid}", json={"status": "deleted"}, headers=a)
    assert gone.status_code == 200, gone.text
    after = _parallel([lambda u=u: http.get(u) for u in urls])
    assert [r.status_code for r in after] == [404] * len(urls)
    assert all(r.json()["code"] == "not_found" for r in after)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_catalog_and_its_folder_are_private_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o002)  # a group-writable default, as on many desktops
    try:
        home = tmp_path / "library"
        settings = load_settings(home=home, workers=1, clip_enabled=False)
        cat = open_catalog(settings)
        try:
            create_project(cat, "Smith wedding")  # something to hold (and a WAL)
            path = settings.catalog_path
            assert _mode(path) == 0o600, oct(_mode(path))
            assert _mode(home) == 0o700, oct(_mode(home))  # and DuckDB's WAL inside it
            settings.signing_key()
            assert _mode(home / "secret.key") == 0o600
        finally:
            cat.close()
        # a library made world-readable before is made private when opened again
        path.chmod(0o644)
        home.chmod(0o755)
        open_catalog(settings).close()
        assert (_mode(path), _mode(home)) == (0o600, 0o700)
        assert sorted(p.name for p in home.iterdir() if p.name.startswith(".kilo-new")) == []
    finally:
        os.umask(old)


def test_the_live_servers_catalog_is_its_owners_only(live_server: LiveServer, owner: Any) -> None:
    catalog_path = live_server.catalog.path
    home = Path(catalog_path).parent
    other = stat.S_IRWXG | stat.S_IRWXO
    assert stat.S_IMODE(Path(catalog_path).stat().st_mode) & other == 0  # token hashes
    assert stat.S_IMODE(home.stat().st_mode) & other == 0
