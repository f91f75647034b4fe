"""The kilo command in-process: its exit code, stdout and stderr (captured by pytest)."""

from __future__ import annotations

import pytest

from kilo_cli.main import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err
