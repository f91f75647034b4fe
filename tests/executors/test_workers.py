"""Worker pools never re-run the caller's main script."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path


def test_an_unguarded_script_runs_once(tmp_path: Path) -> None:
    marker = tmp_path / "runs.txt"
    script = tmp_path / "user_script.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import os
            from kilo.workers import process_pool

            with open({str(marker)!r}, "a") as fh:
                fh.write(f"{{os.getpid()}}\\n")
            pool = process_pool(2)
            pids = {{pool.submit(os.getpid).result() for _ in range(8)}}
            pool.shutdown()
            print(len(pids), os.getpid() in pids)
            """
        )
    )
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[1] == "False"  # the work ran in other processes
    assert len(marker.read_text().split()) == 1  # the script ran once, not once per worker


def test_a_script_on_stdin_can_use_a_pool() -> None:
    code = (
        "import os\nfrom kilo.workers import process_pool\n"
        "p = process_pool(1)\nprint(p.submit(os.getpid).result() != os.getpid())\n"
    )
    out = subprocess.run(
        [sys.executable, "-"], input=code, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"


def test_decoding_workers_start_light() -> None:
    """What a decoding worker imports (the fork server's preload and the asset.process
    compute) stays free of the catalog, pydantic and torch: that is what makes a pool start
    in a fraction of a second."""
    code = (
        "import sys, importlib\n"
        "from kilo.workers import DEFAULT_PRELOAD\n"
        "for m in DEFAULT_PRELOAD: importlib.import_module(m)\n"
        "import kilo.ingest.process, kilo.workers\n"
        "heavy = {'duckdb', 'pydantic', 'pydantic_settings', 'torch', 'kilo.catalog',\n"
        "         'kilo.jobs'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
