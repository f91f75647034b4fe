"""The CLIP embedder, on open_clip.

Where the weights come from (``Settings``):

* ``clip_checkpoint``: a local file or folder, wins over the tag. A folder is open_clip's own
  layout (``open_clip_config.json`` + weights, what ``hf-hub:`` repos hold). A file is either a
  plain open_clip state dict for the ``clip_model`` architecture, or kilo's self-describing
  checkpoint ``{"model_cfg": ..., "state_dict": ..., "arch": ...}`` (see
  :func:`save_checkpoint`), which carries its own architecture.
* ``clip_model`` + ``clip_pretrained``: an open_clip pretrained tag, read from open_clip's
  normal cache (the Hugging Face hub cache). When it is not cached, ``HF_HUB_OFFLINE`` makes us
  stop at once; otherwise a two-second probe of the hub decides whether a download is even
  tried, so an offline machine fails fast instead of retrying for a minute.

torch and open_clip are imported inside functions: ``import kilo`` never pays for them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import numpy as np

from kilo.errors import ModelUnavailable
from kilo.settings import Settings

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from PIL import Image

HUB_PROBE_TIMEOUT_S = 2.0
IMAGE_BATCH = 32
TEXT_BATCH = 256
HOW_TO_GET_ONE = (
    "To get one: on a machine with network, run any kilo command that embeds once with "
    "KILO_CLIP_MODEL=ViT-B-32 KILO_CLIP_PRETRAINED=laion2b_s34b_b79k (open_clip downloads "
    "about 600 MB into its cache, ~/.cache/huggingface), or set KILO_CLIP_CHECKPOINT to a "
    "local open_clip checkpoint (a weights file for KILO_CLIP_MODEL, or a folder holding "
    "open_clip_config.json and the weights)."
)


@dataclass(frozen=True, slots=True)
class _Loaded:
    model: Any
    preprocess: Any
    tokenizer: Any
    arch: str
    image_size: int


class ClipEmbedder:
    """An open_clip model ready to embed images and texts (L2-normalised float32 rows)."""

    def __init__(self, loaded: _Loaded, model_id: str, threads: int) -> None:
        self._m = loaded
        self.model_id = model_id
        self.arch = loaded.arch
        self.threads = threads
        self._lock = threading.Lock()
        self.dim = int(self._embed_texts_raw(["a photo"]).shape[1])

    @property
    def image_size(self) -> int:
        """Input side of the vision tower (previews are shrunk towards this before use)."""
        return self._m.image_size

    def embed_images(self, images: list[Image.Image]) -> np.ndarray:
        """One L2-normalised row per image (RGB PIL images of any size)."""
        import torch

        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        out: list[np.ndarray] = []
        with self._lock, torch.inference_mode():
            for start in range(0, len(images), IMAGE_BATCH):
                chunk = images[start : start + IMAGE_BATCH]
                batch = torch.stack(
                    [self._m.preprocess(_prepare(im, self.image_size)) for im in chunk]
                )
                feats = self._m.model.encode_image(batch)
                out.append(feats.float().numpy())
        return _normalize(np.concatenate(out))

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        """One L2-normalised row per text."""
        with self._lock:
            return self._embed_texts_raw(texts)

    def _embed_texts_raw(self, texts: list[str]) -> np.ndarray:
        import torch

        if not texts:
            return np.zeros((0, getattr(self, "dim", 0)), dtype=np.float32)
        out: list[np.ndarray] = []
        # A query or two is latency-bound: one thread avoids OpenMP spin-waits fighting
        # DuckDB's and hnswlib's threads (measured 2 ms vs up to 60 ms on 2 busy cores).
        threads = 1 if len(texts) <= 4 else self.threads
        previous = torch.get_num_threads()
        if threads != previous:
            torch.set_num_threads(threads)
        try:
            return self._encode_texts(texts, out)
        finally:
            if threads != previous:
                torch.set_num_threads(previous)

    def _encode_texts(self, texts: list[str], out: list[np.ndarray]) -> np.ndarray:
        import torch

        with torch.inference_mode():
            for start in range(0, len(texts), TEXT_BATCH):
                tokens = self._m.tokenizer(texts[start : start + TEXT_BATCH])
                out.append(self._m.model.encode_text(tokens).float().numpy())
        return _normalize(np.concatenate(out))


def _normalize(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(x / norms, dtype=np.float32)


def _prepare(image: Image.Image, size: int) -> Image.Image:
    """RGB, and cheaply shrunk to about twice the model's input (the transform does the rest)."""
    from PIL import Image as PILImage

    im = image if image.mode == "RGB" else image.convert("RGB")
    target = 2 * size
    if min(im.size) > 2 * target:
        scale = target / min(im.size)
        new = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
        im = im.resize(new, PILImage.Resampling.BILINEAR, reducing_gap=2.0)
    return im


# -- loading ------------------------------------------------------------------------------
_CACHE: dict[tuple[Any, ...], ClipEmbedder | str] = {}
_CACHE_LOCK = threading.Lock()


def _cache_key(settings: Settings) -> tuple[Any, ...]:
    ckpt = settings.clip_checkpoint
    stamp: tuple[Any, ...] = ()
    if ckpt is not None:
        try:
            st = Path(ckpt).stat()
            stamp = (st.st_size, st.st_mtime_ns)
        except OSError:
            stamp = ("missing",)
    return (settings.clip_model, settings.clip_pretrained, str(ckpt), stamp, settings.workers)


def load_clip(settings: Settings) -> ClipEmbedder:
    """The CLIP embedder the settings name, loaded once per process.

    Raises :class:`ModelUnavailable` (with what to do) when no weights can be loaded; the
    failure is remembered so later calls answer at once.
    """
    if not settings.clip_enabled:
        raise ModelUnavailable("CLIP is disabled (KILO_CLIP_ENABLED=false)")
    key = _cache_key(settings)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is None:
            try:
                hit = _load(settings)
            except ModelUnavailable as exc:
                hit = exc.message
            _CACHE[key] = hit
    if isinstance(hit, str):
        raise ModelUnavailable(hit)
    return hit


def forget_loaded() -> None:
    """Drop cached models and remembered failures (tests, or after fetching weights)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _threads(settings: Settings) -> int:
    return max(1, min(settings.workers, os.cpu_count() or 1))


def _load(settings: Settings) -> ClipEmbedder:
    if settings.clip_checkpoint is None:
        _check_pretrained_reachable(settings.clip_model, settings.clip_pretrained)
    import torch

    threads = _threads(settings)
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    if settings.clip_checkpoint is not None:
        loaded, model_id = _load_checkpoint(Path(settings.clip_checkpoint), settings.clip_model)
    else:
        loaded, model_id = _load_pretrained(settings.clip_model, settings.clip_pretrained)
    loaded.model.eval()
    return ClipEmbedder(loaded, model_id, threads)


def file_digest(path: Path) -> str:
    """sha256 hex of a file (or of a folder's weight files, in name order)."""
    files = (
        sorted(p for p in path.iterdir() if p.suffix in (".bin", ".pt", ".pth", ".safetensors"))
        if path.is_dir()
        else [path]
    )
    h = hashlib.sha256()
    for f in files:
        with f.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def _image_size(cfg: dict[str, Any]) -> int:
    size = cfg.get("vision_cfg", {}).get("image_size", 224)
    return int(size[0] if isinstance(size, list | tuple) else size)


def _load_checkpoint(path: Path, arch: str) -> tuple[_Loaded, str]:
    import open_clip
    import torch

    if not path.exists():
        raise ModelUnavailable("the CLIP checkpoint does not exist", path=str(path))
    try:
        digest = file_digest(path)[:16]
        if path.is_dir():
            name = f"local-dir:{path}"
            model, _, preprocess = open_clip.create_model_and_transforms(name)
            tokenizer = open_clip.get_tokenizer(name)
            cfg_arch = path.name
            size = int(model.visual.image_size[0])
            return _Loaded(model, preprocess, tokenizer, cfg_arch, size), (
                f"open_clip:{cfg_arch}:sha256-{digest}"
            )
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        if isinstance(ckpt, dict) and "model_cfg" in ckpt:
            return _from_self_describing(ckpt, digest)
        model, _, preprocess = open_clip.create_model_and_transforms(arch, pretrained=str(path))
        tokenizer = open_clip.get_tokenizer(arch)
        size = _image_size(open_clip.get_model_config(arch) or {})
        return _Loaded(
            model, preprocess, tokenizer, arch, size
        ), f"open_clip:{arch}:sha256-{digest}"
    except ModelUnavailable:
        raise
    except Exception as exc:  # torch/open_clip raise many kinds; all mean "cannot use this file"
        log.debug("CLIP checkpoint unusable", exc_info=True)
        text = " ".join(str(exc).split())[:300]
        raise ModelUnavailable(
            f"cannot load this CLIP checkpoint ({type(exc).__name__}: {text})", path=str(path)
        ) from None


def _from_self_describing(ckpt: dict[str, Any], digest: str) -> tuple[_Loaded, str]:
    import open_clip
    from open_clip.tokenizer import SimpleTokenizer

    cfg = dict(ckpt["model_cfg"])
    custom = bool(cfg.pop("custom_text", False))
    model = (open_clip.CustomTextCLIP if custom else open_clip.CLIP)(**cfg)
    model.load_state_dict(ckpt["state_dict"], strict=True)
    pre = dict(ckpt.get("preprocess_cfg") or {})
    size = _image_size(cfg)
    preprocess = open_clip.image_transform(
        size, is_train=False, mean=pre.get("mean"), std=pre.get("std")
    )
    tokenizer = SimpleTokenizer(context_length=int(cfg["text_cfg"].get("context_length", 77)))
    arch = str(ckpt.get("arch") or "custom")
    return _Loaded(model, preprocess, tokenizer, arch, size), f"open_clip:{arch}:sha256-{digest}"


def save_checkpoint(model: Any, model_cfg: dict[str, Any], path: Path, *, arch: str) -> Path:
    """Write kilo's self-describing checkpoint (architecture + weights) of an open_clip model."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"arch": arch, "model_cfg": model_cfg, "state_dict": model.state_dict()}, path)
    return path


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _reachable(url: str) -> bool:
    parsed = urlparse(url)
    host = parsed.hostname or ""
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=HUB_PROBE_TIMEOUT_S):
            return True
    except OSError:
        return False


def _cached_weights(cfg: dict[str, Any]) -> str | None:
    """Path of the tag's weights in open_clip's cache, without touching the network."""
    hub = str(cfg.get("hf_hub") or "")
    if hub:
        from huggingface_hub import try_to_load_from_cache

        repo, filename = (hub.rstrip("/"), "") if hub.endswith("/") else os.path.split(hub)
        if not filename:
            names = ["open_clip_model.safetensors", "open_clip_pytorch_model.bin"]
        elif filename.endswith((".bin", ".pth")):
            names = [filename[:-4] + ".safetensors", filename]
        else:
            names = [filename]
        for name in names:
            found = try_to_load_from_cache(repo_id=repo, filename=name)
            if isinstance(found, str) and os.path.isfile(found):
                return found
    url = str(cfg.get("url") or "")
    if url:
        candidate = Path("~/.cache/clip").expanduser() / os.path.basename(url)
        if candidate.is_file():
            return str(candidate)
    return None


def _no_clip_weights_cached() -> bool:
    """True when no CLIP weights can be in the caches open_clip reads (Hugging Face's hub
    cache, ~/.cache/clip): checked by folder names, without importing torch (seconds)."""
    hf_home = Path(os.environ.get("HF_HOME", "~/.cache/huggingface")).expanduser()
    hub = Path(
        os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE") or hf_home / "hub"
    ).expanduser()
    if hub.is_dir() and any("clip" in entry.name.lower() for entry in hub.iterdir()):
        return False
    return not (Path("~/.cache/clip").expanduser()).is_dir()


def _check_pretrained_reachable(arch: str, tag: str | None) -> None:
    """Fail fast, before importing torch (seconds), when a pretrained tag can be neither
    loaded from a cache nor downloaded."""
    if not tag or not _no_clip_weights_cached():
        return
    where = f"{arch}/{tag} weights are not in open_clip's cache"
    if _offline():
        raise ModelUnavailable(f"{where} and HF_HUB_OFFLINE is set")
    if not _reachable(os.environ.get("HF_ENDPOINT", "https://huggingface.co")):
        raise ModelUnavailable(f"{where} and the download site cannot be reached (offline)")


def _load_pretrained(arch: str, tag: str | None) -> tuple[_Loaded, str]:
    import open_clip
    from open_clip.pretrained import get_pretrained_cfg, list_pretrained_tags_by_model

    if not tag:
        raise ModelUnavailable(
            f"no CLIP weights configured (KILO_CLIP_PRETRAINED is empty for {arch})"
        )
    if open_clip.get_model_config(arch) is None:
        raise ModelUnavailable(f"open_clip has no architecture named {arch!r}")
    cfg = get_pretrained_cfg(arch, tag)
    if not cfg:
        tags = ", ".join(list_pretrained_tags_by_model(arch)[:8]) or "none"
        raise ModelUnavailable(f"open_clip knows no pretrained tag {tag!r} for {arch} ({tags})")
    cached = _cached_weights(cfg)
    if cached is None:
        where = f"{arch}/{tag} weights are not in open_clip's cache"
        if _offline():
            raise ModelUnavailable(f"{where} and HF_HUB_OFFLINE is set")
        endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
        if not _reachable(endpoint if cfg.get("hf_hub") else str(cfg.get("url"))):
            raise ModelUnavailable(f"{where} and the download site cannot be reached (offline)")
    try:
        model, _, preprocess = open_clip.create_model_and_transforms(
            arch,
            pretrained=cached or tag,
            force_quick_gelu=bool(cfg.get("quick_gelu", False)),
            image_mean=cfg.get("mean"),
            image_std=cfg.get("std"),
            image_interpolation=cfg.get("interpolation"),
            image_resize_mode=cfg.get("resize_mode"),
        )
    except Exception as exc:
        log.debug("cannot load %s/%s", arch, tag, exc_info=True)
        text = " ".join(str(exc).split())[:300]
        raise ModelUnavailable(f"cannot load {arch}/{tag}: {text}") from None
    tokenizer = open_clip.get_tokenizer(arch)
    size = _image_size(open_clip.get_model_config(arch) or {})
    return _Loaded(model, preprocess, tokenizer, arch, size), f"open_clip:{arch}:{tag}"
