"""One clock: every place a photographer reads a capture time (moment titles, `kilo assets
list`/`show`, search, the contact sheet, export file names, the API's ``capturedAt`` and a
cluster's times) reads the photo's own local time, or the project's time zone where the
photo has none, and marks an undated photo the same way.

The photos: ``cv_ela_original.jpg`` (real; 2018-06-06 22:20:11, its -03:00 offset found
from its GPS time, stored as 2018-06-07 01:20:11 UTC: titles used to say "07 Jun 2018,
01:20"), ``wall_clock.jpg`` (written here with piexif: 22:30:05 with no offset at all) and
``scan.png`` (no EXIF: only its file time, so undated)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from support.cli import run
from support.clock_photos import write_card

pytestmark = pytest.mark.slow


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def _titles(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [c["title"] for c in _json(capsys, "clusters", "list", "Trip", "--kind", "moment")]


def _captured(capsys: pytest.CaptureFixture[str], name: str) -> Any:
    return _json(capsys, "assets", "show", name)["capturedAt"]


def test_every_front_end_shows_the_local_time_and_undated_alike(
    home: Path,
    tmp_path: Path,
    shared_photos_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    card = write_card(shared_photos_dir, tmp_path / "card")
    code, _, err = run(capsys, "ingest", str(card), "-p", "Trip", "--create")
    assert code == 0, err
    # moment titles: local times; with no zone known, the photo without an offset is read
    # at the offset the shoot's other photo carries (-03:00): ten minutes later, one moment
    assert _titles(capsys) == ["06 Jun 2018, 22:20–22:30 · 2 photos", "Undated · 1 photo"]
    code, out, _ = run(capsys, "assets", "list", "Trip")
    assert re.search(r"cv_ela_original\.jpg\s+│ 2018-06-06 22:20:11", out), out
    assert re.search(r"wall_clock\.jpg\s+│ 2018-06-06 22:30:05", out), out
    assert re.search(r"scan\.png\s+│ undated \(file 20\d\d-\d\d-\d\d\)", out), out
    code, out, _ = run(capsys, "assets", "show", "scan.png")
    assert re.search(r"^captured\s+undated$", out, re.M), out
    # the JSON (the API's fields): own offset; none known: no offset and never a Z
    assert _captured(capsys, "cv_ela_original.jpg") == "2018-06-06T22:20:11-03:00"
    assert _captured(capsys, "wall_clock.jpg") == "2018-06-06T22:30:05"
    scan = _json(capsys, "assets", "show", "scan.png")
    assert scan["capturedAt"] is None and scan["fileTime"].startswith("20")
    code, out, _ = run(capsys, "search", "Trip", "scan")
    assert re.search(r"scan\.png\s+│ undated", out), out
    # a date filter is on the local capture date: the undated scan is not "taken" today
    found = _json(capsys, "search", "Trip", "--from", "2018-06-06", "--to", "2018-06-06")
    assert len(found["results"]) == 2, found
    later = _json(capsys, "search", "Trip", "--from", "2020-01-01")
    assert later["results"] == [], later

    # photos with and without a zone of their own in a project without one: said plainly
    code, _, err = run(capsys, "analyze", "Trip")
    assert code == 0 and "1 photo(s) carry no time zone of their own, 1 do" in err, err
    assert "at -03:00, the offset the others carry" in err, err

    # the project's zone: the offset at once, the moments at the next analysis
    code, _, err = run(capsys, "project", "update", "Trip", "--timezone", "America/Sao_Paulo")
    assert code == 0 and "kilo analyze Trip" in err, err
    assert _captured(capsys, "wall_clock.jpg") == "2018-06-06T22:30:05-03:00"
    assert _captured(capsys, "cv_ela_original.jpg") == "2018-06-06T22:20:11-03:00"
    # the moments are as they were (the guess was this zone's offset already)
    assert _titles(capsys) == ["06 Jun 2018, 22:20–22:30 · 2 photos", "Undated · 1 photo"]
    code, _, err = run(capsys, "analyze", "Trip")
    assert code == 0 and "time zone" not in err, err
    assert _titles(capsys) == ["06 Jun 2018, 22:20–22:30 · 2 photos", "Undated · 1 photo"]
    first = _json(capsys, "clusters", "list", "Trip", "--kind", "moment")[0]
    assert (first["startTime"], first["endTime"]) == (
        "2018-06-06T22:20:11-03:00",
        "2018-06-06T22:30:05-03:00",
    )

    # export names and the contact sheet
    out_dir = tmp_path / "out"
    for preset, name in (("web", "{datetime}_{stem}"), ("contact_sheet_pdf", "{date}")):
        code, _, err = run(
            capsys, "export", "Trip", "--all", "-p", preset, "--dest", str(out_dir), "--name", name
        )
        assert code == 0, err
    names = sorted(p.name for p in out_dir.glob("*.jpg"))
    assert names == [
        "2018-06-06_222011_cv_ela_original.jpg",
        "2018-06-06_223005_wall_clock.jpg",
        "undated_scan.jpg",
    ], names
    (pdf,) = out_dir.glob("*.pdf")
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "06 Jun 2018, 22:20–22:30" in text and "Undated" in text, text
    assert re.search(r"2018-06-06 22:20:11\s+#1\s+2018-06-06 22:30:05\s+#2", text), text
    assert re.search(r"^\s*undated\s+#3", text, re.M), text
    assert "01:20" not in text and "07 Jun 2018" not in text

    # another zone: the same wall clock, another moment in time
    run(capsys, "project", "update", "Trip", "--timezone", "Europe/Oslo")
    assert _captured(capsys, "wall_clock.jpg") == "2018-06-06T22:30:05+02:00"
    assert run(capsys, "analyze", "Trip")[0] == 0
    # 22:30 in Oslo is 20:30 UTC, five hours before 22:20 at -03:00 (01:20 UTC)
    assert _titles(capsys) == [
        "06 Jun 2018, 22:30 · 1 photo",
        "06 Jun 2018, 22:20 · 1 photo",
        "Undated · 1 photo",
    ]
