"""The hostile inputs and accidents of a real card and a real laptop: file names that are not
UTF-8, links out of the card, killed and interrupted processes, decompression bombs,
truncated HEIC, damaged and read-only catalogs, hostile titles, a full disk. Each test
reproduces the failure first (see benchmarks/drills.py for the whole drill)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from kilo.catalog import Catalog, open_catalog
from kilo.cull import upsert_rating
from kilo.cull.decision_sidecar import write_xmp_sidecars
from kilo.edit import create_version
from kilo.edit.develop_sidecar import write_version_sidecar
from kilo.errors import CatalogError, DecodeError, InvalidInput
from kilo.export.encode import encode_tiff16
from kilo.imaging.decode import decode_image
from kilo.ingest import ingest
from kilo.ingest.process import rendition_key
from kilo.jobs import run_jobs
from kilo.models import CreateEditVersionRequest, Project
from kilo.projects import create_project, list_projects
from kilo.quarantine import list_quarantine
from kilo.settings import Settings
from kilo.store import display_name, local_path, uri_for_path
from kilo.text import printable
from kilo_cli.main import main

BAD_NAME = os.fsdecode(b"bad_\xff\xfe_name.jpg")


def _card(photos_dir: Path, folder: Path, names: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        shutil.copy2(photos_dir / n, folder / n)
    return folder


# -- 1. file names of any bytes --------------------------------------------------------------
def test_a_name_that_is_not_utf8_ingests_with_the_rest(
    catalog: Catalog, project: Project, photos_dir: Path, tmp_path: Path
) -> None:
    card = _card(photos_dir, tmp_path / "card", ["cv_aloeL.jpg"])
    shutil.copy2(photos_dir / "cv_leuvenA.jpg", card / BAD_NAME)
    rep = ingest(catalog, project.id, [card])
    assert rep.failed == 0 and rep.ready == 2
    row = catalog.fetchone(
        "SELECT filename, source_uri FROM assets WHERE filename LIKE 'bad_%'", []
    )
    assert row is not None
    filename, uri = row
    assert filename == "bad_\\xff\\xfe_name.jpg"  # shown escaped
    assert local_path(uri) == card / BAD_NAME  # and recorded losslessly
    assert local_path(uri).read_bytes() == (photos_dir / "cv_leuvenA.jpg").read_bytes()
    again = ingest(catalog, project.id, [card])
    assert again.skipped == 2 and again.registered == 0  # recognised as unchanged

    aid = catalog.scalar("SELECT id FROM assets WHERE source_uri = ?", [uri])
    upsert_rating(catalog, aid, rating=4)
    results = write_xmp_sidecars(catalog, project.id)
    assert [r.status for r in results if r.asset_id == aid] == ["ok"]
    sidecar = card / os.fsdecode(b"bad_\xff\xfe_name.xmp")
    assert sidecar.is_file() and 'xmp:Rating="4"' in sidecar.read_text(encoding="utf-8")

    create_version(catalog, aid, CreateEditVersionRequest(params={"exposure": 0.5}))
    assert write_version_sidecar(catalog, aid) == sidecar  # the same sidecar, merged
    text = sidecar.read_text(encoding="utf-8")
    assert 'xmp:Rating="4"' in text and 'crs:Exposure2012="+0.50"' in text


def test_uri_for_path_round_trips_any_bytes() -> None:
    for raw in (b"/a/b.jpg", b"/a/\xff\xfe.jpg", b"/a/100%.jpg", b"/a/caf\xc3\xa9 #1.jpg"):
        path = os.fsdecode(raw)
        uri = uri_for_path(path)
        uri.encode("utf-8")  # storable
        assert os.fsencode(local_path(uri)) == raw
    assert display_name(uri_for_path(os.fsdecode(b"/x/\x1b[2J\xff.jpg"))) == "\\x1b[2J\\xff.jpg"


# -- 12. links out of the source, the quarantine, resumed counts -------------------------------
def test_links_out_of_the_source_are_skipped_unless_asked(
    catalog: Catalog, project: Project, photos_dir: Path, tmp_path: Path
) -> None:
    card = _card(photos_dir, tmp_path / "card", ["cv_aloeL.jpg"])
    outside = _card(photos_dir, tmp_path / "elsewhere", ["cv_leuvenA.jpg"])
    (card / "out.jpg").symlink_to(outside / "cv_leuvenA.jpg")
    (card / "passwd.jpg").symlink_to("/etc/passwd")
    (card / "in.jpg").symlink_to(card / "cv_aloeL.jpg")
    rep = ingest(catalog, project.id, [card])
    reasons = {Path(r.item).name: r.reason or "" for r in rep.results}
    assert "outside the source" in reasons["out.jpg"]
    assert "outside the source" in reasons["passwd.jpg"]  # never read
    assert "duplicate" in reasons["in.jpg"]  # inside: followed
    assert rep.ready == 1 and rep.failed == 0

    followed = ingest(catalog, project.id, [card], follow_symlinks=True)
    names = {Path(r.item).name: r.status for r in followed.results}
    assert names["out.jpg"] == "ok" and names["passwd.jpg"] == "failed"
    assert [q.name for q in list_quarantine(catalog, project.id)] == ["passwd.jpg"]


def test_a_resumed_run_counts_the_jobs_it_drained(
    catalog: Catalog, project: Project, photos_dir: Path, tmp_path: Path
) -> None:
    card = _card(photos_dir, tmp_path / "card", ["cv_aloeL.jpg", "cv_leuvenA.jpg"])
    ingest(catalog, project.id, [card], process=False)
    rep = ingest(catalog, project.id, [card])
    assert (rep.registered, rep.resumed, rep.skipped) == (0, 2, 2)


def test_no_rendition_file_is_left_without_its_row_when_a_write_fails(
    catalog: Catalog, project: Project, photos_dir: Path, tmp_path: Path, settings: Settings
) -> None:
    card = _card(photos_dir, tmp_path / "card", ["cv_aloeL.jpg"])
    aid = ingest(catalog, project.id, [card], process=False).asset_ids[0]
    store = local_path(settings.store_url)
    blocker = store / rendition_key(project.id, aid, "thumbnail")
    blocker.mkdir(parents=True)  # the thumbnail cannot be written: as with a full disk
    run_jobs(catalog, project.id, types=["asset.process"], workers=1)
    assert not (store / rendition_key(project.id, aid, "preview")).exists()
    assert (
        catalog.scalar(
            "SELECT count(*) FROM asset_files WHERE asset_id = ? AND kind <> 'original'", [aid]
        )
        == 0
    )


# -- 5, 7. decode budget and truncation ------------------------------------------------------
def _bitmap_png(path: Path, side: int) -> Path:
    im = Image.new("1", (side, side), 0)
    ImageDraw.Draw(im).rectangle((side // 8, side // 8, side // 2, side // 2), fill=1)
    im.save(path, optimize=True)
    return path


def test_a_small_file_declaring_huge_pixels_is_refused_at_once(tmp_path: Path) -> None:
    bomb = _bitmap_png(tmp_path / "bomb.png", 13000)
    assert bomb.stat().st_size < 64_000
    started = time.perf_counter()
    with pytest.raises(DecodeError, match="over the decode budget"):
        decode_image(bomb.read_bytes(), name="bomb.png", max_px=2048)
    assert time.perf_counter() - started < 2.0  # refused before decoding, not after 15 s


def test_a_large_bitmap_within_the_budget_is_shrunk_before_conversion(tmp_path: Path) -> None:
    big = _bitmap_png(tmp_path / "big.png", 8000)
    out = decode_image(big.read_bytes(), name="big.png", max_px=512)
    assert (out.width, out.height) == (8000, 8000)
    assert max(out.image.size) == 512 and out.image.mode == "RGB"
    arr = np.asarray(out.image)
    assert arr[100, 100].mean() > 200 and arr[400, 400].mean() < 50  # the pixels survived


def test_the_budget_can_be_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = _bitmap_png(tmp_path / "bomb.png", 13000)
    monkeypatch.setenv("KILO_DECODE_BUDGET_MB", "2048")
    assert decode_image(bomb.read_bytes(), max_px=256).width == 13000


def test_a_truncated_heic_is_quarantined(
    catalog: Catalog, project: Project, shared_photos_dir: Path, tmp_path: Path
) -> None:
    card = tmp_path / "card"
    card.mkdir()
    data = (shared_photos_dir / "pug.heic").read_bytes()
    (card / "cut.heic").write_bytes(data[: len(data) // 2])
    rep = ingest(catalog, project.id, [card])
    assert rep.failed == 1 and rep.ready == 0
    assert "truncated" in rep.failures[0].reason


# -- 8. damaged and read-only catalogs --------------------------------------------------------
def test_a_half_truncated_catalog_gives_one_line(settings: Settings) -> None:
    with open_catalog(settings) as cat:
        for i in range(300):
            create_project(cat, f"Shoot {i}")
    path = settings.catalog_path
    os.truncate(path, path.stat().st_size // 2)
    with pytest.raises(CatalogError) as caught, open_catalog(settings) as cat:
        list_projects(cat, limit=200)
    assert "damaged or incomplete" in caught.value.message
    assert "\n" not in caught.value.message


def test_a_read_only_library_can_be_read(settings: Settings, tmp_path: Path) -> None:
    with open_catalog(settings) as cat:
        create_project(cat, "On the backup disk")
    mount = tmp_path / "ro"
    mount.mkdir()
    bind = subprocess.run(["mount", "--bind", str(settings.home), str(mount)], check=False)
    if bind.returncode != 0:
        pytest.skip("bind mounts are not permitted here")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(mount)], check=True)
        ro = Settings(home=mount, clip_enabled=False)
        with open_catalog(ro) as cat:
            assert cat.read_only
            assert [p.title for p in list_projects(cat).items] == ["On the backup disk"]
            with pytest.raises(CatalogError, match="read-only"):
                create_project(cat, "New")
    finally:
        subprocess.run(["umount", str(mount)], check=False)


# -- 10. titles ---------------------------------------------------------------------------------
@pytest.mark.parametrize("title", ["evil\x1b[2J", "two\nlines", "tab\there", "nul\x00"])
def test_titles_refuse_control_characters(catalog: Catalog, title: str) -> None:
    with pytest.raises(InvalidInput, match="control character"):
        create_project(catalog, title)


def test_printable_escapes_what_a_terminal_would_obey() -> None:
    assert printable("a\x1b[31mb\tc\n\x9b") == "a\\x1b[31mb\\x09c\\x0a\\x9b"
    assert printable("Smith–Jones café") == "Smith–Jones café"


# -- 9. edit input on the command line ---------------------------------------------------------
def test_edit_bad_input_is_one_line_and_exit_2(
    catalog: Catalog,
    project: Project,
    photos_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    card = _card(photos_dir, tmp_path / "card", ["cv_aloeL.jpg"])
    aid = ingest(catalog, project.id, [card]).asset_ids[0]
    catalog.close()
    out = tmp_path / "out"
    out.mkdir()
    cases = [
        ["edit", "set", aid, "--params", "not json"],
        ["edit", "set", aid, "--params", "[1, 2]"],
        ["edit", "render", aid, "--out", str(out / "x.exe")],
        ["edit", "render", aid, "--out", str(tmp_path / "missing" / "r.jpg")],
        ["edit", "render", aid, "--out", str(out)],
        ["edit", "render", aid, "--out", str(out / "noext")],
        ["edit", "render", aid, "--out", str(out / "r.jpg"), "--max-px", "0"],
        ["edit", "render", aid, "--out", str(out / "r.jpg"), "--max-px", "-5"],
    ]
    for argv in cases:
        code = main(argv)
        err = capsys.readouterr().err
        assert code == 2, (argv, err)
        assert err.startswith("error: ") and err.count("\n") == 1, (argv, err)
    assert main(["edit", "render", aid, "--out", str(out / "r.png"), "--max-px", "300"]) == 0
    with Image.open(out / "r.png") as im:
        assert max(im.size) == 300
    assert not list(out.glob(".*.part"))


# -- 11. TIFF ----------------------------------------------------------------------------------
@pytest.mark.parametrize("unit", [0, 1, 2, 3, 65535])
def test_tiff_export_takes_any_resolution_unit_a_camera_wrote(unit: int) -> None:
    import tifffile

    rgb = np.full((16, 24, 3), 30000, np.uint16)
    data = encode_tiff16(rgb, exif={"0th": {296: unit, 282: (300, 1), 283: (300, 1)}})
    with tifffile.TiffFile(__import__("io").BytesIO(data)) as tif:
        assert tif.pages[0].shape == (16, 24, 3)


# -- 2, 6. killed and interrupted processes ----------------------------------------------------
def _children_of_pool_script() -> str:
    return (
        "import os, sys\n"
        "from kilo.workers import process_pool\n"
        "pool = process_pool(2)\n"
        "pids = [p.pid for p in pool._processes.values()]\n"
        "print(' '.join(map(str, pids)), flush=True)\n"
        "sys.stdin.read()\n"
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ", 1)[1].startswith("Z"))


def test_workers_exit_when_their_owner_is_killed() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _children_of_pool_script()],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    pids = [int(p) for p in proc.stdout.readline().split()]
    assert len(pids) == 2 and all(_alive(p) for p in pids)
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.05)
    assert not any(_alive(p) for p in pids)


def _set(photos_dir: Path, dest: Path, count: int) -> Path:
    dest.mkdir()
    sources = ["Kleiber_by_Lukas_Baubkus.jpg", "sony_a6000_night.jpg", "Dragonfly_by_Bolly.jpg"]
    for i in range(count):
        with Image.open(photos_dir / sources[i % 3]) as im:
            im.draft("RGB", (im.width // 2, im.height // 2))
            im.convert("RGB").save(dest / f"f{i:03d}.jpg", quality=60 + i % 35)
    return dest


@pytest.mark.slow
def test_ctrl_c_stops_at_once_says_so_and_leaves_nothing_running(
    shared_photos_dir: Path, tmp_path: Path
) -> None:
    src, home = _set(shared_photos_dir, tmp_path / "card", 30), tmp_path / "home"
    env = dict(os.environ, KILO_HOME=str(home), KILO_WORKERS="2", KILO_CLIP_ENABLED="false")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from kilo_cli.main import main; sys.exit(main())",
            "ingest",
            str(src),
            "-p",
            "drill",
            "--create",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    store = home / "store" / "renditions"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if store.exists() and len(list(store.rglob("preview.jpg"))) >= 4:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the ingest ended before it could be interrupted"
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the whole foreground process group
    started = time.monotonic()
    _out, err = proc.communicate(timeout=60)
    stopped = time.monotonic() - started
    text = err.decode()
    assert proc.returncode == 130, text[-2000:]
    assert "interrupted" in text and "Traceback" not in text, text[-2000:]
    assert stopped < 5.0, f"took {stopped:.1f} s to stop"
    with open_catalog(Settings(home=home, clip_enabled=False)) as cat:
        assert cat.scalar("SELECT count(*) FROM jobs WHERE status = 'running'") == 0


# -- 4. a killed export --------------------------------------------------------------------------
@pytest.mark.slow
def test_a_killed_export_is_cleaned_up_and_resumed(shared_photos_dir: Path, tmp_path: Path) -> None:
    from kilo.export import get_export, list_exports, recover_exports, run_export

    src, home, dest = (
        _set(shared_photos_dir, tmp_path / "card", 24),
        tmp_path / "home",
        tmp_path / "out",
    )
    settings = Settings(home=home, clip_enabled=False, workers=2)
    with open_catalog(settings) as cat:
        ingest(cat, create_project(cat, "drill").id, [src])
    env = dict(os.environ, KILO_HOME=str(home), KILO_WORKERS="2", KILO_CLIP_ENABLED="false")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from kilo_cli.main import main; sys.exit(main())",
            "export",
            "drill",
            "--preset",
            "full_res",
            "--all",
            "--dest",
            str(dest),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if len(list(dest.glob(".kilo-export-*/*"))) >= 3:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the export ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert list(dest.glob(".kilo-export-*"))  # what a killed run leaves behind

    with open_catalog(settings) as cat:
        export_id = list_exports(cat).items[0].id
        # running, or still queued when the kill came before its first status write (a
        # loaded machine renders the first files before that write is committed)
        assert get_export(cat, export_id).status in ("running", "queued")
        recover_exports(cat)
        assert get_export(cat, export_id).status == "queued"
        assert not list(dest.glob(".kilo-export-*"))
        assert not list(dest.glob("*.jpg"))  # nothing half-published either
        done = run_export(cat, export_id)
    assert done.status == "done"
    assert len(list(dest.glob("*.jpg"))) == 24 and not list(dest.glob(".*"))
