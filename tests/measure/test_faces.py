"""Faces and eyes (kilo.measure.faces) on the real test photos: MediaPipe's models through OpenCV,
and the Haar fallback when they are not installed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kilo.measure import faces as faces_mod
from kilo.measure.faces import face_source, find_faces
from kilo.measure.faces import files as face_files
from kilo.measure.signals import compute_signals

pytestmark = pytest.mark.skipif(face_source() != "blazeface", reason="face models not installed")

#: (box in group_t1.jpg's pixels, what its eyes are, judged by looking at the crop)
GROUP = [
    ((899, 76, 1026, 203), {"open"}),
    ((462, 292, 576, 406), {"open"}),
    ((67, 293, 166, 392), {"closed", "unknown"}),  # looking down, lids lowered
    ((742, 360, 857, 475), {"closed"}),  # laughing, eyes squeezed shut
    ((272, 169, 371, 268), {"open"}),
    ((1118, 278, 1240, 400), {"closed", "unknown"}),  # looking down, lids nearly shut
]


def _rgb(photos_dir: Path, name: str) -> np.ndarray:
    return np.asarray(Image.open(photos_dir / name).convert("RGB"))


def test_every_face_of_the_group_shot_with_its_eyes(photos_dir: Path) -> None:
    found = find_faces(_rgb(photos_dir, "group_t1.jpg"))
    assert len(found) == len(GROUP)
    for (x0, y0, x1, y1), states in GROUP:
        face = next(f for f in found if x0 <= f.x + f.w / 2 <= x1 and y0 <= f.y + f.h / 2 <= y1)
        assert face.eyes in states, (face, states)
        assert face.source == "blazeface" and face.score >= 0.75
        if face.eyes != "unknown":
            assert face.eye_boxes and all(x0 - 20 <= b[0] <= x1 for b in face.eye_boxes)


def test_no_faces_where_there_are_no_people(shared_photos_dir: Path) -> None:
    for name in (
        "mate_Blinds.jpg",
        "flower.png",
        "Kleiber_by_Lukas_Baubkus.jpg",
        "sony_a6000_night.jpg",
    ):  # Haar finds 5 faces in the blinds
        im = Image.open(shared_photos_dir / name)
        im.draft("RGB", (2048, 2048))
        assert find_faces(np.asarray(im.convert("RGB"))) == [], name


def test_signals_count_the_judged_faces_and_the_worst_one_shows(photos_dir: Path) -> None:
    values = compute_signals(Image.open(photos_dir / "group_t1.jpg"))
    judged = round(values["faces_judged"] * 20)
    assert values["faces"] == pytest.approx(6 / 20)
    assert 4 <= judged <= 6
    assert 0 < values["eyes_open"] < 1  # someone blinks: not all open
    assert 0 < values["eye_sharpness"] <= 1


def test_without_the_models_haar_stands_in(
    shared_photos_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kilo.measure.faces import blazeface, landmarks

    monkeypatch.setattr(face_files, "_data_dir", lambda: None)
    monkeypatch.setattr(faces_mod, "_warned", False)
    blazeface._network.cache_clear()  # the loaded networks would go on working
    landmarks._networks.cache_clear()
    found = find_faces(_rgb(shared_photos_dir, "people_zidane.jpg"))
    assert found and all(f.source == "haar" for f in found)
    assert face_source() == "haar"
