"""``write-xmp --embed``: the decision inside the JPEG, TIFF, PNG and DNG file's own XMP,
read back by exiftool, with not one pixel byte changed (a decode hash before and after, and
for JPEG and PNG the compressed image bytes themselves), the file's mode kept, originals in
object stores refused, a failed write leaving the original as it was."""

from __future__ import annotations

import hashlib
import shutil
import stat
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image

from kilo.catalog import Catalog
from kilo.cull import upsert_rating
from kilo.cull.decision_sidecar import write_xmp_sidecars
from kilo.errors import DecodeError
from kilo.models import Project
from kilo.xmp_embed import EmbedError, embed_xmp, image_data, read_embedded_xmp
from support.cull_data import add_asset
from support.exiftool import exiftool, needs_exiftool

pytestmark = needs_exiftool


def pixel_hash(path: Path) -> str:
    """A hash of the decoded pixels: Pillow for JPEG/PNG/TIFF, rawpy's sensor data for DNG."""
    if path.suffix.lower() == ".dng":
        import rawpy

        with rawpy.imread(str(path)) as raw:
            return hashlib.sha256(raw.raw_image.tobytes()).hexdigest()
    with Image.open(path) as img:
        img.load()
        return hashlib.sha256(img.mode.encode() + img.tobytes()).hexdigest()


@pytest.fixture
def shoot(shared_photos_dir: Path, tmp_path: Path) -> Path:
    """Real photos of each embeddable format, group-readable (mode 0640)."""
    folder = tmp_path / "shoot"
    folder.mkdir()
    shutil.copy(shared_photos_dir / "mate_Dune.jpg", folder)
    shutil.copy(shared_photos_dir / "raw" / "mate_Dune.dng", folder)
    shutil.copy(shared_photos_dir / "flower.png", folder)
    shutil.copy(shared_photos_dir / "canon_rebel_t6_xmp.jpg", folder)  # Lightroom's XMP in it
    with Image.open(shared_photos_dir / "cv_aloeL.jpg") as img:  # a real photo as a TIFF
        img.save(folder / "cv_aloeL.tif", compression="tiff_lzw")
    for path in folder.iterdir():
        path.chmod(0o640)
    return folder


@pytest.mark.slow
def test_embedding_changes_no_pixel_byte(catalog: Catalog, project: Project, shoot: Path) -> None:
    names = ["mate_Dune.jpg", "mate_Dune.dng", "flower.png", "cv_aloeL.tif"]
    ids = [
        add_asset(catalog, project.id, shoot / n, datetime(2024, 5, 1, 12, i))
        for i, n in enumerate(names)
    ]
    upsert_rating(catalog, ids[0], picked=True, rating=3)
    upsert_rating(catalog, ids[1], rejected=True)
    upsert_rating(catalog, ids[2], rating=5, starred=True)
    upsert_rating(catalog, ids[3], picked=True)
    pixels = {n: pixel_hash(shoot / n) for n in names}
    scans = {n: image_data((shoot / n).read_bytes(), Path(n).suffix) for n in names}
    assert scans["mate_Dune.jpg"] and scans["flower.png"]  # JPEG scan data, PNG IDAT
    results = write_xmp_sidecars(catalog, project.id, embed=True)
    assert [r.status for r in results] == ["ok"] * 4
    assert [r.extra.get("embedded") for r in results] == [str(shoot / n) for n in names]
    for n in names:
        path = shoot / n
        assert pixel_hash(path) == pixels[n], n
        assert image_data(path.read_bytes(), path.suffix) == scans[n], n
        assert stat.S_IMODE(path.stat().st_mode) == 0o640, n
    jpg, dng, png, tif = exiftool(*(shoot / n for n in names))
    assert (jpg["Rating"], jpg["Label"], jpg["Pick"]) == (3, "Green", 1)
    assert (dng["Rating"], dng["Pick"]) == (-1, -1)
    assert (png["Rating"], png["Starred"]) == (5, True)
    assert png["CreatorTool"] == "GIMP 2.10"  # the XMP already in the file is kept
    assert (tif["Label"], tif["Pick"]) == ("Green", 1)
    assert not [p.name for p in shoot.iterdir() if p.name.startswith(".")]  # no temp left


def test_the_default_never_touches_originals(
    catalog: Catalog, project: Project, shoot: Path
) -> None:
    path = shoot / "mate_Dune.jpg"
    upsert_rating(catalog, add_asset(catalog, project.id, path, datetime(2024, 5, 1)), rating=4)
    before = path.read_bytes()
    [result] = write_xmp_sidecars(catalog, project.id)
    assert result.status == "ok" and "embedded" not in result.extra
    assert path.read_bytes() == before


def test_lightroom_xmp_inside_a_camera_jpeg_is_kept(shoot: Path) -> None:
    from kilo.cull.decision_sidecar import SidecarState, merge_xmp

    path = shoot / "canon_rebel_t6_xmp.jpg"
    pixels = pixel_hash(path)
    embed_xmp(path, merge_xmp(read_embedded_xmp(path), SidecarState(rating=2, pick=1)))
    [tags] = exiftool(path)
    assert (tags["Rating"], tags["Label"]) == (2, "Green")
    assert tags["ColorTemperature"] == 4900  # exiftool's name of crs:Temperature
    assert str(tags["SerialNumber"]) == "022070029137"
    assert pixel_hash(path) == pixels


def test_a_failed_embed_leaves_the_original(shoot: Path) -> None:
    broken = shoot / "broken.jpg"
    broken.write_bytes((shoot / "mate_Dune.jpg").read_bytes()[:2000])  # cut in its header
    not_tiff = shoot / "not_a.tif"
    not_tiff.write_bytes(b"II*\x00" + bytes(range(256)) * 8)  # exiftool refuses it
    for path, error in ((broken, DecodeError), (not_tiff, EmbedError)):
        before = path.read_bytes()
        with pytest.raises(error):
            embed_xmp(path, '<x:xmpmeta xmlns:x="adobe:ns:meta/"/>')
        assert path.read_bytes() == before
    assert not [p.name for p in shoot.iterdir() if p.name.startswith(".")]  # no temp left
    with pytest.raises(EmbedError, match="only into JPEG, TIFF, PNG and DNG"):
        embed_xmp(shoot / "x.heic", "")


def test_one_file_that_cannot_take_it_fails_alone(
    catalog: Catalog, project: Project, shoot: Path
) -> None:
    """One exiftool run writes the batch; a file it refuses fails with exiftool's reason and
    stays as it was, the others are written."""
    not_tiff = shoot / "not_a.tif"
    not_tiff.write_bytes(b"II*\x00" + bytes(range(256)) * 8)
    names = ["not_a.tif", "mate_Dune.jpg", "canon_rebel_t6_xmp.jpg"]
    ids = [
        add_asset(catalog, project.id, shoot / n, datetime(2024, 5, 1, 12, i))
        for i, n in enumerate(names)
    ]
    for asset in ids:
        upsert_rating(catalog, asset, rating=2)
    before = not_tiff.read_bytes()
    results = write_xmp_sidecars(catalog, project.id, naming="darktable", embed=True)
    assert [r.status for r in results] == ["failed", "ok", "ok"]
    assert "exiftool" in (results[0].reason or "") and not_tiff.read_bytes() == before
    assert (shoot / "not_a.tif.xmp").exists()  # its sidecar was written all the same
    assert [t["Rating"] for t in exiftool(shoot / names[1], shoot / names[2])] == [2, 2]


def test_originals_in_object_stores_are_refused(
    catalog: Catalog, project: Project, shoot: Path
) -> None:
    remote = add_asset(catalog, project.id, shoot / "mate_Dune.jpg", datetime(2024, 5, 1))
    catalog.execute("DELETE FROM asset_files WHERE asset_id = ?", [remote])
    catalog.execute(
        "UPDATE assets SET source_uri = 's3://bucket/shoot/IMG_7.JPG' WHERE id = ?", [remote]
    )
    upsert_rating(catalog, remote, picked=True)
    [result] = write_xmp_sidecars(catalog, project.id, embed=True)
    assert result.status == "ok" and "embedded" not in result.extra
    notes = result.extra["notes"]
    assert isinstance(notes, list) and notes[0]["kind"] == "embed_refused"
    assert notes[0]["text"] == (
        "mate_Dune.jpg: not embedded: the original is in an object store (s3://), which "
        "kilo never rewrites; its decision is in IMG_7.xmp"
    )
    assert str(result.extra["uri"]).endswith(f"/sidecars/{remote}/IMG_7.xmp")
