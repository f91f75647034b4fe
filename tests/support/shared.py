"""What the tests read from outside the repository: ``../shared`` beside the clone holds the
wider photo set (``photos/``) and the HTTP contract (``openapi.yaml``). A clone alone has
neither; the tests that need them are marked (``shared_photos``, ``contract``) and skipped
with the reason, unless ``KILO_REQUIRE_SHARED=1`` (CI) makes a missing folder a failure.
``KILO_TEST_PHOTOS`` points the photo set elsewhere (a missing path runs those tests as a lone
clone would)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
#: the demo's photos and the few more the tests need; ``photos_dir`` gathers both
EXAMPLES = REPO_ROOT / "examples" / "photos"
TEST_PHOTOS = REPO_ROOT / "tests" / "photos"
SHARED = REPO_ROOT.parent / "shared"
SHARED_PHOTOS = Path(os.environ.get("KILO_TEST_PHOTOS", SHARED / "photos"))
CONTRACT = SHARED / "openapi.yaml"


def require_shared(path: Path, what: str, *, module: bool = False) -> Path:
    """``path`` if it exists; otherwise skip the test (or, ``module``, the module being
    imported), or fail it under KILO_REQUIRE_SHARED=1."""
    if path.exists():
        return path
    message = f"needs {what} at {path}, outside the clone"
    if os.environ.get("KILO_REQUIRE_SHARED") == "1":
        pytest.fail(message)
    pytest.skip(message, allow_module_level=module)
