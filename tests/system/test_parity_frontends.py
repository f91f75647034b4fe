"""One shoot, three front ends, one result (issue 29): every file of the shared photos (the
4-frame HEIC burst and the MPO included) ingested with the library, with the ``kilo`` command
and uploaded over HTTP to a real ``uvicorn`` whose own job worker processes them; then the
same picks, rejects and winner through each front end's own calls, and the same answers read
back through each: assets per file, groups, the winner, pick and review counts."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.api import Mailbox, running_app, running_smtp
from support.shared import SHARED_PHOTOS as PHOTOS

# every shared photo through three front ends: minutes, more than the 300 s of other tests
pytestmark = [pytest.mark.slow, pytest.mark.shared_photos, pytest.mark.timeout(900)]

#: the decisions every front end makes, by file name (frame 0 of a multi-frame file)
PICKS = ("plasma_Kite.jpg", "mate_LadyBird.jpg", "people_zidane.jpg")
REJECTS = ("cv_text_motion.jpg", "cv_licenseplate_motion.jpg")
BURST_FILE = "bird_burst.heic"
TITLE = "Parity shoot"


def _photos() -> list[Path]:
    if not PHOTOS.is_dir():
        pytest.skip(f"test photos not found at {PHOTOS} (set KILO_TEST_PHOTOS)")
    return sorted(p for p in PHOTOS.rglob("*") if p.is_file())


def _summary(
    assets: list[dict[str, Any]], clusters: list[dict[str, Any]], stats: dict[str, Any]
) -> dict[str, Any]:
    """What a front end answers, keyed by file name and frame (ids differ between runs)."""
    name = {a["id"]: f"{a['filename']}[{a.get('frameIndex') or 0}]" for a in assets}
    per_file: dict[str, list[tuple[int, str]]] = {}
    for a in assets:
        per_file.setdefault(a["filename"], []).append((a.get("frameIndex") or 0, a["sha256"]))
    groups = sorted(
        (c["kind"], tuple(sorted(name[m] for m in _members(c))))
        for c in clusters
        if c["kind"] in ("burst", "duplicate_group")
    )
    burst = [
        c
        for c in clusters
        if c["kind"] == "burst" and all(name[m].startswith(BURST_FILE) for m in _members(c))
    ]
    return {
        "files": {k: sorted(v) for k, v in per_file.items()},
        "groups": groups,
        "burst_winner": name.get(burst[0]["winnerAssetId"]) if burst else None,
        "picked": sorted(name[a["id"]] for a in assets if (a.get("myRating") or {}).get("picked")),
        "rejected": sorted(
            name[a["id"]] for a in assets if (a.get("myRating") or {}).get("rejected")
        ),
        "stats": {k: stats[k] for k in ("assetCount", "pickedCount", "rejectedCount")},
        "reviewed": sorted(
            (c["kind"], tuple(sorted(name[m] for m in _members(c))))
            for c in clusters
            if c.get("reviewed")
        ),
    }


def _members(cluster: dict[str, Any]) -> list[str]:
    return [m["assetId"] for m in cluster["assets"]]


def _burst_choice(clusters: list[dict[str, Any]], assets: list[dict[str, Any]]) -> tuple[str, str]:
    """(cluster id, asset id) of the HEIC burst's last frame: a frame the ranker did not
    suggest first, chosen by position so every front end chooses the same one."""
    frames = {a["id"]: a.get("frameIndex") or 0 for a in assets if a["filename"] == BURST_FILE}
    cluster = next(c for c in clusters if c["kind"] == "burst" and set(_members(c)) <= set(frames))
    last = max(_members(cluster), key=lambda aid: frames[aid])
    return cluster["id"], last


def _frame0(assets: list[dict[str, Any]], filename: str) -> str:
    return next(a["id"] for a in assets if a["filename"] == filename and not a.get("frameIndex"))


# -- the library ------------------------------------------------------------------------------
def _through_library(home: Path) -> dict[str, Any]:
    from kilo.analyze import analyze
    from kilo.assets import list_assets
    from kilo.catalog import open_catalog
    from kilo.cull import apply_bulk, pick_winner
    from kilo.group import list_clusters
    from kilo.ingest import ingest
    from kilo.models import BulkCullAction, BulkCullActionRequest
    from kilo.projects import create_project, get_project
    from kilo.settings import load_settings

    with open_catalog(load_settings(home=home, clip_enabled=False)) as cat:
        pid = create_project(cat, TITLE).id
        assert ingest(cat, pid, [PHOTOS]).failed == 0
        analyze(cat, pid)

        def read() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
            assets = list_assets(cat, pid, limit=200).model_dump(by_alias=True)["items"]
            clusters = list_clusters(cat, pid, limit=200).model_dump(by_alias=True)["items"]
            return assets, clusters

        assets, clusters = read()
        actions = [BulkCullAction(asset_id=_frame0(assets, f), picked=True) for f in PICKS]
        actions += [BulkCullAction(asset_id=_frame0(assets, f), rejected=True) for f in REJECTS]
        apply_bulk(cat, pid, BulkCullActionRequest(actions=actions))
        cid, aid = _burst_choice(clusters, assets)
        pick_winner(cat, cid, aid, user_id=cat.local_user_id)
        assets, clusters = read()
        stats = get_project(cat, pid).stats
    return _summary(assets, clusters, stats)


# -- the command line -------------------------------------------------------------------------
def _kilo(home: Path, *args: str) -> Any:
    env = {**os.environ, "KILO_HOME": str(home), "KILO_CLIP_ENABLED": "false"}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "kilo"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, f"kilo {' '.join(args)}: {done.stderr}"
    return json.loads(done.stdout) if "--json" in args else done.stdout


def _through_cli(home: Path) -> dict[str, Any]:
    _kilo(home, "project", "create", TITLE)
    _kilo(home, "ingest", str(PHOTOS), "--project", TITLE)
    _kilo(home, "analyze", TITLE)

    def read() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        assets = _kilo(home, "assets", "list", TITLE, "--limit", "200", "--json")
        clusters = _kilo(home, "clusters", "list", TITLE, "--json")
        return _items(assets), _items(clusters)

    assets, clusters = read()
    picks = [x for f in PICKS for x in ("--pick", _frame0(assets, f))]
    rejects = [x for f in REJECTS for x in ("--reject", _frame0(assets, f))]
    _kilo(home, "cull", "apply", TITLE, *picks, *rejects)
    cid, aid = _burst_choice(clusters, assets)
    _kilo(home, "clusters", "winner", cid, aid)
    assets, clusters = read()
    stats = _kilo(home, "project", "show", TITLE, "--json")["stats"]
    return _summary(assets, clusters, stats)


def _items(answer: Any) -> list[dict[str, Any]]:
    return list(answer["items"] if isinstance(answer, dict) else answer)


# -- HTTP ---------------------------------------------------------------------------------------
@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Mailbox, Any]]:
    """A real uvicorn with its own job worker (as ``kilo serve`` runs) and a real SMTP relay."""
    from kilo.settings import load_settings
    from kilo_server import create_app

    with running_smtp() as (box, smtp_port):
        settings = load_settings(
            home=tmp_path / "http",
            clip_enabled=False,
            smtp_host="127.0.0.1",
            smtp_port=smtp_port,
            rate_limit_per_min=1000,
            workers=1,
        )
        app = create_app(settings, run_jobs=True)
        with running_app(app) as port:
            yield f"http://127.0.0.1:{port}/v1", box, app


def _through_http(base: str, box: Mailbox) -> dict[str, Any]:
    c = httpx.Client(base_url=base, timeout=120)
    challenge = c.post("/auth/login", json={"email": "web@example.com"}).json()
    body = {"challengeId": challenge["challengeId"], "code": box.code_for("web@example.com")}
    auth = {"Authorization": f"Bearer {c.post('/auth/verify', json=body).json()['accessToken']}"}
    pid = c.post("/projects", json={"title": TITLE}, headers=auth).json()["id"]
    files = _photos()
    wanted = {"files": [{"filename": p.name, "byteSize": p.stat().st_size} for p in files]}
    made = c.post(f"/projects/{pid}/assets:prepareUpload", json=wanted, headers=auth)
    assert made.status_code == 200, made.text

    def send(pair: tuple[dict[str, Any], Path]) -> dict[str, str]:
        upload, path = pair
        data = path.read_bytes()
        put = httpx.put(base + upload["uploadUrl"].removeprefix("/v1"), content=data, timeout=120)
        assert put.status_code == 200, put.text
        return {"assetId": upload["assetId"], "checksumSha256": hashlib.sha256(data).hexdigest()}

    with ThreadPoolExecutor(4) as pool:
        items = list(pool.map(send, zip(made.json()["uploads"], files, strict=True)))
    done = c.post(f"/projects/{pid}/assets:finalizeUpload", json={"assets": items}, headers=auth)
    assert done.status_code == 200, done.text
    _wait_for_jobs(c, auth, pid)

    def read() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        assets = c.get(f"/projects/{pid}/assets", params={"limit": 200}, headers=auth)
        clusters = c.get(f"/projects/{pid}/clusters", params={"limit": 200}, headers=auth)
        assert assets.status_code == clusters.status_code == 200, (assets.text, clusters.text)
        return assets.json()["items"], clusters.json()["items"]

    assets, clusters = read()
    actions = [{"assetId": _frame0(assets, f), "picked": True} for f in PICKS]
    actions += [{"assetId": _frame0(assets, f), "rejected": True} for f in REJECTS]
    applied = c.post(f"/projects/{pid}/cull:applyAction", json={"actions": actions}, headers=auth)
    assert applied.status_code == 200, applied.text
    cid, aid = _burst_choice(clusters, assets)
    won = c.post(f"/clusters/{cid}/winner", json={"winnerAssetId": aid}, headers=auth)
    assert won.status_code == 200, won.text
    assets, clusters = read()
    stats = c.get(f"/projects/{pid}", headers=auth).json()["stats"]
    return _summary(assets, clusters, stats)


def _wait_for_jobs(c: httpx.Client, auth: dict[str, str], pid: str) -> None:
    """Until the server's worker has processed and analysed every upload (its jobs list)."""
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        jobs = c.get(f"/projects/{pid}/jobs", params={"limit": 200}, headers=auth).json()["items"]
        kinds = {j["type"] for j in jobs}
        open_ = [j for j in jobs if j["status"] in ("queued", "running")]
        if jobs and not open_ and any("cluster" in k for k in kinds):
            failed = [j for j in jobs if j["status"] == "failed"]
            assert not failed, failed
            return
        time.sleep(0.5)
    raise AssertionError("the server's jobs did not finish in 15 minutes")


def test_one_shoot_gives_one_result_through_library_cli_and_http(
    tmp_path: Path, served: tuple[str, Mailbox, Any]
) -> None:
    _photos()
    library = _through_library(tmp_path / "lib")
    cli = _through_cli(tmp_path / "cli")
    http = _through_http(served[0], served[1])
    # the shoot itself: the HEIC burst is four frames, the picks and the winner took
    assert [f for f, _ in library["files"][BURST_FILE]] == [0, 1, 2, 3]
    assert library["burst_winner"] == f"{BURST_FILE}[3]"
    assert library["stats"]["pickedCount"] == len(PICKS) + 1
    assert library["stats"]["rejectedCount"] == len(REJECTS)
    assert any(kind == "burst" and f"{BURST_FILE}[3]" in m for kind, m in library["reviewed"])
    for key in library:
        assert cli[key] == library[key], f"CLI differs from the library in {key}"
        assert http[key] == library[key], f"HTTP differs from the library in {key}"
