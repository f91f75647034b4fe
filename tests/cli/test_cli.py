"""The CLI: JSON on stdout, messages on stderr, exit codes from the error tree, help for all."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import typer

from kilo_cli.main import app, main
from support.cli import run

GOLDEN = Path(__file__).parents[1] / "golden"


def test_project_create_json_prints_the_project(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "project", "create", "Smith wedding", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert uuid.UUID(data["id"]) and data["title"] == "Smith wedding"
    code, out, _ = run(capsys, "project", "list", "--json")
    assert [p["id"] for p in json.loads(out)] == [data["id"]]


def test_listings_print_json_arrays_and_the_next_cursor_on_stderr(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for title in ("A", "B", "C"):
        assert run(capsys, "project", "create", title)[0] == 0
    code, out, err = run(capsys, "project", "list", "--limit", "2", "--json")
    assert code == 0 and [p["title"] for p in json.loads(out)] == ["C", "B"]
    cursor = re.search(r"more: --cursor (\S+)", err)
    assert cursor is not None
    code, out, err = run(capsys, "project", "list", "--limit", "2", "--cursor", cursor[1], "--json")
    assert code == 0 and [p["title"] for p in json.loads(out)] == ["A"] and "more" not in err
    code, out, err = run(capsys, "project", "list", "--limit", "1", "--all", "--json")
    assert [p["title"] for p in json.loads(out)] == ["C", "B", "A"] and "more" not in err
    for listing in (
        ["assets", "list", "A"],
        ["jobs", "list", "A"],
        ["clusters", "list", "A"],
        ["exports", "list"],
        ["collections", "list"],
    ):
        code, out, _ = run(capsys, *listing, "--json")
        assert code == 0 and json.loads(out) == [], listing


def test_messages_go_to_stderr_and_data_to_stdout(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "project", "create", "Quiet")
    assert code == 0
    assert "created project" in err and "created project" not in out
    assert "Quiet" in out


def test_show_golden(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(
        capsys,
        "project",
        "create",
        "Golden shoot",
        "--description",
        "Barn",
        "--shoot-date",
        "2026-06-20",
        "--timezone",
        "Europe/Paris",
    )
    code, out, _ = run(capsys, "project", "show", "golden shoot")
    assert code == 0
    normalized = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "<uuid>", out)
    normalized = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", "<time>", normalized)
    expected = (GOLDEN / "project_show.txt").read_text()
    assert normalized == expected


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["project", "show", str(uuid.UUID(int=7))], 2, "no project"),
        (["project", "show", "not-there"], 2, "no project"),
        (["project", "list", "--limit", "0"], 2, "limit"),
        (["project", "list", "--limit", "201"], 2, "limit"),
        (["project", "list", "--cursor", "garbage!"], 2, "cursor"),
        (["project", "create", ""], 2, "title"),
        (["project", "create", "x" * 501], 2, "title"),
        (["project", "create", "T", "--shoot-date", "20-06-2026"], 2, "YYYY-MM-DD"),
        (["project", "nope"], 2, "No such command"),
        (["assets", "list", "X", "--rating-min", "9"], 2, "'--rating-min': Input should be less"),
        (["search", "X", "bride", "--rating-min", "0"], 2, "'--rating-min': Input should be gr"),
    ],
)
def test_bad_input_gives_one_line_and_exit_2(
    home: Path, capsys: pytest.CaptureFixture[str], args: list[str], code: int, needle: str
) -> None:
    got, out, err = run(capsys, *args)
    assert got == code
    assert needle in err
    assert out == ""
    assert "Traceback" not in err


def test_catalog_errors_exit_1_without_losing_the_file(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home.mkdir(parents=True)
    (home / "catalog.duckdb").write_bytes(b"not a database")
    code, _, err = run(capsys, "project", "list")
    assert code == 1
    assert "catalog" in err and "Traceback" not in err
    assert (home / "catalog.duckdb").read_bytes() == b"not a database"


def _commands(group: Any, prefix: str = "") -> list[tuple[str, Any]]:
    found = []
    ctx = typer.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        assert cmd is not None
        found.append((f"{prefix}{name}", cmd))
        if hasattr(cmd, "list_commands"):
            found += _commands(cmd, f"{prefix}{name} ")
    return found


def test_every_command_has_help() -> None:
    root = typer.main.get_command(app)
    assert hasattr(root, "list_commands")
    commands = _commands(root)
    assert commands
    lacking = [name for name, cmd in commands if not (cmd.help or cmd.short_help or "").strip()]
    assert not lacking, f"commands without help: {lacking}"
    for name, cmd in commands:
        for param in cmd.params:
            if param.param_type_name == "option" and not getattr(param, "hidden", False):
                assert (param.help or "").strip(), f"kilo {name} {param.opts[0]} lacks help"


def test_console_script_version_and_help(home: Path) -> None:
    exe = Path(sys.executable).with_name("kilo")
    env = {**os.environ, "KILO_HOME": str(home)}
    out = subprocess.run(
        [str(exe), "--version"], capture_output=True, text=True, env=env, timeout=60
    )
    assert out.returncode == 0 and out.stdout.startswith("kilo ")
    helped = subprocess.run(
        [str(exe), "--help"], capture_output=True, text=True, env=env, timeout=60
    )
    assert helped.returncode == 0 and "project" in helped.stdout


def test_closed_pipe_exits_quietly(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    exe = Path(sys.executable).with_name("kilo")
    env = {**os.environ, "KILO_HOME": str(home)}
    for i in range(60):
        assert run(capsys, "project", "create", f"P{i}")[0] == 0
    shell = f"'{exe}' project list --json --limit 200 | head -c 10"
    out = subprocess.run(shell, shell=True, capture_output=True, text=True, env=env, timeout=60)
    assert "Traceback" not in out.stderr


def test_command_registry_matches_the_commands() -> None:
    """`kilo --help` lists COMMANDS without importing the modules; they must agree."""
    from kilo_cli.main import COMMANDS

    modules = {
        p.stem
        for p in (Path(__file__).parents[2] / "cli" / "kilo_cli" / "commands").glob("*.py")
        if not p.stem.startswith("_")
    }
    assert {module for module, _ in COMMANDS.values()} == modules
    root = typer.main.get_command(app)
    ctx = typer.Context(root)
    for name, (_, text) in COMMANDS.items():
        cmd = root.get_command(ctx, name)
        assert cmd is not None, name
        first = " ".join((cmd.help or "").split("\n\n")[0].split())
        assert first == text, f"COMMANDS[{name!r}] says {text!r}, the command {first!r}"


def test_help_imports_no_command_module() -> None:
    code = (
        "import sys\nfrom kilo_cli.main import main\nmain(['--help'])\n"
        "print(sorted(m for m in sys.modules if m.startswith('kilo_cli.commands.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip().endswith("[]"), out.stdout[-300:]


def test_fast_root_help_is_the_apps_own_help(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`kilo --help` prints root_help.txt without importing Typer; it must be current."""
    from kilo_cli.entry import ROOT_HELP

    monkeypatch.setenv("COLUMNS", "80")
    assert main(["--help"]) == 0
    assert capsys.readouterr().out == ROOT_HELP.read_text(encoding="utf-8")
    exe = Path(sys.executable).with_name("kilo")
    code = (
        "import sys, runpy; sys.argv = ['kilo', '--help']; "
        "from kilo_cli.entry import main; main(); print('typer' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.endswith("False\n") and out.stdout.startswith("Usage: kilo")
    assert exe.exists()


def test_jobs_run_runs_what_ingest_no_process_left_and_retry_requeues(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    examples = Path(__file__).parents[2] / "examples" / "photos"
    code, _, err = run(capsys, "ingest", str(examples), "-p", "Queued", "--create", "--no-process")
    assert code == 0, err
    code, out, _ = run(capsys, "jobs", "list", "Queued", "--status", "queued", "--json")
    queued = json.loads(out)
    assert queued and {j["type"] for j in queued} == {"asset.process"}
    code, out, err = run(capsys, "jobs", "run", "Queued", "--json")
    assert code == 0, err
    assert json.loads(out)["done"] == len(queued) and json.loads(out)["failed"] == 0
    code, out, _ = run(capsys, "assets", "list", "Queued", "--json")
    assert {a["state"] for a in json.loads(out)} == {"ready"}
    # a failed job (as a run that gave up leaves it) goes back to the queue, then runs
    from kilo.catalog import open_catalog
    from kilo.settings import load_settings

    with open_catalog(load_settings(home=home)) as cat:
        cat.execute(
            "UPDATE jobs SET status = 'failed', attempts = 3, error = 'disk full' WHERE id = ?",
            [queued[0]["id"]],
        )
    code, _, err = run(capsys, "jobs", "retry", queued[0]["id"][:8])
    assert code == 0 and "kilo jobs run" in err
    code, _, err = run(capsys, "jobs", "retry", queued[1]["id"][:8])
    assert code == 2 and "only failed or canceled jobs retry" in err and err.count("\n") == 1
    code, out, _ = run(capsys, "jobs", "run", "Queued", "--json")
    assert code == 0 and json.loads(out)["done"] == 1
    code, out, _ = run(capsys, "jobs", "run", "Queued")
    assert code == 0


def test_the_no_clip_notice_is_said_in_full_once_per_library(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "project", "create", "Notes")
    code, _, first = run(capsys, "search", "Notes", "flowers")
    assert code == 0 and "needs a CLIP model" in first and "KILO_CLIP_CHECKPOINT" in first
    code, _, again = run(capsys, "search", "Notes", "flowers")
    assert code == 0 and "needs a CLIP model" in again and "KILO_CLIP_CHECKPOINT" not in again
    assert "shown once" in again and len(again) < len(first) - 300


def test_search_takes_a_lone_project_name_with_filters_and_cameras_by_any_part(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    examples = Path(__file__).parents[2] / "examples" / "photos"
    code, _, err = run(capsys, "ingest", str(examples), "-p", "Shoot only", "--create")
    assert code == 0, err
    run(capsys, "cull", "apply", "Shoot only", "--pick", "cv_leuvenA.jpg")
    _, out, _ = run(capsys, "assets", "list", "Shoot only", "--json")
    name = {a["id"]: a["filename"] for a in json.loads(out)}

    def found(*args: str) -> set[str]:
        code, out, err = run(capsys, "search", *args, "--json")
        assert code == 0, err
        return {name[r["assetId"]] for r in json.loads(out)["results"]}

    # one argument naming a project, with a filter: the project's picks (not the text)
    assert found("Shoot only", "--picked") == {"cv_leuvenA.jpg"}
    # --camera alone is a query; it matches any part of make and model, in any case
    iphones = found("--camera", "iphone")
    assert {"cv_leuvenA.jpg", "cv_leuvenB.jpg"} <= iphones
    assert found("Shoot only", "--camera", "APPLE") == iphones
    # a word that is no project's name stays the text searched for
    code, out, _ = run(capsys, "search", "leuven", "--picked", "--json")
    assert code == 0


def test_a_photo_without_a_capture_time_is_listed_as_undated(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file with no EXIF has only its file time, which is when it was copied, not shot:
    tables say "undated (file ...)" and `assets show` says "captured  undated" and labels the
    time as the file's."""
    from PIL import Image

    card = tmp_path / "card"
    card.mkdir()
    Image.new("RGB", (640, 480), (90, 120, 150)).save(card / "scan.png")
    code, _, err = run(capsys, "ingest", str(card), "-p", "Scans", "--create")
    assert code == 0, err
    code, out, _ = run(capsys, "assets", "list", "Scans")
    assert "undated" in out
    code, out, _ = run(capsys, "assets", "show", "scan.png")
    assert re.search(r"^file time\s+20", out, re.M) and re.search(
        r"^captured\s+undated$", out, re.M
    )
    code, out, _ = run(capsys, "assets", "show", "scan.png", "--json")
    assert json.loads(out)["capturedAtSource"] == "file_mtime"
