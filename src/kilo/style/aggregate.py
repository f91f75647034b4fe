"""The opt-in aggregate of Style DNA: what a photographer may choose to share to improve a
global model, and nothing else.

Per bucket with at least :data:`MIN_EDITS` learned edits: the ridge weights (over
standardised inputs, so no feature means or spreads leave) and the intercept, each with
Gaussian noise added, and the edit count. No asset ids or hashes, no features, no contexts,
no deltas of single photos, no buckets with fewer edits. Nothing is sent anywhere: the
aggregate is returned (the CLI writes it to a file or stdout) for the photographer to look at
and pass on.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
from pydantic import Field

from kilo.catalog import Catalog
from kilo.errors import InvalidInput
from kilo.models import KiloModel
from kilo.style.learn import load_state
from kilo.style.model import MODEL_VERSION, TARGETS, StyleModel

__all__ = [
    "MIN_EDITS",
    "BucketAggregate",
    "StyleAggregate",
    "export_style_aggregate",
    "save_style_aggregate",
]

#: a bucket needs at least this many learned edits to be in an aggregate (the design's floor)
MIN_EDITS = 100
DEFAULT_NOISE_STD = 0.02


class BucketAggregate(KiloModel):
    kind: str
    bucket: str
    edits: int
    #: ``weights[i][j]``: change of target ``j`` (normalised units) per standard deviation
    #: of input ``i``; noised
    weights: list[list[float]]
    #: the bucket's mean change per target (normalised units); noised
    intercept: list[float]


class StyleAggregate(KiloModel):
    model_version: str
    noise_std: float
    min_edits: int
    targets: list[str]
    buckets: list[BucketAggregate] = Field(default_factory=list)
    #: buckets left out for having fewer than ``min_edits`` edits (their count only)
    left_out: int = 0


def export_style_aggregate(
    catalog: Catalog,
    *,
    user_id: str | None = None,
    noise_std: float = DEFAULT_NOISE_STD,
    min_edits: int = MIN_EDITS,
    seed: int | None = None,
) -> StyleAggregate:
    """The noised per-bucket weights of the user's Style DNA (see the module docstring).

    ``min_edits`` may be raised, never lowered below :data:`MIN_EDITS`; ``noise_std`` is
    the standard deviation of the noise added to every number, 0 to 1 (0 only when asked
    for explicitly: the default noises). ``seed`` makes the noise repeatable (tests)."""
    if not 0.0 <= noise_std <= 1.0:
        raise InvalidInput("noise_std is between 0 and 1")
    if min_edits < MIN_EDITS:
        raise InvalidInput(f"an aggregate only holds buckets of at least {MIN_EDITS} edits")
    rng = np.random.default_rng(seed)
    state = load_state(catalog, user_id or catalog.local_user_id)
    out = StyleAggregate(
        model_version=MODEL_VERSION, noise_std=noise_std, min_edits=min_edits, targets=list(TARGETS)
    )
    for kind, data in sorted(state["kinds"].items()):
        model = StyleModel.from_state(data)
        for name, stats in sorted(model.buckets.items()):
            if stats.n < min_edits:
                out.left_out += 1
                continue
            weights, intercept = stats.weights()
            weights = weights + rng.normal(0.0, noise_std, weights.shape)
            intercept = intercept + rng.normal(0.0, noise_std, intercept.shape)
            out.buckets.append(
                BucketAggregate(
                    kind=kind,
                    bucket=name,
                    edits=stats.n,
                    weights=np.round(weights, 5).tolist(),
                    intercept=np.round(intercept, 5).tolist(),
                )
            )
    return out


def save_style_aggregate(aggregate: StyleAggregate, path: str | Path) -> Path:
    """Write an aggregate as JSON to ``path`` (an existing folder, not a folder itself),
    atomically: a failed write leaves nothing half-written."""
    target = Path(path)
    if target.is_dir() or str(path).endswith(("/", os.sep)):
        raise InvalidInput("is a folder: give a file name such as style.json", path=str(path))
    if not target.parent.is_dir():
        raise InvalidInput("the folder does not exist", path=str(target.parent))
    data = json.dumps(aggregate.model_dump(mode="json", by_alias=True), indent=2) + "\n"
    tmp = target.with_name(f".{target.name}.part")
    try:
        tmp.write_text(data, encoding="utf-8")
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InvalidInput(f"cannot write: {exc.strerror or exc}", path=str(target)) from None
    return target
