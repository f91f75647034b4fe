"""``sharpness`` says whether the subject is in focus: real blurred photos below real sharp ones
(issue 32), unmoved by exposure, lowered by blur of either kind."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageEnhance

from kilo.measure.focus import SMEAR_FROM, SMEAR_SPAN, focus_score, smear_excess
from kilo.measure.signals import compute_signals


def _sharpness(photos: Path, name: str) -> float:
    im = Image.open(photos / name).convert("RGB")
    im.thumbnail((2048, 2048))  # the preview kilo measures (it shrinks to 1024 itself)
    return compute_signals(im, faces=False)["sharpness"]


def test_real_blurred_photos_score_below_the_sharp_ones(shared_photos_dir: Path) -> None:
    # the case: heavy motion blur read 0.73, a sharp macro 0.16
    blurred = {
        n: _sharpness(shared_photos_dir, n)
        for n in ("cv_text_motion.jpg", "cv_text_defocus.jpg", "cv_licenseplate_motion.jpg")
    }
    sharp = {
        n: _sharpness(shared_photos_dir, n)
        for n in ("mate_LadyBird.jpg", "Kleiber_by_Lukas_Baubkus.jpg")
    }
    assert max(blurred.values()) < min(sharp.values()), (blurred, sharp)
    assert blurred["cv_text_motion.jpg"] < sharp["mate_LadyBird.jpg"]
    assert sharp["mate_LadyBird.jpg"] >= 0.5  # a small subject in focus is in focus


def test_motion_blur_is_clearly_below_the_sharp_macro(shared_photos_dir: Path) -> None:
    # issue 32's own example: by edge width alone the smeared text (0.54) sat 0.03 below the
    # sharp ladybird (0.57); the smear term puts it where heavy motion blur belongs
    motion = _sharpness(shared_photos_dir, "cv_text_motion.jpg")
    macro = _sharpness(shared_photos_dir, "mate_LadyBird.jpg")
    assert motion < 0.25, motion  # reads blurred, not "soft but usable"
    assert macro - motion >= 0.3, (motion, macro)


def _smear(photos: Path, name: str) -> float:
    im = Image.open(photos / name).convert("RGB")
    im.thumbnail((1024, 1024))
    return smear_excess(np.asarray(im.convert("L"), dtype=np.float32))


def test_smear_is_motion_not_striped_content(shared_photos_dir: Path) -> None:
    # strongly directional sharp scenes (leaf ribs, jetty planks, grass, a reflection) are as
    # directional at a quarter of the size, so they show no smear; the smeared text does
    for name in (
        "mate_Blinds.jpg",
        "plasma_ColdRipple.jpg",
        "mate_Dune.jpg",
        "plasma_BytheWater.jpg",
    ):
        assert _smear(shared_photos_dir, name) < SMEAR_FROM - 0.05, name
    assert _smear(shared_photos_dir, "cv_text_motion.jpg") > SMEAR_FROM + SMEAR_SPAN


def test_the_blurred_hand_reads_blurred(shared_photos_dir: Path) -> None:
    # xiaomi_mi3.jpg, listed in the issue beside the macro, is a hand held too close to the
    # lens: nothing in it is in focus (benchmarks/data/real_photo_labels.csv)
    assert _sharpness(shared_photos_dir, "xiaomi_mi3.jpg") < 0.3
    assert _sharpness(shared_photos_dir, "xiaomi_mi3.jpg") < _sharpness(
        shared_photos_dir, "mate_LadyBird.jpg"
    )


def _base(photos_dir: Path) -> Image.Image:
    im = Image.open(photos_dir / "cv_aloeL.jpg").convert("RGB")
    im.thumbnail((640, 640))
    return im


@settings(max_examples=6, deadline=None)
@given(factor=st.floats(min_value=0.45, max_value=1.6))
def test_brightness_moves_sharpness_little(photos_dir: Path, factor: float) -> None:
    im = _base(photos_dir)
    base = compute_signals(im, faces=False)["sharpness"]
    changed = compute_signals(ImageEnhance.Brightness(im).enhance(factor), faces=False)
    assert abs(changed["sharpness"] - base) < 0.12


@pytest.mark.parametrize("kind", ["gaussian", "motion"])
def test_blur_lowers_sharpness(photos_dir: Path, kind: str) -> None:
    im = _base(photos_dir)
    arr = np.asarray(im)
    if kind == "gaussian":
        blurred = cv2.GaussianBlur(arr, (0, 0), 2.0)
    else:
        kernel = np.full((1, 9), 1.0 / 9.0, np.float32)  # 9 px horizontal shake
        blurred = cv2.filter2D(arr, -1, kernel)
    base = compute_signals(im, faces=False)
    after = compute_signals(blurred, faces=False)
    assert base["sharpness"] >= 0.5
    assert after["sharpness"] < base["sharpness"] - 0.3
    if kind == "motion":
        assert after["motion_blur"] > after["defocus"]


def test_focus_score_scale() -> None:
    assert focus_score(0.3) == 1.0
    assert focus_score(5.0) == 0.0
    assert 0.4 < focus_score(0.9) < 0.6
    assert focus_score(0.7) > focus_score(1.0) > focus_score(1.3)
