"""Write the server's own OpenAPI description (the contract's operations and the
``/v1/x-kilo/`` extensions, as ``GET /v1/openapi.json`` serves it) to ``web/openapi.json``,
deterministically (sorted keys, two-space indent, no timestamps): the web app generates its
TypeScript client from that file.

Run: .venv/bin/python scripts/dump_openapi.py [--check] [--out PATH]
(``--check``: exit 1 when the file is not what the server says; tests/server checks it)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "web" / "openapi.json"


def render() -> str:
    """The description as the file's text."""
    from kilo.settings import load_settings
    from kilo_server import create_app

    with tempfile.TemporaryDirectory() as home:  # no library is opened: only its settings
        app = create_app(load_settings(home=Path(home), clip_enabled=False), run_jobs=False)
        schema: dict[str, Any] = app.openapi()
    return json.dumps(schema, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="Compare; write nothing.")
    parser.add_argument("--out", type=Path, default=TARGET, help="Where to write.")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.is_file() else ""
        if current != text:
            print(f"{args.out} is out of date: run scripts/dump_openapi.py", file=sys.stderr)
            return 1
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
