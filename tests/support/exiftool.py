"""exiftool (Debian's libimage-exiftool-perl) as the independent XMP reader of the tests."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

#: skips a module's tests where exiftool is missing (scripts/setup.sh installs it)
needs_exiftool = pytest.mark.skipif(
    shutil.which("exiftool") is None, reason="exiftool not installed (scripts/setup.sh does)"
)


def exiftool(*paths: Path) -> list[dict[str, Any]]:
    """What exiftool reads of the XMP of each file (numbers as numbers), in order."""
    out = subprocess.run(
        ["exiftool", "-j", "-n", "-XMP:all", *map(str, paths)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    found: list[dict[str, Any]] = json.loads(out.stdout)
    return found
