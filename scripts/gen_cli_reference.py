"""Write docs/cli.md (the CLI reference, generated from the commands' own --help),
cli/kilo_cli/root_help.txt and the README's ``kilo --help`` block.

Run: .venv/bin/python scripts/gen_cli_reference.py  (tests/guards/test_docs.py checks it)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from kilo_cli.main import app

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "docs" / "cli.md"
ROOT_HELP = ROOT / "cli" / "kilo_cli" / "root_help.txt"


def _walk(cmd: Any, path: list[str]) -> list[tuple[list[str], Any]]:
    found = [(path, cmd)]
    if hasattr(cmd, "list_commands"):
        ctx = typer.Context(cmd, info_name=" ".join(path))
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            if sub is not None and not getattr(sub, "hidden", False):
                found += _walk(sub, [*path, name])
    return found


def render() -> str:
    root = typer.main.get_command(app)
    parts = [
        "# CLI reference",
        "",
        "Generated from `kilo --help` by `scripts/gen_cli_reference.py`; do not edit by hand.",
        "Every listing command takes `--json` (JSON on stdout, the API's field names); messages",
        "and progress go to stderr. Exit codes: 0 ok, 1 failure, 2 usage or bad input,",
        "3 partial success (some items failed), 130 interrupted.",
        "",
        "Tables fit the terminal (80 columns when piped; set `COLUMNS` to change it): ids are",
        "shown by their first 8 characters, which every command takes, and never wrap; photos",
        "are named by file; columns there is no room for are left out and named on stderr",
        "(`--json` has every field). Progress goes to stderr as a bar on a terminal and as a",
        "line every few seconds otherwise.",
        "",
    ]
    for path, cmd in _walk(root, ["kilo"]):
        ctx = typer.Context(
            cmd, info_name=" ".join(path), terminal_width=100, max_content_width=100
        )
        text = cmd.get_help(ctx).rstrip()
        parts += [f"## `{' '.join(path)}`", "", "```text", text, "```", ""]
    return "\n".join(parts)


def render_root_help() -> str:
    """What ``kilo --help`` prints (at the standard 80-column width)."""
    import contextlib
    import io
    import os

    from kilo_cli.main import main as run

    os.environ["COLUMNS"] = "80"
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        run(["--help"])
    return buffer.getvalue()


def render_readme(root_help: str) -> str:
    """README.md with its ``kilo --help`` block replaced by ``root_help``."""
    import re

    readme = (ROOT / "README.md").read_text()
    block = "<!-- root-help -->\n```text\n" + root_help.rstrip() + "\n```"
    return re.sub(
        r"<!-- root-help -->\n```text\n.*?\n```", lambda _: block, readme, count=1, flags=re.S
    )


def main() -> int:
    root_help = render_root_help()
    outputs = {TARGET: render(), ROOT_HELP: root_help, ROOT / "README.md": render_readme(root_help)}
    if "--check" in sys.argv:
        stale = [p for p, text in outputs.items() if (p.read_text() if p.exists() else "") != text]
        return 1 if stale else 0
    for path, text in outputs.items():
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
