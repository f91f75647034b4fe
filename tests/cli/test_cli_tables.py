"""The main tables at 80 columns (a piped command, a small terminal) and 200: golden files.

Ids are shown by 8 characters and never wrap; members and winners are named by file; a
table too wide for the terminal leaves out columns (named on stderr) instead of folding ids.
Regenerate after a deliberate change with
``KILO_UPDATE_GOLDEN=1 pytest tests/cli/test_cli_tables.py``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kilo_cli import output
from kilo_cli.main import main

GOLDEN = Path(__file__).parents[1] / "golden" / "tables"
EXAMPLES = Path(__file__).parents[2] / "examples" / "photos"
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_HEX8 = re.compile(r"\b[0-9a-f]{8}\b")
#: the example photos with a capture time, and one without (the two copies of the flower,
#: undated both, would make two undated clusters whose order is their random ids)
PHOTOS = [*sorted(EXAMPLES.glob("cv_*.jpg")), EXAMPLES / "group_t1.jpg"]


def _normalize(text: str) -> str:
    """Ids and today's times (which differ run to run) as placeholders of the same width."""
    seen: dict[str, str] = {}

    def ident(m: re.Match[str]) -> str:
        return seen.setdefault(m[0], f"<id{len(seen) + 1:04d}>")

    now = datetime.now(UTC)
    for day in (now, now - timedelta(days=1)):  # made today (or just before midnight)
        text = re.sub(
            rf"{day:%Y-%m-%d}( \d\d:\d\d)?",
            lambda m: "YYYY-MM-DD" + (" hh:mm" if m[1] else ""),
            text,
        )
    return _HEX8.sub(ident, _UUID.sub("<uuid>", text))


@pytest.fixture(autouse=True)
def _fresh_consoles() -> Iterator[None]:
    """Consoles read COLUMNS when made: none made here at a width outlives the test."""
    yield
    output._consoles.clear()


def _run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, width: int, *args: str
) -> tuple[str, str]:
    monkeypatch.setenv("COLUMNS", str(width))  # undone after the test: later tests see theirs
    output._consoles.clear()  # consoles read the width when made
    code = main(list(args))
    got = capsys.readouterr()
    assert code == 0, got.err
    return got.out, got.err


TABLES = {
    "projects": ("project", "list"),
    "assets": ("assets", "list", "examples"),
    "clusters": ("clusters", "list", "examples"),
    "collections": ("collections", "list"),
}


@pytest.mark.parametrize("width", [80, 200])
def test_main_tables_fit_the_width_with_short_ids_and_file_names(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["ingest", *map(str, PHOTOS), "-p", "examples", "--create"]) == 0
    assert (
        main(
            [
                "collections",
                "save",
                "sharp ones",
                "examples",
                "",
                "--filter",
                "ratingMin=3",
                "--filter",
                "cameraModel=iPhone",
            ]
        )
        == 0
    )
    decide = ["--pick", "cv_aloeL.jpg", "--reject", "cv_text_motion.jpg"]
    rate = ["--rate", "cv_leuvenA.jpg=4", "--star", "cv_leuvenA.jpg"]
    assert main(["cull", "apply", "examples", *decide, *rate]) == 0  # the decision columns
    capsys.readouterr()
    args = ("clusters", "list", "examples", "--kind", "moment", "--json")
    moments = json.loads(_run(capsys, monkeypatch, 200, *args)[0])
    cluster_id = next(c["id"] for c in moments if len(c["assets"]) > 1)
    tables = {**TABLES, "cluster_show": ("clusters", "show", cluster_id[:8])}
    update = os.environ.get("KILO_UPDATE_GOLDEN") == "1"
    for name, args in tables.items():
        out, err = _run(capsys, monkeypatch, width, *args)
        lines = out.splitlines()
        assert all(len(line) <= width for line in lines), (name, out)
        assert name == "cluster_show" or not _UUID.search(out), out  # shown by 8 characters
        text = _normalize(
            out + "".join(f"stderr: {e}\n" for e in err.splitlines() if e.startswith("left out"))
        )
        path = GOLDEN / f"{name}_{width}.txt"
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        assert text == path.read_text(), f"{name} at {width} columns:\n{text}"
