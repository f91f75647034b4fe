"""Write docs/cli.md: the CLI reference, generated from the commands' own --help.

Run: .venv/bin/python scripts/gen_cli_reference.py   (tests/test_docs.py checks it is current)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from kilo_cli.main import app

TARGET = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


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
    ]
    for path, cmd in _walk(root, ["kilo"]):
        ctx = typer.Context(
            cmd, info_name=" ".join(path), terminal_width=100, max_content_width=100
        )
        text = cmd.get_help(ctx).rstrip()
        parts += [f"## `{' '.join(path)}`", "", "```text", text, "```", ""]
    return "\n".join(parts)


def main() -> int:
    content = render()
    if "--check" in sys.argv:
        current = TARGET.read_text() if TARGET.exists() else ""
        return 0 if current == content else 1
    TARGET.write_text(content)
    return 0


if __name__ == "__main__":
    sys.exit(main())
