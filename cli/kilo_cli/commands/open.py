"""``kilo open [PROJECT]``: the browser studio, signed in as this library's local user.

Uses the ``kilo serve`` of this library when one runs (``KILO_HOME/serve.json``), else
starts one in the background on 127.0.0.1; mints a one-time sign-in link (60 s, used once)
and opens it in the browser, or prints it (``--print-url``: the one line on stdout)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

import typer

from kilo_cli.context import STATE, find_project
from kilo_cli.output import JsonOpt, emit, message


def register(app: typer.Typer) -> None:
    app.command("open")(open_cmd)


def open_cmd(
    project: Annotated[
        str | None, typer.Argument(help="Project to open on its cull screen (default: the list).")
    ] = None,
    print_url: Annotated[
        bool,
        typer.Option(
            "--print-url", help="Print the one-time sign-in URL (one line) instead of opening it."
        ),
    ] = False,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Start or find the server; open no browser.")
    ] = False,
    port: Annotated[
        int, typer.Option(min=1, max=65535, help="Port for a server this starts (if free).")
    ] = 8080,
    as_json: JsonOpt = False,
) -> None:
    """Open the browser studio signed in as you (starts kilo serve when none runs)."""
    from kilo_cli.serve_state import find_running, free_port, start_background
    from kilo_server.auth import mint_open_token

    settings = STATE.settings
    catalog = STATE.catalog()
    target = "/"
    if project is not None:
        target = f"/projects/{find_project(catalog, project).id}/cull"
    running = find_running(settings)
    if running is None:
        STATE.close()  # the server takes the catalog file
        running = start_background(settings, free_port(port))
        catalog = STATE.catalog()
    url = None
    if print_url or as_json or not no_browser:
        token = mint_open_token(catalog, catalog.local_user_id)
        url = f"{running.base_url}/v1/x-kilo/auth/open?token={token}&next={quote(target, safe='/')}"
    STATE.close()  # hand the catalog back to the server at once
    opened = False
    if url is not None and not (print_url or no_browser or as_json):
        import webbrowser

        opened = webbrowser.open(url)
    report = {
        "url": url,
        "studio": f"{running.base_url}{target}",
        "port": running.port,
        "pid": running.pid,
        "started": running.started,
        "opened": opened,
    }

    def human() -> None:
        if print_url:
            typer.echo(url)
            return
        how = "started" if running.started else "running"
        message(f"kilo serve {how} on {running.base_url} (pid {running.pid})")
        if opened:
            message(f"opened {running.base_url}{target} in the browser")
        elif not no_browser:
            message("no browser could be opened: run kilo open --print-url and open the link")

    emit(report, as_json, human)
