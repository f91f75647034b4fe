"""kilo's XMP sidecars as an independent XMP reader sees them: exiftool (Debian's
libimage-exiftool-perl) reads the Lightroom develop settings and the culling fields back."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from kilo.cull.decision_sidecar import SidecarState, merge_xmp
from kilo.edit.develop_sidecar import write_xmp_sidecar
from kilo.edit.params import EditParams

pytestmark = pytest.mark.skipif(
    shutil.which("exiftool") is None, reason="exiftool not installed (scripts/setup.sh does)"
)


def _read(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        ["exiftool", "-j", "-n", "-XMP:all", str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    data: dict[str, Any] = json.loads(out.stdout)[0]
    return data


def test_exiftool_reads_develop_settings_and_culling(tmp_path: Path) -> None:
    sidecar = tmp_path / "IMG_0001.xmp"
    params = EditParams.parse(
        {
            "exposure": 0.35,
            "contrast": 12,
            "highlights": -40,
            "shadows": 25,
            "temperature": 5600,
            "tint": 8,
            "vibrance": 15,
            "saturation": -5,
        }
    )
    write_xmp_sidecar(params, sidecar, raw=True)
    sidecar.write_text(
        merge_xmp(sidecar.read_text(), SidecarState(rating=4, pick=1, keywords=["bride"]))
    )
    tags = _read(sidecar)
    assert float(tags["Exposure2012"]) == pytest.approx(0.35)
    assert float(tags["Contrast2012"]) == 12
    assert float(tags["Highlights2012"]) == -40
    assert float(tags["Shadows2012"]) == 25
    assert float(tags["ColorTemperature"]) == 5600  # exiftool names crs:Temperature so
    assert float(tags["Tint"]) == 8
    assert float(tags["Vibrance"]) == 15
    assert float(tags["Saturation"]) == -5
    assert str(tags["ProcessVersion"]) == "11.0"
    assert float(tags["Rating"]) == 4
    assert tags["Subject"] in ("bride", ["bride"])
    # a later edit keeps the culling fields (one sidecar, two writers)
    write_xmp_sidecar(params.with_changes(exposure=-0.5), sidecar, raw=True)
    tags = _read(sidecar)
    assert float(tags["Exposure2012"]) == pytest.approx(-0.5)
    assert float(tags["Rating"]) == 4


def test_exiftool_reads_a_rejected_frame(tmp_path: Path) -> None:
    sidecar = tmp_path / "IMG_0002.xmp"
    sidecar.write_text(merge_xmp(None, SidecarState(rating=-1, pick=-1)))
    assert float(_read(sidecar)["Rating"]) == -1


def test_picks_are_something_lightroom_shows(tmp_path: Path) -> None:
    """Lightroom keeps its pick flag in its catalog only: a kilo pick is the color label
    Green by default (or a 1-star floor), a reject xmp:Rating -1, read back by exiftool."""
    from kilo.cull.decision_sidecar import PickMapping

    sidecar = tmp_path / "IMG_0002.xmp"
    sidecar.write_text(merge_xmp(None, SidecarState(rating=0, pick=1)))
    tags = _read(sidecar)
    assert tags["Label"] == "Green" and float(tags["Rating"]) == 0
    # no longer picked: kilo's label goes; a label someone else set stays
    sidecar.write_text(merge_xmp(sidecar.read_text(), SidecarState(rating=3, pick=0)))
    assert "Label" not in _read(sidecar)
    other = merge_xmp(None, SidecarState(pick=0, label=None)).replace(
        "<rdf:Description ", '<rdf:Description xmp:Label="Red" ', 1
    )
    assert _read_text(tmp_path, other)["Label"] == "Red"
    again = merge_xmp(other, SidecarState(rating=2, pick=0))
    assert _read_text(tmp_path, again)["Label"] == "Red"
    # a reject, and the rating floor instead of a label
    assert (
        float(_read_text(tmp_path, merge_xmp(None, SidecarState(rating=-1, pick=-1)))["Rating"])
        == -1
    )
    floor = _read_text(tmp_path, merge_xmp(None, SidecarState(pick=1), PickMapping("rating")))
    assert float(floor["Rating"]) == 1 and "Label" not in floor
    starred = merge_xmp(None, SidecarState(rating=4, pick=1), PickMapping("rating"))
    assert float(_read_text(tmp_path, starred)["Rating"]) == 4


def _read_text(tmp_path: Path, text: str) -> dict[str, Any]:
    path = tmp_path / "check.xmp"
    path.write_text(text)
    return _read(path)
