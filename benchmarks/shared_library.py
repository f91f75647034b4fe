"""Culling while an ingest runs: one library, several kilo processes.

    .venv/bin/python benchmarks/shared_library.py [--n 1000] [--pace 3]

Three ingests of the same card into fresh libraries, in one run: alone (the baseline);
beside a cull screen (a process that opens the library once, as `kilo cull` does, and
makes a decision every 0.5 s); and beside the screen plus, every ``--pace`` seconds, the
commands of a second terminal as new processes (`kilo assets list`, `kilo clusters list`,
and a cull screen opening: a process that opens the library and loads the review queue,
what `kilo cull` does before its first draw). Prints p50/p95 of each and the slowdowns.

The card is the bundled test photos copied round-robin up to ``--n`` files, each copy made
unique by a few bytes after the JPEG's end (so each is a new file to the catalog; pixels
are the same, which the timings here do not depend on). What the figures do not show: a
slow disk or card reader, a library on a network share, more than three processes.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

KILO = Path(sys.executable).parent / "kilo"
PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "photos"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] * 1000


def make_card(dest: Path, n: int) -> Path:
    sources = sorted(PHOTOS.glob("*.jpg"))
    dest.mkdir(parents=True)
    for i in range(n):
        data = sources[i % len(sources)].read_bytes()
        (dest / f"IMG_{i:05d}.jpg").write_bytes(data + f"kilo-bench-{i}".encode())
    return dest


def env(home: Path) -> dict[str, str]:
    return {**os.environ, "KILO_HOME": str(home), "KILO_CLIP_ENABLED": "false"}


def kilo(home: Path, *args: str) -> float:
    t = time.perf_counter()
    subprocess.run(
        [str(KILO), *args],
        env=env(home),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - t


def ingest(home: Path, card: Path, *, create: bool = True) -> subprocess.Popen[bytes]:
    if create:
        kilo(home, "project", "create", "Shoot")
    return subprocess.Popen(
        [str(KILO), "ingest", "-p", "Shoot", str(card)],
        env=env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


CULLER = """
import sys, time
from kilo.catalog import open_catalog
from kilo.cull import pick_asset
from kilo.projects import resolve_project
from kilo.settings import load_settings
with open_catalog(load_settings()) as cat:
    pid = resolve_project(cat, "Shoot").id
    done = set()
    while not sys.stdin.closed:
        ids = [r[0] for r in cat.fetchall(
            "SELECT id FROM assets WHERE project_id = ? AND state = 'ready'", [pid])]
        todo = [a for a in ids if a not in done]
        if todo:
            t = time.perf_counter()
            pick_asset(cat, todo[0])
            print(time.perf_counter() - t, flush=True)
            done.add(todo[0])
        time.sleep(0.5)
"""

OPEN_CULL = """
from kilo.catalog import open_catalog
from kilo.cull.review_order import load_queue
from kilo.projects import resolve_project
from kilo.settings import load_settings
with open_catalog(load_settings()) as cat:
    load_queue(cat, resolve_project(cat, "Shoot").id)
"""


def _machine_cpu() -> float:
    """CPU-seconds the whole machine has used (every process, from /proc/stat)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    busy = sum(int(x) for i, x in enumerate(fields) if i not in (3, 4))  # all but idle, iowait
    return busy / os.sysconf("SC_CLK_TCK")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def with_company(home: Path, card: Path, pace: float) -> tuple[float, dict[str, list[float]]]:
    out: dict[str, list[float]] = {"assets": [], "clusters": [], "cull": [], "open": []}
    proc = ingest(home, card)
    t0 = time.perf_counter()
    culler = subprocess.Popen(
        [sys.executable, "-c", CULLER],
        env=env(home),
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )

    def read_culls() -> None:
        assert culler.stdout is not None
        for line in culler.stdout:
            out["cull"].append(float(line))

    reader = threading.Thread(target=read_culls, daemon=True)
    reader.start()
    cpu = 0.0
    while proc.poll() is None:
        round_start, cpu0 = time.perf_counter(), _children_cpu()
        out["assets"].append(kilo(home, "assets", "list", "Shoot", "--json"))
        out["clusters"].append(kilo(home, "clusters", "list", "Shoot", "--json"))
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", OPEN_CULL], env=env(home), check=True)
        out["open"].append(time.perf_counter() - t)
        cpu += _children_cpu() - cpu0  # only the round's commands (none else has ended)
        while proc.poll() is None and time.perf_counter() - round_start < pace:
            time.sleep(0.05)
    elapsed = time.perf_counter() - t0
    assert proc.returncode == 0, f"the ingest ended with {proc.returncode}"
    out["commands_cpu_s"] = [cpu]
    assert culler.stdin is not None
    culler.stdin.close()
    culler.terminate()
    culler.wait(timeout=30)
    return elapsed, out


def beside_server(home: Path, card: Path) -> tuple[float, dict[str, list[float]]]:
    """The ingest in a terminal while `kilo serve` serves the same library to a client that
    lists a page of photos every 0.5 s and follows the project's event stream."""
    import httpx

    from kilo.catalog import open_catalog
    from kilo.projects import resolve_project
    from kilo.settings import load_settings
    from kilo_server.tokens import mint_access_token

    kilo(home, "project", "create", "Shoot")
    settings = load_settings(home=home)
    with open_catalog(settings) as cat:
        project = resolve_project(cat, "Shoot")
        auth = {"Authorization": f"Bearer {mint_access_token(settings, cat.local_user_id)}"}
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        base = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    server = subprocess.Popen(
        [str(KILO), "serve", "--port", base.split(":")[2].split("/")[0]],
        env=env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while True:
        try:
            httpx.get(f"{base}/openapi.json", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    out: dict[str, list[float]] = {"api": [], "events": []}

    def follow() -> None:
        url = f"{base}/realtime?projectId={project.id}"
        try:
            with httpx.stream("GET", url, headers=auth, timeout=None) as resp:
                for line in resp.iter_lines():
                    if line.startswith("event: asset.updated"):
                        out["events"].append(time.perf_counter())
        except httpx.HTTPError:  # the server stopped
            return

    threading.Thread(target=follow, daemon=True).start()
    t0 = time.perf_counter()
    proc = ingest(home, card, create=False)
    url = f"{base}/projects/{project.id}/assets"
    with httpx.Client(headers=auth, timeout=30) as client:
        while proc.poll() is None:
            t = time.perf_counter()
            client.get(url, params={"limit": 50}).raise_for_status()
            out["api"].append(time.perf_counter() - t)
            time.sleep(0.5)
    elapsed = time.perf_counter() - t0
    assert proc.returncode == 0, f"the ingest beside kilo serve ended with {proc.returncode}"
    server.send_signal(signal.SIGINT)
    server.wait(timeout=60)
    return elapsed, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--pace", type=float, default=3.0, help="seconds between command rounds")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="kilo-shared-bench-") as tmp:
        card = make_card(Path(tmp) / "card", args.n)
        t, cpu0 = time.perf_counter(), _machine_cpu()
        assert ingest(Path(tmp) / "alone", card).wait() == 0
        t_alone, cpu_alone = time.perf_counter() - t, _machine_cpu() - cpu0
        t_screen, screen = with_company(Path(tmp) / "screen", card, float("inf"))
        t_both, both = with_company(Path(tmp) / "both", card, args.pace)
        t_served, served = beside_server(Path(tmp) / "served", card)
    print(f"{args.n} files, this machine ({os.cpu_count()} cores), one run")
    print(f"{'during the ingest':<48} {'n':>5} {'p50 ms':>8} {'p95 ms':>8}")
    rows = (
        ("cull decision, cull screen alone", screen["cull"]),
        ("cull decision, with the commands", both["cull"]),
        (f"kilo assets list (a new process, every {args.pace:g} s)", both["assets"]),
        ("kilo clusters list (a new process)", both["clusters"]),
        ("cull screen opens (process + queue)", both["open"]),
        ("GET /projects/{id}/assets from kilo serve", served["api"]),
    )
    for label, vals in rows:
        got = vals or [float("nan")]
        print(f"{label:<48} {len(vals):>5} {pct(got, 50):8.1f} {pct(got, 95):8.1f}")
    print(
        f"ingest alone {t_alone:.1f} s; beside a cull screen {t_screen:.1f} s "
        f"(x{t_screen / t_alone:.2f}); beside the screen and the commands {t_both:.1f} s "
        f"(x{t_both / t_alone:.2f})"
    )
    cpu = both["commands_cpu_s"][0]
    print(
        f"the commands' processes used {cpu:.1f} CPU-seconds; the machine used "
        f"{cpu_alone:.1f} CPU-s for the ingest alone, so giving the commands their CPU alone "
        f"makes it x{(cpu_alone + cpu) / cpu_alone:.2f}"
    )
    print(
        f"ingest beside kilo serve and its client {t_served:.1f} s (x{t_served / t_alone:.2f});"
        f" the event stream brought {len(served['events'])} asset.updated events"
    )


if __name__ == "__main__":
    main()
