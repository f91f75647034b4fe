"""Uploads over HTTP with real photos: signed PUT URLs, retries, checksums, and the same
processing as ``kilo ingest`` afterwards."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from kilo.jobs import run_jobs
from kilo.settings import Settings
from kilo_server import create_app
from support.api import EXAMPLES, Mailbox, login
from support.s3 import S3Server, s3_server  # noqa: F401


def test_upload_three_photos_and_they_are_processed(
    client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    a = login(client, mailbox[0], "a@example.com")
    b = login(client, mailbox[0], "b@example.com")
    pid = client.post("/projects", json={"title": "Upload"}, headers=a).json()["id"]
    photos = sorted(EXAMPLES.glob("cv_*.jpg"))[:3]
    files = [
        {"clientFileId": f"row-{i}", "filename": p.name, "byteSize": p.stat().st_size}
        for i, p in enumerate(photos)
    ]
    key = {"Idempotency-Key": "prepare-0001", **a}
    prepared = client.post(
        f"/projects/{pid}/assets:prepareUpload", json={"files": files}, headers=key
    )
    assert prepared.status_code == 200, prepared.text
    uploads = prepared.json()["uploads"]
    again = client.post(
        f"/projects/{pid}/assets:prepareUpload", json={"files": files}, headers=key
    ).json()["uploads"]
    assert [u["assetId"] for u in again] == [u["assetId"] for u in uploads]
    assert [u["clientFileId"] for u in uploads] == ["row-0", "row-1", "row-2"]
    # pending uploads are not photos of the project yet
    assert client.get(f"/projects/{pid}/assets", headers=a).json()["items"] == []
    assert (
        client.post(
            f"/projects/{pid}/assets:prepareUpload", json={"files": files}, headers=b
        ).status_code
        == 400
    )
    for u, path in zip(uploads, photos, strict=True):
        url = u["uploadUrl"].removeprefix("/v1")
        data = path.read_bytes()
        assert client.put(url.replace("sig=", "sig=f"), content=data).status_code == 404
        cut = client.put(url, content=data[: len(data) // 2])  # the connection broke
        assert cut.status_code == 400 and "send it again" in cut.json()["message"]
        assert client.put(url, content=data + b"x").status_code == 400
        whole = client.put(url, content=data)
        assert whole.status_code == 200
        assert whole.json()["checksumSha256"] == hashlib.sha256(data).hexdigest()
    items = [
        {"assetId": u["assetId"], "checksumSha256": hashlib.sha256(p.read_bytes()).hexdigest()}
        for u, p in zip(uploads, photos, strict=True)
    ]
    wrong = [{**items[0], "checksumSha256": "0" * 64}]
    clash = client.post(f"/projects/{pid}/assets:finalizeUpload", json={"assets": wrong}, headers=a)
    assert clash.status_code == 409
    done = client.post(f"/projects/{pid}/assets:finalizeUpload", json={"assets": items}, headers=a)
    assert done.status_code == 200 and len(done.json()["queuedJobs"]) == 3
    late = client.put(uploads[0]["uploadUrl"].removeprefix("/v1"), content=b"x")
    assert late.status_code == 409
    catalog = client.app.state.catalog  # type: ignore[attr-defined]
    report = run_jobs(catalog, pid)  # what the server's worker does
    assert report.failed == 0
    listed = client.get(f"/projects/{pid}/assets", headers=a).json()["items"]
    assert {x["id"] for x in listed} == {u["assetId"] for u in uploads}
    assert all(x["bestPreviewUrl"] and x["widthPx"] for x in listed)
    assert {x["filename"] for x in listed} == {p.name for p in photos}


def test_uploads_are_processed_and_clustered_by_the_server(
    api_settings: Settings, mailbox: tuple[Mailbox, int]
) -> None:
    """The issue's whole session: log in, create a project, upload 3 photos, wait for the
    server's worker, list clusters, pick one."""
    with TestClient(create_app(api_settings), base_url="http://testserver/v1") as client:
        a = login(client, mailbox[0], "a@example.com")
        pid = client.post("/projects", json={"title": "Leuven"}, headers=a).json()["id"]
        photos = sorted(EXAMPLES.glob("cv_leuven*.jpg")) + sorted(EXAMPLES.glob("cv_aloeL.jpg"))
        files = [{"filename": p.name, "byteSize": p.stat().st_size} for p in photos]
        uploads = client.post(
            f"/projects/{pid}/assets:prepareUpload", json={"files": files}, headers=a
        ).json()["uploads"]
        sums = []
        for u, p in zip(uploads, photos, strict=True):
            data = p.read_bytes()
            assert client.put(u["uploadUrl"].removeprefix("/v1"), content=data).is_success
            sums.append(
                {"assetId": u["assetId"], "checksumSha256": hashlib.sha256(data).hexdigest()}
            )
        assert (
            client.post(
                f"/projects/{pid}/assets:finalizeUpload", json={"assets": sums}, headers=a
            ).status_code
            == 200
        )
        deadline, clusters = time.monotonic() + 90, []
        while not clusters and time.monotonic() < deadline:
            time.sleep(0.2)
            clusters = client.get(f"/projects/{pid}/clusters", headers=a).json()["items"]
        assert clusters, "the server did not analyse the uploads"
        members = {m["assetId"] for c in clusters for m in c["assets"]}
        assert members <= {u["assetId"] for u in uploads} and members
        pick = {"actions": [{"assetId": uploads[0]["assetId"], "picked": True}]}
        assert client.post(f"/projects/{pid}/cull:applyAction", json=pick, headers=a).json()["ok"]


def test_uploads_to_an_s3_store_go_straight_to_the_bucket(
    s3_server: S3Server,  # noqa: F811
    home: Path,
    mailbox: tuple[Mailbox, int],
) -> None:
    s3_server.client().create_bucket(Bucket="uploads-bucket")  # type: ignore[attr-defined]
    settings = Settings(
        home=home,
        clip_enabled=False,
        store="s3://uploads-bucket/kilo",
        s3_endpoint_url=s3_server.endpoint_url,
        smtp_host="127.0.0.1",
        smtp_port=mailbox[1],
        rate_limit_per_min=1000,
        workers=1,
    )
    with TestClient(create_app(settings, run_jobs=False), base_url="http://testserver/v1") as c:
        a = login(c, mailbox[0], "s3@example.com")
        pid = c.post("/projects", json={"title": "Bucket"}, headers=a).json()["id"]
        photo = sorted(EXAMPLES.glob("cv_*.jpg"))[0]
        data = photo.read_bytes()
        files = [{"filename": photo.name, "byteSize": len(data)}]
        (u,) = c.post(
            f"/projects/{pid}/assets:prepareUpload", json={"files": files}, headers=a
        ).json()["uploads"]
        assert u["uploadUrl"].startswith(s3_server.endpoint_url)  # presigned, to the bucket
        item = {"assetId": u["assetId"], "checksumSha256": hashlib.sha256(data).hexdigest()}
        early = c.post(f"/projects/{pid}/assets:finalizeUpload", json={"assets": [item]}, headers=a)
        assert early.status_code == 409  # nothing arrived yet
        assert httpx.put(u["uploadUrl"], content=data).status_code == 200
        wrong = {**item, "checksumSha256": "f" * 64}
        assert (
            c.post(
                f"/projects/{pid}/assets:finalizeUpload", json={"assets": [wrong]}, headers=a
            ).status_code
            == 409
        )
        done = c.post(f"/projects/{pid}/assets:finalizeUpload", json={"assets": [item]}, headers=a)
        assert done.status_code == 200, done.text
        assert run_jobs(c.app.state.catalog, pid).failed == 0  # type: ignore[attr-defined]
        (listed,) = c.get(f"/projects/{pid}/assets", headers=a).json()["items"]
        preview = c.get(listed["bestPreviewUrl"].removeprefix("/v1"))
        assert preview.status_code == 200 and preview.content[:3] == b"\xff\xd8\xff"
