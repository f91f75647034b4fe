"""kilo.measure.embed: loading CLIP weights (tiny real open_clip model), status messages, the
project.embed job."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kilo.catalog import Catalog, open_catalog
from kilo.errors import ModelUnavailable
from kilo.measure.embed import embedder_status, load_embedder, require_embedder
from kilo.measure.embed.clip import forget_loaded
from kilo.measure.embed.handlers import embed_project
from kilo.measure.embed.vectors import read_vectors, vector_count
from kilo.projects import create_project
from kilo.search.index import open_index
from kilo.settings import Settings, load_settings
from support import clip as support_clip
from support.clip import TINY_CFG
from support.search_assets import insert_asset, make_previews

# the tiny CLIP fixtures of tests/support/clip.py
tiny_clip_checkpoint = support_clip.tiny_clip_checkpoint
clip_settings = support_clip.clip_settings
fresh_clip_caches = support_clip.fresh_clip_caches  # autouse


def test_import_kilo_does_not_import_torch() -> None:
    code = (
        "import sys, kilo, kilo.measure.embed, kilo.measure.embed.handlers, kilo.search; "
        "assert 'torch' not in sys.modules and 'open_clip' not in sys.modules, 'heavy import'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_tiny_checkpoint_loads_and_embeds(clip_settings: Settings, shared_photos_dir: Path) -> None:
    emb = load_embedder(clip_settings)
    assert emb is not None
    assert emb.model_id.startswith("open_clip:kilo-tiny-64:sha256-")
    assert emb.dim == TINY_CFG["embed_dim"]
    images = [
        Image.open(shared_photos_dir / n).convert("RGB") for n in ("flower.png", "mate_Dune.jpg")
    ]
    vecs = emb.embed_images(images)
    assert vecs.shape == (2, 64) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, rtol=1e-5)
    # deterministic: the same image gives the same vector, different images differ
    again = emb.embed_images(images[:1])
    np.testing.assert_allclose(again[0], vecs[0], atol=1e-5)
    assert not np.allclose(vecs[0], vecs[1])
    texts = emb.embed_texts(["a flower", "sand dunes", "a flower"])
    assert texts.shape == (3, 64)
    np.testing.assert_allclose(texts[0], texts[2], atol=1e-6)
    # the model id is stable across loads (it names the checkpoint's content)
    forget_loaded()
    again_emb = load_embedder(clip_settings)
    assert again_emb is not None and again_emb.model_id == emb.model_id
    assert "ready" in embedder_status(clip_settings)


def test_open_clip_folder_layout_loads(tmp_path: Path, tiny_clip_checkpoint: Path) -> None:
    import torch

    folder = tmp_path / "tiny-folder"
    folder.mkdir()
    ckpt = torch.load(tiny_clip_checkpoint, weights_only=True)
    (folder / "open_clip_config.json").write_text(
        json.dumps({"model_cfg": TINY_CFG, "preprocess_cfg": {}}), encoding="utf-8"
    )
    torch.save(ckpt["state_dict"], folder / "open_clip_pytorch_model.bin")
    settings = load_settings(home=tmp_path / "h", clip_enabled=True, clip_checkpoint=folder)
    emb = load_embedder(settings)
    assert emb is not None and emb.dim == 64
    assert emb.model_id.startswith("open_clip:tiny-folder:sha256-")


def test_disabled_clip_says_so(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path, clip_enabled=False)
    assert load_embedder(settings) is None
    status = embedder_status(settings)
    assert "KILO_CLIP_ENABLED" in status and "KILO_CLIP_CHECKPOINT" in status


def test_uncached_pretrained_tag_fails_fast_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty hub cache
    settings = load_settings(
        home=tmp_path, clip_enabled=True, clip_model="ViT-B-32", clip_pretrained="laion2b_s34b_b79k"
    )
    started = time.monotonic()
    assert load_embedder(settings) is None
    status = embedder_status(settings)
    assert time.monotonic() - started < 30  # generous: the point is no minute-long retries
    assert "HF_HUB_OFFLINE" in status and "not in open_clip's cache" in status
    assert "KILO_CLIP_CHECKPOINT" in status
    with pytest.raises(ModelUnavailable, match="KILO_CLIP_CHECKPOINT"):
        require_embedder(settings)


@pytest.mark.parametrize("content", [None, b"not a torch checkpoint"])
def test_bad_checkpoint_is_reported(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "weights.pt"
    if content is not None:
        path.write_bytes(content)
    settings = load_settings(home=tmp_path / "h", clip_enabled=True, clip_checkpoint=path)
    assert load_embedder(settings) is None
    status = embedder_status(settings)
    assert str(path) in status
    assert ("does not exist" in status) == (content is None)


def _project_with_previews(
    catalog: Catalog, shared_photos_dir: Path, tmp_path: Path
) -> tuple[str, list[str]]:
    project = create_project(catalog, "Embed shoot")
    previews = make_previews(shared_photos_dir, tmp_path / "previews")
    ids = [
        insert_asset(catalog, project.id, filename=p.name.split(".preview")[0], preview=p)
        for p in previews
    ]
    return project.id, ids


def test_embed_job_embeds_every_asset_once(
    clip_settings: Settings, shared_photos_dir: Path, tmp_path: Path
) -> None:
    with open_catalog(clip_settings) as cat:
        pid, ids = _project_with_previews(cat, shared_photos_dir, tmp_path)
        no_preview = insert_asset(cat, pid, filename="pending.jpg")
        broken = tmp_path / "broken.jpg"
        broken.write_bytes(b"\xff\xd8 truncated")
        bad = insert_asset(cat, pid, filename="broken.jpg", preview=broken)
        summary = embed_project(cat, pid)
        emb = load_embedder(clip_settings)
        assert emb is not None
        assert summary["embedded"] == len(ids)
        assert summary["noPreview"] == 1
        assert [f["assetId"] for f in summary["failed"]] == [bad]
        got, vecs = read_vectors(cat, emb.model_id)
        assert sorted(got) == sorted(ids) and no_preview not in got
        # the stored vector is the model's vector of the preview
        preview = cat.scalar(
            "SELECT uri FROM asset_files WHERE asset_id = ? AND kind = 'preview'", [ids[0]]
        )
        direct = emb.embed_images([Image.open(preview).convert("RGB")])[0]
        assert float(vecs[got.index(ids[0])] @ direct) > 0.999
        # the job result is a summary, never the vectors
        stored = cat.scalar("SELECT CAST(result AS VARCHAR) FROM jobs WHERE type = 'project.embed'")
        assert "_vectors" not in stored and len(stored) < 2000
        # the vectors were added to the search index as they were written
        idx = open_index(cat, emb.model_id)
        assert idx is not None and set(idx.labels) == set(ids)
        # running again embeds nothing new
        again = embed_project(cat, pid)
        assert again["embedded"] == 0
        assert vector_count(cat, emb.model_id) == len(ids)


def test_embed_job_without_weights_warns_and_succeeds(
    settings: Settings, shared_photos_dir: Path, tmp_path: Path
) -> None:
    with open_catalog(settings) as cat:
        pid, _ = _project_with_previews(cat, shared_photos_dir, tmp_path)
        summary = embed_project(cat, pid)
        assert summary["embedded"] == 0
        assert "No CLIP model" in (summary["warning"] or "")
        status = cat.scalar("SELECT status FROM jobs WHERE type = 'project.embed'")
        assert status == "done"
        assert cat.scalar("SELECT count(*) FROM embeddings") == 0


def test_embed_job_continues_in_follow_up_jobs(
    clip_settings: Settings,
    shared_photos_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import kilo.measure.embed.handlers as jobs_mod

    monkeypatch.setattr(jobs_mod, "MAX_PER_JOB", 2)
    with open_catalog(clip_settings) as cat:
        pid, ids = _project_with_previews(cat, shared_photos_dir, tmp_path)
        summary = embed_project(cat, pid)
        assert summary["embedded"] == len(ids)
        n_jobs = cat.scalar("SELECT count(*) FROM jobs WHERE type = 'project.embed'")
        assert n_jobs == (len(ids) + 1) // 2


def test_no_weights_is_known_without_importing_torch(tmp_path: Path) -> None:
    """Metadata-only search must not pay for a torch import (seconds) to learn there is no
    model: an empty cache and no network are detected first."""
    import os
    import subprocess
    import sys

    code = (
        "import sys\nfrom kilo.settings import load_settings\nfrom kilo.measure.embed import "
        "load_embedder, embedder_status\ns = load_settings(home=sys.argv[1])\n"
        "print(load_embedder(s) is None, 'torch' in sys.modules)\nprint(embedder_status(s))\n"
    )
    env = {
        **os.environ,
        "HF_HOME": str(tmp_path / "hf"),
        "HF_HUB_OFFLINE": "1",
        "KILO_CLIP_ENABLED": "true",
    }
    env.pop("KILO_CLIP_CHECKPOINT", None)
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "home")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    first, status = out.stdout.splitlines()[:2]
    assert first == "True False"
    assert "HF_HUB_OFFLINE" in status
