"""Presets, crops, watermarks, encoders and file names on real photos."""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import cv2
import numpy as np
import piexif
import pytest
from PIL import Image, ImageCms

from kilo.errors import InvalidInput
from kilo.export.crop import find_subject, kept_fraction, panorama_slides, plan_crop
from kilo.export.encode import srgb_icc
from kilo.export.naming import NameAllocator, NameFields, format_name, sanitize_component
from kilo.export.presets import PhotoTask, RenderedFile, parse_settings, render_photo
from kilo.export.watermark import Watermark, apply_watermark, watermark_box


def _render(src: Path, preset: str, tmp: Path, **settings: object) -> list[RenderedFile]:
    tmp.mkdir(parents=True, exist_ok=True)
    task = PhotoTask(
        index=0,
        asset_id="a",
        source_uri=str(src),
        preset=preset,
        settings=dict(settings),
        staging_dir=str(tmp),
        meta={"filename": src.name},
    )
    return render_photo(task)


def _icc_description(img: Image.Image) -> str:
    icc = img.info.get("icc_profile")
    assert icc, "no ICC profile embedded"
    return str(ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc))))


def _same_quant(img: Image.Image, quality: int) -> bool:
    ref = io.BytesIO()
    img.convert("RGB").save(ref, "JPEG", quality=quality)
    return Image.open(ref).quantization[0] == img.quantization[0]  # type: ignore[attr-defined]


# -- full_res -----------------------------------------------------------------------------
def test_full_res_keeps_size_exif_gps_and_embeds_srgb(photos_dir: Path, tmp_path: Path) -> None:
    src = photos_dir / "xiaomi_mi3.jpg"
    (out,) = _render(src, "full_res", tmp_path)
    img = Image.open(out.path)
    assert img.size == Image.open(src).size == (4208, 3120)
    assert _same_quant(img, 95)
    assert "sRGB" in _icc_description(img)
    exif = piexif.load(out.path)
    orig = piexif.load(str(src))
    assert exif["0th"][piexif.ImageIFD.Make] == orig["0th"][piexif.ImageIFD.Make]
    assert exif["0th"][piexif.ImageIFD.Orientation] == 1
    assert exif["Exif"][piexif.ExifIFD.DateTimeOriginal] == orig["Exif"][36867]
    assert exif["GPS"], "GPS must be kept unless stripGps"


def test_full_res_strip_gps(photos_dir: Path, tmp_path: Path) -> None:
    (out,) = _render(photos_dir / "xiaomi_mi3.jpg", "full_res", tmp_path, stripGps=True)
    exif = piexif.load(out.path)
    assert not exif["GPS"]
    assert piexif.ImageIFD.GPSTag not in exif["0th"]
    assert exif["0th"][piexif.ImageIFD.Model] == b"MI3"


def test_full_res_normalises_orientation(shared_photos_dir: Path, tmp_path: Path) -> None:
    # a real photo stored sideways with Orientation=6, as cameras do
    src = shared_photos_dir / "people_zidane.jpg"
    rotated = tmp_path / "sideways.jpg"
    Image.open(src).transpose(Image.Transpose.ROTATE_90).save(rotated, quality=95)
    exif = piexif.dump({"0th": {piexif.ImageIFD.Orientation: 6, piexif.ImageIFD.Make: b"Test"}})
    piexif.insert(exif, str(rotated))
    (out,) = _render(rotated, "full_res", tmp_path / "out")
    img = Image.open(out.path)
    assert img.size == (1280, 720)  # upright again
    assert piexif.load(out.path)["0th"][piexif.ImageIFD.Orientation] == 1
    ref = np.asarray(Image.open(src).convert("L"), dtype=np.float32)
    got = np.asarray(img.convert("L"), dtype=np.float32)
    assert np.abs(ref - got).mean() < 6  # the same picture, not rotated the wrong way


def test_full_res_tiff16_from_raw(shared_photos_dir: Path, tmp_path: Path) -> None:
    (out,) = _render(
        shared_photos_dir / "raw" / "group_t1.dng", "full_res", tmp_path, format="tiff"
    )
    arr = cv2.imread(out.path, cv2.IMREAD_UNCHANGED)
    assert arr.dtype == np.uint16 and arr.ndim == 3 and arr.shape[2] == 3
    assert (arr.shape[1], arr.shape[0]) == (out.width, out.height)
    assert np.count_nonzero(arr % 257) > arr.size // 2  # real 16-bit levels, not 8-bit * 257
    assert srgb_icc() in Path(out.path).read_bytes()  # the sRGB ICC profile is embedded


def test_tiff_only_for_full_res() -> None:
    with pytest.raises(InvalidInput):
        parse_settings("web", {"format": "tiff"})
    with pytest.raises(InvalidInput, match="unknown setting"):
        parse_settings("web", {"jpegQualty": 80})


# -- web ----------------------------------------------------------------------------------
def test_web_long_edge_quality_minimal_metadata(photos_dir: Path, tmp_path: Path) -> None:
    (out,) = _render(photos_dir / "xiaomi_mi3.jpg", "web", tmp_path)
    img = Image.open(out.path)
    assert max(img.size) == 2048
    assert abs(img.width / img.height - 4208 / 3120) < 0.002
    assert _same_quant(img, 85)
    assert "sRGB" in _icc_description(img)
    exif = piexif.load(out.path)
    assert not exif["GPS"]
    assert piexif.ImageIFD.Make not in exif["0th"]
    assert exif["Exif"][piexif.ExifIFD.PixelXDimension] == 2048


def test_web_custom_long_edge_and_no_upscale(shared_photos_dir: Path, tmp_path: Path) -> None:
    (a,) = _render(
        shared_photos_dir / "Kleiber_by_Lukas_Baubkus.jpg", "web", tmp_path, longEdgePx=1200
    )
    assert max(Image.open(a.path).size) == 1200
    (b,) = _render(shared_photos_dir / "people_zidane.jpg", "web", tmp_path / "b")
    assert Image.open(b.path).size == (1280, 720)


def test_web_output_sharpening_adds_detail(shared_photos_dir: Path, tmp_path: Path) -> None:
    src = shared_photos_dir / "Kleiber_by_Lukas_Baubkus.jpg"
    (sharp,) = _render(src, "web", tmp_path / "s")
    (soft,) = _render(src, "web", tmp_path / "n", sharpen=False)

    def energy(p: str) -> float:
        g = np.asarray(Image.open(p).convert("L"), dtype=np.float32)
        return float(cv2.Laplacian(g, cv2.CV_32F).var())

    assert energy(sharp.path) > 1.1 * energy(soft.path)


def test_the_fast_sharpening_is_pillows_unsharp_mask(shared_photos_dir: Path) -> None:
    """kilo's OpenCV unsharp mask does what Pillow's UnsharpMask does (a true Gaussian where
    Pillow approximates it with box blurs: a fraction of one grey level apart on average)."""
    from PIL import ImageFilter

    from kilo.export.presets import unsharp_mask

    with Image.open(shared_photos_dir / "Kleiber_by_Lukas_Baubkus.jpg") as im:
        im.draft("RGB", (2048, 2048))
        img = im.convert("RGB")
    ours = np.asarray(unsharp_mask(img, 0.8, 70), dtype=np.int16)
    pillow = np.asarray(
        img.filter(ImageFilter.UnsharpMask(radius=0.8, percent=70, threshold=2)), dtype=np.int16
    )
    orig = np.asarray(img, dtype=np.int16)
    assert np.abs(ours - pillow).mean() < 0.6 * np.abs(pillow - orig).mean()
    assert np.percentile(np.abs(ours - pillow), 99) <= 3


def test_a_plain_jpeg_takes_the_fast_decode_with_orientation_and_profile(
    shared_photos_dir: Path, tmp_path: Path
) -> None:
    """The web preset decodes a plain JPEG straight to the size it needs (OpenCV at the DCT
    scale), upright and in sRGB, like the general decoder."""
    from kilo.export.render import render_source
    from kilo.imaging import decode_image

    src = Image.open(shared_photos_dir / "Kleiber_by_Lukas_Baubkus.jpg").convert("RGB")
    src.thumbnail((3000, 3000))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW to show
    p3 = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buf = io.BytesIO()
    src.save(buf, "JPEG", quality=92, exif=exif.tobytes(), icc_profile=p3)
    data = buf.getvalue()
    fast, full = render_source(data, "x.jpg", None, max_px=1024)
    general = decode_image(data, name="x.jpg", max_px=1024).image
    assert full == (src.height, src.width) and fast.size == general.size
    assert fast.height > fast.width  # turned upright
    diff = np.abs(np.asarray(fast, dtype=np.int16) - np.asarray(general, dtype=np.int16))
    assert diff.mean() < 3.0


# -- carousel and story -------------------------------------------------------------------
def test_carousel_is_4x5_and_keeps_the_faces(shared_photos_dir: Path, tmp_path: Path) -> None:
    from kilo.measure.signals import detect_faces

    src = shared_photos_dir / "people_zidane.jpg"
    (out,) = _render(src, "instagram_carousel", tmp_path)
    assert Image.open(out.path).size == (1080, 1350)
    img = Image.open(src).convert("RGB")
    faces = detect_faces(np.asarray(img))
    assert faces
    box = plan_crop(img.size, 4 / 5, find_subject(img))
    assert abs((box[2] - box[0]) / (box[3] - box[1]) - 0.8) < 0.01
    biggest = max(faces, key=lambda f: f.w * f.h)
    assert box[0] <= biggest.x and biggest.x + biggest.w <= box[2]


def test_saliency_crop_follows_an_off_centre_subject(shared_photos_dir: Path) -> None:
    img = Image.open(shared_photos_dir / "mate_LadyBird.jpg").convert("RGB")
    subject = find_subject(img, use_faces=False)
    assert subject.source == "saliency"
    box = plan_crop(img.size, 4 / 5, subject)
    centre = plan_crop(img.size, 4 / 5, None)
    assert box != centre
    assert box[0] <= subject.cx <= box[2]


def test_panorama_becomes_consecutive_slides(shared_photos_dir: Path, tmp_path: Path) -> None:
    src = Image.open(shared_photos_dir / "Kleiber_by_Lukas_Baubkus.jpg").convert("RGB")
    pano = src.crop((0, 400, src.width, 400 + src.width // 3))  # a real 3:1 strip
    path = tmp_path / "pano.jpg"
    pano.save(path, quality=95)
    files = _render(path, "instagram_carousel", tmp_path / "out")
    assert len(files) == round(3.0 / 0.8)
    slides = [np.asarray(Image.open(f.path), dtype=np.float32) for f in files]
    assert all(s.shape == (1350, 1080, 3) for s in slides)
    for left, right in itertools.pairwise(slides):
        seam = np.abs(left[:, -1] - right[:, 0]).mean()
        unrelated = np.abs(left[:, -1] - left[:, 0]).mean()
        assert seam < 0.5 * unrelated  # slides continue each other
    assert (
        panorama_slides(Image.open(shared_photos_dir / "people_zidane.jpg"), (1080, 1350)) is None
    )


def test_story_crops_portrait_and_blur_fills_landscape(
    shared_photos_dir: Path, tmp_path: Path
) -> None:
    land = shared_photos_dir / "sunset_by_Aitzol_Berasategi.jpg"
    assert kept_fraction(Image.open(land).size, 9 / 16) < 0.5
    (a,) = _render(land, "story_9x16", tmp_path / "a")
    img = np.asarray(Image.open(a.path).convert("L"), dtype=np.float32)
    assert img.shape == (1920, 1080)
    band = img[:200]
    middle = img[860:1060]
    # the fill is a blur: far less detail than the photo in the middle
    assert np.abs(np.diff(band, axis=1)).mean() < 0.3 * np.abs(np.diff(middle, axis=1)).mean()
    (b,) = _render(land, "story_9x16", tmp_path / "b", fill="crop")
    crop = np.asarray(Image.open(b.path).convert("L"), dtype=np.float32)
    assert np.abs(np.diff(crop[:200], axis=1)).mean() > np.abs(np.diff(band, axis=1)).mean()


# -- watermark ----------------------------------------------------------------------------
def test_text_watermark_is_burned_into_its_corner(shared_photos_dir: Path, tmp_path: Path) -> None:
    src = shared_photos_dir / "Kleiber_by_Lukas_Baubkus.jpg"
    (plain,) = _render(src, "web", tmp_path / "p")
    (marked,) = _render(src, "web", tmp_path / "m", watermark="© Kilo Studio")
    a = np.asarray(Image.open(plain.path), dtype=np.int16)
    b = np.asarray(Image.open(marked.path), dtype=np.int16)
    left, top, right, bottom = watermark_box(
        Image.open(plain.path).size, Watermark(text="© Kilo Studio")
    )
    assert left > a.shape[1] / 2 and top > a.shape[0] / 2  # bottom right
    inside = np.abs(a[top:bottom, left:right] - b[top:bottom, left:right]).mean()
    outside = np.abs(
        a[: a.shape[0] // 2, : a.shape[1] // 2] - b[: a.shape[0] // 2, : a.shape[1] // 2]
    ).mean()
    assert inside > 8
    assert outside < 1


def test_logo_watermark_opacity_and_position(shared_photos_dir: Path, tmp_path: Path) -> None:
    logo = (
        Image.open(shared_photos_dir / "plasma_Kite_screenshot.jpg")
        .convert("RGBA")
        .resize((200, 100))
    )
    logo_path = tmp_path / "logo.png"
    logo.save(logo_path)
    img = Image.open(shared_photos_dir / "people_zidane.jpg").convert("RGB")
    diffs = []
    for opacity in (0.3, 0.9):
        wm = Watermark(image=str(logo_path), position="top-left", opacity=opacity, scale=0.2)
        out = apply_watermark(img, wm)
        x0, y0, x1, y1 = watermark_box(img.size, wm)
        assert x0 < img.width / 4 and y0 < img.height / 4
        a = np.asarray(img, dtype=np.int16)[y0:y1, x0:x1]
        o = np.asarray(out, dtype=np.int16)[y0:y1, x0:x1]
        diffs.append(np.abs(a - o).mean())
    assert diffs[1] > 2 * diffs[0] > 0
    with pytest.raises(InvalidInput):
        Watermark(text="a", image=str(logo_path))


# -- naming -------------------------------------------------------------------------------
def test_name_template_and_sanitising() -> None:
    from datetime import datetime

    fields = NameFields(
        seq=7, project="Smith / Wedding 2024", captured_at=datetime(2024, 6, 1, 14, 3)
    )
    assert format_name("{date}_{project}_{seq:04d}", fields) == "2024-06-01_Smith_Wedding-2024_0007"
    evil = NameFields(seq=1, project="../../etc/passwd", filename="..\\..\\boot.ini")
    name = format_name("{project}_{filename}", evil)
    assert "/" not in name and "\\" not in name and not name.startswith(".")
    assert sanitize_component("..") == "untitled"
    assert sanitize_component("CON") == "_CON"
    for bad in ("{project.__class__}", "{seq[0]}", "{nope}", "a/{seq}", "{seq!r}"):
        with pytest.raises(InvalidInput):
            format_name(bad, fields)


def test_name_allocator_avoids_collisions() -> None:
    alloc = NameAllocator(existing=["shot.jpg", "SHOT-2.JPG"])
    assert alloc.allocate("shot", "jpg") == "shot-3.jpg"
    assert alloc.allocate("shot", ".JPG") == "shot-4.jpg"
    assert alloc.allocate("other", "jpg") == "other.jpg"
    traversal = alloc.allocate("../x", "jpg")
    assert "/" not in traversal and not traversal.startswith(".")


@pytest.mark.parametrize("size", [(2048, 1365), (512, 341), (300, 2000)])
def test_a_short_tiled_text_covers_the_photo_without_failing(size: tuple[int, int]) -> None:
    """'PROOF' tiled is narrower than the gap between tiles: the half-offset rows used to
    start a tile wholly off the canvas and fail ("right is less than left")."""
    img = Image.new("RGB", size, (40, 40, 40))
    out = np.asarray(apply_watermark(img, Watermark(text="PROOF", position="tiled")))
    marked = np.any(out != 40, axis=2)
    h, w = marked.shape
    quarters = [
        marked[: h // 2, : w // 2],
        marked[: h // 2, w // 2 :],
        marked[h // 2 :, : w // 2],
        marked[h // 2 :, w // 2 :],
    ]
    assert all(q.any() for q in quarters)
