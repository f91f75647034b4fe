"""kilo.ingest on real photos and on broken files made here: registration, processing,
dedupe, unchanged re-runs, quarantine, sidecars, copy, multi-frame HEIC, and the CLI."""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from kilo.catalog import Catalog
from kilo.ingest import ingest
from kilo.jobs import job_counts
from kilo.models import Project

SMALL = [
    "cv_leuvenA.jpg",
    "plasma_ColorfulCups_screenshot.jpg",
    "canon_rebel_t6_xmp.jpg",
    "empty_icc.heic",
    "bird_burst.heic",
    "people_zidane.jpg",
]


def _copy(photos_dir: Path, dest: Path, names: list[str]) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for n in names:
        shutil.copy2(photos_dir / n, dest / Path(n).name)
    return dest


def test_a_file_changed_in_place_is_reprocessed_with_new_renditions(
    catalog: Catalog, project: Project, photos_dir: Path, tmp_path: Path
) -> None:
    """Same path, new content: the same asset is processed again and its thumbnail and
    preview rows are replaced (one of each), pointing at the new pixels."""
    folder = _copy(photos_dir, tmp_path / "card", ["cv_leuvenA.jpg"])
    photo = folder / "cv_leuvenA.jpg"
    first = ingest(catalog, project.id, [folder])
    aid = first.asset_ids[0]

    def renditions() -> dict[str, tuple[str, int, int]]:
        rows = catalog.fetchall(
            "SELECT kind, sha256, width_px, height_px FROM asset_files "
            "WHERE asset_id = ? AND kind <> 'original'",
            [aid],
        )
        assert len(rows) == len({r[0] for r in rows})  # never two rows of one kind
        return {k: (sha, w, h) for k, sha, w, h in rows}

    before = renditions()
    with Image.open(photos_dir / "cv_leuvenA.jpg") as im:
        im.convert("RGB").rotate(90, expand=True).save(photo, quality=90)  # new pixels
    os.utime(photo, (1_700_000_000, 1_700_000_000))
    again = ingest(catalog, project.id, [folder])
    assert again.failed == 0 and again.asset_ids == [aid] and again.ready == 1
    after = renditions()
    assert set(after) == set(before) == {"preview", "thumbnail"}
    assert after["thumbnail"][0] != before["thumbnail"][0]
    assert after["thumbnail"][1:] == before["thumbnail"][1:][::-1]  # rotated: w and h swap
    assert catalog.scalar("SELECT count(*) FROM assets") == 1


@pytest.mark.slow
def test_ingest_registers_processes_and_skips(
    catalog: Catalog, project: Project, shared_photos_dir: Path, tmp_path: Path
) -> None:
    src = _copy(shared_photos_dir, tmp_path / "card" / "DCIM", SMALL)
    (src / ".DS_Store").write_bytes(b"junk")
    (src / "notes.txt").write_text("not a photo")
    (src / "cv_leuvenA.xmp").write_text(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><rdf:Description>'
        "<dc:subject><rdf:Bag><rdf:li>leuven</rdf:li></rdf:Bag></dc:subject>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    seen: list[str] = []
    rep = ingest(catalog, project.id, [tmp_path / "card"], progress=lambda p: seen.append(p.stage))
    assert rep.failed == 0 and rep.skipped == 0
    # 4 single-frame files + empty_icc (2 top-level images) + bird_burst (4 frames)
    assert rep.registered == rep.ready == 4 + 2 + 4
    assert {"discover", "register", "process"} <= set(seen)
    items = [r.item for r in rep.results]  # registered largest first, reported as found
    assert items == sorted(items) and len(items) == len(SMALL)
    frames = {r.item: r.asset_id for r in rep.results}
    assert rep.asset_ids[0] == frames[str(src / "bird_burst.heic")]  # 4 frames, listed first
    rows = catalog.fetchdicts(
        "SELECT * FROM assets WHERE project_id = ? ORDER BY filename, frame_index", [project.id]
    )
    assert len(rows) == 10 and {r["state"] for r in rows} == {"ready"}
    burst = [r for r in rows if r["filename"] == "bird_burst.heic"]
    assert [r["frame_index"] for r in burst] == [0, 1, 2, 3]
    assert {r["frame_count"] for r in burst} == {4}
    leuven = next(r for r in rows if r["filename"] == "cv_leuvenA.jpg")
    assert leuven["camera_model"] == "iPhone 6" and leuven["sidecar_uri"].endswith(".xmp")
    assert "leuven" in leuven["keywords"]
    assert leuven["captured_offset_min"] == 120 and leuven["shutter_speed"] == "1/1799"
    assert json.loads(leuven["exif"])["Model"] == "iPhone 6"
    icc = next(r for r in rows if r["filename"] == "empty_icc.heic" and r["frame_index"] == 0)
    assert icc["camera_model"] == "iPhone XS"  # exifread failed, piexif read it
    assert "metadataErrors" in json.loads(icc["flags"])
    zidane = next(r for r in rows if r["filename"] == "people_zidane.jpg")
    assert zidane["captured_at_source"] == "file_mtime"  # no EXIF at all
    files = catalog.fetchall(
        "SELECT kind, uri, width_px, height_px FROM asset_files WHERE asset_id = ?",
        [leuven["id"]],
    )
    by_kind = {k: (u, w, h) for k, u, w, h in files}
    assert by_kind["original"][0] == str(src / "cv_leuvenA.jpg")
    thumb = Image.open(by_kind["thumbnail"][0])
    assert max(thumb.size) == 512 and thumb.format == "JPEG"
    assert thumb.size == by_kind["thumbnail"][1:]
    assert job_counts(catalog, project.id) == {"done": 10}
    # each photo told the event stream when it became ready (a cull screen, a client page)
    ready = catalog.fetchall(
        "SELECT asset_id, data->>'state' FROM events WHERE type = 'asset.updated' "
        "AND project_id = ?",
        [project.id],
    )
    assert sorted(ready) == sorted((r["id"], "ready") for r in rows)

    again = ingest(catalog, project.id, [tmp_path / "card"])
    assert again.registered == 0 and again.failed == 0
    assert again.skipped == len(SMALL)
    assert all("unchanged" in (r.reason or "") for r in again.results)
    assert catalog.scalar("SELECT count(*) FROM assets") == 10


def test_duplicates_are_skipped_once_per_project(
    catalog: Catalog, project: Project, photos_dir: Path, tmp_path: Path
) -> None:
    a = _copy(photos_dir, tmp_path / "a", ["cv_leuvenB.jpg"])
    b = tmp_path / "b"
    b.mkdir()
    shutil.copy2(photos_dir / "cv_leuvenB.jpg", b / "renamed_copy.jpg")
    rep = ingest(catalog, project.id, [a, b], process=False)
    assert rep.registered == 1 and rep.skipped == 1
    dup = next(r for r in rep.results if r.status == "skipped")
    assert "duplicate" in (dup.reason or "") and dup.asset_id == rep.asset_ids[0]
    assert job_counts(catalog, project.id) == {"queued": 1}  # --no-process leaves jobs queued
    again = ingest(catalog, project.id, [b], process=False)
    assert again.skipped == 1 and "duplicate" in (again.results[0].reason or "")

    from kilo.projects import create_project

    other = create_project(catalog, "Other shoot")
    rep2 = ingest(catalog, other.id, [b], process=False)
    assert rep2.registered == 1  # once per project


def _broken_files(folder: Path, photos_dir: Path) -> dict[str, str]:
    """Broken inputs; returns name -> expected fragment of the quarantine reason."""
    folder.mkdir()
    good = (photos_dir / "mate_Storm.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(good[: len(good) // 3])
    (folder / "zero.jpg").write_bytes(b"")
    (folder / "random.jpg").write_bytes(os.urandom(4096))
    (folder / "text.CR2").write_text("this is not a raw file\n" * 20)
    (folder / "folder.jpg").mkdir()  # a directory named like a photo: walked, not a file
    (folder / "loop.jpg").symlink_to(folder / "loop.jpg")
    (folder / "dangling.jpg").symlink_to(folder / "missing.jpg")
    shutil.copy2(photos_dir / "cv_text_motion.jpg", folder / "fine.jpg")
    expected = {
        "truncated.jpg": "truncated",
        "zero.jpg": "empty",
        "random.jpg": "not a supported image",
        "text.CR2": "not a supported image",
        "loop.jpg": "symbolic links",
        "dangling.jpg": "No such file",
    }
    if os.geteuid() != 0:  # root reads anything
        locked = folder / "locked.jpg"
        shutil.copy2(photos_dir / "cv_text_defocus.jpg", locked)
        locked.chmod(0)
        expected["locked.jpg"] = "ermission denied"
    return expected


def test_broken_files_are_quarantined_and_the_run_goes_on(
    catalog: Catalog, project: Project, shared_photos_dir: Path, tmp_path: Path
) -> None:
    expected = _broken_files(tmp_path / "broken", shared_photos_dir)
    rep = ingest(catalog, project.id, [tmp_path / "broken"])
    assert rep.ready == 1 and rep.registered == 1  # fine.jpg
    failures = {Path(f.path).name: f.reason for f in rep.failures}
    assert set(failures) == set(expected)
    for name, fragment in expected.items():
        assert fragment in failures[name], (name, failures[name])
        assert "\n" not in failures[name]
    rows = catalog.fetchall(
        "SELECT source_uri, reason FROM quarantine WHERE project_id = ?", [project.id]
    )
    assert {Path(u).name for u, _ in rows} == set(expected)
    assert catalog.scalar("SELECT count(*) FROM assets WHERE project_id = ?", [project.id]) == 1
    # a second run retries them (they may have been fixed) without piling up rows
    rep2 = ingest(catalog, project.id, [tmp_path / "broken"])
    assert rep2.failed == len(expected)
    assert catalog.scalar("SELECT count(*) FROM quarantine") == len(expected)


def test_copy_puts_originals_in_the_store(
    catalog: Catalog, project: Project, shared_photos_dir: Path, tmp_path: Path
) -> None:
    src = _copy(shared_photos_dir, tmp_path / "card", ["plasma_Kite_screenshot.jpg"])
    rep = ingest(catalog, project.id, [src], copy=True)
    assert rep.ready == 1
    uri = catalog.scalar("SELECT uri FROM asset_files WHERE kind = 'original'")
    assert uri.startswith(catalog.settings.store_url)
    assert Path(uri).read_bytes() == (src / "plasma_Kite_screenshot.jpg").read_bytes()
    (src / "plasma_Kite_screenshot.jpg").unlink()  # the card is wiped; the asset stays usable
    from kilo.assets import open_rendition

    assert open_rendition(catalog, rep.asset_ids[0], "original").size == (400, 250)


def test_raw_mpo_png_formats(
    catalog: Catalog, project: Project, shared_photos_dir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "mixed"
    src.mkdir()
    shutil.copy2(shared_photos_dir / "raw" / "group_t1.dng", src)
    shutil.copy2(shared_photos_dir / "fujifilm.mpo", src)
    img = Image.open(shared_photos_dir / "cv_text_defocus.jpg")
    img.save(src / "no_extension", "PNG")  # found by content, not by name
    rep = ingest(catalog, project.id, [src])
    assert rep.ready == 3 and rep.failed == 0
    fmts = dict(catalog.fetchall("SELECT filename, format FROM assets"))
    assert fmts == {"group_t1.dng": "RAW", "fujifilm.mpo": "MPO", "no_extension": "PNG"}
    mpo = catalog.fetchdict("SELECT * FROM assets WHERE filename = 'fujifilm.mpo'")
    assert mpo is not None and mpo["frame_count"] == 1 and mpo["width_px"] == 3648


def test_missing_source_is_an_error(catalog: Catalog, project: Project, tmp_path: Path) -> None:
    from kilo.errors import NotFound

    with pytest.raises(NotFound):
        ingest(catalog, project.id, [tmp_path / "nope"])


def test_cli_ingest_json_and_partial_exit(
    home: Path, photos_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kilo_cli.main import main

    src = _copy(photos_dir, tmp_path / "in", ["cv_text_motion.jpg"])
    (src / "bad.jpg").write_bytes(b"\xff\xd8\xff\xe0 broken")
    code = main(["--home", str(home), "ingest", str(src), "--project", "CLI", "--create", "--json"])
    out = capsys.readouterr().out
    assert code == 3
    data = json.loads(out)
    assert data["registered"] == 1 and data["failed"] == 1
    assert data["failures"][0]["path"].endswith("bad.jpg")
    code = main(["--home", str(home), "assets", "list", "CLI", "--json"])
    listing = json.loads(capsys.readouterr().out)
    assert code == 0 and [a["filename"] for a in listing] == ["cv_text_motion.jpg"]
    aid = listing[0]["id"]
    assert main(["--home", str(home), "assets", "files", aid, "--json"]) == 0
    kinds = [f["kind"] for f in json.loads(capsys.readouterr().out)]
    assert kinds == ["original", "preview", "thumbnail"]
    assert main(["--home", str(home), "jobs", "list", "CLI", "--status", "done", "--json"]) == 0
    jobs = json.loads(capsys.readouterr().out)
    processed = [j for j in jobs if j["type"] == "asset.process"]
    assert aid in {j["assetId"] for j in processed}
    thumb = Image.open(io.BytesIO(Path(listing[0]["bestPreviewUrl"]).read_bytes()))
    assert max(thumb.size) == 588  # small original: preview never enlarged


def test_a_lightroom_sidecar_of_a_raw_jpeg_pair_is_the_raws(
    catalog: Catalog, tmp_path: Path
) -> None:
    """``IMG.xmp`` beside ``IMG.dng`` and ``IMG.jpg`` is the raw's, as Lightroom Classic pairs
    it (found with mate_Dune: the JPEG took the raw's keywords and reject); a darktable
    ``IMG.jpg.xmp`` is the JPEG's own; alone, a JPEG takes ``IMG.xmp``."""
    from kilo.ingest.discover import discover

    photos = Path(__file__).resolve().parents[1] / "photos"
    jpg = next(p for p in sorted(photos.iterdir()) if p.suffix.lower() == ".jpg")
    dng = jpg  # discovery goes by names; nothing here is decoded
    pair, alone = tmp_path / "pair", tmp_path / "alone"
    pair.mkdir()
    alone.mkdir()
    shutil.copy(dng, pair / "IMG_0001.dng")
    shutil.copy(jpg, pair / "IMG_0001.jpg")
    (pair / "IMG_0001.xmp").write_text("<x:xmpmeta xmlns:x='adobe:ns:meta/'/>")
    shutil.copy(jpg, alone / "IMG_0002.jpg")
    (alone / "IMG_0002.xmp").write_text("<x:xmpmeta xmlns:x='adobe:ns:meta/'/>")
    found = {
        Path(f.uri).name: f.sidecar_uri
        for f in discover([str(pair), str(alone)], catalog.settings).files
    }
    assert found["IMG_0001.dng"] is not None and found["IMG_0001.dng"].endswith("IMG_0001.xmp")
    assert found["IMG_0001.jpg"] is None
    assert found["IMG_0002.jpg"] is not None and found["IMG_0002.jpg"].endswith("IMG_0002.xmp")
    (pair / "IMG_0001.jpg.xmp").write_text("<x:xmpmeta xmlns:x='adobe:ns:meta/'/>")
    found = {Path(f.uri).name: f.sidecar_uri for f in discover([str(pair)], catalog.settings).files}
    assert found["IMG_0001.jpg"] is not None and found["IMG_0001.jpg"].endswith(".jpg.xmp")
