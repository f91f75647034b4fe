"""`kilo --help` wall time as a ratio to `python -c pass` (target: under 5x).

Run: .venv/bin/python benchmarks/cli_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _time(cmd: list[str], runs: int, env: dict[str, str]) -> list[float]:
    subprocess.run(cmd, capture_output=True, env=env, check=True)  # warm the page cache
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, env=env, check=True)
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    kilo = str(Path(sys.executable).with_name("kilo"))
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "KILO_HOME": home}
        base = _time([sys.executable, "-c", "pass"], args.runs, env)
        help_ = _time([kilo, "--help"], args.runs, env)
        version = _time([kilo, "--version"], args.runs, env)
        typer_ = _time([sys.executable, "-c", "import typer"], args.runs, env)
        sub = _time([kilo, "project", "--help"], args.runs, env)
    b, h, v, t, p = (statistics.median(x) for x in (base, help_, version, typer_, sub))
    print(f"python -c pass   median {b * 1000:7.1f} ms")
    print(f"kilo --help      median {h * 1000:7.1f} ms   ratio {h / b:5.2f}x  (target < 5x)")
    print(f"kilo --version   median {v * 1000:7.1f} ms   ratio {v / b:5.2f}x")
    print(f"kilo project --help {p * 1000:6.1f} ms   ratio {p / b:5.2f}x  (loads Typer)")
    print(
        f"import typer     median {t * 1000:7.1f} ms   ratio {t / b:5.2f}x  (the framework alone)"
    )
    print(f"load average     {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
