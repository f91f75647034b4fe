"""Reliability drills: real `kilo` processes, real photos, real kills. Prints a table
(case, passed / tried, items lost); exits 1 when any drill failed.

    .venv/bin/python benchmarks/drills.py [--photos ../shared/photos] [--tries 3] [--seed 7]

Each drill does what a photographer's day does to kilo: a card with a file named in another
encoding, `kill -9` of an ingest, an export or an analysis at random moments, Ctrl-C, eight
threads of a server deciding on one photo, decompression bombs among real photos, truncated
files of every format, damaged and read-only catalogs, hostile titles, a full-res TIFF export
of every test photo, links out of the card. "items lost" counts photos (or decisions) that a
rerun did not bring back. The kill moments are random (``--seed``), so each run tries other
moments; the originals are hashed before and after every drill and must never change.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "cli"))

CLI = "import sys; from kilo_cli.main import main; sys.exit(main())"
BIG = [
    "Kleiber_by_Lukas_Baubkus.jpg",
    "sony_a6000_night.jpg",
    "Dragonfly_by_Bolly.jpg",
    "seeding_by_Clements_Engelhardt.jpg",
    "mate_Blinds.jpg",
    "plasma_Kite.jpg",
]


@dataclass
class Row:
    case: str
    passed: int = 0
    tried: int = 0
    lost: int = 0
    note: str = ""

    def add(self, ok: bool, lost: int = 0, note: str = "") -> None:
        self.tried += 1
        self.passed += int(ok)
        self.lost += lost
        if note and not ok:
            self.note = note[:90]


class Drill:
    def __init__(self, photos: Path, work: Path, rng: random.Random) -> None:
        self.photos, self.work, self.rng = photos, work, rng
        self.n = 0

    def fresh(self, name: str) -> Path:
        self.n += 1
        path = self.work / f"{self.n:02d}_{name}"
        path.mkdir(parents=True)
        return path

    def env(self, home: Path, **extra: str) -> dict[str, str]:
        return dict(
            os.environ, KILO_HOME=str(home), KILO_WORKERS="2", KILO_CLIP_ENABLED="false", **extra
        )

    def kilo(
        self, home: Path, *args: str, timeout: float = 600, **env: str
    ) -> tuple[int, str, str]:
        p = subprocess.run(
            [sys.executable, "-c", CLI, *args],
            env=self.env(home, **env),
            capture_output=True,
            text=True,
            timeout=timeout,
            errors="replace",
        )
        return p.returncode, p.stdout, p.stderr

    def start(self, home: Path, *args: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-c", CLI, *args],
            env=self.env(home),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )

    def ingesting(self, name: str, count: int = 30) -> tuple[Path, Path, subprocess.Popen[bytes]]:
        """A new card of ``count`` photos and a `kilo ingest` of it, started: (card, home,
        process)."""
        base = self.fresh(name)
        card = self.card(base / "card", count)
        home = base / "home"
        return card, home, self.start(home, "ingest", str(card), "-p", name, "--create")

    def card(self, folder: Path, count: int, offset: int = 0) -> Path:
        """``count`` distinct JPEGs re-encoded from the shared camera photos (another
        ``offset`` gives other files)."""
        from PIL import Image

        folder.mkdir(parents=True, exist_ok=True)
        for i in range(count):
            with Image.open(self.photos / BIG[i % len(BIG)]) as im:
                im.draft("RGB", (im.width // 2, im.height // 2))
                im = im.convert("RGB")
                scale = 0.45 + 0.5 * (i % 5) / 4
                im = im.resize((max(64, int(im.width * scale)), max(64, int(im.height * scale))))
                im.save(folder / f"frame_{i:03d}.jpg", quality=55 + (i + offset) % 40)
        return folder


# -- helpers on a library, read in this process --------------------------------------------
def catalog_of(home: Path):  # type: ignore[no-untyped-def]
    from kilo.catalog import open_catalog
    from kilo.settings import Settings

    return open_catalog(Settings(home=home, clip_enabled=False))


def states(home: Path) -> dict[str, int]:
    with catalog_of(home) as cat:
        return dict(cat.fetchall("SELECT state, count(*) FROM assets GROUP BY state"))


def running_jobs(home: Path) -> int:
    with catalog_of(home) as cat:
        return int(cat.scalar("SELECT count(*) FROM jobs WHERE status = 'running'") or 0)


def tree(pid: int) -> list[int]:
    """``pid`` and every process below it, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def rss_mb(pids: list[int]) -> list[float]:
    out = []
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    out.append(int(line.split()[1]) / 1024)
        except OSError:
            continue
    return out


def wait_for(cond: Callable[[], bool], proc: subprocess.Popen[bytes], limit: float) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and proc.poll() is None:
        if cond():
            return True
        time.sleep(0.02)
    return False


def count_files(folder: Path, pattern: str) -> int:
    return len(list(folder.rglob(pattern))) if folder.exists() else 0


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


# -- the drills -------------------------------------------------------------------------------
def drill_odd_name(d: Drill) -> Row:
    row = Row("1 a file name that is not UTF-8")
    base = d.fresh("odd_name")
    card = d.card(base / "card", 10)
    shutil.copy2(d.photos / "cv_leuvenA.jpg", card / os.fsdecode(b"bad_\xff\xfe_name.jpg"))
    rc, _, err = d.kilo(base / "home", "ingest", str(card), "-p", "odd", "--create")
    ready = states(base / "home").get("ready", 0)
    row.add(rc == 0 and ready == 11, 11 - ready, err.strip().splitlines()[-1:][0] if err else "")
    return row


def drill_orphans(d: Drill, tries: int) -> Row:
    row = Row("2 workers after kill -9 of kilo ingest")
    for _ in range(tries):
        _card, home, proc = d.ingesting("orphans")
        store = home / "store"
        wait_for(lambda: count_files(store, "preview.jpg") >= 2, proc, 60)  # noqa: B023
        time.sleep(d.rng.uniform(0, 0.5))
        family = tree(proc.pid)
        proc.kill()  # the CLI only, as `kill -9 PID` does
        proc.wait()
        time.sleep(3.0)
        left = [p for p in family if p != proc.pid and alive(p)]
        for p in left:
            os.kill(p, signal.SIGKILL)
        row.add(not left, 0, f"{len(left)} processes left")
    return row


def drill_threads(d: Drill) -> Row:
    from kilo.cull import get_rating, toggle_reject, undo
    from kilo.ingest import ingest
    from kilo.projects import create_project

    row = Row("3 eight threads deciding on one photo")
    base = d.fresh("threads")
    card = d.card(base / "card", 2)
    with catalog_of(base / "home") as cat:
        pid = create_project(cat, "threads").id
        aid = ingest(cat, pid, [card]).asset_ids[0]
        errors: list[str] = []
        toggles = [0]
        stop = time.monotonic() + 5.0

        def work(n: int) -> None:
            i = 0
            while time.monotonic() < stop:
                try:
                    if n % 4 == 3 and i % 3 == 0:
                        undo(cat, pid)
                    else:
                        toggle_reject(cat, aid)
                        toggles[0] += 1
                except Exception as exc:
                    errors.append(f"{type(exc).__name__}: {exc}")
                i += 1

        interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)
        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        sys.setswitchinterval(interval)
        stale = cat.scalar(
            "SELECT count(*) FROM cull_actions WHERE project_id = ? "
            "AND before_state::VARCHAR = after_state::VARCHAR",
            [pid],
        )
        get_rating(cat, aid)
    row.add(not errors and not stale, int(stale or 0), errors[0] if errors else "")
    row.note = row.note or f"{toggles[0]} toggles"
    return row


def drill_killed_export(d: Drill, tries: int) -> Row:
    row = Row("4 kill -9 during kilo export, then resume")
    base = d.fresh("export")
    card = d.card(base / "card", 24)
    home = base / "home"
    d.kilo(home, "ingest", str(card), "-p", "e", "--create")
    for i in range(tries):
        dest = base / f"out{i}"
        proc = d.start(home, "export", "e", "--preset", "full_res", "--all", "--dest", str(dest))
        target = d.rng.randint(1, 20)
        wait_for(lambda: count_files(dest, ".kilo-export-*/*") >= target, proc, 120)  # noqa: B023
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        out = d.kilo(home, "exports", "list", "e", "--json")[1]

        queued = [e["id"] for e in json.loads(out) if e["status"] in ("queued", "running")]
        for export_id in queued:
            d.kilo(home, "exports", "run", export_id)
        files = count_files(dest, "*.jpg")
        hidden = [p for p in dest.iterdir() if p.name.startswith(".")] if dest.exists() else []
        row.add(
            files == 24 and not hidden and running_jobs(home) == 0,
            24 - files,
            f"{files} files, {len(hidden)} hidden",
        )
    return row


def _bomb(path: Path, side: int = 13000) -> None:
    from PIL import Image, ImageDraw

    im = Image.new("1", (side, side), 0)
    ImageDraw.Draw(im).ellipse((side // 6, side // 6, side // 2, side // 2), fill=1)
    im.save(path, optimize=True)


def drill_bombs(d: Drill) -> Row:
    row = Row("5 four 20 KB 13000x13000 PNGs among ten photos")
    base = d.fresh("bombs")
    card = d.card(base / "card", 10)
    for i in range(4):
        _bomb(card / f"bomb_{i}.png")
    proc = d.start(base / "home", "ingest", str(card), "-p", "b", "--create")
    peak, peak_one = 0.0, 0.0
    started = time.monotonic()
    while proc.poll() is None:
        sizes = rss_mb(tree(proc.pid))
        peak, peak_one = max(peak, sum(sizes)), max([peak_one, *sizes])
        time.sleep(0.05)
    took = time.monotonic() - started
    with catalog_of(base / "home") as cat:
        ready = int(
            cat.scalar(
                "SELECT count(*) FROM assets WHERE state = 'ready' AND filename LIKE 'frame_%'"
            )
            or 0
        )
    ok = ready == 10 and peak_one < 400
    row.add(ok, 10 - ready, "")
    row.note = f"peak {peak:.0f} MB all, {peak_one:.0f} MB one process, {took:.1f} s"
    return row


def drill_ctrl_c(d: Drill, tries: int) -> Row:
    row = Row("6 Ctrl-C during ingest and analysis")
    worst = 0.0
    for _ in range(tries):
        card, home, proc = d.ingesting("ctrl_c")
        time.sleep(d.rng.uniform(0.5, 6.0))
        if proc.poll() is not None:
            row.add(True, 0)
            continue
        os.killpg(proc.pid, signal.SIGINT)
        t = time.monotonic()
        _, err_b = proc.communicate(timeout=120)
        stop = time.monotonic() - t
        worst = max(worst, stop)
        err = err_b.decode(errors="replace")
        clean = proc.returncode == 130 and "interrupted" in err and "Traceback" not in err
        # the signal came as the run was ending: the work is done, and the exit says so
        clean = clean or (proc.returncode == 0 and "Traceback" not in err)
        left = running_jobs(home)
        rc, _, _ = d.kilo(home, "ingest", str(card), "-p", "ctrl_c")
        ready = states(home).get("ready", 0)
        row.add(
            clean and stop < 5 and left == 0 and rc == 0 and ready == 30,
            30 - ready,
            f"rc {proc.returncode}, {stop:.1f} s, {left} running",
        )
    row.note = row.note or f"slowest stop {worst:.2f} s"
    return row


def drill_truncated(d: Drill) -> Row:
    row = Row("7 truncated files of every format")
    base = d.fresh("truncated")
    card = base / "card"
    card.mkdir()
    sources = [
        "cv_leuvenA.jpg",
        "flower.png",
        "pug.heic",
        "bird_burst.heic",
        "fujifilm.mpo",
        "raw/plasma_Kite.dng",
    ]
    for name in sources:
        data = (d.photos / name).read_bytes()
        (card / f"cut_{Path(name).name}").write_bytes(data[: len(data) // 2])
    from PIL import Image

    with Image.open(d.photos / "flower.png") as im:
        im.convert("RGB").save(base / "w.webp", quality=80)
        im.convert("RGB").save(base / "t.tif")
    for made in (base / "w.webp", base / "t.tif"):
        data = made.read_bytes()
        (card / f"cut_{made.name}").write_bytes(data[: len(data) // 2])
    d.kilo(base / "home", "ingest", str(card), "-p", "t", "--create")
    with catalog_of(base / "home") as cat:
        accepted = [r[0] for r in cat.fetchall("SELECT filename FROM assets")]
        quarantined = int(cat.scalar("SELECT count(*) FROM quarantine") or 0)
    for name in sorted(p.name for p in card.iterdir()):
        row.add(name not in accepted, 0, f"{name} accepted")
    row.note = row.note or f"{quarantined} quarantined with a reason"
    return row


def drill_catalogs(d: Drill) -> Row:
    row = Row("8 damaged and read-only catalogs")
    base = d.fresh("catalogs")
    home = base / "home"
    for i in range(3):  # through the CLI, then many more through the library
        d.kilo(home, "project", "create", f"Shoot {i}")
    with catalog_of(home) as cat:
        from kilo.projects import create_project

        for i in range(3, 400):
            create_project(cat, f"Shoot {i}")
    good = (home / "catalog.duckdb").read_bytes()
    flipped = good[:8192] + bytes(x ^ 0xFF for x in good[8192:16384]) + good[16384:]
    damaged = {
        "half": good[: len(good) // 2],
        "tenth": good[: len(good) // 10],
        "garbage": os.urandom(len(good)),
        "flipped": flipped,
    }
    for label, data in damaged.items():
        (home / "catalog.duckdb").write_bytes(data)
        rc, _, err = d.kilo(home, "project", "list")
        one_line = err.count("\n") == 1 and err.startswith("error:") and "Traceback" not in err
        row.add(rc != 0 and one_line, 0, f"{label}: {err.strip()[:60]}")
    (home / "catalog.duckdb").write_bytes(good)
    mount = base / "ro"
    mount.mkdir()
    if subprocess.run(["mount", "--bind", str(home), str(mount)], capture_output=True).returncode:
        row.note = "read-only case skipped (no bind mount here)"
        return row
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(mount)], check=True)
        rc, out, _ = d.kilo(mount, "project", "list", "--json", "--all")
        rc2, _, err2 = d.kilo(mount, "project", "create", "x")
        row.add(rc == 0 and out.count('"title"') == 400 and rc2 != 0 and "read-only" in err2)
    finally:
        subprocess.run(["umount", str(mount)], check=False)
    return row


def drill_edit_input(d: Drill) -> Row:
    row = Row("9 bad edit input on the command line")
    base = d.fresh("edit")
    home = base / "home"
    card = d.card(base / "card", 1)
    d.kilo(home, "ingest", str(card), "-p", "e", "--create")
    with catalog_of(home) as cat:
        aid = str(cat.scalar("SELECT id FROM assets"))
    cases = [
        ["set", aid, "--params", "not json"],
        ["set", aid, "--params", "[1,2]"],
        ["render", aid, "--out", "x.exe"],
        ["render", aid, "--out", "/missing/dir/r.jpg"],
        ["render", aid, "--out", str(base)],
        ["render", aid, "--out", "noext"],
        ["render", aid, "--out", str(base / "r.jpg"), "--max-px", "0"],
        ["render", aid, "--out", str(base / "r.jpg"), "--max-px", "-5"],
        ["write-xmp", aid, "--out", "/nonexistent/x.xmp"],
    ]
    d.kilo(home, "edit", "set", aid, "--exposure", "0.3")
    for args in cases:
        rc, _, err = d.kilo(home, "edit", *args)
        row.add(rc == 2 and err.count("\n") == 1 and "Traceback" not in err, 0, " ".join(args[2:]))
    return row


def drill_titles(d: Drill) -> Row:
    row = Row("10 titles with ESC, tabs, newlines")
    base = d.fresh("titles")
    home = base / "home"
    for title in ["evil\x1b[2J\x1b[31mred", "two\nlines", "tab\there", "bell\x07"]:
        rc, _, err = d.kilo(home, "project", "create", title)
        row.add(rc == 2 and "control character" in err, 0, repr(title))
    d.kilo(home, "project", "create", "ok")
    with catalog_of(home) as cat:  # a title stored by an older kilo: escaped when shown
        cat.execute("UPDATE projects SET title = ?", ["old\x1b[2Jtitle"])
    rc, out, _ = d.kilo(home, "project", "list")
    row.add(
        rc == 0 and "\x1b" not in out and "old\\x1b[2Jtitle" in out.replace("\n", ""),
        0,
        "stored title printed raw",
    )
    return row


def drill_tiff(d: Drill) -> Row:
    row = Row("11 full_res --tiff of every test photo")
    base = d.fresh("tiff")
    home = base / "home"
    card = base / "card"
    card.mkdir()
    for p in sorted(d.photos.iterdir()):
        if p.is_file() and p.suffix.lower() in (".jpg", ".heic", ".mpo", ".png"):
            shutil.copy2(p, card / p.name)
    d.kilo(home, "ingest", str(card), "-p", "t", "--create")
    ready = states(home).get("ready", 0)
    rc, _, err = d.kilo(
        home,
        "export",
        "t",
        "--preset",
        "full_res",
        "--tiff",
        "--all",
        "--dest",
        str(base / "out"),
        "--json",
    )
    made = count_files(base / "out", "*.tif")
    row.add(rc == 0 and made == ready, ready - made, err.strip()[-90:])
    row.note = row.note or f"{made} TIFFs of {ready} photos"
    return row


def drill_links_and_store(d: Drill) -> Row:
    row = Row("12 links out, quarantine, resume count, full store")
    base = d.fresh("links")
    home = base / "home"
    card = d.card(base / "card", 3)
    outside = d.card(base / "elsewhere", 1)
    (card / "out.jpg").symlink_to(outside / "frame_000.jpg")
    (card / "passwd.jpg").symlink_to("/etc/passwd")
    rc, out, _ = d.kilo(home, "ingest", str(card), "-p", "l", "--create", "--json")

    rep = json.loads(out)
    reasons = {Path(r["item"]).name: r.get("reason") or "" for r in rep["results"]}
    row.add("outside" in reasons.get("out.jpg", "") and "outside" in reasons.get("passwd.jpg", ""))
    more = d.card(base / "card2", 4, offset=20)
    d.kilo(home, "ingest", str(more), "-p", "l", "--no-process")
    rc, out, _ = d.kilo(home, "ingest", str(more), "-p", "l", "--json")
    row.add(json.loads(out)["resumed"] == 4, 0, "resume counted 0")
    bad = base / "card3"
    bad.mkdir()
    (bad / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    d.kilo(home, "ingest", str(bad), "-p", "l")
    rc, out, _ = d.kilo(home, "quarantine", "list", "l", "--json")
    row.add(rc == 0 and any(q["name"] == "broken.jpg" for q in json.loads(out)), 0, "quarantine")
    with catalog_of(home) as cat:
        rows = int(
            cat.scalar("SELECT count(*) FROM asset_files WHERE kind IN ('thumbnail', 'preview')")
            or 0
        )
    files = count_files(home / "store" / "renditions", "*.jpg")
    row.add(rows == files, 0, f"{files} files for {rows} rows")
    return row


# -- the drills that already passed before this work: kill -9 of ingest and analyze -----------
def drill_kill_ingest(d: Drill, tries: int) -> Row:
    row = Row("kill -9 at random moments of ingest, resume")
    for _ in range(tries):
        card, home, proc = d.ingesting("kill_ingest")
        time.sleep(d.rng.uniform(0.3, 5.0))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        rc, _, err = d.kilo(home, "ingest", str(card), "-p", "kill_ingest")
        with catalog_of(home) as cat:
            n = cat.scalar("SELECT count(*) FROM assets WHERE state = 'ready'")
            uris = cat.scalar("SELECT count(DISTINCT source_uri) FROM assets")
            left = cat.scalar("SELECT count(*) FROM jobs WHERE status <> 'done'")
            analyzed = cat.scalar("SELECT count(*) FROM signals")
        row.add(
            rc == 0 and n == 30 and uris == 30 and left == 0 and analyzed == 30,
            30 - int(n or 0),
            err.strip()[-80:],
        )
    return row


def drill_kill_analyze(d: Drill, tries: int) -> Row:
    row = Row("kill -9 at random moments of analyze, resume")
    for _ in range(tries):
        base = d.fresh("kill_analyze")
        card = d.card(base / "card", 30)
        home = base / "home"
        d.kilo(home, "ingest", str(card), "-p", "a", "--create", "--no-process")
        proc = d.start(home, "analyze", "a")
        time.sleep(d.rng.uniform(0.3, 4.0))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        rc, _, err = d.kilo(home, "analyze", "a")
        with catalog_of(home) as cat:
            analyzed = int(cat.scalar("SELECT count(*) FROM signals") or 0)
            clusters = int(cat.scalar("SELECT count(*) FROM clusters") or 0)
            running = int(cat.scalar("SELECT count(*) FROM jobs WHERE status = 'running'") or 0)
        row.add(
            rc == 0 and analyzed == 30 and clusters > 0 and running == 0,
            30 - analyzed,
            err.strip()[-80:],
        )
    return row


def drill_sql_text(d: Drill) -> Row:
    row = Row("SQL-looking titles and searches stay literal")
    base = d.fresh("sql")
    home = base / "home"
    title = "x'); DROP TABLE assets; --"
    rc, _, _ = d.kilo(home, "project", "create", title)
    rc2, out, _ = d.kilo(home, "project", "show", title, "--json")
    rc3, _, _ = d.kilo(home, "search", title, "' OR 1=1 --")
    with catalog_of(home) as cat:
        tables = cat.scalar(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'assets'"
        )
    row.add(rc == 0 and rc2 == 0 and title in out and rc3 in (0, 1, 2) and tables == 1)
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--photos", type=Path, default=REPO.parent / "shared" / "photos")
    ap.add_argument("--tries", type=int, default=3, help="tries of each random-moment drill")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kilo-drills-"))
    d = Drill(args.photos, work, random.Random(args.seed))
    before = digest(args.photos)
    drills: list[Callable[[], Row]] = [
        lambda: drill_odd_name(d),
        lambda: drill_orphans(d, args.tries),
        lambda: drill_threads(d),
        lambda: drill_killed_export(d, args.tries),
        lambda: drill_bombs(d),
        lambda: drill_ctrl_c(d, args.tries),
        lambda: drill_truncated(d),
        lambda: drill_catalogs(d),
        lambda: drill_edit_input(d),
        lambda: drill_titles(d),
        lambda: drill_tiff(d),
        lambda: drill_links_and_store(d),
        lambda: drill_kill_ingest(d, args.tries + 2),
        lambda: drill_kill_analyze(d, args.tries),
        lambda: drill_sql_text(d),
    ]
    rows: list[Row] = []
    try:
        for run in drills:
            started = time.monotonic()
            try:
                row = run()
            except Exception as exc:  # a drill that crashes is a failed drill, with the reason
                row = Row(
                    getattr(run, "__name__", "drill"), 0, 1, 0, f"{type(exc).__name__}: {exc}"
                )
            rows.append(row)
            print(
                f"  {row.case}: {row.passed}/{row.tried} ({time.monotonic() - started:.0f} s)",
                file=sys.stderr,
                flush=True,
            )
        originals = Row("originals never modified (sha256 of ../shared/photos)")
        originals.add(digest(args.photos) == before)
        rows.append(originals)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    width = max(len(r.case) for r in rows)
    print(f"{'case'.ljust(width)}  passed/tried  items lost  note")
    for r in rows:
        print(f"{r.case.ljust(width)}  {f'{r.passed}/{r.tried}':>12}  {r.lost:>10}  {r.note}")
    return 0 if all(r.passed == r.tried for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
