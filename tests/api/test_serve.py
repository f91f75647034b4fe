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

from kilo.api import create_app
from kilo.settings import Settings
from support.api import Mailbox, _free_port, make_shoot


def test_the_worker_runs_jobs_queued_before_a_restart(
    api_settings: Settings, mailbox: tuple[Mailbox, int]
) -> None:
    base = "http://testserver/v1"
    with TestClient(create_app(api_settings, run_jobs=False), base_url=base) as client:
        shoot = make_shoot(client, mailbox[0])
        a, ids = shoot.a, shoot.asset_ids
        made = client.post(f"/assets/{ids[0]}/edits", json={"params": {"exposure": 0.7}},
                           headers=a).json()  # fmt: skip
        queued = client.post(f"/edits/{made['id']}/applyTo", json={"assetIds": ids[1:]},
                             headers=a).json()  # fmt: skip
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
    proc = subprocess.Popen([str(kilo), "serve", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
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
        login = httpx.post(f"http://127.0.0.1:{port}/v1/auth/login",
                           json={"email": "me@example.com"}, timeout=5)  # fmt: skip
        assert login.status_code == 200
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "dev login code for me@example.com" in err and "Traceback" not in err
