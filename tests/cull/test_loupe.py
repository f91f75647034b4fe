"""The 100% loupe's pixels: a camera RAW through its embedded full-size preview (turned
upright), through a render when its preview is only a thumbnail; an upright JPEG as its own
bytes without metadata; a rotated JPEG rendered upright; none keeps EXIF."""

from __future__ import annotations

import io

from PIL import Image

from kilo.cull.loupe import render_loupe
from support.dng import mosaic_dng, with_embedded_preview
from support.shared import EXAMPLES


def _photo(size: tuple[int, int] = (640, 480)) -> tuple[Image.Image, bytes]:
    with Image.open(EXAMPLES / "cv_leuvenA.jpg") as im:
        photo = im.convert("RGB").resize(size)
    buf = io.BytesIO()
    photo.save(buf, "JPEG", quality=92)
    return photo, buf.getvalue()


def _open(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def test_a_raw_shows_its_embedded_full_size_preview_upright() -> None:
    photo, jpeg = _photo()
    dng = with_embedded_preview(mosaic_dng(photo, orientation=6), jpeg)  # sensor-up preview
    data, how = render_loupe(dng, name="frame.dng")
    assert how == "embedded preview"
    im = _open(data)
    assert im.size == (480, 640)  # turned a quarter: upright
    assert not im.getexif()


def test_a_raw_whose_preview_is_a_thumbnail_is_rendered() -> None:
    photo, _ = _photo()
    _, small = _photo((160, 120))
    dng = with_embedded_preview(mosaic_dng(photo), small)
    data, how = render_loupe(dng, name="frame.dng")
    assert how.startswith("render")
    assert _open(data).size == (640, 480)


def test_an_upright_jpeg_is_its_own_loupe_without_metadata() -> None:
    photo, _ = _photo()
    exif = Image.Exif()
    exif[0x010F] = "KiloCam"  # Make
    buf = io.BytesIO()
    photo.save(buf, "JPEG", quality=92, exif=exif.tobytes(), comment=b"Aarhus, Denmark")
    data, how = render_loupe(buf.getvalue(), name="a.jpg")
    assert how == "original JPEG"
    im = _open(data)
    assert im.size == (640, 480) and not im.getexif() and "comment" not in im.info
    rotated = io.BytesIO()
    exif[0x0112] = 8
    photo.save(rotated, "JPEG", quality=92, exif=exif.tobytes())
    data, how = render_loupe(rotated.getvalue(), name="b.jpg")
    assert how.startswith("render") and _open(data).size == (480, 640)
    assert not _open(data).getexif()
