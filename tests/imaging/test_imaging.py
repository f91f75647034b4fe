"""kilo.imaging on the real test photos: sniffing, decoding, orientation, metadata."""

from __future__ import annotations

from pathlib import Path

import exifread
import pytest
from PIL import Image

from kilo.errors import DecodeError
from kilo.imaging import (
    decode_image,
    fit_size,
    load_image,
    make_renditions,
    read_metadata,
    sniff_content_type,
)


def test_sniff_by_content_not_name(shared_photos_dir: Path) -> None:
    jpeg = (shared_photos_dir / "cv_leuvenA.jpg").read_bytes()[:64]
    assert sniff_content_type(jpeg, "whatever.bin") == "image/jpeg"
    assert sniff_content_type((shared_photos_dir / "pug.heic").read_bytes()[:64]) == "image/heic"
    assert sniff_content_type((shared_photos_dir / "flower.png").read_bytes()[:64]) == "image/png"
    dng = (shared_photos_dir / "raw" / "group_t1.dng").read_bytes()[:64]
    assert sniff_content_type(dng, "group_t1.dng") == "image/x-raw"
    assert sniff_content_type(b"this is text, not a raw file", "IMG_0001.CR2") is None
    assert sniff_content_type(b"") is None


def test_load_image_draft_jpeg_is_bounded_and_rgb(shared_photos_dir: Path) -> None:
    img = load_image(shared_photos_dir / "sony_a6000_night.jpg", max_px=512)
    assert img.mode == "RGB" and max(img.size) == 512
    assert img.size == fit_size((6000, 4000), 512)
    decoded = decode_image((shared_photos_dir / "sony_a6000_night.jpg").read_bytes(), max_px=2048)
    assert decoded.method == "draft 1/2"  # never fully decoded for a 2048 px preview
    assert (decoded.width, decoded.height) == (6000, 4000)
    assert decoded.format == "MPO"  # this camera writes MPO; the first frame is the photo


def test_orientation_is_applied(tmp_path: Path, shared_photos_dir: Path) -> None:
    src = Image.open(shared_photos_dir / "people_zidane.jpg")
    exif = src.getexif()
    exif[0x0112] = 6  # rotate 90 CW to display
    path = tmp_path / "rotated.jpg"
    src.save(path, exif=exif.tobytes())
    decoded = decode_image(path.read_bytes(), max_px=640)
    assert (decoded.width, decoded.height) == (src.height, src.width)
    assert decoded.image.size == fit_size((src.height, src.width), 640)
    assert read_metadata(path).orientation == 6


def test_heic_frames_and_broken_metadata(photos_dir: Path) -> None:
    burst = (photos_dir / "bird_burst.heic").read_bytes()
    frames = [decode_image(burst, max_px=512, frame=i) for i in range(4)]
    assert {f.frame_count for f in frames} == {4}
    assert frames[0].image.tobytes() != frames[3].image.tobytes()
    with pytest.raises(DecodeError):
        decode_image(burst, frame=4)
    # exifread fails on this valid file; the pixels and the EXIF (via piexif) survive
    meta = read_metadata(photos_dir / "empty_icc.heic")
    assert any("exifread" in e for e in meta.errors)
    assert meta.camera_model == "iPhone XS" and meta.reader == "piexif"
    assert load_image(photos_dir / "empty_icc.heic", max_px=256).size[0] == 256


@pytest.mark.parametrize("name", ["canon_rebel_t6_xmp.jpg", "xiaomi_mi3.jpg"])
def test_metadata_matches_exifread(photos_dir: Path, name: str) -> None:
    _check_against_exifread(photos_dir, name)


@pytest.mark.parametrize("name", ["plasma_ColorfulCups.jpg", "pug.heic"])
def test_metadata_matches_exifread_on_the_wider_set(shared_photos_dir: Path, name: str) -> None:
    _check_against_exifread(shared_photos_dir, name)


def _check_against_exifread(photos_dir: Path, name: str) -> None:
    with open(photos_dir / name, "rb") as fh:
        tags = exifread.process_file(fh, details=False)
    meta = read_metadata(photos_dir / name)
    assert meta.camera_make == str(tags["Image Make"]).strip()
    assert meta.camera_model == str(tags["Image Model"]).strip()
    dto = str(tags["EXIF DateTimeOriginal"])
    offset = meta.captured_offset_min or 0
    from datetime import timedelta

    assert meta.captured_at is not None
    local = meta.captured_at + timedelta(minutes=offset)
    assert local.strftime("%Y:%m:%d %H:%M:%S") == dto
    assert meta.iso == int(str(tags["EXIF ISOSpeedRatings"]))
    fnum = tags["EXIF FNumber"].values[0]
    assert meta.aperture == round(float(fnum.num) / float(fnum.den), 1)


def test_metadata_details(shared_photos_dir: Path) -> None:
    pug = read_metadata(shared_photos_dir / "pug.heic")
    assert pug.captured_offset_min == 180 and pug.captured_at_source == "exif:DateTimeOriginal"
    assert pug.captured_at is not None and pug.captured_at.hour == 11  # 14:33 at +03:00
    assert pug.gps_lat is not None and 44.8 < pug.gps_lat < 44.9
    canon = read_metadata(shared_photos_dir / "canon_rebel_t6_xmp.jpg")
    assert canon.shutter_speed == "1/100" and canon.lens_model == "EF-S18-55mm f/3.5-5.6 III"
    assert canon.captured_at is not None and canon.captured_at.microsecond == 530000
    cups = read_metadata(shared_photos_dir / "plasma_ColorfulCups.jpg")
    assert "Colors" in cups.keywords
    assert cups.gps_lat is not None and cups.gps_lon is not None


def test_raw_dng_half_or_full_demosaic(shared_photos_dir: Path) -> None:
    data = (shared_photos_dir / "raw" / "plasma_Kite.dng").read_bytes()
    small = decode_image(data, max_px=512)
    assert small.method == "half-size demosaic"  # no embedded preview in these DNGs
    assert max(small.image.size) == 512 and small.image.mode == "RGB"
    assert (small.width, small.height) == (2400, 1472)
    assert (
        read_metadata(shared_photos_dir / "raw" / "plasma_Kite.dng").camera_model == "Synthetic DNG"
    )


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "corrupt"),
        (b"just some text", "not a supported image"),
    ],
)
def test_decode_errors_are_one_line(payload: bytes, fragment: str) -> None:
    with pytest.raises(DecodeError) as info:
        decode_image(payload, name="x.jpg")
    assert fragment in info.value.reason and "\n" not in info.value.message


def test_truncated_jpeg_is_refused(shared_photos_dir: Path) -> None:
    data = (shared_photos_dir / "mate_Storm.jpg").read_bytes()
    with pytest.raises(DecodeError, match="truncated"):
        decode_image(data[: len(data) // 2], max_px=512)


def test_renditions_sizes(shared_photos_dir: Path) -> None:
    img = load_image(shared_photos_dir / "Kleiber_by_Lukas_Baubkus.jpg", max_px=2048)
    preview, thumb = make_renditions(img, {"thumbnail": 512, "preview": 2048})
    assert (preview.kind, max(preview.width, preview.height)) == ("preview", 2048)
    assert (thumb.kind, max(thumb.width, thumb.height)) == ("thumbnail", 512)
    import io

    assert Image.open(io.BytesIO(thumb.data)).size == (thumb.width, thumb.height)


def test_truncated_jpeg_is_refused_even_after_weasyprint_loads(
    photos_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """WeasyPrint sets Pillow's LOAD_TRUNCATED_IMAGES on import; kilo must not follow."""
    import weasyprint  # noqa: F401
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)  # as WeasyPrint does
    data = (photos_dir / "cv_leuvenA.jpg").read_bytes()
    with pytest.raises(DecodeError, match="truncated"):
        decode_image(data[: len(data) // 2], name="half.jpg", max_px=512)


def test_small_upright_jpeg_is_its_own_preview_without_metadata(shared_photos_dir: Path) -> None:
    """A JPEG that already fits the preview keeps its image data (no generation loss) but
    loses EXIF (GPS must not reach a client gallery); the thumbnail is a real resize."""
    import io

    import numpy as np

    from kilo.imaging.renditions import render_renditions, strip_jpeg_metadata

    data = (shared_photos_dir / "cv_ela_original.jpg").read_bytes()  # 902x770, upright, GPS in EXIF
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)
    out = render_renditions(data, {"preview": 2048, "thumbnail": 512})
    preview, thumb = out.renditions
    assert out.method.startswith("lossless preview")
    assert preview.data == strip_jpeg_metadata(data) and len(preview.data) < len(data)
    with Image.open(io.BytesIO(preview.data)) as im:
        assert not im.getexif() and im.size == (902, 770) == (preview.width, preview.height)
        same = np.asarray(im.convert("RGB")) == np.asarray(Image.open(io.BytesIO(data)))
        assert same.all()
    assert (thumb.width, thumb.height) == fit_size((902, 770), 512)
    assert Image.open(io.BytesIO(thumb.data)).size == (thumb.width, thumb.height)


def test_fast_jpeg_path_matches_pillow(tmp_path: Path, shared_photos_dir: Path) -> None:
    """The OpenCV path (DCT-scaled decode, resize, encode) gives the image decode_image gives:
    same size, orientation applied, pixels close."""
    import io

    import numpy as np

    from kilo.imaging.renditions import render_renditions

    src = Image.open(shared_photos_dir / "Kleiber_by_Lukas_Baubkus.jpg")
    exif = src.getexif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.jpg"
    src.save(path, exif=exif.tobytes(), quality=92)
    data = path.read_bytes()
    out = render_renditions(data, {"preview": 2048, "thumbnail": 512})
    assert (out.width, out.height) == (src.height, src.width) and out.orientation == 6
    preview, thumb = out.renditions
    assert (preview.width, preview.height) == fit_size((src.height, src.width), 2048)
    assert max(thumb.width, thumb.height) == 512
    ref = decode_image(data, max_px=2048).image
    got = Image.open(io.BytesIO(preview.data)).convert("RGB")
    assert got.size == ref.size
    diff = np.abs(np.asarray(got, dtype=np.int16) - np.asarray(ref, dtype=np.int16))
    assert diff.mean() < 4.0


def test_fast_jpeg_path_refuses_truncated_and_converts_icc(shared_photos_dir: Path) -> None:
    from kilo.imaging.renditions import render_renditions, strip_jpeg_metadata

    data = (shared_photos_dir / "mate_Storm.jpg").read_bytes()
    with pytest.raises(DecodeError, match="truncated"):
        render_renditions(data[: len(data) // 2], {"preview": 2048, "thumbnail": 512})
    assert strip_jpeg_metadata(b"\xff\xd8\xff\xe1\x00") is None
    tagged = (shared_photos_dir / "canon_rebel_t6_xmp.jpg").read_bytes()  # carries an ICC profile
    out = render_renditions(tagged, {"preview": 2048, "thumbnail": 512})
    assert [r.kind for r in out.renditions] == ["preview", "thumbnail"]
