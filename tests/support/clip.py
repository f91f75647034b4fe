"""A tiny randomly initialised open_clip model, saved once per session as a checkpoint file.

Real CLIP weights cannot be downloaded here, so tests run the real open_clip code path on a
64-dim model (two-layer vision and text towers). Its rankings mean nothing; the plumbing
(loading, preprocessing, batching, tokenising, normalising) is the real one.

Use (module attributes, so that test arguments of the same names do not shadow imports)::

    from support import clip as support_clip

    tiny_clip_checkpoint = support_clip.tiny_clip_checkpoint
    clip_settings = support_clip.clip_settings
    fresh_clip_caches = support_clip.fresh_clip_caches  # autouse: runs for every test
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kilo.settings import Settings, load_settings

TINY_ARCH = "kilo-tiny-64"
TINY_CFG: dict[str, Any] = {
    "embed_dim": 64,
    "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "patch_size": 16, "head_width": 32},
    "text_cfg": {"context_length": 32, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}


def build_tiny_checkpoint(path: Path, *, seed: int = 0) -> Path:
    """Build the tiny model with a fixed seed and save kilo's self-describing checkpoint."""
    import copy

    import open_clip
    import torch

    from kilo.measure.embed.clip import save_checkpoint

    torch.manual_seed(seed)
    model = open_clip.CLIP(**copy.deepcopy(TINY_CFG))
    return save_checkpoint(model, copy.deepcopy(TINY_CFG), path, arch=TINY_ARCH)


@pytest.fixture(scope="session")
def tiny_clip_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_checkpoint(tmp_path_factory.mktemp("clip") / "tiny_clip.pt")


@pytest.fixture
def clip_settings(
    home: Path, tiny_clip_checkpoint: Path, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """Settings of a fresh home with CLIP enabled on the tiny checkpoint."""
    monkeypatch.setenv("KILO_CLIP_ENABLED", "true")
    monkeypatch.setenv("KILO_CLIP_CHECKPOINT", str(tiny_clip_checkpoint))
    return load_settings(
        home=home, workers=2, clip_enabled=True, clip_checkpoint=tiny_clip_checkpoint
    )


@pytest.fixture(autouse=True)
def fresh_clip_caches() -> None:
    """Forget loaded CLIP models and open search indexes (process-wide caches) before each
    test of a module that takes these fixtures."""
    from kilo.measure.embed.clip import forget_loaded
    from kilo.search.index import forget_indexes

    forget_loaded()
    forget_indexes()
