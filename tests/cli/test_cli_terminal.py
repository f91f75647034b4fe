"""The terminal's rough edges (issue 32): what kilo prints where a user sees it."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kilo.catalog import Catalog
from kilo.models import Project
from support.cli import run

CLI = [sys.executable, "-c", "import sys; from kilo_cli.main import main; sys.exit(main())"]


def test_cull_with_stdout_not_a_terminal_refuses_in_one_line(
    catalog: Catalog, project: Project, home: Path, tmp_path: Path
) -> None:
    """stdin and stderr a real terminal (a pty), stdout a file: before, the full-screen app
    started anyway and its escape codes went into the file."""
    catalog.close()
    leader, follower = pty.openpty()
    out = tmp_path / "out.txt"
    try:
        with out.open("w") as stdout:
            proc = subprocess.run(
                [*CLI, "cull", project.title],
                env=dict(os.environ, KILO_HOME=str(home)),
                stdin=follower,
                stdout=stdout,
                stderr=follower,
                timeout=60,
            )
        os.close(follower)
        said = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the pty's other end is closed: all is read
                break
            if not chunk:
                break
            said += chunk
    finally:
        os.close(leader)
    text = said.decode()
    assert proc.returncode == 2, text
    assert out.read_text() == ""  # no escape codes in the file
    assert "\x1b[?1049h" not in text  # the app never took the screen
    lines = [line for line in text.splitlines() if line.strip()]
    assert "kilo cull needs a terminal, but stdout is not one" in " ".join(lines), text


def test_cull_in_process_without_terminal_refuses(
    home: Path, project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "cull", project.title)
    assert code == 2 and out == ""
    assert "needs a terminal" in err and "kilo cull apply" in err


def test_an_empty_filtered_listing_names_its_filters(
    home: Path,
    catalog: Catalog,
    project: Project,
    photos_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Before: ``assets list P --picked`` with no picks said "no assets: kilo ingest ...",
    as if the project were empty."""
    from datetime import datetime

    from support.cull_data import add_asset

    code, _, err = run(capsys, "assets", "list", project.title)
    assert code == 0 and f"no assets in {project.title}: kilo ingest" in err
    add_asset(catalog, project.id, photos_dir / "xiaomi_mi3.jpg", datetime(2024, 5, 1, 10))
    for flag, said in [("--picked", "picked"), ("--rejected", "rejected")]:
        code, out, err = run(capsys, "assets", "list", project.title, flag)
        assert code == 0 and out == ""
        assert f"no {said} assets in {project.title}" in err and "ingest" not in err, err
    code, _, err = run(capsys, "assets", "list", project.title, "--picked", "--rating-min", "3")
    assert f"no assets in {project.title} that are picked and rated 3 or more" in err, err


def test_asset_table_shows_decisions_and_stars_longest_on_a_narrow_terminal(
    home: Path,
    catalog: Catalog,
    project: Project,
    photos_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from datetime import datetime

    from kilo_cli import output
    from support.cull_data import add_asset

    names = ["xiaomi_mi3.jpg", "canon_rebel_t6_xmp.jpg", "friends_by_Aitzol_Berasategi.jpg"]
    for i, name in enumerate(names):
        add_asset(catalog, project.id, photos_dir / name, datetime(2024, 5, 1, 10, i))
    apply = ["cull", "apply", project.title, "--pick", names[0], "--reject", names[1]]
    assert run(capsys, *apply, "--rate", f"{names[0]}=4", "--star", names[0])[0] == 0
    for width in (200, 60):
        monkeypatch.setenv("COLUMNS", str(width))
        output._consoles.clear()
        code, out, err = run(capsys, "assets", "list", project.title)
        assert code == 0, err
        rows = {line.split("│")[2].strip(): line for line in out.splitlines() if "│" in line}
        assert "picked" in rows[names[0]] and "rejected" in rows[names[1]], out
        assert "decision" in out.splitlines()[1]
        if width == 200:
            assert "★★★★ ✦" in rows[names[0]] and "stars" in out
        else:  # the first columns to go: the decisions stay
            assert "left out at 60 columns: captured, stars, camera, size, state" in err, err
    output._consoles.clear()


def test_library_wide_search_names_each_result_s_project(
    home: Path,
    catalog: Catalog,
    photos_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from datetime import datetime

    from kilo.projects import create_project
    from kilo_cli import output
    from support.cull_data import add_asset

    for title in ("Smith wedding", "Jones portraits"):
        p = create_project(catalog, title)
        add_asset(catalog, p.id, photos_dir / "xiaomi_mi3.jpg", datetime(2024, 5, 1, 10))
    monkeypatch.setenv("COLUMNS", "200")
    output._consoles.clear()
    code, out, err = run(capsys, "search", "xiaomi")
    assert code == 0, err
    header = out.splitlines()[1]
    assert "project" in header, out
    rows = [line for line in out.splitlines() if "xiaomi_mi3.jpg" in line]
    assert sorted(r.split("│")[-2].strip() for r in rows) == ["Jones portraits", "Smith wedding"]
    code, out, err = run(capsys, "search", "Smith wedding", "xiaomi")  # one project: no column
    assert code == 0 and "xiaomi_mi3.jpg" in out and "project" not in out.splitlines()[1]
    output._consoles.clear()


def test_quarantine_shows_a_zero_byte_file_as_0_b(
    home: Path, photos_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: "1 KB" (a size rounded up to at least one kilobyte)."""
    import shutil

    card = tmp_path / "card"
    card.mkdir()
    shutil.copy(photos_dir / "xiaomi_mi3.jpg", card)
    (card / "empty.jpg").write_bytes(b"")
    assert run(capsys, "ingest", str(card), "-p", "q", "--create")[0] != 0  # one failed
    code, out, err = run(capsys, "quarantine", "list", "q")
    assert code == 0, err
    assert "empty.jpg" in out.replace("\n", "") or "empty" in out, out
    row = out.splitlines()[3]  # the one quarantined file (its path may wrap)
    assert row.split("│")[2].strip() == "0 B", out


def test_human_size_says_bytes_kilobytes_and_megabytes() -> None:
    from kilo_cli.output import human_size

    sizes = [0, 999, 1000, 1499, 99_949, 999_949, 3_240_000, 123_456_789, 5 * 10**9]
    assert [human_size(n) for n in sizes] == [
        "0 B",
        "999 B",
        "1.0 KB",
        "1.5 KB",
        "100 KB",
        "1.0 MB",
        "3.2 MB",
        "123 MB",
        "5.0 GB",
    ]


def test_serve_on_a_busy_port_says_so_in_one_line_before_starting(home: Path) -> None:
    """Before: uvicorn's "Application startup complete." and then the bind error (exit 3)."""
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run(
            [*CLI, "serve", "--port", str(port)],
            env=dict(os.environ, KILO_HOME=str(home), KILO_DEV_LOGIN_CODES="true"),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines == [
        f"error: port {port} on 127.0.0.1 is already in use (another kilo serve?): stop it, "
        "or choose another port with --port"
    ], proc.stderr
    assert not (home / "serve.json").exists()


def _gallery_project(catalog: Catalog, project: Project, photos_dir: Path) -> None:
    from datetime import datetime

    from support.cull_data import add_asset

    add_asset(catalog, project.id, photos_dir / "xiaomi_mi3.jpg", datetime(2024, 5, 1, 10))


def test_gallery_create_refuses_an_expiry_in_the_past(
    home: Path,
    catalog: Catalog,
    project: Project,
    photos_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from kilo.gallery import list_galleries

    _gallery_project(catalog, project, photos_dir)
    args = ["gallery", "create", "Proofs", "-p", project.title, "--all"]
    code, out, err = run(capsys, *args, "--expires", "2020-01-31")
    assert code == 2 and out == "", out  # no dead link printed
    assert "--expires 2020-01-31 is in the past" in err
    assert list_galleries(catalog) == []  # nothing made
    code, out, err = run(capsys, *args, "--expires", "2099-01-31")
    assert code == 0 and "/g/" in out, err
    # a gallery taken down by an update to a past date is said to be closed, and is
    (made,) = list_galleries(catalog)
    code, out, err = run(capsys, "gallery", "update", made.id, "--expires", "2020-01-31")
    assert code == 0 and "the link is closed: it expired 2020-01-31" in err, err
    (closed,) = list_galleries(catalog)
    assert closed.expires_at is not None and closed.expires_at.year == 2020


@pytest.mark.slow  # a real kilo serve
def test_the_printed_gallery_link_names_the_running_server_and_opens(
    home: Path,
    catalog: Catalog,
    project: Project,
    photos_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Before: http://127.0.0.1:8080/g/... whatever port the server listened on."""
    import signal
    import urllib.request

    from support.api import _free_port, start_kilo_serve

    _gallery_project(catalog, project, photos_dir)
    monkeypatch.delenv("KILO_PUBLIC_URL", raising=False)
    code, out, err = run(capsys, "gallery", "create", "Offline", "-p", project.title, "--all")
    assert code == 0 and out.startswith("http://127.0.0.1:8080/g/")  # the default
    assert "no kilo serve is running" in err
    catalog.close()  # the server's process opens the library
    port = _free_port()
    proc = start_kilo_serve(home, port, wait_s=60)
    try:
        code, out, err = run(capsys, "gallery", "create", "Live", "-p", project.title, "--all")
        assert code == 0, err
        link = out.strip()
        assert link.startswith(f"http://127.0.0.1:{port}/g/"), link
        assert "no kilo serve" not in err
        with urllib.request.urlopen(link, timeout=30) as page:  # the link opens
            assert page.status == 200
        monkeypatch.setenv("KILO_PUBLIC_URL", "https://proofs.example.com")
        code, out, _ = run(capsys, "gallery", "link", "Live")
        assert out.startswith("https://proofs.example.com/g/")  # the configured address wins
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.communicate(timeout=30)
    assert not (home / "serve.json").exists()  # the record goes with the server


def test_the_first_ingest_says_once_what_running_without_clip_means(
    home: Path, photos_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: a bare "ingest: embed 1" progress line and nothing else about CLIP."""
    import shutil

    card = tmp_path / "card"
    card.mkdir()
    shutil.copy(photos_dir / "xiaomi_mi3.jpg", card)
    code, out, err = run(capsys, "ingest", str(card), "-p", "first", "--create")
    assert code == 0, err
    assert "search by content" in out and "off: no CLIP model" in out  # the summary
    assert "note: no CLIP model in use" in err and "not what is in the picture" in err
    assert "No CLIP model: CLIP is disabled (KILO_CLIP_ENABLED=false)" in err  # the reason
    shutil.copy(photos_dir / "canon_rebel_t6_xmp.jpg", card)
    code, out, err = run(capsys, "ingest", str(card), "-p", "first")
    assert code == 0 and "off: no CLIP model" in out  # the summary row, every time
    assert "note: no CLIP model" not in err  # the explanation, once


def test_style_hero_commands_name_the_photo_by_id_and_work_when_its_name_occurs_twice(
    home: Path,
    catalog: Catalog,
    project: Project,
    shared_photos_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Before: ``kilo edit set mate_Storm.jpg --exposure ...``, refused as ambiguous once the
    same file is in another project too; and ``style apply --assets`` took only full ids."""
    import re

    from kilo.projects import create_project
    from support.edit_assets import add_photo_asset

    other = create_project(catalog, "Second shoot")
    storm = shared_photos_dir / "mate_Storm.jpg"
    mine = add_photo_asset(catalog, project.id, storm, iso=200)
    theirs = add_photo_asset(catalog, other.id, storm, iso=200)
    catalog.close()
    code, _, err = run(capsys, "edit", "set", "mate_Storm.jpg", "--exposure", "0.3")
    assert code == 2  # the name alone is ambiguous: the error says where each one is
    assert f"{mine[:8]} in '{project.title}'" in err and f"{theirs[:8]} in 'Second shoot'" in err
    code, _, err = run(capsys, "style", "apply", project.title, "--assets", mine[:8])  # a prefix
    assert code == 0, err
    hero = re.search(r"kilo edit set (\S+) --exposure", err)
    assert hero is not None and mine.startswith(hero[1]) and len(hero[1]) >= 8, err
    assert "mate_Storm.jpg" in err  # still named, for the photographer
    code, _, err = run(capsys, "edit", "set", hero[1], "--exposure", "0.7")
    assert code == 0, err
    code, _, err = run(capsys, "style", "apply", project.title, "--assets", "mate_Storm.jpg")
    assert code == 0, err  # a file name, unique in the project


def _open_cull(home: Path, title: str) -> tuple[subprocess.Popen[bytes], int, list[bytes]]:
    """``kilo cull TITLE`` on a real terminal (a 100x30 pty), as a process; its output is
    read into the list by a thread until the screen is drawn."""
    import fcntl
    import struct
    import termios
    import threading
    import time

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    proc = subprocess.Popen(
        [*CLI, "cull", title],
        env=dict(os.environ, KILO_HOME=str(home), TERM="xterm-256color"),
        stdin=follower,
        stdout=follower,
        stderr=follower,
        start_new_session=True,
    )
    os.close(follower)
    seen: list[bytes] = []

    def read() -> None:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the other end is closed: all is read
                return
            if not chunk:
                return
            seen.append(chunk)

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + 60
    while b"reject" not in b"".join(seen) and time.monotonic() < deadline:
        time.sleep(0.1)  # the footer's keys: the screen is up
    if b"reject" not in b"".join(seen):
        _stop(proc, leader)
        raise AssertionError(b"".join(seen)[-2000:])
    return proc, leader, seen


def _stop(proc: subprocess.Popen[bytes], leader: int) -> None:
    """Close the terminal and end the screen's whole session if it is still there: a
    failed check must not leave a full-screen app spinning on a closed terminal."""
    os.close(leader)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def test_ctrl_c_leaves_the_cull_screen_and_a_second_ctrl_c_leaves_cleanly_too(
    catalog: Catalog, project: Project, home: Path, photos_dir: Path
) -> None:
    """Issue 32: in the screen, Ctrl-C (the key: the terminal is raw) only said "press
    ctrl+q"; now it quits as q does. Ctrl-C as a signal, twice (a second before the first
    is through): the second exited by os._exit without the clean-up of the first, so the
    resource tracker could warn of "leaked semaphore objects"; now both leave the
    terminal restored, exit 130, no traceback, no warning."""
    from datetime import datetime

    from support.cull_data import add_asset

    add_asset(catalog, project.id, photos_dir / "xiaomi_mi3.jpg", datetime(2024, 5, 1, 10))
    add_asset(catalog, project.id, photos_dir / "cv_aloeL.jpg", datetime(2024, 5, 1, 11))
    catalog.close()
    proc, leader, seen = _open_cull(home, project.title)
    try:
        os.write(leader, b"\x03")  # the Ctrl-C key
        assert proc.wait(timeout=30) == 0
    finally:
        _stop(proc, leader)
    shown = b"".join(seen)
    assert b"\x1b[?1049l" in shown  # the screen handed back
    assert b"Traceback" not in shown and b"leaked" not in shown, shown[-2000:]

    proc, leader, seen = _open_cull(home, project.title)
    try:
        os.kill(proc.pid, signal.SIGINT)
        os.kill(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=30) == 130
    finally:
        _stop(proc, leader)
    shown = b"".join(seen)
    assert b"interrupted" in shown and b"\x1b[?1049l" in shown, shown[-2000:]
    assert b"Traceback" not in shown and b"leaked semaphore" not in shown, shown[-2000:]
