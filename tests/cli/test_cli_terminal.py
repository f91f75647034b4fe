"""The terminal's rough edges (issue 32): what kilo prints where a user sees it."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from kilo.catalog import Catalog
from kilo.models import Project
from support.cli import run

CLI = [sys.executable, "-c", "import sys; from kilo_cli.main import main; sys.exit(main())"]


def test_cull_with_stdout_not_a_terminal_refuses_in_one_line(
    catalog: Catalog, project: Project, home: Path, tmp_path: Path
) -> None:
    """stdin and stderr a real terminal (a pty), stdout a file: before, the full-screen app
    started anyway and its escape codes went into the file."""
    catalog.close()
    leader, follower = pty.openpty()
    out = tmp_path / "out.txt"
    try:
        with out.open("w") as stdout:
            proc = subprocess.run(
                [*CLI, "cull", project.title],
                env=dict(os.environ, KILO_HOME=str(home)),
                stdin=follower,
                stdout=stdout,
                stderr=follower,
                timeout=60,
            )
        os.close(follower)
        said = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the pty's other end is closed: all is read
                break
            if not chunk:
                break
            said += chunk
    finally:
        os.close(leader)
    text = said.decode()
    assert proc.returncode == 2, text
    assert out.read_text() == ""  # no escape codes in the file
    assert "\x1b[?1049h" not in text  # the app never took the screen
    lines = [line for line in text.splitlines() if line.strip()]
    assert "kilo cull needs a terminal, but stdout is not one" in " ".join(lines), text


def test_cull_in_process_without_terminal_refuses(
    home: Path, project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "cull", project.title)
    assert code == 2 and out == ""
    assert "needs a terminal" in err and "kilo cull apply" in err
