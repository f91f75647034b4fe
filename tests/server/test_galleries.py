"""Galleries over HTTP: the photographer's operations, and the public side attacked the way
gallery leaks happened elsewhere (photos and metadata of a protected link without the
password, image URLs that outlive a revoked link, guessable or timing-revealing links,
passwords in URLs, lockouts a stranger can cause)."""

from __future__ import annotations

import json
import statistics
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kilo.ingest import ingest
from kilo.settings import Settings
from kilo_server import create_app
from support.api import EXAMPLES, Mailbox, login


@dataclass
class Studio:
    client: TestClient
    a: dict[str, str]
    b: dict[str, str]
    project_id: str
    asset_ids: list[str]


@pytest.fixture
def studio(api_settings: Settings, mailbox: tuple[Mailbox, int]) -> Iterator[Studio]:
    settings = api_settings.model_copy(update={"trusted_proxies": ["testclient"]})
    with TestClient(create_app(settings, run_jobs=False), base_url="http://testserver/v1") as c:
        a = login(c, mailbox[0], "a@example.com")
        b = login(c, mailbox[0], "b@example.com")
        project = c.post("/projects", json={"title": "Leuven"}, headers=a).json()
        files = sorted(EXAMPLES.glob("cv_*.jpg"))[:4]  # cv_leuven* carry GPS and an iPhone
        report = ingest(c.app.state.catalog, project["id"], files)  # type: ignore[attr-defined]
        assert report.failed == 0
        yield Studio(c, a, b, project["id"], list(report.asset_ids))


def _gallery(s: Studio, **extra: object) -> dict[str, object]:
    body = {"title": "Smith wedding", "assetIds": s.asset_ids, **extra}
    made = s.client.post(f"/projects/{s.project_id}/galleries", json=body, headers=s.a)
    assert made.status_code == 201, made.text
    return dict(made.json())


def test_the_photographer_makes_reads_changes_and_fills_a_gallery(studio: Studio) -> None:
    s = studio
    g = _gallery(s, password="rings")
    assert g["requiresPassword"] and g["assetCount"] == 4 and "password" not in g
    assert g["sharePath"] == f"/g/{g['shareSlug']}" and g["expiresAt"]
    url = f"/galleries/{g['id']}"
    assert s.client.get(url, headers=s.a).json()["title"] == "Smith wedding"
    assert s.client.get(url, headers=s.b).status_code == 404  # someone else's: not there
    assert s.client.patch(url, json={"title": "x"}, headers=s.b).status_code == 400
    changed = s.client.patch(url, json={"watermark": True, "password": None}, headers=s.a)
    assert changed.json()["watermark"] and not changed.json()["requiresPassword"]
    gone = s.client.request(
        "DELETE", f"{url}/assets", json={"assetIds": s.asset_ids[:1]}, headers=s.a
    )
    assert gone.json()["assetCount"] == 3
    again = s.client.post(f"{url}/assets", json={"assetIds": s.asset_ids[:1]}, headers=s.a)
    assert again.json()["assetCount"] == 4
    other = s.client.post("/projects", json={"title": "Other"}, headers=s.b).json()
    refused = s.client.post(
        f"/projects/{other['id']}/galleries",
        json={"title": "t", "assetIds": s.asset_ids},
        headers=s.b,
    )
    assert refused.status_code == 400  # photos of another user's project


def test_a_protected_link_shows_nothing_until_the_password_and_leaks_nothing_after(
    studio: Studio, tmp_path: Path
) -> None:
    s = studio
    g = _gallery(s, password="rings")
    share = f"/share/{g['shareSlug']}"
    locked = s.client.get(share)
    assert locked.status_code == 200
    assert locked.json()["requiresAuth"] is True and locked.json()["assets"] == []
    assert s.client.post(f"{share}/auth", json={"password": "nope"}).status_code == 401
    # never in a URL: an unknown query is refused (404: the operation documents no 400)
    assert s.client.get(f"{share}?password=rings").status_code == 404
    token = s.client.post(f"{share}/auth", json={"password": "rings"}).json()["token"]
    view = s.client.get(share, headers={"Authorization": f"Bearer {token}"})
    body = view.json()
    assert len(body["assets"]) == 4 and not body["requiresAuth"]
    text = json.dumps(body)
    for secret in ("a@example.com", "/", "cv_leuven", "iPhone", "gps", "GPS"):
        if secret == "/":
            assert str(EXAMPLES) not in text and "/tmp" not in text
        else:
            assert secret not in text, secret
    # the served images: JPEGs without GPS or any EXIF (read back with exiftool), although
    # the originals carry both
    for n, item in enumerate(body["assets"]):
        img = s.client.get(item["previewUrl"].removeprefix("/v1"))
        assert img.status_code == 200 and img.headers["content-type"] == "image/jpeg"
        path = tmp_path / f"served{n}.jpg"
        path.write_bytes(img.content)
    read = subprocess.run(
        ["exiftool", "-json", "-G", *map(str, tmp_path.glob("served*.jpg"))],
        capture_output=True,
        text=True,
        check=True,
    )
    for tags in json.loads(read.stdout):
        assert not [k for k in tags if "GPS" in k or k.startswith("EXIF:")], tags
    originals = subprocess.run(
        ["exiftool", "-json", "-G", *map(str, EXAMPLES.glob("cv_leuven*"))],
        capture_output=True,
        text=True,
        check=True,
    )
    assert all(any("GPS" in k for k in t) for t in json.loads(originals.stdout))
    # another visitor (no token) of the protected link still sees nothing
    assert s.client.get(share).json()["assets"] == []


def test_image_links_are_bound_to_size_and_session_and_die_with_the_link(studio: Studio) -> None:
    s = studio
    g = _gallery(s)
    share = f"/share/{g['shareSlug']}"
    first = s.client.get(share).json()
    token, item = first["token"], first["assets"][0]
    second = s.client.get(share).json()
    assert second["token"] != token  # each visitor their own session
    thumb = item["thumbUrl"].removeprefix("/v1")
    assert s.client.get(thumb).status_code == 200
    as_download = thumb.replace("/thumb?", "/download?")
    assert s.client.get(as_download).status_code == 404  # the signature is for one size
    tampered = thumb[:-1] + ("0" if thumb[-1] != "0" else "1")
    assert s.client.get(tampered).status_code == 404
    forged_sig = thumb.split("sig=")[0] + "sig=" + "0" * 32 + "&s=" + thumb.split("&s=")[1]
    assert s.client.get(forged_sig).status_code == 404
    # downloads exist only when allowed
    assert "downloadUrl" not in item
    # revoked: every URL and token made from the link stops
    catalog = s.client.app.state.catalog  # type: ignore[attr-defined]
    from kilo.gallery import revoke_gallery

    revoke_gallery(catalog, str(g["id"]))
    assert s.client.get(thumb).status_code == 404
    auth = {"Authorization": f"Bearer {token}"}
    fav = s.client.post(
        f"{share}/favorite", json={"assetId": item["assetId"], "favorite": True}, headers=auth
    )
    assert fav.status_code == 404 and s.client.get(share).status_code == 404


def test_missing_expired_and_revoked_links_answer_alike(studio: Studio) -> None:
    s = studio
    catalog = s.client.app.state.catalog  # type: ignore[attr-defined]
    from kilo.gallery import revoke_gallery

    expired = _gallery(s, expiresAt="2020-01-01T00:00:00Z")
    revoked = _gallery(s)
    revoke_gallery(catalog, str(revoked["id"]))
    answers = [
        s.client.get(f"/share/{slug}")
        for slug in ("A" * 22, expired["shareSlug"], revoked["shareSlug"])
    ]
    assert {r.status_code for r in answers} == {404}
    assert len({r.json()["message"] for r in answers}) == 1
    # a wrong password and a missing link cost the same argon2 work, so take as long
    protected = _gallery(s, password="rings")

    def median_auth(slug: str) -> float:
        times = []
        for _ in range(5):
            t = time.perf_counter()
            r = s.client.post(
                f"/share/{slug}/auth",
                json={"password": "nope"},
                headers={"X-Forwarded-For": f"10.1.{len(times)}.{len(slug)}"},
            )
            times.append(time.perf_counter() - t)
            assert r.status_code == 401
        return statistics.median(times)

    wrong, missing = median_auth(str(protected["shareSlug"])), median_auth("B" * 22)
    assert missing > 0.5 * wrong, (missing, wrong)


def test_wrong_passwords_are_limited_per_address_not_for_the_right_client(studio: Studio) -> None:
    s = studio
    g = _gallery(s, password="rings")
    auth = f"/share/{g['shareSlug']}/auth"
    stranger = {"X-Forwarded-For": "203.0.113.9"}
    codes = [
        s.client.post(auth, json={"password": f"guess{i}"}, headers=stranger).status_code
        for i in range(20)
    ]
    assert codes[:10] == [401] * 10 and set(codes[10:]) == {429}
    limited = s.client.post(auth, json={"password": "rings"}, headers=stranger)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    client = {"X-Forwarded-For": "198.51.100.7"}
    assert s.client.post(auth, json={"password": "rings"}, headers=client).status_code == 200


def test_favorites_and_comments_through_the_public_routes(studio: Studio) -> None:
    s = studio
    g = _gallery(s)
    share = f"/share/{g['shareSlug']}"
    view = s.client.get(share).json()
    auth = {"Authorization": f"Bearer {view['token']}"}
    aid = view["assets"][0]["assetId"]
    ok = s.client.post(f"{share}/favorite", json={"assetId": aid, "favorite": True}, headers=auth)
    assert ok.json() == {"ok": True}
    assert (
        s.client.post(f"{share}/favorite", json={"assetId": aid, "favorite": True}).status_code
        == 404
    )  # no session: nothing
    text = "<script>alert('x')</script>"
    made = s.client.post(f"{share}/comment", json={"assetId": aid, "text": text}, headers=auth)
    assert made.status_code == 201 and made.json()["commentId"]
    long = s.client.post(
        f"{share}/comment", json={"assetId": aid, "text": "x" * 2001}, headers=auth
    )
    assert long.status_code == 400
    again = s.client.get(share, headers=auth).json()["assets"][0]
    assert again["favorite"] and again["favoriteCount"] == 1 and again["commentsCount"] == 1
    sent = s.client.post(f"/x-kilo{share}/submit", json={"name": "Anna"}, headers=auth)
    assert sent.json() == {"count": 1}
    late = s.client.post(
        f"{share}/favorite", json={"assetId": aid, "favorite": False}, headers=auth
    )
    assert late.status_code == 400  # a submitted selection is locked


def test_download_all_is_a_zip_of_clean_photos_only_when_allowed(studio: Studio) -> None:
    import io
    import zipfile

    s = studio
    closed = _gallery(s)
    assert "downloadAllUrl" not in s.client.get(f"/share/{closed['shareSlug']}").json()
    g = _gallery(s, allowDownloads=True, showFilenames=True)
    view = s.client.get(f"/share/{g['shareSlug']}").json()
    got = s.client.get(view["downloadAllUrl"].removeprefix("/v1"))
    assert got.status_code == 200 and got.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(got.content))
    names = archive.namelist()
    assert len(names) == 4 and all(n.endswith(".jpg") for n in names)
    assert any(n.startswith("cv_leuven") for n in names)  # file names shown: kept as names
    for name in names:
        data = archive.read(name)
        assert data[:2] == b"\xff\xd8" and b"Exif" not in data
    # an expired signature is refused like a forged one
    url = view["downloadAllUrl"].removeprefix("/v1")
    past = url.replace(url.split("exp=")[1].split("&")[0], "1000")
    assert s.client.get(past).status_code == 404
