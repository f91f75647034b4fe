"""Capture metadata read by kilo agrees with exiftool, an independent reader (Debian's
libimage-exiftool-perl), on real camera files: JPEG, MPO and HEIC."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kilo.imaging import read_metadata

FILES = [
    "canon_rebel_t6_xmp.jpg",
    "mate_Storm.jpg",
    "plasma_ColorfulCups.jpg",
    "xiaomi_mi3.jpg",
    "cv_leuvenA.jpg",
    "sony_a6000_night.jpg",
    "fujifilm.mpo",
    "pug.heic",
    "arrow.heic",
]

pytestmark = pytest.mark.skipif(
    shutil.which("exiftool") is None, reason="exiftool not installed (scripts/setup.sh installs it)"
)


def _exiftool(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        [
            "exiftool",
            "-j",
            "-n",
            "-DateTimeOriginal",
            "-SubSecTimeOriginal",
            "-OffsetTimeOriginal",
            "-Make",
            "-Model",
            "-FNumber",
            "-ISO",
            "-FocalLength",
            "-ExposureTime",
            "-GPSLatitude",
            "-GPSLongitude",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    data: dict[str, Any] = json.loads(out.stdout)[0]
    return data


IN_REPO = ["canon_rebel_t6_xmp.jpg", "xiaomi_mi3.jpg", "cv_leuvenA.jpg"]


@pytest.mark.parametrize("name", IN_REPO)
def test_capture_metadata_matches_exiftool(photos_dir: Path, name: str) -> None:
    _check_against_exiftool(photos_dir / name)


@pytest.mark.parametrize("name", [n for n in FILES if n not in IN_REPO])
def test_capture_metadata_matches_exiftool_on_the_wider_set(
    shared_photos_dir: Path, name: str
) -> None:
    _check_against_exiftool(shared_photos_dir / name)


def _check_against_exiftool(path: Path) -> None:
    ours = read_metadata(path)
    ref = _exiftool(path)
    assert "Make" in ref and "DateTimeOriginal" in ref  # every file here is a camera file
    if "Make" in ref:
        assert (ours.camera_make or "").strip() == str(ref["Make"]).strip()
    if "Model" in ref:
        assert (ours.camera_model or "").strip() == str(ref["Model"]).strip()
    if "FNumber" in ref:
        assert ours.aperture == pytest.approx(float(ref["FNumber"]), abs=0.051)
    if "ISO" in ref:
        assert ours.iso == int(ref["ISO"])
    if "FocalLength" in ref:
        assert ours.focal_length_mm == pytest.approx(float(ref["FocalLength"]), abs=0.051)
    if "ExposureTime" in ref:
        assert ours.exposure_time_s == pytest.approx(float(ref["ExposureTime"]), rel=1e-3)
    if "GPSLatitude" in ref:
        assert ours.gps_lat == pytest.approx(float(ref["GPSLatitude"]), abs=1e-5)
        assert ours.gps_lon == pytest.approx(float(ref["GPSLongitude"]), abs=1e-5)
    if "DateTimeOriginal" in ref:
        wall = datetime.strptime(str(ref["DateTimeOriginal"])[:19], "%Y:%m:%d %H:%M:%S")
        assert ours.captured_at is not None
        if ours.captured_offset_min is not None:
            local = ours.captured_at + timedelta(minutes=ours.captured_offset_min)
        else:
            local = ours.captured_at  # no offset known: the camera's wall clock is kept
        assert local.replace(microsecond=0) == wall
        if "OffsetTimeOriginal" in ref:
            sign = -1 if str(ref["OffsetTimeOriginal"]).startswith("-") else 1
            hh, mm = str(ref["OffsetTimeOriginal"]).lstrip("+-").split(":")
            assert ours.captured_offset_min == sign * (int(hh) * 60 + int(mm))
