"""``kilo serve``: the HTTP API (``kilo_server``) with uvicorn, over this library's catalog."""

from __future__ import annotations

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
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", server_header=False)
