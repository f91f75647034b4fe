"""The browser studio's cull view at a wedding's size: a real ``kilo serve`` over a project of
3,000 frames (``tests/support/studio.py``'s catalog: 300 bursts of 5 under 30 moments, a
thumbnail, preview and signals per frame, some decisions), signed in as ``kilo open`` signs
the photographer in (the one-time link, the session cookie).

    .venv/bin/python benchmarks/studio_cull.py [--n 3000] [--requests 20]

Prints p50/p95 of ``GET /v1/x-kilo/projects/{id}/cull`` (the whole view: every frame with
three signed image URLs) and of ``…/cull/version`` (the poll), with the in-process library
call (``kilo.cull.view.build_cull_view`` and its JSON) as the baseline, and the view's size.
No pixels are read (the view reads none)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
KILO = Path(sys.executable).parent / "kilo"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] * 1000


def fill(home: Path, n: int) -> str:
    from kilo.catalog import open_catalog
    from kilo.projects import create_project
    from kilo.settings import Settings
    from support.studio import build_big_project

    with open_catalog(Settings(home=home, clip_enabled=False)) as cat:
        pid = create_project(cat, "Wedding").id
        build_big_project(cat, pid, cat.local_user_id, n=n)
    return pid


def baseline(home: Path, pid: str, requests: int) -> list[float]:
    from kilo.catalog import open_catalog
    from kilo.cull.view import build_cull_view
    from kilo.settings import Settings
    from kilo_server.files import studio_frame_urls

    times = []
    with open_catalog(Settings(home=home, clip_enabled=False)) as cat:
        urls, _ = studio_frame_urls(cat)
        for _ in range(requests):
            started = time.perf_counter()
            build_cull_view(cat, pid, None, urls).model_dump_json(by_alias=True)
            times.append(time.perf_counter() - started)
    return times


def start_server(
    home: Path, port: int, env: dict[str, str] | None = None, wait_s: float = 60
) -> subprocess.Popen[bytes]:
    """``kilo serve`` for ``home`` on ``port`` as a process (CLIP off, no analysis of the
    benchmark's rows unless ``env`` says otherwise), once it answers; exits if it never does.
    benchmarks/studio_browser.py starts its server with this too."""
    if env is None:
        env = {**os.environ, "KILO_HOME": str(home), "KILO_CLIP_ENABLED": "false"}
        env["KILO_AUTO_ANALYZE"] = "false"  # the rows are not real photos
    proc = subprocess.Popen(
        [str(KILO), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + wait_s
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/v1/x-kilo/health", timeout=1)
            return proc
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                sys.exit("kilo serve did not start")
            time.sleep(0.2)


def sign_in(home: Path, base: str) -> httpx.Client:
    from kilo.catalog import open_catalog
    from kilo.settings import Settings
    from kilo_server.auth import mint_open_token

    with open_catalog(Settings(home=home, clip_enabled=False)) as cat:
        token = mint_open_token(cat, cat.local_user_id)
    http = httpx.Client(base_url=base, timeout=120)
    assert http.get(f"/v1/x-kilo/auth/open?token={token}").status_code == 303
    return http


def timed(http: httpx.Client, path: str, requests: int) -> tuple[list[float], int]:
    times, size = [], 0
    for _ in range(requests):
        started = time.perf_counter()
        got = http.get(path)
        times.append(time.perf_counter() - started)
        assert got.status_code == 200, got.text[:200]
        size = len(got.content)
    return times, size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--requests", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="kilo-studio-bench-") as tmp:
        home, port = Path(tmp) / "home", 19080 + os.getpid() % 1000
        pid = fill(home, args.n)
        base_times = baseline(home, pid, args.requests)
        proc = start_server(home, port)
        try:
            http = sign_in(home, f"http://127.0.0.1:{port}")
            http.get(f"/v1/x-kilo/projects/{pid}/cull")  # warm
            view, size = timed(http, f"/v1/x-kilo/projects/{pid}/cull", args.requests)
            poll, _ = timed(http, f"/v1/x-kilo/projects/{pid}/cull/version", args.requests)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(
        f"{args.n} frames, {args.requests} requests each, loopback, load {os.getloadavg()[0]:.1f}"
    )
    print(f"{'operation':<36} {'p50 ms':>8} {'p95 ms':>8} {'in-process p50':>15}")
    print(
        f"{'GET cull view (' + f'{size / 1e6:.1f} MB)':<36} {pct(view, 50):8.1f} "
        f"{pct(view, 95):8.1f} {pct(base_times, 50):15.1f}"
    )
    print(f"{'GET cull/version (the poll)':<36} {pct(poll, 50):8.1f} {pct(poll, 95):8.1f}")


if __name__ == "__main__":
    main()
