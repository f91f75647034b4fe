"""Which ``kilo serve`` serves this library: ``kilo serve`` writes ``KILO_HOME/serve.json``
(its pid, host and port) when it starts and removes it when it stops; ``kilo open`` believes
the file only when that pid is alive and the port answers ``/v1/x-kilo/health`` naming
this library (a file left by a killed server, or a port taken over by another program, is
no server of ours), and otherwise starts one in the background."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from kilo.errors import KiloError
from kilo.settings import Settings

__all__ = [
    "Running",
    "find_running",
    "free_port",
    "remove_state",
    "running_url",
    "start_background",
    "state_path",
    "write_state",
]

STATE_FILE = "serve.json"
LOG_FILE = "serve.log"
START_WAIT_S = 60.0


@dataclass(frozen=True)
class Running:
    pid: int
    port: int
    #: started by this call (else found running)
    started: bool = False

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def state_path(settings: Settings) -> Path:
    return settings.home / STATE_FILE


def write_state(settings: Settings, host: str, port: int) -> None:
    """Say that this process serves the library on ``host:port`` (mode 600)."""
    path = state_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"pid": os.getpid(), "host": host, "port": port, "started": time.time()}, f)
    os.replace(tmp, path)


def remove_state(settings: Settings) -> None:
    """Take the file away, if it is still this process's."""
    path = state_path(settings)
    with contextlib.suppress(OSError, ValueError):
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def library_digest(settings: Settings) -> str:
    from kilo_server.routes.studio import library_digest as digest

    return digest(str(settings.catalog_path.resolve()))


def _serves(port: int, settings: Settings, timeout: float = 2.0) -> bool:
    import httpx

    try:
        got = httpx.get(f"http://127.0.0.1:{port}/v1/x-kilo/health", timeout=timeout)
        return bool(
            got.status_code == 200 and got.json().get("library") == library_digest(settings)
        )
    except (httpx.HTTPError, ValueError):
        return False


def find_running(settings: Settings) -> Running | None:
    """The ``kilo serve`` of this library, when one is running and answers."""
    try:
        data = json.loads(state_path(settings).read_text(encoding="utf-8"))
        pid, port = int(data["pid"]), int(data["port"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not _alive(pid) or not _serves(port, settings):
        return None
    return Running(pid, port)


def running_url(settings: Settings) -> str | None:
    """Where the ``kilo serve`` of this library listens (for the links other commands
    print), when its process is alive; no request is made."""
    try:
        data = json.loads(state_path(settings).read_text(encoding="utf-8"))
        pid, host, port = int(data["pid"]), str(data["host"]), int(data["port"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not _alive(pid):
        return None
    local = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    return f"http://[{local}]:{port}" if ":" in local else f"http://{local}:{port}"


def free_port(preferred: int = 8080) -> int:
    """``preferred`` when nothing listens on it on loopback, else a free port."""
    for port in (preferred, 0):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise KiloError("no free port on 127.0.0.1")


def start_background(settings: Settings, port: int) -> Running:
    """Start ``kilo serve`` for the library on 127.0.0.1:``port``, detached (its own
    session; its log in ``KILO_HOME/serve.log``), and wait until it answers."""
    settings.home.mkdir(parents=True, exist_ok=True)
    log_path = settings.home / LOG_FILE
    env = {**os.environ, "KILO_HOME": str(settings.home)}
    code = "from kilo_cli.entry import main; main()"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", code, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            close_fds=True,
        )
    deadline = time.monotonic() + START_WAIT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise KiloError(f"kilo serve stopped at once (exit {proc.returncode}); see {log_path}")
        if _serves(port, settings, timeout=1.0):
            return Running(proc.pid, port, started=True)
        time.sleep(0.2)
    raise KiloError(f"kilo serve did not answer within {START_WAIT_S:.0f} s; see {log_path}")
