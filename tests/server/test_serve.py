"""The server as a process: ``kilo serve`` answers and stops on Ctrl-C; its job worker runs
what requests queue, without the requests waiting."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from kilo.settings import Settings
from kilo_server import create_app
from support.api import Mailbox, _free_port, make_shoot, start_kilo_serve


def test_the_worker_runs_jobs_queued_before_a_restart(
    api_settings: Settings, mailbox: tuple[Mailbox, int]
) -> None:
    base = "http://testserver/v1"
    with TestClient(create_app(api_settings, run_jobs=False), base_url=base) as client:
        shoot = make_shoot(client, mailbox[0])
        a, ids = shoot.a, shoot.asset_ids
        made = client.post(
            f"/assets/{ids[0]}/edits", json={"params": {"exposure": 0.7}}, headers=a
        ).json()
        queued = client.post(
            f"/edits/{made['id']}/applyTo", json={"assetIds": ids[1:]}, headers=a
        ).json()
        assert queued["status"] == "queued"
    # the server stopped with the job queued; started again, its worker runs it
    with TestClient(create_app(api_settings), base_url=base) as client:
        deadline = time.monotonic() + 30
        status = "queued"
        jobs_url = f"/projects/{shoot.project_id}/jobs"
        while status != "done" and time.monotonic() < deadline:
            jobs = client.get(jobs_url, params={"type": "edit.apply"}, headers=a).json()["items"]
            status = next(j["status"] for j in jobs if j["id"] == queued["jobId"])
            time.sleep(0.1)
        assert status == "done"
        edits = client.get(f"/assets/{ids[2]}/edits", headers=a).json()
        assert edits["items"][-1]["params"]["exposure"] == 0.7


@pytest.mark.slow
def test_kilo_serve_starts_answers_and_stops_on_ctrl_c(home: Path) -> None:
    port = _free_port()
    env = {**os.environ, "KILO_HOME": str(home), "KILO_DEV_LOGIN_CODES": "true"}
    kilo = Path(sys.executable).parent / "kilo"
    proc = subprocess.Popen(
        [str(kilo), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/v1/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr
                time.sleep(0.2)
        assert r.status_code == 200 and "/projects" in r.json()["paths"]
        login = httpx.post(
            f"http://127.0.0.1:{port}/v1/auth/login", json={"email": "me@example.com"}, timeout=5
        )
        assert login.status_code == 200
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "dev login code for me@example.com" in err and "Traceback" not in err


def _serve(home: Path, port: int) -> subprocess.Popen[str]:
    proc: subprocess.Popen[str] = start_kilo_serve(
        home, port, wait_s=30, KILO_DEV_LOGIN_CODES="true", KILO_WORKERS="2"
    )
    return proc


@pytest.mark.slow
def test_a_server_killed_mid_ingest_finishes_the_jobs_after_a_restart(
    home: Path, shared_photos_dir: Path
) -> None:
    from kilo.catalog import open_catalog
    from kilo.ingest import ingest
    from kilo.projects import create_project
    from kilo.settings import Settings
    from kilo_server.tokens import mint_access_token

    settings = Settings(home=home, clip_enabled=False)
    photos = sorted(p for p in shared_photos_dir.rglob("*.jpg"))[:24]
    with open_catalog(settings) as cat:
        pid = create_project(cat, "Killed").id
        owner = str(cat.scalar("SELECT owner_user_id FROM projects WHERE id = ?", [pid]))
        report = ingest(cat, pid, photos, process=False)  # registered, processing queued
        assert len(report.asset_ids) >= 20
    auth = {"Authorization": f"Bearer {mint_access_token(settings, owner)}"}
    port = _free_port()
    jobs_url = f"http://127.0.0.1:{port}/v1/projects/{pid}/jobs"

    def statuses() -> list[str]:
        page = httpx.get(jobs_url, params={"limit": 200, "type": "asset.process"}, headers=auth)
        return [j["status"] for j in page.json()["items"]]

    proc = _serve(home, port)
    deadline = time.monotonic() + 60
    before = statuses()
    while "running" not in before and time.monotonic() < deadline:
        time.sleep(0.02)
        before = statuses()
    os.killpg(proc.pid, signal.SIGKILL)  # mid-ingest: some done, the rest queued or running
    proc.wait()
    assert "running" in before, before
    proc = _serve(home, port)
    try:
        deadline = time.monotonic() + 120
        while set(statuses()) != {"done"} and time.monotonic() < deadline:
            time.sleep(0.2)
        assert set(statuses()) == {"done"}, statuses()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)


@pytest.mark.slow
def test_the_cli_works_on_the_library_a_running_server_serves(home: Path) -> None:
    """`kilo serve` in one terminal, the CLI in another: the command is handed the library,
    its decision is what the API then answers, and the server goes on serving."""
    from kilo.catalog import open_catalog
    from kilo.ingest import ingest
    from kilo.projects import create_project
    from kilo_server.tokens import mint_access_token

    settings = Settings(home=home, clip_enabled=False)
    examples = Path(__file__).parents[2] / "examples" / "photos"
    with open_catalog(settings) as cat:
        pid = create_project(cat, "Served").id
        ingest(cat, pid, [examples])
        owner = str(cat.scalar("SELECT owner_user_id FROM projects WHERE id = ?", [pid]))
        first = str(cat.scalar("SELECT id FROM assets ORDER BY filename LIMIT 1"))
    auth = {"Authorization": f"Bearer {mint_access_token(settings, owner)}"}
    port = _free_port()
    proc = _serve(home, port)
    try:
        env = {
            **os.environ,
            "KILO_HOME": str(home),
            "KILO_CLIP_ENABLED": "false",
            "KILO_LOCK_WAIT_S": "20",
        }
        kilo = str(Path(sys.executable).parent / "kilo")
        out = subprocess.run(
            [kilo, "cull", "apply", "Served", "--pick", first],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        got = httpx.get(f"http://127.0.0.1:{port}/v1/assets/{first}", headers=auth, timeout=30)
        assert got.status_code == 200 and got.json()["myRating"]["picked"] is True
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
