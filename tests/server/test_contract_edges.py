"""Each way the server differs from the contract, shown on a running app: one test per
deviation of tests/server/test_contract.py (DEVIATIONS), and docs/api.md's table ("Where kilo
differs from the contract") names exactly those."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from tests.server.test_contract import DEVIATION_NAMES

from kilo.ingest import ingest
from kilo.settings import Settings
from kilo_server import create_app
from support.api import EXAMPLES, Mailbox, _free_port, login

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"
ZERO = "00000000-0000-4000-8000-000000000000"


@dataclass
class World:
    """User A with a project of two photos and a gallery with a password; user B."""

    client: TestClient
    box: Mailbox
    a: dict[str, str]
    b: dict[str, str]
    project_id: str
    asset_ids: list[str]
    gallery_id: str
    share_slug: str


def _app(tmp: Path, smtp_port: int, per_minute: int) -> TestClient:
    settings = Settings(
        home=tmp / "home",
        clip_enabled=False,
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        rate_limit_per_min=per_minute,
        workers=1,
    )
    return TestClient(create_app(settings, run_jobs=False), base_url="http://testserver/v1")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    box, port = Mailbox(), _free_port()
    smtp = Controller(box, hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        with _app(tmp_path_factory.mktemp("edges"), port, 1000) as c:
            a, b = login(c, box, "a@example.com"), login(c, box, "b@example.com")
            project = c.post("/projects", json={"title": "Leuven"}, headers=a).json()
            catalog = c.app.state.catalog  # type: ignore[attr-defined]
            report = ingest(catalog, project["id"], sorted(EXAMPLES.glob("cv_*.jpg"))[:2])
            ids = list(report.asset_ids)
            body = {"title": "Proofs", "assetIds": ids, "password": "rings"}
            g = c.post(f"/projects/{project['id']}/galleries", json=body, headers=a).json()
            yield World(c, box, a, b, project["id"], ids, g["id"], g["shareSlug"])
    finally:
        smtp.stop()


def _refused(response: httpx.Response, status: int = 400) -> str:
    """The contract's Error body, with ``status``; its message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) >= {"code", "message", "requestId"}, body
    return str(body["message"])


def login_rate_limit(w: World, tmp: Path) -> None:
    port = _free_port()
    smtp = Controller(Mailbox(), hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        with _app(tmp, port, 3) as c:
            answers = [c.post("/auth/login", json={"email": "c@example.com"}) for _ in range(5)]
            verify = c.post("/auth/verify", json={"challengeId": ZERO, "code": "123456"})
    finally:
        smtp.stop()
    assert [r.status_code for r in answers] == [200, 200, 200, 429, 429]
    _refused(answers[-1], 429)
    assert int(answers[-1].headers["Retry-After"]) >= 1
    _refused(verify, 429)


def listing_query_400(w: World, tmp: Path) -> None:
    c, a = w.client, w.a
    for query in ({"limit": 500}, {"cursor": "made-up"}, {"color": "red"}):
        _refused(c.get("/projects", params=query, headers=a))
    jobs = f"/projects/{w.project_id}/jobs"
    for query in ({"status": "bogus"}, {"limit": 0}, {"cursor": "made-up"}):
        _refused(c.get(jobs, params=query, headers=a))
    # the listings whose contract has a 404 answer that
    _refused(c.get(f"/projects/{w.project_id}/assets", params={"cursor": "x"}, headers=a), 404)


def gallery_remove_400(w: World, tmp: Path) -> None:
    c, url = w.client, f"/galleries/{w.gallery_id}/assets"
    strangers = c.request("DELETE", url, json={"assetIds": w.asset_ids[:1]}, headers=w.b)
    assert "no gallery" in _refused(strangers)
    missing = c.request(
        "DELETE", f"/galleries/{ZERO}/assets", json={"assetIds": [ZERO]}, headers=w.a
    )
    _refused(missing)
    _refused(c.request("DELETE", url, json={"assetIds": []}, headers=w.a))
    assert c.get(f"/galleries/{w.gallery_id}", headers=w.a).json()["assetCount"] == 2


def share_auth_400(w: World, tmp: Path) -> None:
    url = f"/share/{w.share_slug}/auth"
    _refused(w.client.post(url))
    _refused(w.client.post(url, json={}))
    _refused(w.client.post(url, json={"password": ""}))
    _refused(w.client.post(url, json={"password": "wrong"}), 401)
    assert w.client.post(url, json={"password": "rings"}).json()["token"]


def unknown_fields(w: World, tmp: Path) -> None:
    c, a = w.client, w.a
    made = c.post("/projects", json={"title": "Mol", "color": "red"}, headers=a)
    assert "color" in _refused(made)
    titles = [p["title"] for p in c.get("/projects", headers=a).json()["items"]]
    assert "Mol" not in titles
    rate = {"rating": 4, "stars": 4}
    _refused(c.post(f"/assets/{w.asset_ids[0]}/ratings", json=rate, headers=a))
    # a query parameter the operation does not have: 404 where it documents no 400
    _refused(c.get(f"/projects/{w.project_id}", params={"color": "red"}, headers=a), 404)


def foreign_ids_400(w: World, tmp: Path) -> None:
    c, b, pid = w.client, w.b, w.project_id
    _refused(c.get(f"/projects/{pid}/search", params={"q": "leuven"}, headers=b))
    _refused(c.post(f"/projects/{pid}/search", json={"q": "leuven"}, headers=b))
    gallery = {"title": "Mine", "assetIds": w.asset_ids}
    _refused(c.post(f"/projects/{pid}/galleries", json=gallery, headers=b))
    _refused(c.post(f"/projects/{pid}/exports", json={"preset": "web"}, headers=b))
    upload = {"files": [{"filename": "a.jpg", "byteSize": 10}]}
    _refused(c.post(f"/projects/{pid}/assets:prepareUpload", json=upload, headers=b))
    _refused(c.patch(f"/galleries/{w.gallery_id}", json={"title": "Mine"}, headers=b))
    # B's own project with A's photos in the body: refused the same way
    own = c.post("/projects", json={"title": "B's"}, headers=b).json()["id"]
    _refused(c.post(f"/projects/{own}/galleries", json=gallery, headers=b))
    # a missing id answers as a stranger's; where the contract has a 404, that
    _refused(c.get(f"/projects/{ZERO}/search", params={"q": "x"}, headers=b))
    assert c.get(f"/projects/{pid}/jobs", headers=b).json()["items"] == []
    _refused(c.get(f"/projects/{pid}", headers=b), 404)


def blank_titles(w: World, tmp: Path) -> None:
    c, a = w.client, w.a
    for title in ("", "   ", "Smith\x1b[2Jwedding", "x" * 501):
        _refused(c.post("/projects", json={"title": title}, headers=a))
        _refused(c.patch(f"/projects/{w.project_id}", json={"title": title}, headers=a))
    for title in ("", " \t ", "Proofs\nforged line", "x" * 201):
        body = {"title": title, "assetIds": w.asset_ids}
        _refused(c.post(f"/projects/{w.project_id}/galleries", json=body, headers=a))
        _refused(c.patch(f"/galleries/{w.gallery_id}", json={"title": title}, headers=a))
    kept = c.post("/projects", json={"title": "  Mechelen  "}, headers=a).json()
    assert kept["title"] == "Mechelen"
    renamed = c.patch(f"/galleries/{w.gallery_id}", json={"title": " Proofs "}, headers=a)
    assert renamed.json()["title"] == "Proofs"


def unique_titles(w: World, tmp: Path) -> None:
    c, a = w.client, w.a
    assert "already" in _refused(c.post("/projects", json={"title": "LEUVEN"}, headers=a))
    other = c.post("/projects", json={"title": "Gent"}, headers=a).json()["id"]
    _refused(c.patch(f"/projects/{other}", json={"title": "leuven"}, headers=a))
    # another user's titles are theirs
    assert c.post("/projects", json={"title": "Leuven"}, headers=w.b).status_code == 201


def blank_filenames(w: World, tmp: Path) -> None:
    url = f"/projects/{w.project_id}/assets:prepareUpload"
    for name in ("", "   ", "photos/ ", "..", "DCIM\\..", "x" * 1025):
        files = {"files": [{"filename": name, "byteSize": 10}]}
        _refused(w.client.post(url, json=files, headers=w.a))
    fine = {"files": [{"filename": "DCIM/IMG_0001.JPG", "byteSize": 10}]}
    assert w.client.post(url, json=fine, headers=w.a).status_code == 200


def email_addresses(w: World, tmp: Path) -> None:
    for email in (
        '"a b"@example.com',
        "a'b@example.com",
        "a,b@example.com",
        "a@exa_mple.com",
        "<a@example.com>",
    ):
        _refused(w.client.post("/auth/login", json={"email": email}))
    assert w.client.post("/auth/login", json={"email": "a+b@example.com"}).status_code == 200


def timezones(w: World, tmp: Path) -> None:
    c, a = w.client, w.a
    for tz in ("", "Mars/Olympus", "CET+1"):
        _refused(c.post("/projects", json={"title": f"Zone {tz}", "timezone": tz}, headers=a))
        _refused(c.patch(f"/projects/{w.project_id}", json={"timezone": tz}, headers=a))
    zoned = c.patch(f"/projects/{w.project_id}", json={"timezone": "Europe/Brussels"}, headers=a)
    assert zoned.json()["timezone"] == "Europe/Brussels"


def floating_capture_times(w: World, tmp: Path) -> None:
    """A photo whose EXIF time has no offset, in a project without a time zone: its time is
    sent without one (never as UTC); once the project has a zone, with the zone's offset."""
    import piexif
    from PIL import Image

    c, a = w.client, w.a
    project = c.post("/projects", json={"title": "Wall clock"}, headers=a).json()
    exif = {"Exif": {piexif.ExifIFD.DateTimeOriginal: b"2018:06:06 22:30:05"}}
    Image.new("RGB", (320, 240), (90, 120, 150)).save(
        tmp / "wall.jpg", exif=piexif.dump(exif), quality=90
    )
    (aid,) = ingest(c.app.state.catalog, project["id"], [tmp / "wall.jpg"]).asset_ids  # type: ignore[attr-defined]
    assert c.get(f"/assets/{aid}", headers=a).json()["capturedAt"] == "2018-06-06T22:30:05"
    c.patch(f"/projects/{project['id']}", json={"timezone": "Europe/Oslo"}, headers=a)
    assert c.get(f"/assets/{aid}", headers=a).json()["capturedAt"] == "2018-06-06T22:30:05+02:00"


EDGES: dict[str, Callable[[World, Path], None]] = {
    "login-rate-limit": login_rate_limit,
    "listing-query-400": listing_query_400,
    "gallery-remove-400": gallery_remove_400,
    "share-auth-400": share_auth_400,
    "unknown-fields": unknown_fields,
    "foreign-ids-400": foreign_ids_400,
    "blank-titles": blank_titles,
    "unique-titles": unique_titles,
    "blank-filenames": blank_filenames,
    "email-addresses": email_addresses,
    "timezones": timezones,
    "floating-capture-times": floating_capture_times,
}


@pytest.mark.parametrize("name", sorted(EDGES))
def test_the_deviation_behaves_as_documented(name: str, world: World, tmp_path: Path) -> None:
    EDGES[name](world, tmp_path)


def test_each_deviation_has_its_test_and_its_row_in_the_docs() -> None:
    assert set(EDGES) == DEVIATION_NAMES
    text = DOCS.read_text(encoding="utf-8")
    match = re.search(
        r"^## Where kilo differs from the contract\n(.+?)(?=^## )", text, flags=re.M | re.S
    )
    assert match, "docs/api.md lacks its section on the deviations"
    rows = re.findall(r"^\| `([a-z0-9-]+)` \|", match.group(1), flags=re.M)
    assert sorted(rows) == sorted(DEVIATION_NAMES), "docs/api.md's table and DEVIATIONS differ"
    assert len(rows) == len(set(rows))
