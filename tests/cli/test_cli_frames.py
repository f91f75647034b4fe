"""A frame of a multi-frame file is named ``bird_burst.heic [2/4]`` wherever the CLI names a
photo (the asset table and record, the clusters' winners and members), and that name is
taken wherever an asset is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kilo_cli import output
from kilo_cli.main import main


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    output._consoles.clear()  # consoles read the width when made
    code = main(list(args))
    got = capsys.readouterr()
    assert code == 0, got.err
    return got.out


def test_frames_of_bird_burst_heic_are_named_by_frame(
    home: Path,
    photos_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    _run(capsys, "ingest", str(photos_dir / "bird_burst.heic"), "-p", "birds", "--create")
    frames = [f"bird_burst.heic [{k}/4]" for k in range(1, 5)]
    table = _run(capsys, "assets", "list", "birds")
    assert all(f in table for f in frames), table
    listed = json.loads(_run(capsys, "assets", "list", "birds", "--json"))
    # the API's fields: the file's name as it is, which frame of how many
    assert {a["filename"] for a in listed} == {"bird_burst.heic"}
    assert sorted((a["frameIndex"], a["frameCount"]) for a in listed) == [(k, 4) for k in range(4)]
    second = next(a["id"] for a in listed if a["frameIndex"] == 1)
    assert "bird_burst.heic [2/4]" in _run(capsys, "assets", "show", second)
    clusters = _run(capsys, "clusters", "list", "birds")
    assert "Undated · 4 photos" in clusters and "Burst of 4" in clusters
    (burst,) = json.loads(_run(capsys, "clusters", "list", "birds", "--kind", "burst", "--json"))
    shown = _run(capsys, "clusters", "show", burst["id"])
    assert all(f in shown for f in frames), shown
    # and a frame is taken back by the name the tables print
    chosen = json.loads(
        _run(capsys, "clusters", "winner", burst["id"], "bird_burst.heic [2/4]", "--json")
    )
    assert chosen["winnerAssetId"] == second
