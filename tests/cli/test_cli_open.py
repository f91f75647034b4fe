"""``kilo open`` as a photographer runs it: the first call starts ``kilo serve`` in the
background and prints a one-time sign-in link (the one line on stdout) that signs the
browser in on the project's cull screen; the second finds the same server; the link works
once; the server's state file goes with it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from support.api import _free_port

pytestmark = pytest.mark.slow


def _kilo(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KILO_HOME": str(home), "KILO_CLIP_ENABLED": "false", "KILO_WORKERS": "1"}
    kilo = str(Path(sys.executable).parent / "kilo")
    return subprocess.run([kilo, *args], env=env, capture_output=True, text=True, timeout=120)


def test_kilo_open_starts_a_server_and_signs_in_once(tmp_path: Path) -> None:
    home = tmp_path / "lib"
    made = _kilo(home, "project", "create", "Wedding", "--json")
    assert made.returncode == 0, made.stderr
    project = json.loads(made.stdout)["id"]
    port = _free_port()
    first = _kilo(home, "open", "Wedding", "--print-url", "--port", str(port))
    assert first.returncode == 0, first.stderr
    state = json.loads((home / "serve.json").read_text())
    try:
        lines = first.stdout.splitlines()
        assert len(lines) == 1
        url = lines[0]
        assert url.startswith(f"http://127.0.0.1:{port}/v1/x-kilo/auth/open?token=")
        assert url.endswith(f"&next=/projects/{project}/cull")
        assert state["port"] == port and state["host"] == "127.0.0.1"

        with httpx.Client(timeout=30) as browser:
            signed = browser.get(url)
            assert signed.status_code == 303
            assert signed.headers["location"] == f"/projects/{project}/cull"
            me = browser.get(f"http://127.0.0.1:{port}/v1/x-kilo/me").json()
            assert me["local"] is True and me["studioSession"] is True
        assert httpx.get(url).status_code == 401  # used once

        again = _kilo(home, "open", "--json")
        assert again.returncode == 0, again.stderr
        report = json.loads(again.stdout)
        assert report["started"] is False and report["pid"] == state["pid"]
        assert report["studio"] == f"http://127.0.0.1:{port}/"
    finally:
        os.killpg(state["pid"], signal.SIGTERM)  # the server kilo open started
    deadline = time.monotonic() + 30
    while (home / "serve.json").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not (home / "serve.json").exists()
    assert "Application shutdown complete" in (home / "serve.log").read_text()
