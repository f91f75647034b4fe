"""The HTTP API under test: a real SMTP server (aiosmtpd) that keeps what it receives, and a
client of the app (Starlette's TestClient runs the app's lifespan: one catalog, the job
worker) with helpers to log in through the mail a person would read."""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from kilo.settings import Settings, load_settings
from kilo_server import create_app


@dataclass
class Mailbox:
    """Messages the SMTP server received: (to, subject, body)."""

    messages: list[tuple[str, str, str]] = field(default_factory=list)
    delay: float = 0.0  # seconds the server takes to accept a message (a slow relay)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        msg = message_from_bytes(envelope.content)
        body = msg.get_payload(decode=True) or b""
        self.messages.append((str(msg["To"]), str(msg["Subject"]), body.decode()))
        return "250 OK"

    def code_for(self, email: str, timeout: float = 10.0) -> str:
        """The newest login code mailed to ``email`` (waits for it to arrive)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for to, _, body in reversed(self.messages):
                if to == email:
                    found = re.search(r"\b(\d{6})\b", body)
                    assert found, body
                    return found.group(1)
            time.sleep(0.02)
        raise AssertionError(f"no mail for {email}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    with running_smtp() as served:
        yield served


@pytest.fixture
def api_settings(home: Path, mailbox: tuple[Mailbox, int]) -> Settings:
    return load_settings(
        home=home,
        workers=1,
        clip_enabled=False,
        smtp_host="127.0.0.1",
        smtp_port=mailbox[1],
        rate_limit_per_min=1000,
    )


@pytest.fixture
def client(api_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(api_settings, run_jobs=False), base_url="http://testserver/v1") as c:
        yield c


def login(client: TestClient, box: Mailbox, email: str) -> dict[str, str]:
    """Log in as ``email`` through the code it was mailed; the Authorization header."""
    started = client.post("/auth/login", json={"email": email})
    assert started.status_code == 200, started.text
    code = box.code_for(email)
    verified = client.post(
        "/auth/verify", json={"challengeId": started.json()["challengeId"], "code": code}
    )
    assert verified.status_code == 200, verified.text
    return {"Authorization": f"Bearer {verified.json()['accessToken']}"}


EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "photos"


@dataclass
class Shoot:
    """User A's project with four real photos ingested, analysed and clustered, an edit
    version and a finished export; and user B, signed in, who owns nothing of it."""

    a: dict[str, str]
    b: dict[str, str]
    project_id: str
    asset_ids: list[str]
    cluster_id: str
    edit_id: str
    export_id: str
    job_id: str


def make_shoot(client: TestClient, box: Mailbox) -> Shoot:
    from kilo.analyze import analyze
    from kilo.edit.versions import create_version
    from kilo.export.core import create_export, run_export
    from kilo.ingest import ingest

    a = login(client, box, "a@example.com")
    b = login(client, box, "b@example.com")
    project = client.post("/projects", json={"title": "Leuven"}, headers=a).json()
    catalog = client.app.state.catalog  # type: ignore[attr-defined]
    files = sorted(EXAMPLES.glob("cv_*.jpg"))[:4]
    report = ingest(catalog, project["id"], files)
    assert report.failed == 0
    analyze(catalog, project["id"])
    ids = report.asset_ids
    cluster = catalog.scalar(
        "SELECT id FROM clusters WHERE project_id = ? LIMIT 1", [project["id"]]
    )
    owner = catalog.scalar("SELECT owner_user_id FROM projects WHERE id = ?", [project["id"]])
    edit = create_version(catalog, ids[0], {"params": {"exposure": 0.3}}, owner, learn=False)
    export = create_export(catalog, project["id"], "web", asset_ids=ids[:2], user_id=owner)
    run_export(catalog, export.id)
    job = catalog.scalar("SELECT id FROM jobs WHERE project_id = ? LIMIT 1", [project["id"]])
    return Shoot(a, b, project["id"], list(ids), str(cluster), edit.id, export.id, str(job))


@dataclass
class LiveServer:
    """The app under a real uvicorn on a loopback port (for streams a test client cannot
    show as a browser would see them)."""

    url: str
    app: Any

    @property
    def catalog(self) -> Any:
        return self.app.state.catalog


@contextmanager
def running_app(app: Any, log_level: str = "warning") -> Iterator[int]:
    """``app`` under a real uvicorn on a free loopback port (yielded), stopped after."""
    import threading

    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level=log_level))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def running_smtp() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server (aiosmtpd) on a free loopback port that keeps what it receives."""
    box, port = Mailbox(), _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def start_kilo_serve(home: Path, port: int, wait_s: float = 60, **env: str) -> Any:
    """A real ``kilo serve`` process on ``port`` for the library ``home`` (its own session,
    so a test can kill its whole group), once it answers; ``env``: more KILO_* settings."""
    import os
    import subprocess
    import sys

    import httpx

    settings = {"KILO_HOME": str(home), "KILO_CLIP_ENABLED": "false", "KILO_WORKERS": "1"}
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "kilo"), "serve", "--port", str(port)],
        env={**os.environ, **settings, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + wait_s
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/v1/openapi.json", timeout=1)
            return proc
        except httpx.TransportError:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)


@pytest.fixture
def live_server(api_settings: Settings) -> Iterator[LiveServer]:
    app = create_app(api_settings, run_jobs=False)
    with running_app(app) as port:
        yield LiveServer(f"http://127.0.0.1:{port}/v1", app)
