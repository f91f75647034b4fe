"""Quality signals on real photos: ranges, and the direction each degradation moves them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageFilter

from kilo.measure.faces import Face
from kilo.measure.signals import SIGNAL_NAMES, compute_signals, detect_faces


def _load(photos_dir: Path, name: str, px: int = 1024) -> Image.Image:
    im = Image.open(photos_dir / name).convert("RGB")
    im.thumbnail((px, px))
    return im


@pytest.mark.parametrize("name", ["cv_text_defocus.jpg"])
def test_every_signal_is_in_unit_range(photos_dir: Path, name: str) -> None:
    _check_unit_range(photos_dir, name)


@pytest.mark.parametrize("name", ["Kleiber_by_Lukas_Baubkus.jpg", "people_zidane.jpg"])
def test_every_signal_is_in_unit_range_on_the_wider_set(shared_photos_dir: Path, name: str) -> None:
    _check_unit_range(shared_photos_dir, name)


def _check_unit_range(photos_dir: Path, name: str) -> None:
    values = compute_signals(_load(photos_dir, name))
    assert set(values) <= set(SIGNAL_NAMES)
    assert {"sharpness", "exposure", "noise", "contrast", "brightness", "faces"} <= set(values)
    assert all(0.0 <= v <= 1.0 for v in values.values())


def test_blur_lowers_sharpness_and_noise_raises_noise(shared_photos_dir: Path) -> None:
    im = _load(shared_photos_dir, "Dragonfly_by_Bolly.jpg")
    base = compute_signals(im, faces=False)
    blurred = compute_signals(im.filter(ImageFilter.GaussianBlur(2.5)), faces=False)
    arr = np.asarray(im).astype(np.float32)
    rng = np.random.default_rng(1)
    noisy_img = Image.fromarray(np.clip(arr + rng.normal(0, 10, arr.shape), 0, 255).astype("uint8"))
    noisy = compute_signals(noisy_img, faces=False)
    assert blurred["sharpness"] < base["sharpness"] - 0.1
    assert noisy["noise"] > base["noise"] + 0.1
    # noise is not mistaken for much more detail
    assert noisy["sharpness"] < base["sharpness"] + 0.1


def test_exposure_changes_brightness_not_sharpness(shared_photos_dir: Path) -> None:
    im = _load(shared_photos_dir, "Bridge_by_Sander_Klootwijk.jpg")
    base = compute_signals(im, faces=False)
    dark = compute_signals(ImageEnhance.Brightness(im).enhance(0.5), faces=False)
    assert dark["brightness"] < base["brightness"] - 0.1
    assert abs(dark["sharpness"] - base["sharpness"]) < 0.08
    blown = compute_signals(ImageEnhance.Brightness(im).enhance(2.5), faces=False)
    assert blown["highlights_clipped"] > base["highlights_clipped"]
    assert blown["exposure"] < base["exposure"]


def test_real_motion_and_defocus_blur_are_told_apart(photos_dir: Path) -> None:
    motion = compute_signals(_load(photos_dir, "cv_text_motion.jpg"), faces=False)
    defocus = compute_signals(_load(photos_dir, "cv_text_defocus.jpg"), faces=False)
    assert motion["motion_blur"] > motion["defocus"]
    assert defocus["defocus"] > defocus["motion_blur"]


def test_detect_faces_finds_people_and_not_flowers(shared_photos_dir: Path) -> None:
    people = np.asarray(Image.open(shared_photos_dir / "people_zidane.jpg").convert("RGB"))
    faces = detect_faces(people)
    assert faces and all(isinstance(f, Face) for f in faces)
    h, w = people.shape[:2]
    for f in faces:
        assert 0 <= f.x < w and 0 <= f.y < h and f.w > 20 and f.x + f.w <= w + 1
        assert f.eyes_open in (True, False, None)
    assert detect_faces(np.asarray(_load(shared_photos_dir, "flower.png"))) == []
    values = compute_signals(Image.fromarray(people))
    assert values["faces"] == pytest.approx(min(1.0, len(faces) / 20.0))
    assert 0.0 <= values["face_sharpness"] <= 1.0
