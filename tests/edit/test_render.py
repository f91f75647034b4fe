"""The render pipeline on real photos: identity, direction of each control, geometry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from kilo.edit.color import decode_lut, mean_delta_e
from kilo.edit.geometry import output_size
from kilo.edit.params import EditParams
from kilo.edit.render import compose_before_after, render_image


@pytest.fixture(scope="module")
def photo(photos_dir: Path) -> Image.Image:
    im = Image.open(photos_dir / "friends_by_Aitzol_Berasategi.jpg")
    im.draft("RGB", (640, 640))
    im = im.convert("RGB")
    im.thumbnail((640, 640))
    return im


def lin_mean(img: Image.Image) -> np.ndarray:
    return decode_lut()[np.asarray(img)].reshape(-1, 3).mean(axis=0)


def test_identity_is_exact(photo: Image.Image) -> None:
    assert np.array_equal(np.asarray(render_image(photo, EditParams())), np.asarray(photo))


def test_deterministic(photo: Image.Image) -> None:
    p = EditParams(exposure=0.4, contrast=20, hsl={"blue": {"hue": 10}}, sharpness=40)
    a, b = render_image(photo, p), render_image(photo, p)
    assert np.array_equal(np.asarray(a), np.asarray(b))


def test_exposure_one_stop_doubles_unclipped_light(photo: Image.Image) -> None:
    arr = np.asarray(photo)
    out = np.asarray(render_image(photo, EditParams(exposure=1.0)))
    lin_in, lin_out = decode_lut()[arr], decode_lut()[out]
    mid = (lin_in > 0.05) & (lin_in < 0.4)
    ratio = np.median(lin_out[mid] / lin_in[mid])
    assert 1.9 < ratio < 2.1
    darker = lin_mean(render_image(photo, EditParams(exposure=-1.0)))
    assert np.all(darker < lin_mean(photo) * 0.55)


def test_temperature_and_tint_directions(photo: Image.Image) -> None:
    base = lin_mean(photo)
    cool = lin_mean(render_image(photo, EditParams(temperature=4000)))
    warm = lin_mean(render_image(photo, EditParams(temperature=9000)))
    assert cool[2] / cool[0] > base[2] / base[0] > warm[2] / warm[0]
    magenta = lin_mean(render_image(photo, EditParams(tint=60)))
    assert magenta[1] / magenta[0] < base[1] / base[0]


def test_saturation_minus_100_is_grey_and_vibrance_adds_colour(photo: Image.Image) -> None:
    grey = np.asarray(render_image(photo, EditParams(saturation=-100))).astype(int)
    assert np.abs(grey[..., 0] - grey[..., 2]).max() <= 2
    spread = lambda im: float(np.std(np.asarray(im).astype(float), axis=2).mean())  # noqa: E731
    assert spread(render_image(photo, EditParams(vibrance=60))) > spread(photo)


def test_tone_controls_move_the_right_end() -> None:
    ramp = np.tile(np.linspace(0, 255, 256).astype(np.uint8)[None, :, None], (4, 1, 3))

    def row(**kw: float) -> np.ndarray:
        return np.asarray(render_image(ramp, EditParams(**kw)))[0, :, 0].astype(int)

    base = row()
    assert row(shadows=80)[60] > base[60] + 10  # shadows opened
    assert row(highlights=-80)[200] < base[200] - 10  # highlights pulled down
    assert row(blacks=-60)[20] < base[20]
    assert row(whites=60)[230] > base[230]
    hi, lo = row(contrast=60), row(contrast=-60)
    assert hi[220] - hi[40] > base[220] - base[40] > lo[220] - lo[40]


@settings(max_examples=40, deadline=None)
@given(
    st.floats(-100, 100),
    st.floats(-100, 100),
    st.floats(-100, 100),
    st.floats(-100, 100),
    st.floats(-100, 100),
)
def test_tone_is_monotone(sh: float, hi: float, wh: float, bl: float, co: float) -> None:
    ramp = np.tile(np.linspace(0, 255, 256).astype(np.uint8)[None, :, None], (2, 1, 3))
    p = EditParams(shadows=sh, highlights=hi, whites=wh, blacks=bl, contrast=co)
    out = np.asarray(render_image(ramp, p))[0, :, 0].astype(int)
    assert np.all(np.diff(out) >= 0)


def test_hsl_red_hue_moves_towards_orange_and_blue_sat_only_touches_blue() -> None:
    px = np.zeros((8, 8, 3), np.uint8)
    px[:4] = (200, 40, 40)
    px[4:] = (40, 60, 200)
    out = np.asarray(render_image(px, EditParams(hsl={"red": {"hue": 60}})))
    assert out[0, 0, 1] > 60 and out[0, 0, 2] < 40  # green up: towards orange
    assert np.abs(out[6, 0].astype(int) - px[6, 0]).max() <= 2  # blue untouched
    desat = np.asarray(render_image(px, EditParams(hsl={"blue": {"sat": -100}})))
    assert np.ptp(desat[6, 0].astype(int)) < np.ptp(px[6, 0].astype(int)) / 3
    assert np.abs(desat[0, 0].astype(int) - px[0, 0]).max() <= 2


def test_tone_curve_applies(photo: Image.Image) -> None:
    inv = render_image(photo, EditParams(tone_curve=[[0, 40], [255, 215]]))
    arr = np.asarray(inv)
    assert arr.min() >= 39 and arr.max() <= 216


def test_crop_aspect_straighten_and_resize(photo: Image.Image) -> None:
    w, h = photo.size
    crop = EditParams(crop={"left": 0.25, "top": 0.25, "right": 0.75, "bottom": 0.75})
    out = render_image(photo, crop)
    assert abs(out.width - w / 2) <= 1 and abs(out.height - h / 2) <= 1
    # the cropped pixels are the centre of the photo
    centre = np.asarray(photo)[round(h / 4) : round(h / 4) + out.height, round(w / 4) :][
        :, : out.width
    ]
    assert np.array_equal(np.asarray(out), centre)
    square = render_image(photo, EditParams(aspect="1:1"), max_px=200)
    assert square.size == (200, 200)
    tilted = render_image(photo, EditParams(straighten=5), max_px=300)
    assert max(tilted.size) == 300
    assert abs(tilted.width / tilted.height - w / h) < 0.02
    assert output_size(w, h, EditParams(straighten=5), 300) == tilted.size


def test_straighten_rotates_a_line_counter_clockwise() -> None:
    img = np.full((200, 300, 3), 255, np.uint8)
    img[99:101, :] = 0  # a horizontal line through the centre
    out = np.asarray(render_image(img, EditParams(straighten=10)).convert("L"))
    ys, xs = np.nonzero(out < 128)
    slope = np.polyfit(xs, ys, 1)[0]  # image y grows downwards
    assert slope < -0.1  # the right end went up: counter-clockwise


def test_noise_reduction_smooths_and_sharpening_adds_detail(photo: Image.Image) -> None:
    rng = np.random.default_rng(0)
    noisy = np.clip(
        np.asarray(photo).astype(int) + rng.normal(0, 12, (photo.height, photo.width, 1)), 0, 255
    )
    noisy8 = noisy.astype(np.uint8)
    smooth = np.asarray(render_image(noisy8, EditParams(luminance_smoothing=80)))
    ref = np.asarray(photo).astype(float)
    assert np.abs(smooth - ref).mean() < np.abs(noisy8 - ref).mean()
    sharp = np.asarray(render_image(photo, EditParams(sharpness=100))).astype(float)
    lap = lambda a: float(np.abs(np.diff(a, axis=1)).mean())  # noqa: E731
    assert lap(sharp) > lap(np.asarray(photo).astype(float))


def test_float_and_grey_input_and_before_after(photo: Image.Image) -> None:
    arr = np.asarray(photo).astype(np.float32) / 255
    out = render_image(arr, EditParams())
    assert mean_delta_e(np.asarray(out), np.asarray(photo)) < 0.5
    grey = render_image(photo.convert("L"), EditParams(exposure=0.5))
    assert grey.mode == "RGB"
    both = compose_before_after(photo, render_image(photo, EditParams(aspect="1:1")))
    assert both.height == photo.height and both.width == photo.width + 8 + photo.height


# -- the fast path against a straightforward reference ------------------------------------------
def reference_color(arr: np.ndarray, p: EditParams) -> np.ndarray:
    """Steps 3 to 8 written plainly in float64 from the documented definitions: sRGB formula,
    von Kries gains, the tone curve by interpolation, HSL on the exact opponent hue, vibrance,
    saturation, the sRGB formula back and the tone curve as a monotone cubic. No tables, no
    fused multiply-adds, no OpenCV."""
    from scipy.interpolate import PchipInterpolator

    from kilo.edit.color import LUMA, wb_gains
    from kilo.edit.params import HSL_BANDS, IDENTITY_CURVE
    from kilo.edit.render import tone_map

    x = arr.astype(np.float64) / 255.0
    lin = np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)
    lin = lin * wb_gains(p.temperature, p.tint).astype(np.float64) * 2.0**p.exposure
    luma = LUMA.astype(np.float64)
    if p.shadows or p.highlights or p.whites or p.blacks or p.contrast:
        t = np.linspace(0.0, 2.0, 1 << 18)  # sqrt(Y) up to Y = 4
        mapped = tone_map(np.power(t * t, 1 / 2.2).astype(np.float32), p).astype(np.float64)
        mapped = np.maximum.accumulate(np.maximum(mapped, 0.0))
        y = np.maximum(lin @ luma, 1e-12)
        lin = lin * (np.interp(np.sqrt(y), t, mapped) ** 2.2 / y)[..., None]

    def saturation(v: np.ndarray) -> np.ndarray:
        mx, mn = v.max(axis=-1), v.min(axis=-1)
        return np.asarray((mx - mn) / np.maximum(mx, 1e-6))

    if not p.hsl.is_identity():
        mean = lin.mean(axis=-1, keepdims=True)
        c = lin - mean
        hue = (
            np.degrees(
                np.arctan2(
                    np.sqrt(3) / 2 * (c[..., 1] - c[..., 2]),
                    c[..., 0] - (c[..., 1] + c[..., 2]) / 2,
                )
            )
            % 360
        )
        hues = [0, 30, 60, 120, 180, 240, 270, 300, 360]
        band = [[getattr(p.hsl.band(b), k) / 100 for b in HSL_BANDS] for k in ("hue", "sat", "lum")]
        shift, gain, lum = (np.interp(hue, hues, [*v, v[0]]) for v in band)
        theta = np.radians(shift * 30)
        cos, sin = np.cos(theta)[..., None], (np.sin(theta) / np.sqrt(3))[..., None]
        cross = np.stack([c[..., 2] - c[..., 1], c[..., 0] - c[..., 2], c[..., 1] - c[..., 0]], -1)
        sat = saturation(lin)
        c = (c * cos + cross * sin) * (1 + gain * np.minimum(1, 4 * sat))[..., None]
        lin = (c + mean) * np.exp2(lum * sat)[..., None]
    if p.vibrance or p.saturation:
        y = (lin @ luma)[..., None]
        k = (1 + p.saturation / 100) * (
            1 + p.vibrance / 100 * (1 - np.clip(saturation(lin), 0, 1)) ** 2
        )
        lin = y + (lin - y) * k[..., None]
    lin = np.clip(lin, 0.0, 1.0)
    out = np.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin ** (1 / 2.4) - 0.055) * 255
    if p.tone_curve != IDENTITY_CURVE:
        xs, ys = zip(*p.tone_curve, strict=True)
        out = PchipInterpolator(xs, ys)(np.clip(out, xs[0], xs[-1]))
    return np.clip(np.floor(out + 0.5), 0, 255).astype(np.uint8)


@pytest.mark.parametrize(
    "params",
    [
        EditParams(
            exposure=0.35,
            contrast=15,
            highlights=-30,
            shadows=20,
            whites=5,
            blacks=-5,
            temperature=5600,
            tint=5,
            vibrance=15,
            tone_curve=[[0, 0], [64, 58], [192, 198], [255, 255]],
        ),
        EditParams(
            exposure=-0.4,
            contrast=-20,
            shadows=40,
            temperature=7500,
            saturation=10,
            vibrance=-20,
            hsl={"blue": {"sat": -15, "hue": -5}, "orange": {"lum": 10}, "green": {"hue": 10}},
        ),
        EditParams(
            hsl={"red": {"hue": 60, "sat": 40}, "aqua": {"lum": -50}, "purple": {"hue": -80}}
        ),
        EditParams(saturation=-100, exposure=1.2, highlights=-80, tone_curve=[[0, 30], [255, 220]]),
    ],
    ids=["typical", "heavy", "hsl", "mono"],
)
def test_fast_path_matches_reference(shared_photos_dir: Path, params: EditParams) -> None:
    from kilo.edit.color import delta_e2000, srgb8_to_lab

    im = Image.open(shared_photos_dir / "Kleiber_by_Lukas_Baubkus.jpg")
    im.draft("RGB", (512, 512))
    im = im.convert("RGB")
    im.thumbnail((512, 512))
    arr = np.asarray(im)
    fast = np.asarray(render_image(arr, params))
    de = delta_e2000(srgb8_to_lab(fast), srgb8_to_lab(reference_color(arr, params)))
    assert float(de.mean()) < 0.05
    assert float(np.percentile(de, 99.9)) < 1.5


def test_before_after_halves_are_labelled_and_can_be_left_bare(photo: Image.Image) -> None:
    grey = Image.new("RGB", (300, 200), (128, 128, 128))
    labelled = np.asarray(compose_before_after(grey, grey)).astype(int)
    bare = np.asarray(compose_before_after(grey, grey, labels=None)).astype(int)
    corner = (slice(5, 21), slice(5, 45))
    right = (slice(5, 21), slice(313, 345))
    for where in (corner, right):  # a dark box with white text in each half's corner
        patch = labelled[where]
        assert (patch.max(axis=2) < 20).mean() > 0.3 and (patch.min(axis=2) > 230).any()
        assert (bare[where] == 128).all()
    assert (labelled[150:, :300] == 128).all()  # the photo itself is untouched below
