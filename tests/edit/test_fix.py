"""Fix: deterministic auto white balance and exposure that move towards neutral."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kilo.edit.color import mired
from kilo.edit.fix import fix_image, measure_image
from kilo.edit.params import EditParams
from kilo.edit.render import render_image


def small(path: Path, px: int = 512) -> Image.Image:
    im = Image.open(path)
    im.draft("RGB", (px, px))
    im = im.convert("RGB")
    im.thumbnail((px, px))
    return im


@pytest.fixture(scope="module")
def photo(photos_dir: Path) -> Image.Image:
    return small(photos_dir / "friends_by_Aitzol_Berasategi.jpg")


def test_neutral_grey_reads_as_shot() -> None:
    grey = np.random.default_rng(0).integers(40, 220, (64, 64, 1)).repeat(3, 2).astype(np.uint8)
    stats = measure_image(grey)
    assert abs(stats.kelvin - 6500) < 30 and abs(stats.tint) < 1
    fix = fix_image(grey)
    assert fix.temperature == 6500 and fix.tint == 0


def test_fix_is_deterministic(photo: Image.Image) -> None:
    assert fix_image(photo) == fix_image(photo.copy())


@pytest.mark.parametrize("cast_k", [4000.0, 10000.0])
def test_fix_counters_a_colour_cast(photo: Image.Image, cast_k: float) -> None:
    base = fix_image(photo)
    cast = render_image(photo, EditParams(temperature=cast_k))
    fixed = fix_image(cast)
    # a cast made by correcting from cast_k is countered by moving the other way
    if cast_k < 6500:
        assert mired(fixed.temperature) < mired(base.temperature) - 10
    else:
        assert mired(fixed.temperature) > mired(base.temperature) + 10
    # and the fixed render is closer to neutral than the cast
    cast_stats = measure_image(cast)
    after = measure_image(render_image(cast, fixed))
    assert abs(mired(after.kelvin) - 153.8) < abs(mired(cast_stats.kelvin) - 153.8)


def test_fix_brightens_an_underexposed_photo(photo: Image.Image) -> None:
    dark = render_image(photo, EditParams(exposure=-2.0))
    fix = fix_image(dark)
    assert fix.exposure >= 0.5
    assert measure_image(render_image(dark, fix)).log_key > measure_image(dark).log_key + 0.4


def test_fix_over_real_photos_stays_in_bounds(photos_dir: Path) -> None:
    paths = sorted(photos_dir.glob("*.jpg"))[:12]
    assert len(paths) == 12, f"12 real photos to fix, found {len(paths)} in {photos_dir}"
    for path in paths:
        fix = fix_image(small(path, 256))
        assert -1.5 <= fix.exposure <= 1.5
        assert abs(mired(fix.temperature) - mired(6500)) <= 50.5
        assert abs(fix.tint) <= 30
        assert fix.crop.is_full() and fix.hsl.is_identity()
