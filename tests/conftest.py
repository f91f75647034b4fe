"""Shared fixtures: a fresh library home, an open catalog, a project, the test photos.

Photos: ``photos_dir`` is the set inside the repository (``examples/photos`` and
``tests/photos``, copied into one folder per session), so a clone runs every test that takes
it. ``shared_photos_dir`` is the wider set of ``../shared/photos``; a test that takes it is
marked ``shared_photos`` and skipped when the folder is missing (see support/shared.py).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from kilo.catalog import Catalog, open_catalog
from kilo.models import Project
from kilo.projects import create_project
from kilo.settings import Settings, load_settings
from support.shared import CONTRACT, EXAMPLES, SHARED_PHOTOS, TEST_PHOTOS, require_shared


@pytest.hookimpl(tryfirst=True)  # before -m deselects by markers
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that takes ``shared_photos_dir`` carries the ``shared_photos`` marker, so
    ``-m "not shared_photos"`` leaves out exactly the tests that need the wider set."""
    for item in items:
        if "shared_photos_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.shared_photos)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("shared_photos") is not None:
        require_shared(SHARED_PHOTOS, "the wider photo set (../shared/photos)")
    if item.get_closest_marker("contract") is not None:
        require_shared(CONTRACT, "the HTTP contract (../shared/openapi.yaml)")


@pytest.fixture(scope="session")
def photos_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The photos inside the repository, in one folder of this session (each xdist worker
    has its own; nothing a test writes beside them reaches the repository)."""
    folder = tmp_path_factory.mktemp("photos")
    for source in (EXAMPLES, TEST_PHOTOS):
        for path in source.iterdir():
            if path.suffix != ".md":
                shutil.copy2(path, folder / path.name)
    return folder


@pytest.fixture(scope="session")
def shared_photos_dir() -> Path:
    """The wider photo set (``../shared/photos``: large camera files, RAW, MPO, people)."""
    return require_shared(SHARED_PHOTOS, "the wider photo set (../shared/photos)")


@pytest.fixture(autouse=True)
def _private_default_library(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reaches the user's library (or another xdist worker's): KILO_HOME is a fresh
    folder for each test; ``home`` below names one inside the test's tmp_path instead."""
    monkeypatch.setenv("KILO_HOME", str(tmp_path_factory.mktemp("default-home")))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh library folder; KILO_HOME points at it for code that reads the environment."""
    path = tmp_path / "home"
    monkeypatch.setenv("KILO_HOME", str(path))
    monkeypatch.delenv("KILO_STORE", raising=False)
    monkeypatch.setenv("KILO_CLIP_ENABLED", "false")
    return path


@pytest.fixture
def settings(home: Path) -> Settings:
    return load_settings(home=home, workers=2, clip_enabled=False)


@pytest.fixture
def catalog(settings: Settings) -> Iterator[Catalog]:
    cat = open_catalog(settings)
    try:
        yield cat
    finally:
        cat.close()


@pytest.fixture
def project(catalog: Catalog) -> Project:
    return create_project(catalog, "Test shoot")
