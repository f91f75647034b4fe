"""Ingest against the fastest tool making the same renditions, and against the decode floor.

    .venv/bin/python benchmarks/ingest_peers.py [--camera 60] [--rounds 2]

Per set of files (COUNT generated 24 MP camera-like JPEGs, ``camera_like.py``; the JPEGs of
../shared/photos), in rounds alternated in one run, each the better of ROUNDS:

* kilo: the library's ``ingest`` of the folder into a fresh library, 2 worker processes
  (pool start, hashing, metadata, catalog writes included, as ``kilo ingest`` runs);
* libvips (pyvips + pyvips-binary, the ``bench`` extra) making only the same two renditions,
  2 processes, one thread each (``VIPS_CONCURRENCY=1``, its fastest setting here; one round
  with its default too): ``thumbnail(path, 2048, size="down")`` and ``thumbnail(path, 512,
  size="down")`` (shrink-on-load: the small one decodes at 1/8), each saved at quality 85;
* the floor: only decoding each file at the DCT scale its 2048 px preview needs (Pillow
  draft mode; what any tool has to pay), 2 processes, warm.

Twice: on a quiet machine and with one core kept busy by another program. Prints files/s,
kilo / libvips (target >= 1.4 in both conditions) and kilo / floor (target >= 0.65).

Then, quiet only, where the time goes: each stage of kilo's per-file work in one process
(read, sha256, metadata, the decode at the needed DCT scale, the rest of the renditions, the
renditions' hashes and writes), against the core-ms per file the whole ingest took.

What it does not show: kilo does more per file than libvips (sha256, EXIF, catalog rows);
its first preview of a JPEG that already fits is the file itself, so on small photos it
skips an encode libvips pays for; a busy core here is a busy loop, not another ingest.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))
PHOTOS = REPO.parent / "shared" / "photos"


def _vips_init(concurrency: str | None) -> None:
    if concurrency is not None:
        os.environ["VIPS_CONCURRENCY"] = concurrency


def _vips_one(args: tuple[str, str]) -> None:
    import pyvips

    src, out = args
    # each from the file: shrink-on-load makes the 512 px one a 1/8-scale decode, cheaper
    # than keeping the preview in memory to shrink it again
    pyvips.Image.thumbnail(src, 2048, size="down").jpegsave(f"{out}-preview.jpg", Q=85)
    pyvips.Image.thumbnail(src, 512, size="down").jpegsave(f"{out}-thumb.jpg", Q=85)


def _floor_one(path: str) -> None:
    from PIL import Image

    with Image.open(path) as im:
        w, h = im.size
        s = min(1.0, 2048 / max(w, h))
        im.draft("RGB", (max(1, round(w * s)), max(1, round(h * s))))
        im.load()


def pooled(fn: object, jobs: list[object], init: object = None, initargs: tuple = ()) -> float:
    with ProcessPoolExecutor(2, initializer=init, initargs=initargs) as pool:  # type: ignore[arg-type]
        list(pool.map(fn, jobs[:2]))  # type: ignore[arg-type]  # warm (imports)
        t = time.perf_counter()
        list(pool.map(fn, jobs, chunksize=1))  # type: ignore[arg-type]
        return time.perf_counter() - t


def kilo_ingest(folder: Path, warm: bool = False) -> float:
    """The library's ingest of ``folder`` into a fresh library (a new interpreter, so it pays
    for its worker pool as ``kilo ingest`` does). ``warm``: on a pool started beforehand and
    warmed by ingesting two of the files into another project, as the peers' pools are
    warmed before they are timed."""
    home = Path(tempfile.mkdtemp(prefix="kilo-peer-"))
    warm_dir = home / "warm"
    if warm:
        warm_dir.mkdir()
        for f in sorted(folder.iterdir())[:2]:
            shutil.copy(f, warm_dir / f.name)
    code = (
        "import time, sys; from kilo.catalog import open_catalog; from kilo.ingest import ingest;"
        "from kilo.executors import open_pool;"
        "from kilo.projects import create_project; from kilo.settings import load_settings;"
        f"s = load_settings(home={str(home)!r}, workers=2, clip_enabled=False);"
        "c = open_catalog(s); p = create_project(c, 'b'); "
        + (
            "pool = open_pool(None, 2).__enter__(); "
            f"ingest(c, create_project(c, 'w').id, [{str(warm_dir)!r}], pool=pool); "
            if warm
            else "pool = None; "
        )
        + "t = time.perf_counter();"
        f"r = ingest(c, p.id, [{str(folder)!r}], pool=pool); "
        "print(time.perf_counter() - t, r.ready, flush=True); "
        + ("pool.__exit__(None, None, None)" if warm else "")
    )
    try:
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split()
        return float(out[0])
    finally:
        shutil.rmtree(home, ignore_errors=True)


def stages(files: list[Path], out: Path) -> dict[str, float]:
    """Milliseconds per file of each stage of kilo's per-file work, run in sequence in this
    process (one core), the best of two passes: what a worker spends where."""
    import hashlib

    from kilo.imaging.decode import read_source
    from kilo.imaging.metadata import extract_metadata
    from kilo.imaging.renditions import (
        _dct_scale,
        _decode_scaled,
        _plain_header,
        open_jpeg,
        render_renditions,
    )
    from kilo.settings import load_settings

    settings = load_settings(home=out / "stage-home")
    sizes = {"preview": settings.preview_px, "thumbnail": settings.thumbnail_px}
    best: dict[str, float] = {}
    for _ in range(2):
        took = dict.fromkeys(
            (
                "read",
                "sha256",
                "metadata",
                "decode at the needed scale",
                "renditions rest",
                "rendition hashes + store writes",
            ),
            0.0,
        )
        for f in files:
            t = time.perf_counter()
            data = read_source(str(f), settings)
            t1 = time.perf_counter()
            hashlib.sha256(data).hexdigest()
            t2 = time.perf_counter()
            with open_jpeg(data) as opened:
                extract_metadata(data, name=f.name, content_type="image/jpeg", opened=opened)
                t3 = time.perf_counter()
                made = render_renditions(data, sizes, name=f.name, opened=opened)
                t4 = time.perf_counter()
            header = _plain_header(data)  # None: a JPEG the general decoder takes (its
            # decode then stays in "renditions rest")
            lossless_only = made.method == "lossless preview"
            if header is not None and made.method != "full" and not lossless_only:
                want = (
                    min(sizes.values())
                    if made.method.startswith("lossless")
                    else max(sizes.values())
                )
                _decode_scaled(data, _dct_scale(header[0], want))
            t5 = time.perf_counter()
            for r in made.renditions:
                hashlib.sha256(r.data).hexdigest()
                (out / f"{f.stem}-{r.kind}.jpg").write_bytes(r.data)
            t6 = time.perf_counter()
            took["read"] += t1 - t
            took["sha256"] += t2 - t1
            took["metadata"] += t3 - t2
            took["decode at the needed scale"] += t5 - t4
            took["renditions rest"] += (t4 - t3) - (t5 - t4)
            took["rendition hashes + store writes"] += t6 - t5
        for k, v in took.items():
            best[k] = min(best.get(k, v), v)
    return {k: v / len(files) * 1000 for k, v in best.items()}


def compare(label: str, files: list[Path], rounds: int, out: Path) -> None:
    folder = files[0].parent
    jobs: list[object] = [(str(f), str(out / f.stem)) for f in files]
    best: dict[str, float] = {}
    for r in range(rounds):
        runs = [
            ("kilo", lambda: kilo_ingest(folder)),
            ("kilo (pool warm)", lambda: kilo_ingest(folder, warm=True)),
            ("libvips", lambda: pooled(_vips_one, jobs, _vips_init, ("1",))),
            ("floor", lambda: pooled(_floor_one, [str(f) for f in files])),
        ]
        if r == 0:
            runs.append(
                ("libvips (default threads)", lambda: pooled(_vips_one, jobs, _vips_init, (None,)))
            )
        for name, run in runs:
            took = run()
            best[name] = min(best.get(name, took), took)
    n = len(files)
    print(f"-- {label}: {n} files")
    for name, took in best.items():
        print(f"   {name:<26} {n / took:7.2f} files/s")
    print(
        f"   kilo / libvips: {best['libvips'] / best['kilo']:.2f}x (target >= 1.4); "
        f"kilo / floor: {best['floor'] / best['kilo']:.2f} (target >= 0.65)"
    )
    print(
        f"   with kilo's pool warm too, as the peers' are: kilo / libvips "
        f"{best['libvips'] / best['kilo (pool warm)']:.2f}x, kilo / floor "
        f"{best['floor'] / best['kilo (pool warm)']:.2f}"
    )
    if rounds and os.environ.get("KILO_BENCH_BUSY") != "1":
        per = stages(files, out)
        cores = 2
        budget = best["kilo"] * cores / n * 1000
        floor = best["floor"] * cores / n * 1000
        print(
            f"   where the time goes, ms per file on one core (kilo's ingest: {budget:.1f} "
            f"core-ms per file on {cores} cores; the floor: {floor:.1f}):"
        )
        for k, v in per.items():
            print(f"     {k:<34} {v:6.1f}")
        rest = budget - sum(per.values())
        print(f"     {'the rest (pool start, pipe, driver, catalog)':<34} {rest:6.1f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--camera", type=int, default=60)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    from camera_like import make_camera_jpegs

    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        cam = make_camera_jpegs(tmp / "camera", args.camera)
        shared = tmp / "shared"
        shared.mkdir()
        for p in sorted(PHOTOS.glob("*.jpg")):
            shutil.copy(p, shared / p.name)
        sets = [
            ("24 MP camera-like JPEGs", cam),
            ("../shared/photos JPEGs", sorted(shared.iterdir())),
        ]
        (tmp / "out").mkdir()
        for condition in ("quiet", "one core busy"):
            busy = None
            os.environ["KILO_BENCH_BUSY"] = "0" if condition == "quiet" else "1"
            if condition != "quiet":
                busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
            try:
                print(f"== {condition} ({os.cpu_count()} cores)")
                for label, files in sets:
                    compare(label, files, args.rounds, tmp / "out")
            finally:
                if busy is not None:
                    busy.kill()


if __name__ == "__main__":
    main()
