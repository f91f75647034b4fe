"""Image and text embeddings (CLIP through open_clip) for search and clustering.

>>> emb = load_embedder(settings)            # doctest: +SKIP
>>> if emb is None: print(embedder_status(settings))
>>> vecs = emb.embed_images([img])           # (n, dim) float32, L2-normalised rows

Vectors live in the ``embeddings`` table keyed (asset_id, model_id); changing the model gives a
new ``model_id``, so a project is simply embedded again. Nothing here imports torch until a
model is actually loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from kilo.errors import ModelUnavailable
from kilo.settings import Settings

if TYPE_CHECKING:
    from PIL import Image

__all__ = [
    "Embedder",
    "embedder_status",
    "load_embedder",
    "require_embedder",
    "semantic_search_help",
]


@runtime_checkable
class Embedder(Protocol):
    """Anything that maps images and texts into one space of L2-normalised float32 vectors."""

    model_id: str
    dim: int

    def embed_images(self, images: list[Image.Image]) -> np.ndarray: ...

    def embed_texts(self, texts: list[str]) -> np.ndarray: ...


def require_embedder(settings: Settings) -> Embedder:
    """The configured embedder, or :class:`ModelUnavailable` saying why and how to get one."""
    from kilo.measure.embed.clip import HOW_TO_GET_ONE, load_clip

    try:
        return load_clip(settings)
    except ModelUnavailable as exc:
        raise ModelUnavailable(f"{exc.reason}. {HOW_TO_GET_ONE}", path=exc.path) from None


def load_embedder(settings: Settings) -> Embedder | None:
    """The configured embedder, or None when no weights can be loaded (see
    :func:`embedder_status` for why). Loaded once per process; failures are remembered."""
    if not settings.clip_enabled:
        return None
    from kilo.measure.embed.clip import load_clip

    try:
        return load_clip(settings)
    except ModelUnavailable:
        return None


def embedder_status(settings: Settings) -> str:
    """One paragraph: which model is in use, or why there is none and how to get one."""
    from kilo.measure.embed.clip import HOW_TO_GET_ONE, load_clip

    if not settings.clip_enabled:
        return (
            "No CLIP model: CLIP is disabled (KILO_CLIP_ENABLED=false). Set "
            "KILO_CLIP_ENABLED=true to use one. " + HOW_TO_GET_ONE
        )
    try:
        emb = load_clip(settings)
    except ModelUnavailable as exc:
        return f"No CLIP model: {exc.message}. {HOW_TO_GET_ONE}"
    return f"CLIP model {emb.model_id} ({emb.dim}-d) is ready."


def semantic_search_help(settings: Settings) -> str:
    """The notice search shows when it falls back to metadata and keywords."""
    return (
        "Semantic search needs a CLIP model; this answer matched metadata and keywords only "
        "(filename, keywords, IPTC, camera, lens, dates). " + embedder_status(settings)
    )
