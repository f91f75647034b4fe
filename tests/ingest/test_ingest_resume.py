"""Kill -9 a real ``kilo ingest`` mid-run, run it again: nothing lost, nothing duplicated,
no half-written rendition, jobs left running are reclaimed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from kilo.catalog import Catalog, open_catalog
from kilo.ingest import ingest
from kilo.models import Project
from kilo.settings import load_settings

SOURCES = [
    "sony_a6000_night.jpg",
    "Kleiber_by_Lukas_Baubkus.jpg",
    "Dragonfly_by_Bolly.jpg",
    "seeding_by_Clements_Engelhardt.jpg",
    "mate_Blinds.jpg",
    "plasma_Kite.jpg",
]
COUNT = 36


def _make_set(shared_photos_dir: Path, dest: Path) -> None:
    """COUNT distinct JPEGs re-encoded from the shared photos at varied sizes."""
    dest.mkdir()
    for i in range(COUNT):
        with Image.open(shared_photos_dir / SOURCES[i % len(SOURCES)]) as im:
            im.draft("RGB", (im.width // 2, im.height // 2))
            im = im.convert("RGB")
            scale = 0.5 + 0.5 * (i % 5) / 4
            im = im.resize((max(64, int(im.width * scale)), max(64, int(im.height * scale))))
            im.save(dest / f"frame_{i:03d}.jpg", quality=55 + i)  # all distinct


def _kilo(home: Path, src: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, KILO_HOME=str(home), KILO_WORKERS="2", KILO_CLIP_ENABLED="false")
    code = "import sys; from kilo_cli.main import main; sys.exit(main())"
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            code,
            "ingest",
            str(src),
            "--project",
            "resume",
            "--create",
            "--json",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


@pytest.mark.slow
def test_kill_9_mid_run_then_resume(shared_photos_dir: Path, tmp_path: Path) -> None:
    src, home = tmp_path / "card", tmp_path / "home"
    _make_set(shared_photos_dir, src)
    proc = _kilo(home, src)
    store = home / "store" / "renditions"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        made = list(store.rglob("preview.jpg")) if store.exists() else []
        if len(made) >= 6:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "ingest finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its worker processes
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    settings = load_settings(home=home, workers=2)
    with open_catalog(settings) as cat:
        registered = cat.scalar("SELECT count(*) FROM assets")
        ready = cat.scalar("SELECT count(*) FROM assets WHERE state = 'ready'")
        assert registered == COUNT  # every asset was recorded at once, before processing
        assert ready < COUNT  # and the kill really came mid-run

    rerun = _kilo(home, src)
    _out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err.decode()

    with open_catalog(settings) as cat:
        rows = cat.fetchall("SELECT source_uri, frame_index, state FROM assets")
        assert len(rows) == COUNT
        assert len({(u, f) for u, f, _ in rows}) == COUNT  # no duplicate
        assert {s for _, _, s in rows} == {"ready"}  # none lost
        assert cat.scalar("SELECT count(*) FROM jobs WHERE status <> 'done'") == 0
        files = cat.fetchall(
            "SELECT kind, uri FROM asset_files WHERE kind IN ('thumbnail', 'preview')"
        )
        assert len(files) == 2 * COUNT
        for kind, uri in files:
            with Image.open(uri) as im:
                im.load()  # complete JPEGs only
                assert max(im.size) == (512 if kind == "thumbnail" else 2048) or max(im.size) < 2048
    assert not list((home / "store").rglob("*.part"))  # no half-written file left behind


def test_interrupted_while_registering_then_resumed(
    catalog: Catalog, project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while the workers process and the files are still being registered (on their
    thread): the run stops at once instead of hashing every remaining file first, what was
    recorded stays, and the next run finishes the rest, with no duplicate."""
    import numpy as np

    import kilo.jobs

    src, count = tmp_path / "card", 600
    src.mkdir()
    rng = np.random.default_rng(7)
    for i in range(count):
        pixels = rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(src / f"tiny_{i:04d}.jpg", quality=90)

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(kilo.jobs, "run_jobs", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ingest(catalog, project.id, [src])
    assert catalog.scalar("SELECT count(*) FROM assets") < count  # registration stopped too
    monkeypatch.undo()

    rep = ingest(catalog, project.id, [src])
    assert rep.failed == 0 and rep.registered + rep.skipped == count
    rows = catalog.fetchall("SELECT source_uri, state FROM assets")
    assert len(rows) == len({u for u, _ in rows}) == count
    assert {s for _, s in rows} == {"ready"}
