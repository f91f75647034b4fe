"""kilo's XMP sidecars as an independent XMP reader sees them: exiftool (Debian's
libimage-exiftool-perl) reads the Lightroom develop settings and the culling fields back."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from kilo.cull.xmp import SidecarState, merge_xmp
from kilo.edit.params import EditParams
from kilo.edit.xmp import write_xmp_sidecar

pytestmark = pytest.mark.skipif(
    shutil.which("exiftool") is None, reason="exiftool not installed (scripts/setup.sh does)"
)


def _read(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        ["exiftool", "-j", "-n", "-XMP:all", str(path)],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    data: dict[str, Any] = json.loads(out.stdout)[0]
    return data


def test_exiftool_reads_develop_settings_and_culling(tmp_path: Path) -> None:
    sidecar = tmp_path / "IMG_0001.xmp"
    params = EditParams.parse(
        {"exposure": 0.35, "contrast": 12, "highlights": -40, "shadows": 25,
         "temperature": 5600, "tint": 8, "vibrance": 15, "saturation": -5}
    )  # fmt: skip
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
