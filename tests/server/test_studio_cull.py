"""The browser studio's cull extensions over HTTP, on a real shoot (five real photos, two
of them copies of one picture, ingested and analysed): the cull view, its data version,
undo/redo, rejecting a stack, split and merge, the face strip, progress, and the signed
image links (thumb, preview, loupe, face crops) fetched as an ``<img>`` would."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from support.api import EXAMPLES, Mailbox, login

#: two copies of one picture (a duplicate group) and three other photos
PHOTOS = (
    "flower.png.im_q85_420.jpg",
    "flower.png.im_q85_444.jpg",
    "cv_leuvenA.jpg",
    "cv_aloeL.jpg",
    "group_t1.jpg",
)


@dataclass
class Shoot:
    a: dict[str, str]
    b: dict[str, str]
    project_id: str
    asset_ids: list[str]


@pytest.fixture
def shoot(client: TestClient, mailbox: tuple[Mailbox, int]) -> Shoot:
    """User A's project of :data:`PHOTOS`, ingested and analysed; user B owns none of it."""
    from kilo.analyze import analyze
    from kilo.ingest import ingest

    a = login(client, mailbox[0], "a@example.com")
    b = login(client, mailbox[0], "b@example.com")
    project = client.post("/projects", json={"title": "Studio"}, headers=a).json()
    catalog = client.app.state.catalog  # type: ignore[attr-defined]
    report = ingest(catalog, project["id"], [EXAMPLES / name for name in PHOTOS])
    assert report.failed == 0
    analyze(catalog, project["id"])
    return Shoot(a, b, project["id"], list(report.asset_ids))


def _view(client: TestClient, shoot: Shoot) -> dict[str, Any]:
    got = client.get(f"/x-kilo/projects/{shoot.project_id}/cull", headers=shoot.a)
    assert got.status_code == 200, got.text
    return dict(got.json())


def _img(client: TestClient, url: str) -> bytes:
    got = client.get(url.removeprefix("/v1"))
    assert got.status_code == 200, (url, got.text[:200])
    assert got.headers["content-type"] == "image/jpeg"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["cache-control"].startswith("private, max-age=")
    return got.content


def test_the_cull_view_lists_every_frame_once_in_stacks_with_signed_images(
    client: TestClient, shoot: Shoot
) -> None:
    view = _view(client, shoot)
    assert view["projectId"] == shoot.project_id and view["aiReady"] is True
    members = [m for s in view["stacks"] for m in s["members"]]
    assert sorted(m["assetId"] for m in members) == sorted(shoot.asset_ids)
    assert view["frameCount"] == len(PHOTOS)
    for stack in view["stacks"]:
        assert stack["kind"] in ("burst", "duplicate", "singles")
        assert stack["memberIds"] == [m["assetId"] for m in stack["members"]]
        assert len(stack["reasons"]) <= 3
    duplicate = next(s for s in view["stacks"] if s["kind"] == "duplicate")
    assert len(duplicate["memberIds"]) == 2 and duplicate["winnerId"] in duplicate["memberIds"]
    assert 1 <= len(duplicate["reasons"]) <= 3
    frame = duplicate["members"][0]
    assert frame["state"] in ("ready", "embedding")  # CLIP is off in tests: ready
    assert frame["displayWidth"] > 0 and frame["displayHeight"] > 0
    assert 0 <= frame["sharpness"] <= 1
    thumb, preview = _img(client, frame["thumbUrl"]), _img(client, frame["previewUrl"])
    assert len(thumb) < len(preview)
    # a changed signature is refused as a missing file
    bad = frame["thumbUrl"].replace("sig=", "sig=0")
    assert client.get(bad.removeprefix("/v1")).status_code == 404
    # another user: 404 as for a project that does not exist
    other = client.get(f"/x-kilo/projects/{shoot.project_id}/cull", headers=shoot.b)
    assert other.status_code == 404 and other.json()["code"] == "not_found"


def test_the_data_version_follows_decisions_undo_and_redo(client: TestClient, shoot: Shoot) -> None:
    pid, a = shoot.project_id, shoot.a
    first = _view(client, shoot)["dataVersion"]
    version = client.get(f"/x-kilo/projects/{pid}/cull/version", headers=a).json()
    assert version["dataVersion"] == first
    aid = shoot.asset_ids[1]
    done = client.post(
        f"/projects/{pid}/cull:applyAction",
        json={"actions": [{"assetId": aid, "rating": 4, "starred": True}]},
        headers={**a, "Idempotency-Key": "studio-test-0001"},
    )
    assert done.status_code == 200, done.text
    after = _view(client, shoot)
    assert after["dataVersion"] != first
    frame = next(m for s in after["stacks"] for m in s["members"] if m["assetId"] == aid)
    assert frame["rating"] == 4 and frame["starred"] is True

    undone = client.post(f"/x-kilo/projects/{pid}/cull:undo", headers=a).json()
    assert undone["done"] is True and undone["action"] == "bulk"
    assert undone["assetIds"] == [aid] and undone["dataVersion"] == first
    redone = client.post(f"/x-kilo/projects/{pid}/cull:redo", headers=a).json()
    assert redone["done"] and redone["dataVersion"] == after["dataVersion"]
    nothing = client.post(f"/x-kilo/projects/{pid}/cull:redo", headers=a).json()
    assert nothing["done"] is False and nothing["assetIds"] == []


def test_rejecting_a_stack_is_one_undoable_action(client: TestClient, shoot: Shoot) -> None:
    pid, a = shoot.project_id, shoot.a
    before = _view(client, shoot)
    stack = next(s for s in before["stacks"] if s["kind"] != "singles")
    got = client.post(f"/x-kilo/clusters/{stack['id']}:reject", headers=a)
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["action"] == "reject_cluster" and body["clusterIds"] == [stack["id"]]
    assert sorted(body["assetIds"]) == sorted(stack["memberIds"])
    after = _view(client, shoot)
    rejected = next(s for s in after["stacks"] if s["id"] == stack["id"])
    assert rejected["reviewed"] and all(m["rejected"] for m in rejected["members"])
    assert after["dataVersion"] != before["dataVersion"]
    client.post(f"/x-kilo/projects/{pid}/cull:undo", headers=a)
    restored = _view(client, shoot)
    assert restored["dataVersion"] == before["dataVersion"]
    back = next(s for s in restored["stacks"] if s["id"] == stack["id"])
    assert back["reviewed"] is False and not any(m["rejected"] for m in back["members"])
    # another user's stack
    assert client.post(f"/x-kilo/clusters/{stack['id']}:reject", headers=shoot.b).status_code == 404


def test_split_and_merge_a_stack(client: TestClient, shoot: Shoot) -> None:
    a = shoot.a
    stack = next(
        s
        for s in _view(client, shoot)["stacks"]
        if s["kind"] != "singles" and len(s["memberIds"]) > 1
    )
    moved = stack["memberIds"][-1]
    split = client.post(
        f"/x-kilo/clusters/{stack['id']}:split", json={"assetIds": [moved]}, headers=a
    )
    assert split.status_code == 200, split.text
    new_id = split.json()["created"]["id"]
    assert [m["assetId"] for m in split.json()["created"]["assets"]] == [moved]
    merged = client.post(
        f"/x-kilo/clusters/{stack['id']}:merge", json={"clusterIds": [new_id]}, headers=a
    )
    assert merged.status_code == 200, merged.text
    assert sorted(x["assetId"] for x in merged.json()["assets"]) == sorted(stack["memberIds"])
    bad = client.post(
        f"/x-kilo/clusters/{stack['id']}:split", json={"assetIds": stack["memberIds"]}, headers=a
    )
    assert bad.status_code == 400 and bad.json()["code"] == "bad_request"


def test_progress_counts_the_projects_photos(client: TestClient, shoot: Shoot) -> None:
    got = client.get(f"/x-kilo/projects/{shoot.project_id}/progress", headers=shoot.a)
    assert got.status_code == 200, got.text
    p = got.json()
    assert (p["total"], p["processed"], p["analyzed"], p["failed"]) == (5, 5, 5, 0)
    assert p["throughputPerMin"] > 0  # made a moment ago
    assert (
        client.get(f"/x-kilo/projects/{shoot.project_id}/progress", headers=shoot.b).status_code
        == 404
    )


#: exiftool groups (-G1) a served JPEG may have: the file, its JFIF header and colour profile,
#: what exiftool works out from them (no EXIF, GPS, XMP, IPTC, maker notes, comments)
PLAIN = {"ExifTool", "System", "File", "JFIF", "Composite", "ICC_Profile", "ICC-header"}
PLAIN |= {"ICC-view", "ICC-meas"}


def _exif_groups(path: Path) -> set[str]:
    out = subprocess.run(
        ["exiftool", "-j", "-a", "-G1", str(path)], capture_output=True, text=True, check=True
    )
    return {k.split(":")[0] for k in json.loads(out.stdout)[0] if ":" in k}


def test_the_loupe_is_the_full_size_original_without_metadata_and_kept(
    client: TestClient, shoot: Shoot, tmp_path: Path
) -> None:
    from PIL import Image

    from kilo.catalog.assets_repo import find_rendition

    view = _view(client, shoot)
    frame = next(m for s in view["stacks"] for m in s["members"])
    data = _img(client, frame["loupeUrl"])
    path = tmp_path / "loupe.jpg"
    path.write_bytes(data)
    with Image.open(path) as im:
        assert im.size == (frame["displayWidth"], frame["displayHeight"])
    assert _exif_groups(path) <= PLAIN
    catalog = client.app.state.catalog  # type: ignore[attr-defined]
    kept = find_rendition(catalog, frame["assetId"], "loupe")
    assert kept is not None
    assert _img(client, frame["loupeUrl"]) == data  # the second look reads the kept file
    assert find_rendition(catalog, frame["assetId"], "loupe") == kept
    # every link dies with the project
    gone = client.patch(
        f"/projects/{shoot.project_id}", json={"status": "deleted"}, headers=shoot.a
    )
    assert gone.status_code == 200, gone.text
    for url in (frame["loupeUrl"], frame["thumbUrl"], frame["previewUrl"]):
        assert client.get(url.removeprefix("/v1")).status_code == 404, url


def test_the_face_strip_has_a_row_per_person_and_a_cell_per_member(
    client: TestClient, shoot: Shoot
) -> None:
    stack = next(s for s in _view(client, shoot)["stacks"] if s["kind"] != "singles")
    catalog = client.app.state.catalog  # type: ignore[attr-defined]
    empty = client.get(f"/x-kilo/clusters/{stack['id']}/faces", headers=shoot.a).json()
    assert empty["memberIds"] == stack["memberIds"]
    first = stack["memberIds"][0]
    catalog.execute(  # what face analysis records: one face, eyes closed
        "INSERT INTO faces VALUES (?, 0, 0.4, 0.3, 0.1, 0.12, 0.9, 'closed', 0.1, 'test')",
        [first],
    )
    got = client.get(f"/x-kilo/clusters/{stack['id']}/faces", headers=shoot.a)
    assert got.status_code == 200, got.text
    people = got.json()["people"]
    assert len(people) == 1 and len(people[0]["frames"]) == len(stack["memberIds"])
    cell = people[0]["frames"][0]
    assert cell["assetId"] == first and cell["eyes"] == "closed"
    crop = _img(client, cell["cropUrl"])
    assert crop[:2] == b"\xff\xd8"
    assert client.get(f"/x-kilo/clusters/{stack['id']}/faces", headers=shoot.b).status_code == 404
