"""The API's capture times: ``capturedAt`` of an asset and ``startTime``/``endTime`` of a
moment carry the photo's own offset, or the project zone's, and no offset (never a ``Z``)
when neither is known; a client's gallery shows no capture time at all."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from support.api import Mailbox, login
from support.clock_photos import write_card

pytestmark = pytest.mark.slow


def test_the_api_sends_local_times_and_no_z_without_an_offset(
    client: Any, mailbox: tuple[Mailbox, int], tmp_path: Path, shared_photos_dir: Path
) -> None:
    from kilo.analyze import analyze
    from kilo.ingest import ingest

    a = login(client, mailbox[0], "a@example.com")
    project = client.post("/projects", json={"title": "Trip"}, headers=a).json()
    catalog = client.app.state.catalog
    card = write_card(shared_photos_dir, tmp_path / "card")
    assert ingest(catalog, project["id"], [card]).failed == 0
    analyze(catalog, project["id"])

    def captured() -> dict[str, Any]:
        page = client.get(f"/projects/{project['id']}/assets", headers=a).json()
        return {x["filename"]: x["capturedAt"] for x in page["items"]}

    assert captured() == {
        "cv_ela_original.jpg": "2018-06-06T22:20:11-03:00",
        "wall_clock.jpg": "2018-06-06T22:30:05",
        "scan.png": None,
    }
    moments = client.get(f"/projects/{project['id']}/clusters?kind=moment", headers=a).json()
    spans = sorted((str(c["startTime"]), str(c["endTime"])) for c in moments["items"])
    # one moment: without a zone, wall_clock.jpg is placed at the offset the other photo
    # carries (the one chronological order, docs/projects.md), ten minutes after it; its
    # end is still sent as its wall clock, without an offset
    assert spans == [("2018-06-06T22:20:11-03:00", "2018-06-06T22:30:05"), ("None", "None")]
    zoned = client.patch(f"/projects/{project['id']}", json={"timezone": "Europe/Oslo"}, headers=a)
    assert zoned.status_code == 200, zoned.text
    assert captured()["wall_clock.jpg"] == "2018-06-06T22:30:05+02:00"
    # the client's gallery shows no capture time at all (no metadata reaches a visitor)
    ids = [
        x["id"] for x in client.get(f"/projects/{project['id']}/assets", headers=a).json()["items"]
    ]
    body = {"title": "Proofs", "assetIds": ids}
    gallery = client.post(f"/projects/{project['id']}/galleries", json=body, headers=a).json()
    view = client.get(f"/share/{gallery['shareSlug']}")
    assert view.status_code == 200 and len(view.json()["assets"]) == 3, view.text
    for shown in view.json()["assets"]:  # neither a field nor a value of the photo's time
        assert not re.search(r"\d{4}-\d\d-\d\d|captured|time", str(shown), re.I), shown


def test_an_upload_keeps_the_offset_its_client_gave(
    client: Any, mailbox: tuple[Mailbox, int]
) -> None:
    """Until its file is read, a pending upload's time is the client's, kept with the
    client's offset (it was kept as UTC alone, and read back as UTC; a naive one stays
    naive)."""
    from kilo.clock import floating, local_capture_time, wire_time

    a = login(client, mailbox[0], "a@example.com")
    project = client.post("/projects", json={"title": "Upload"}, headers=a).json()
    files = [
        {"filename": "a.jpg", "byteSize": 10, "capturedAt": "2018-06-06T22:20:11-03:00"},
        {"filename": "b.jpg", "byteSize": 10, "capturedAt": "2018-06-06T22:30:05"},
    ]
    made = client.post(
        f"/projects/{project['id']}/assets:prepareUpload", json={"files": files}, headers=a
    )
    assert made.status_code == 200, made.text
    assets = client.app.state.catalog.table("assets")
    cols = ("captured_at", "captured_offset_min", "captured_at_source")
    kept = [assets.get(u["assetId"], cols) for u in made.json()["uploads"]]
    shown = [wire_time(floating(local_capture_time(row).local)) for row in kept]  # type: ignore[arg-type]
    assert shown == ["2018-06-06T22:20:11-03:00", "2018-06-06T22:30:05"], kept
