"""The web app at ``/`` (a tiny built app in a temporary folder, ``webapp_dir``): the page
on every app path a browser reloads, hashed assets cached for good, the app's strict
policy, no way out of the folder, the API's own answers untouched; and the page that says
how to build the app when it is not built."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kilo.settings import Settings
from kilo_server import create_app
from kilo_server.webapp import APP_CSP

INDEX = b"<!doctype html><title>kilo</title><script type=module src=/assets/app-1a2b3c.js></script>"


@pytest.fixture
def webapp(tmp_path: Path) -> Path:
    folder = tmp_path / "webapp"
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_bytes(INDEX)
    (folder / "assets" / "app-1a2b3c.js").write_text("console.log('kilo')")
    (folder / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (tmp_path / "secret.txt").write_text("not for the web")
    return folder


def _client(settings: Settings, folder: Path) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"webapp_dir": folder}), run_jobs=False)
    with TestClient(app, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def site(api_settings: Settings, webapp: Path) -> Iterator[TestClient]:
    yield from _client(api_settings, webapp)


HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def test_app_paths_get_the_page_with_the_apps_policy(site: TestClient) -> None:
    for path in ("/", "/projects/0d9c/cull", "/projects/0d9c/cull?stack=3&frame=2"):
        got = site.get(path, headers=HTML)
        assert got.status_code == 200 and got.content == INDEX, path
        assert got.headers["content-security-policy"] == APP_CSP
        assert got.headers["cache-control"] == "no-cache"
        assert got.headers["x-content-type-options"] == "nosniff"
        assert got.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in APP_CSP and "script-src 'self'" in APP_CSP


def test_hashed_assets_are_immutable_and_nothing_leaves_the_folder(site: TestClient) -> None:
    js = site.get("/assets/app-1a2b3c.js")
    assert js.status_code == 200 and js.text == "console.log('kilo')"
    assert js.headers["content-type"].startswith("text/javascript")
    assert js.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert site.get("/favicon.svg").headers["content-type"].startswith("image/svg+xml")
    assert site.get("/assets/nope.js", headers=HTML).status_code == 404
    for path in ("/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt"):
        got = site.get(path, headers=HTML)
        assert "not for the web" not in got.text, path
    # a file fetch that is no page: 404, not the page
    assert site.get("/data.json", headers={"Accept": "application/json"}).status_code == 404


def test_the_apps_script_goes_out_compressed_to_a_browser_that_takes_it(
    site: TestClient, webapp: Path
) -> None:
    """The studio's JS was sent as it is (125.9 KB where 43.7 KB gzip would do)."""
    script = "const kilo = 'studio';\n" * 400
    (webapp / "assets" / "big-9f8e7d.js").write_text(script)
    got = site.get("/assets/big-9f8e7d.js", headers={"Accept-Encoding": "gzip"})
    assert got.headers["content-encoding"] == "gzip" and got.text == script
    assert int(got.headers["content-length"]) < len(script) / 10
    assert got.headers["vary"] == "accept-encoding"
    raw = site.get("/assets/big-9f8e7d.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers and raw.text == script
    refused = site.get("/assets/big-9f8e7d.js", headers={"Accept-Encoding": "gzip;q=0, br"})
    assert "content-encoding" not in refused.headers and refused.text == script


def test_the_api_answers_as_before(site: TestClient) -> None:
    got = site.get("/v1/nothing-here", headers=HTML)
    assert got.status_code == 404 and got.json()["code"] == "not_found"
    assert site.get("/v1/projects").status_code == 401
    assert site.get("/v1/openapi.json").status_code == 200
    assert site.post("/").status_code in (404, 405)


def test_an_unbuilt_app_says_how_to_build_it(api_settings: Settings, tmp_path: Path) -> None:
    for client in _client(api_settings, tmp_path / "empty"):
        got = client.get("/", headers=HTML)
        assert got.status_code == 200 and "scripts/setup.sh" in got.text
        assert got.headers["content-security-policy"] == APP_CSP
