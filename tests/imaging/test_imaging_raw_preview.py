"""RAW files with the camera's embedded JPEG preview: decode and ingest take the preview
instead of developing the raw data, upright and in the same colours."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kilo.catalog import Catalog
from kilo.imaging import decode_image
from kilo.ingest import ingest
from kilo.models import Project
from support.dng import camera_preview, mosaic_dng, with_embedded_preview


def _mad(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference in grey levels, ``b`` resized to ``a``'s size."""
    x = np.asarray(a.convert("RGB"), dtype=np.float32)
    y = np.asarray(b.convert("RGB").resize(a.size, Image.Resampling.BILINEAR), dtype=np.float32)
    return float(np.abs(x - y).mean())


@pytest.fixture(scope="module")
def kite(shared_photos_dir: Path) -> tuple[bytes, bytes]:
    """(a shared DNG with its camera JPEG embedded, that JPEG)."""
    dng = (shared_photos_dir / "raw" / "plasma_Kite.dng").read_bytes()
    jpeg = camera_preview((shared_photos_dir / "plasma_Kite.jpg").read_bytes(), (2400, 1472))
    return with_embedded_preview(dng, jpeg), jpeg


def test_the_embedded_preview_is_used_and_matches_the_developed_raw(
    kite: tuple[bytes, bytes], shared_photos_dir: Path
) -> None:
    data, jpeg = kite
    got = decode_image(data, name="kite.dng", max_px=2048)
    assert got.method == "embedded preview" and got.format == "RAW"
    assert got.image.size == (2048, 1256) and (got.width, got.height) == (2400, 1472)
    assert _mad(got.image, Image.open(io.BytesIO(jpeg))) < 1.5  # the preview's own pixels
    plain = (shared_photos_dir / "raw" / "plasma_Kite.dng").read_bytes()
    developed = decode_image(plain, name="kite.dng", max_px=2048)
    assert developed.method == "full demosaic"
    # the same photo in the same colours as kilo's own development of the raw data
    assert _mad(developed.image, got.image) < 12
    means = [
        np.asarray(im, dtype=np.float32).mean(axis=(0, 1)) for im in (got.image, developed.image)
    ]
    assert np.abs(means[0] - means[1]).max() < 12


def test_renditions_come_from_the_preview_through_the_fast_jpeg_path(
    kite: tuple[bytes, bytes],
) -> None:
    from kilo.imaging.renditions import render_renditions

    data, jpeg = kite
    made = render_renditions(data, {"preview": 2048, "thumbnail": 512}, name="kite.dng")
    assert made.method == "embedded preview" and made.format == "RAW"
    assert (made.width, made.height) == (2400, 1472)
    sizes = {r.kind: (r.width, r.height) for r in made.renditions}
    assert sizes == {"preview": (2048, 1256), "thumbnail": (512, 314)}
    preview = next(r for r in made.renditions if r.kind == "preview")
    assert _mad(Image.open(io.BytesIO(preview.data)), Image.open(io.BytesIO(jpeg))) < 1.5


def test_the_preview_is_turned_upright_by_the_raw_orientation(photos_dir: Path) -> None:
    photo = Image.open(photos_dir / "group_t1.jpg").convert("RGB")
    dng = mosaic_dng(photo, orientation=6)  # the camera held upright: rotate 90 degrees CW
    buf = io.BytesIO()
    photo.crop((0, 0, 1280, 886)).save(buf, "JPEG", quality=90)  # sensor-up, as cameras store it
    data = with_embedded_preview(dng, buf.getvalue())
    got = decode_image(data, name="upright.dng", max_px=1024)
    developed = decode_image(dng, name="upright.dng", max_px=1024)
    assert got.method == "embedded preview" and developed.method == "full demosaic"
    assert got.image.size == developed.image.size == (709, 1024)
    assert _mad(developed.image, got.image) < 12
    # a preview left sideways would not match the developed, rotated frame
    assert _mad(developed.image, got.image.transpose(Image.Transpose.ROTATE_180)) > 25


def test_a_preview_smaller_than_asked_for_is_not_enlarged(shared_photos_dir: Path) -> None:
    dng = (shared_photos_dir / "raw" / "group_t1.dng").read_bytes()
    small = Image.open(shared_photos_dir / "group_t1.jpg").convert("RGB").resize((640, 432))
    buf = io.BytesIO()
    small.save(buf, "JPEG", quality=85)
    data = with_embedded_preview(dng, buf.getvalue())
    assert decode_image(data, max_px=320).method == "embedded preview"
    assert decode_image(data, max_px=1024).method == "full demosaic"


def test_ingest_makes_renditions_from_the_embedded_preview(
    catalog: Catalog, project: Project, kite: tuple[bytes, bytes], tmp_path: Path
) -> None:
    from kilo.assets import open_rendition

    data, jpeg = kite
    src = tmp_path / "card"
    src.mkdir()
    (src / "DSC_0001.dng").write_bytes(data)
    rep = ingest(catalog, project.id, [src])
    assert rep.ready == 1 and rep.failed == 0
    asset = catalog.fetchdict("SELECT format, width_px, height_px FROM assets")
    assert asset == {"format": "RAW", "width_px": 2400, "height_px": 1472}
    camera = Image.open(io.BytesIO(jpeg))
    for kind in ("preview", "thumbnail"):
        made = open_rendition(catalog, rep.asset_ids[0], kind)
        assert _mad(made, camera) < 2.0, kind  # the camera's JPEG, not a development (~8)
