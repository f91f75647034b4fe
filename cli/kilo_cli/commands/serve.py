"""``kilo serve``: the HTTP API (``kilo_server``) with uvicorn, over this library's catalog."""

from __future__ import annotations

import signal
from typing import Annotated

import typer

from kilo_cli.context import STATE
from kilo_cli.output import message


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def _exit_quietly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8080,
) -> None:
    """Serve the HTTP API (openapi.yaml under /v1) and the browser studio (at /), and run
    the jobs; Ctrl-C stops it."""
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
    from kilo_cli.serve_state import remove_state, write_state

    message(f"kilo API on http://{host}:{port}/v1 (contract: /v1/openapi.json); studio at /")
    write_state(settings, host, port)  # kilo open finds this server by it
    # uvicorn stops on SIGTERM, then raises it again: with Python's default handler the
    # process would die before the state file is taken away
    signal.signal(signal.SIGTERM, _exit_quietly)
    try:
        uvicorn.run(
            create_app(settings), host=host, port=port, log_level="info", server_header=False
        )
    finally:
        remove_state(settings)


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
