"""Burst-relative signals (kilo.group.compare) on frames made from a real photo, and the
project.cluster job using them through the thumbnails ingest makes."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import piexif
import pytest
from PIL import Image

from kilo.catalog import Catalog
from kilo.group import list_clusters
from kilo.group.compare import BURST_SIGNALS, compare_burst, grey_thumbnail
from kilo.models import Project

SOURCE = "Kleiber_by_Lukas_Baubkus.jpg"


def _frames(shared_photos_dir: Path) -> dict[str, np.ndarray]:
    """A burst of one real photo: four plain frames (a few pixels of jitter), one with
    something dark walking in from the left, one framed a third tighter, one whose centre
    went soft (the subject moved)."""
    im = Image.open(shared_photos_dir / SOURCE)
    im.draft("RGB", (1600, 1600))
    base = np.asarray(im.convert("RGB").resize((1200, 800)))
    rng = np.random.default_rng(3)

    def frame(dx: int, dy: int) -> np.ndarray:
        x, y = 100 + dx, 60 + dy
        return np.ascontiguousarray(base[y : y + 680, x : x + 1000])

    out = {f"plain{k}": frame(*rng.integers(-6, 7, 2)) for k in range(4)}
    walk = frame(2, 1).copy()
    other = np.asarray(
        Image.open(shared_photos_dir / "Dragonfly_by_Bolly.jpg").convert("RGB").resize((1000, 680))
    )
    walk[:, :260] = (other[:, :260] * 0.5).astype(np.uint8)
    out["walk_in"] = walk
    tight = base[60 + 113 : 60 + 113 + 453, 100 + 167 : 100 + 167 + 667]
    out["reframed"] = np.asarray(Image.fromarray(np.ascontiguousarray(tight)).resize((1000, 680)))
    soft = frame(-3, 2).copy()
    soft[200:480, 350:650] = cv2.GaussianBlur(soft[200:480, 350:650], (0, 0), 5)
    out["subject_soft"] = soft
    return out


def test_each_defect_shows_in_its_own_signal(shared_photos_dir: Path) -> None:
    frames = _frames(shared_photos_dir)
    names = list(frames)
    got = dict(zip(names, compare_burst([grey_thumbnail(f) for f in frames.values()]), strict=True))
    assert all(set(v) == set(BURST_SIGNALS) for v in got.values()), got
    plain = [got[n] for n in names if n.startswith("plain")]
    assert got["walk_in"]["intrusion"] >= 0.1 > max(p["intrusion"] for p in plain)
    assert got["reframed"]["reframe"] >= 0.6 > max(p["reframe"] for p in plain)
    assert got["subject_soft"]["local_softness"] > 2 * max(p["local_softness"] for p in plain)
    assert compare_burst([grey_thumbnail(frames["plain0"])]) == [{}]  # nothing to compare


def _write_burst(shared_photos_dir: Path, folder: Path) -> list[str]:
    folder.mkdir()
    names = []
    for k, (name, rgb) in enumerate(_frames(shared_photos_dir).items()):
        exif = {
            "0th": {piexif.ImageIFD.Make: b"Canon", piexif.ImageIFD.Model: b"EOS R6"},
            "Exif": {piexif.ExifIFD.DateTimeOriginal: f"2024:06:01 12:00:{10 + k:02d}".encode()},
        }
        path = folder / f"{k}_{name}.jpg"
        Image.fromarray(rgb).save(path, quality=92, exif=piexif.dump(exif))
        names.append(path.name)
    return names


@pytest.mark.slow
def test_the_cluster_job_ranks_bursts_with_them(
    catalog: Catalog, project: Project, shared_photos_dir: Path, tmp_path: Path
) -> None:
    from kilo.analyze import analyze
    from kilo.assets import asset_filenames
    from kilo.ingest import ingest

    _write_burst(shared_photos_dir, tmp_path / "card")
    ingest(catalog, project.id, [str(tmp_path / "card")])
    analyze(catalog, project.id, embed=False)
    bursts = list_clusters(catalog, project.id, kind="burst").items
    assert len(bursts) == 1 and len(bursts[0].assets) == 7
    burst = bursts[0]
    names = asset_filenames(catalog, [m.asset_id for m in burst.assets])
    by_name = {names[m.asset_id]: m for m in burst.assets}
    assert by_name["4_walk_in.jpg"].signals["intrusion"] >= 0.1
    assert by_name["5_reframed.jpg"].signals["reframe"] >= 0.6
    assert names[burst.winner_asset_id or ""].split("_")[1].startswith("plain")


def test_a_frame_exposed_unlike_the_burst_is_told_in_stops(shared_photos_dir: Path) -> None:
    frames = _frames(shared_photos_dir)
    plain = [frames[f"plain{k}"] for k in range(4)]
    dark = (plain[0].astype(np.float32) * 2 ** (-0.5 / 2.2)).astype(np.uint8)  # half a stop
    got = compare_burst([grey_thumbnail(f) for f in [*plain, dark]])
    assert 0.35 <= got[-1]["exposure_offset"] <= 0.65
    assert max(g["exposure_offset"] for g in got[:-1]) < 0.1
