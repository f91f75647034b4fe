"""EditParams: ranges, units, unknown keys, JSON round trips."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kilo.edit.params import EditParams, describe_params
from kilo.errors import InvalidInput


def test_defaults_are_the_photo_as_shot() -> None:
    p = EditParams()
    assert p.is_identity()
    assert p.exposure == 0 and p.temperature == 6500 and p.crop.is_full()
    assert p.dump() == {"version": 1}
    assert describe_params(p) == ["as shot (no changes)"]


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"exposure": 5.5}, "exposure"),
        ({"contrast": -101}, "contrast"),
        ({"temperature": 1500}, "temperature"),
        ({"tint": 151}, "tint"),
        ({"hsl": {"blue": {"sat": 120}}}, "hsl.blue.sat"),
        ({"hsl": {"teal": {"sat": 10}}}, "unknown edit parameter 'hsl.teal'"),
        ({"crop": {"left": 0.9, "right": 0.1}}, "crop"),
        ({"toneCurve": [[0, 0], [10, 5], [5, 9]]}, "increase"),
        ({"toneCurve": [[0, 0]]}, "2 to 16"),
        ({"aspect": "7:3"}, "aspect"),
        ({"sharpness": 151}, "sharpness"),
        ({"clarity": 10}, "unknown edit parameter 'clarity'"),
        ({"version": 2}, "version"),
    ],
)
def test_bad_params_raise_invalid_input_naming_the_key(data: dict[str, Any], needle: str) -> None:
    with pytest.raises(InvalidInput) as info:
        EditParams.parse(data)
    assert needle in info.value.reason


def test_constructor_also_raises_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        EditParams(exposure=9)


def test_camel_and_snake_keys_and_merge() -> None:
    a = EditParams.parse({"luminanceSmoothing": 10, "tone_curve": [[0, 0], [128, 140], [255, 255]]})
    assert a.luminance_smoothing == 10 and a.tone_curve[1] == (128.0, 140.0)
    b = a.merged({"hsl": {"red": {"hue": 15}}, "exposure": 0.5})
    assert b.hsl.red.hue == 15 and b.exposure == 0.5 and b.luminance_smoothing == 10
    c = b.merged({"hsl": {"red": {"sat": -5}}})
    assert c.hsl.red.hue == 15 and c.hsl.red.sat == -5
    assert EditParams.parse(c.dump()) == c
    assert c.with_changes(luminanceSmoothing=0).luminance_smoothing == 0


def test_geometry_split() -> None:
    p = EditParams(exposure=1, straighten=3, aspect="1:1", crop={"left": 0.1})
    assert p.geometry_only() == EditParams(straighten=3, aspect="1:1", crop={"left": 0.1})
    assert p.without_geometry() == EditParams(exposure=1)


slider = st.floats(-100, 100, allow_nan=False).map(lambda v: round(v, 2))


@settings(max_examples=60, deadline=None)
@given(
    exposure=st.floats(-5, 5, allow_nan=False),
    contrast=slider,
    temperature=st.floats(2000, 50000, allow_nan=False),
    tint=st.floats(-150, 150, allow_nan=False),
    hue=slider,
    left=st.floats(0, 0.5),
    width=st.floats(0.05, 0.5),
)
def test_json_round_trip(
    exposure: float,
    contrast: float,
    temperature: float,
    tint: float,
    hue: float,
    left: float,
    width: float,
) -> None:
    p = EditParams(
        exposure=exposure,
        contrast=contrast,
        temperature=temperature,
        tint=tint,
        hsl={"aqua": {"hue": hue}},
        crop={"left": left, "right": left + width},
    )
    assert EditParams.parse(p.dump()) == p
    assert EditParams.parse(p.dump(compact=False)) == p
