"""Shared fixtures: a fresh library home, an open catalog, a project, the test photos."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kilo.catalog import Catalog, open_catalog
from kilo.models import Project
from kilo.projects import create_project
from kilo.settings import Settings, load_settings

REPO_ROOT = Path(__file__).resolve().parents[1]
PHOTOS = Path(os.environ.get("KILO_TEST_PHOTOS", REPO_ROOT.parent / "shared" / "photos"))


@pytest.fixture(scope="session")
def photos_dir() -> Path:
    """The real test photographs (``../shared/photos``); never copied into the repo."""
    if not PHOTOS.is_dir():
        pytest.fail(f"test photos not found at {PHOTOS} (set KILO_TEST_PHOTOS)")
    return PHOTOS


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
