"""The served operations end to end on real photos, and what one user can learn of another's
work: nothing (404, as for an id that does not exist), on every kind of id."""

from __future__ import annotations

import json
import uuid

import pytest
from fastapi.testclient import TestClient

from support.api import Mailbox, Shoot, make_shoot


@pytest.fixture
def shoot(client: TestClient, mailbox: tuple[Mailbox, int]) -> Shoot:
    return make_shoot(client, mailbox[0])


def test_user_b_gets_404_on_everything_of_user_a(client: TestClient, shoot: Shoot) -> None:
    s = shoot
    reads = [
        f"/projects/{s.project_id}",
        f"/projects/{s.project_id}/assets",
        f"/projects/{s.project_id}/clusters",
        f"/assets/{s.asset_ids[0]}",
        f"/assets/{s.asset_ids[0]}/files",
        f"/assets/{s.asset_ids[0]}/edits",
        f"/clusters/{s.cluster_id}",
        f"/edits/{s.edit_id}",
        f"/exports/{s.export_id}",
        f"/exports/{s.export_id}/download",
    ]
    for path in reads:
        assert client.get(path, headers=s.a).status_code == 200, path
        mine, theirs = (
            client.get(path, headers=s.b),
            client.get(path.replace(path.split("/")[2], str(uuid.uuid4())), headers=s.b),
        )
        assert mine.status_code == theirs.status_code == 404, path
        # the same words as for an id that does not exist (only the id differs)
        assert (
            mine.json()["message"].rsplit(" ", 1)[0] == theirs.json()["message"].rsplit(" ", 1)[0]
        )
    writes = [
        ("patch", f"/projects/{s.project_id}", {"title": "mine now"}),
        ("post", f"/projects/{s.project_id}/archive", None),
        ("patch", f"/assets/{s.asset_ids[0]}", {"notes": "x"}),
        ("post", f"/assets/{s.asset_ids[0]}/ratings", {"picked": True}),
        ("post", f"/assets/{s.asset_ids[0]}/edits", {"params": {"exposure": 1}}),
        ("patch", f"/clusters/{s.cluster_id}", {"reviewed": True}),
        ("post", f"/clusters/{s.cluster_id}/winner", {"winnerAssetId": s.asset_ids[0]}),
        (
            "post",
            f"/projects/{s.project_id}/cull:applyAction",
            {"actions": [{"assetId": s.asset_ids[0], "picked": True}]},
        ),
    ]
    for method, path, body in writes:
        r = client.request(method, path, json=body, headers=s.b)
        assert r.status_code == 404, (method, path, r.text)
    # where the contract has no 404: a bad request, or nothing
    assert client.get(f"/projects/{s.project_id}/jobs", headers=s.b).json()["items"] == []
    assert client.get(f"/projects/{s.project_id}/jobs", headers=s.a).json()["items"]
    for path, body in [
        (f"/projects/{s.project_id}/search", {"q": "photo"}),
        (f"/projects/{s.project_id}/exports", {"preset": "web"}),
        (f"/edits/{s.edit_id}/applyTo", {"assetIds": [s.asset_ids[1]]}),
    ]:
        assert client.post(path, json=body, headers=s.b).status_code == 400, path
    # B's own edit applied to A's photos: refused as a whole
    assert client.get("/projects", headers=s.b).json()["items"] == []
    b_project = client.post("/projects", json={"title": "B's"}, headers=s.b).json()
    assert client.get(f"/projects/{b_project['id']}", headers=s.a).status_code == 404
    # nothing of A changed
    catalog = client.app.state.catalog  # type: ignore[attr-defined]
    assert catalog.scalar("SELECT title FROM projects WHERE id = ?", [s.project_id]) == "Leuven"
    assert catalog.scalar("SELECT count(*) FROM ratings WHERE picked") == 0


def test_a_shoot_over_http(client: TestClient, shoot: Shoot) -> None:
    s, a = shoot, shoot.a
    page = client.get(f"/projects/{s.project_id}/assets", params={"limit": 2}, headers=a).json()
    assert len(page["items"]) == 2 and page["pageInfo"]["nextCursor"]
    cursor = {"cursor": page["pageInfo"]["nextCursor"]}
    rest = client.get(f"/projects/{s.project_id}/assets", params=cursor, headers=a).json()
    assert {x["id"] for x in page["items"] + rest["items"]} == set(s.asset_ids)
    text = json.dumps(page) + json.dumps(rest)
    assert "file://" not in text and "/tmp/" not in text and "sourceUri" not in text
    # the preview through its signed URL: real JPEG bytes
    url = page["items"][0]["bestPreviewUrl"]
    assert url.startswith(f"/v1/x-kilo/assets/{page['items'][0]['id']}/preview?")
    again = client.get(f"/projects/{s.project_id}/assets", params={"limit": 2}, headers=a).json()
    assert again["items"][0]["bestPreviewUrl"] == url  # the same link: browsers may cache it
    got = client.get(url.removeprefix("/v1"))
    assert got.status_code == 200 and got.content[:3] == b"\xff\xd8\xff"
    assert client.get(url.removeprefix("/v1").replace("sig=", "sig=0")).status_code == 404
    files = client.get(f"/assets/{s.asset_ids[0]}/files", headers=a).json()["files"]
    assert {f["kind"] for f in files} >= {"original", "preview", "thumbnail"}
    assert all(f["url"].startswith("/v1/x-kilo/files/") and f["expiresAt"] for f in files)
    # decisions
    rated = client.post(f"/assets/{s.asset_ids[0]}/ratings", json={"rating": 4}, headers=a)
    assert rated.status_code == 200 and rated.json()["rating"] == 4
    assert (
        client.post(f"/assets/{s.asset_ids[0]}/ratings", json={"rating": 9}, headers=a).status_code
        == 400
    )
    body = {"actions": [{"assetId": x, "picked": True} for x in s.asset_ids[:2]]}
    key = {"Idempotency-Key": "cull-0001-abc", **a}
    first = client.post(f"/projects/{s.project_id}/cull:applyAction", json=body, headers=key)
    again = client.post(f"/projects/{s.project_id}/cull:applyAction", json=body, headers=key)
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    other = {"actions": [{"assetId": s.asset_ids[3], "rejected": True}]}
    clash = client.post(f"/projects/{s.project_id}/cull:applyAction", json=other, headers=key)
    assert clash.status_code == 409 and clash.json()["code"] == "conflict"
    picked = client.get(
        f"/projects/{s.project_id}/assets", params={"picked": "true"}, headers=a
    ).json()["items"]
    assert {x["id"] for x in picked} == set(s.asset_ids[:2])
    # clusters
    clusters = client.get(f"/projects/{s.project_id}/clusters", headers=a).json()["items"]
    assert clusters and all(c["projectId"] == s.project_id for c in clusters)
    reviewed = client.patch(f"/clusters/{s.cluster_id}", json={"reviewed": True}, headers=a)
    assert reviewed.status_code == 200 and reviewed.json()["reviewed"] is True
    # edits and applying one to the others: a queued job, followed in the jobs list
    made = client.post(
        f"/assets/{s.asset_ids[1]}/edits", json={"params": {"exposure": 0.5}}, headers=a
    )
    assert made.status_code == 201
    applied = client.post(
        f"/edits/{made.json()['id']}/applyTo", json={"assetIds": s.asset_ids[2:]}, headers=a
    )
    assert applied.status_code == 200 and applied.json()["status"] == "queued"
    jobs = client.get(
        f"/projects/{s.project_id}/jobs", params={"status": "queued"}, headers=a
    ).json()["items"]
    assert applied.json()["jobId"] in {j["id"] for j in jobs}
    # search (metadata without CLIP here)
    found = client.get(f"/projects/{s.project_id}/search", params={"q": "leuven"}, headers=a)
    assert found.status_code == 200
    # the finished export: no store location shown, the file through a signed URL
    export = client.get(f"/exports/{s.export_id}", headers=a).json()
    assert export["status"] == "done" and not export.get("artifact") and not export.get("dest")
    link = client.get(f"/exports/{s.export_id}/download", headers=a).json()
    assert link["url"].startswith("/v1/x-kilo/exports/") and link["expiresAt"]
    zipped = client.get(link["url"].removeprefix("/v1"))
    assert zipped.status_code == 200 and len(zipped.content) > 1000
    # the project itself
    patched = client.patch(f"/projects/{s.project_id}", json={"title": "Leuven, day 2"}, headers=a)
    assert patched.json()["title"] == "Leuven, day 2"
    assert (
        client.post(f"/projects/{s.project_id}/archive", headers=a).json()["status"] == "archived"
    )


def test_malformed_ids_and_bodies_are_400_in_the_error_schema(
    client: TestClient, shoot: Shoot
) -> None:
    # where the contract documents no 400 (its GETs), what a malformed id names is not found
    for path in ("/projects/not-a-uuid", "/assets/123", "/edits/1"):
        r = client.get(path, headers=shoot.a)
        assert r.status_code == 404 and "valid UUID" in r.json()["message"], path
    # a cursor kilo did not hand out, where the contract has a 404 and no 400
    for listing in ("assets", "clusters"):
        r = client.get(f"/projects/{shoot.project_id}/{listing}?cursor=made-up", headers=shoot.a)
        assert r.status_code == 404 and "cursor" in r.json()["message"], listing
    for method, path, body in [
        ("patch", "/projects/not-a-uuid", {"title": "x"}),
        ("get", "/projects?color=red", None),
        ("post", "/projects", {"title": ""}),
        ("post", "/projects", {"title": "x", "unknownField": 1}),
        ("get", "/projects?limit=0", None),
        ("get", "/projects?limit=201", None),
        ("post", f"/projects/{shoot.project_id}/cull:applyAction", {"actions": "nope"}),
    ]:
        r = client.request(method, path, json=body, headers=shoot.a)
        assert r.status_code == 400, (path, r.text)
        assert set(r.json()) <= {"code", "message", "details", "requestId"}
        assert r.json()["code"] == "bad_request"
        assert r.headers["X-Request-Id"] == r.json()["requestId"]  # one id, logged with it
