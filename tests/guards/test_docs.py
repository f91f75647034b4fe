"""The docs stay true: the CLI reference is generated from --help, CI runs the README's test
command, and each capability has its page."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_cli_reference_is_current() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_cli_reference.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, (
        "docs/cli.md is stale: run .venv/bin/python scripts/gen_cli_reference.py"
    )


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"<!-- test-command -->\n```bash\n(.+)\n```", readme)
    assert match, "README lacks the marked test command"
    ci = (ROOT / ".ci" / "run").read_text()
    assert "<!-- test-command -->" in ci and 'bash -c "$test_cmd"' in ci
    # the README's run leaves the slow tests out, on every core; CI runs them after it
    assert '-m "not slow"' in match[1] and "-n auto" in match[1], match[1]
    assert "pytest -n auto -m slow" in ci and 'bash -c "$slow_cmd"' in ci


def test_readme_starts_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.+?)\n```", readme, flags=re.S)
    assert blocks[0].startswith("bash scripts/setup.sh && bash examples/demo.sh")
    assert blocks[1].startswith("bash scripts/setup.sh && ")


def test_architecture_page_lists_every_table() -> None:
    from kilo.catalog import open_catalog
    from kilo.settings import load_settings

    cat = open_catalog(load_settings(), memory=True)
    try:
        tables = {
            r[0]
            for r in cat.fetchall(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            )
        }
    finally:
        cat.close()
    page = (ROOT / "docs" / "architecture.md").read_text()
    missing = sorted(t for t in tables if f"`{t}`" not in page)
    assert not missing, f"docs/architecture.md does not describe {missing}"


def test_architecture_page_lists_every_command() -> None:
    """The command table of docs/architecture.md names each command and its module, as
    kilo_cli.main.COMMANDS has them."""
    from kilo_cli.main import COMMANDS

    page = (ROOT / "docs" / "architecture.md").read_text()
    rows = dict(re.findall(r"^\| `([a-z]+)` \| `([a-z_]+)\.py` \|", page, flags=re.M))
    assert rows == {name: module for name, (module, _) in COMMANDS.items()}
    for module in set(rows.values()):
        assert (ROOT / "cli" / "kilo_cli" / "commands" / f"{module}.py").is_file()


def test_readme_python_quick_start_runs(tmp_path: Path) -> None:
    """The README's Python block, run as a user's script (no __main__ guard), on the examples."""
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"## Python quick start\n\n```python\n(.+?)\n```", readme, flags=re.S)
    assert match, "README lacks the Python quick start"
    code = match.group(1).replace('"/media/card/DCIM"', repr(str(ROOT / "examples" / "photos")))
    script = tmp_path / "quickstart.py"
    script.write_text(code)
    env = {**os.environ, "KILO_HOME": str(tmp_path / "home"), "KILO_CLIP_ENABLED": "false"}
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=600
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "'ready': 9" in out.stdout
    assert "duplicate_group" in out.stdout and "Least compressed copy" in out.stdout


def test_readme_shows_the_current_root_help() -> None:
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"<!-- root-help -->\n```text\n(.+?)\n```", readme, flags=re.S)
    assert match, "README lacks the kilo --help block"
    current = (ROOT / "cli" / "kilo_cli" / "root_help.txt").read_text().rstrip()
    assert match.group(1) == current, "README's kilo --help block is stale"


def test_architecture_page_maps_the_whole_tree() -> None:
    """ "The tree" of docs/architecture.md has one row per entry of src/kilo (a package as
    `name/`, a module as `name`), no more and no fewer, so the map cannot drift from the
    folders; and every module a row names inside a package exists."""
    page = (ROOT / "docs" / "architecture.md").read_text()
    section = page.split("## The tree", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([a-z_]+/?)` \| (.*) \|$", section, flags=re.M)
    src = ROOT / "src" / "kilo"
    entries = {
        p.name + "/" if p.is_dir() else p.stem
        for p in src.iterdir()
        if not p.name.startswith(("_", ".")) and (p.is_dir() or p.suffix == ".py")
    }
    assert sorted(name for name, _ in rows) == sorted(entries)
    for name, text in rows:
        if not name.endswith("/"):
            continue
        for module in re.findall(r"`([a-z_]+)`", text):
            here = src / name / module
            if here.with_suffix(".py").is_file() or here.is_dir():
                continue
            # a name that is not a module of this package must not look like one
            assert module not in {"jobs", "queue", "tables", "xmp", "store"}, (name, module)


def test_python_examples_in_the_docs_name_what_kilo_has() -> None:
    """Every ``kilo.name`` and ``from kilo.x import y`` in a ```python block of the docs
    exists (docs/scale-out.md once called ``kilo.ingest(...)``, which ``import kilo`` does
    not give)."""
    import importlib

    import kilo

    wrong = []
    for page in [*sorted((ROOT / "docs").rglob("*.md")), ROOT / "README.md"]:
        for block in re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S):
            code = re.sub(r"^\s*(from|import) .*$", "", block, flags=re.M)
            for name, call in re.findall(r"(?<![\w.])kilo\.([a-z_]\w*)\b(?!\.)(\()?", code):
                # kilo.ingest is a package: an attribute, but calling it fails
                found = getattr(kilo, name, None)
                if found is None or (call and not callable(found)):
                    wrong.append(f"{page.name}: kilo.{name}")
            for module, names in re.findall(r"^from (kilo[\w.]*) import ([\w, ]+)$", block, re.M):
                mod = importlib.import_module(module)
                wrong += [
                    f"{page.name}: from {module} import {n.strip()}"
                    for n in names.split(",")
                    if not hasattr(mod, n.strip())
                ]
    assert not wrong, wrong
