"""``kilo serve``: the HTTP API (``kilo_server``) with uvicorn, over this library's catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kilo_cli.context import STATE
from kilo_cli.output import message


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8080,
) -> None:
    """Serve the HTTP API (openapi.yaml under /v1) and run its jobs; Ctrl-C stops it."""
    try:
        import uvicorn

        from kilo_server import create_app
    except ImportError:
        from kilo.errors import KiloError

        raise KiloError("the server is an extra: pip install 'kilo[server]'") from None
    check_port_free(host, port)  # before any startup line: a busy port is one clear error
    import logging

    from kilo.logs import log_to_stderr

    kilo_log = logging.getLogger("kilo")
    # a server says what it does: the library's log and the server's own
    log_to_stderr(min(kilo_log.level or logging.INFO, logging.INFO), ("kilo", "kilo_server"))
    settings = STATE.settings
    if not settings.smtp_host and not settings.dev_login_codes:
        message(
            "no SMTP server set (KILO_SMTP_HOST): nobody can get a login code; for local "
            "testing set KILO_DEV_LOGIN_CODES=true to see codes in this log"
        )
    message(f"kilo API on http://{host}:{port}/v1 (contract: /v1/openapi.json)")
    record = record_server(settings.home, host, port)
    try:
        uvicorn.run(
            create_app(settings), host=host, port=port, log_level="info", server_header=False
        )
    finally:
        record.unlink(missing_ok=True)


#: where a running ``kilo serve`` says where it listens (for the links other commands print)
SERVER_RECORD = "server.json"


def check_port_free(host: str, port: int) -> None:
    """Bind ``host:port`` once, as the server will (SO_REUSEADDR, like uvicorn), and let go:
    in use, a :class:`~kilo.errors.KiloError` naming it."""
    import errno
    import socket

    from kilo.errors import KiloError

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise KiloError(f"cannot listen on {host}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise KiloError(
                    f"port {port} on {host} is already in use (another kilo serve?): "
                    f"stop it, or choose another port with --port"
                ) from None
            raise KiloError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def record_server(home: Path, host: str, port: int) -> Path:
    """Write where this server listens (and its process id) into the library folder."""
    import json
    import os

    local = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    url = f"http://[{local}]:{port}" if ":" in local else f"http://{local}:{port}"
    path = home / SERVER_RECORD
    home.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"url": url, "pid": os.getpid()}))
    return path


def running_server_url(home: Path) -> str | None:
    """The address of the ``kilo serve`` running on this library, if one runs."""
    import json
    import os

    try:
        record = json.loads((home / SERVER_RECORD).read_text())
        os.kill(int(record["pid"]), 0)  # still alive?
    except (OSError, ValueError, KeyError, TypeError):
        return None
    url = record.get("url")
    return url if isinstance(url, str) else None
