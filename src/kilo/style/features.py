"""Style DNA inputs: compact color/tone features of a preview, and the shooting context.

Features (14 numbers, each scaled to roughly unit spread over ordinary photos) come from
:func:`kilo.edit.fix.measure_image`; when the catalog holds a CLIP embedding for the asset, a
fixed random projection of it (8 numbers) is appended and the profile uses a separate
feature kind, so models never mix inputs of different meaning.

Context (6 numbers): estimated color temperature of the light (mired), ISO, indoor
probability, time of day (sine/cosine of the local hour, zero when unknown: an undated
photo has no hour, its file time says when it was copied) and a night flag.
Its bucket (:func:`context_bucket`) picks the regression: ``indoor``, ``night``, ``golden``
(warm light outside), ``shade`` (cool light) or ``daylight``.

Only these derived numbers are ever stored, never pixels.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from kilo.clock import local_capture_time
from kilo.edit.fix import ImageStats

F64 = NDArray[np.float64]
STATS_KIND = "stats/1"
CLIP_DIMS = 8
BUCKETS: tuple[str, ...] = ("daylight", "indoor", "night", "golden", "shade")
FEATURE_NAMES: tuple[str, ...] = (
    "key",
    "spread",
    "p1",
    "p10",
    "p50",
    "p90",
    "p99",
    "clipped",
    "crushed",
    "colorfulness",
    "chroma_rg",
    "chroma_bg",
    "light_mired",
    "light_tint",
)
CONTEXT_NAMES: tuple[str, ...] = ("cct", "iso", "indoor", "tod_sin", "tod_cos", "night")


@dataclass(frozen=True, slots=True)
class Context:
    """What the photo was shot in (all optional metadata has a neutral default)."""

    kelvin: float
    iso: float | None = None
    local_hour: float | None = None
    indoor_prob: float = 0.0

    @property
    def is_night(self) -> bool:
        return self.local_hour is not None and (self.local_hour >= 20.5 or self.local_hour < 5.5)

    def vector(self) -> F64:
        m = 1e6 / self.kelvin
        iso = 0.0 if self.iso is None else math.log2(max(self.iso, 25) / 100) / 3
        if self.local_hour is None:
            ts, tc = 0.0, 0.0
        else:
            ang = 2 * math.pi * self.local_hour / 24
            ts, tc = math.sin(ang), math.cos(ang)
        return np.array(
            [(m - 154) / 60, iso, self.indoor_prob, ts, tc, 1.0 if self.is_night else 0.0]
        )


def image_features(stats: ImageStats) -> F64:
    """The 14 color/tone features of a photo."""
    p = stats.percentiles
    return np.array(
        [
            (stats.log_key + 2.5) / 1.2,
            (stats.log_spread - 1.3) / 0.4,
            (p[0] - 0.05) / 0.06,
            (p[1] - 0.2) / 0.12,
            (p[2] - 0.45) / 0.15,
            (p[3] - 0.7) / 0.15,
            (p[4] - 0.9) / 0.1,
            min(stats.clipped * 20, 5.0),
            min(stats.crushed * 10, 5.0),
            (stats.saturation - 0.4) / 0.3,
            stats.chroma_rg * 3,
            stats.chroma_bg * 3,
            (1e6 / stats.kelvin - 154) / 60,
            stats.tint / 50,
        ],
        dtype=np.float64,
    )


def clip_projection(vector: NDArray[np.floating], dims: int = CLIP_DIMS) -> F64:
    """A fixed (seeded) random projection of a CLIP embedding to ``dims`` numbers."""
    v = np.asarray(vector, dtype=np.float64)
    rng = np.random.default_rng(20240611 + v.shape[0])
    proj = rng.standard_normal((v.shape[0], dims)) / math.sqrt(v.shape[0])
    return np.asarray((v / (np.linalg.norm(v) + 1e-12)) @ proj * math.sqrt(v.shape[0] / dims) * 3)


def indoor_probability(stats: ImageStats, iso: float | None, exposure_s: float | None) -> float:
    """A heuristic indoor probability from the light's color, the key, ISO and shutter."""
    warm = (1e6 / stats.kelvin - 200) / 40  # tungsten and warm LED read 2700-4000 K
    dim = (-3.2 - stats.log_key) / 0.8
    high_iso = 0.0 if iso is None else (math.log2(max(iso, 25) / 100) - 3) / 1.0
    slow = 0.0 if exposure_s is None else (math.log2(max(exposure_s, 1e-5) * 60)) / 1.5
    score = 0.9 * warm + 0.5 * dim + 0.5 * high_iso + 0.3 * slow - 1.2
    return 1 / (1 + math.exp(-score))


def local_hour(asset: Mapping[str, Any]) -> float | None:
    """The hour of the day on the clock where the photo was taken
    (:func:`kilo.clock.local_capture_time` of a catalog row: its wall clock, whatever its
    offset); None when unknown, and for an undated photo (its file time says when it was
    copied, not shot: no hour at all)."""
    local = local_capture_time(asset).local
    if local is None:
        return None
    return local.hour + local.minute / 60


def context_bucket(ctx: Context) -> str:
    """The regression bucket of a context (see the module doc)."""
    if ctx.indoor_prob >= 0.6:
        return "indoor"
    if ctx.is_night:
        return "night"
    if ctx.kelvin < 4500:
        return "golden"
    if ctx.kelvin > 7500:
        return "shade"
    return "daylight"


def model_input(features: F64, ctx: Context) -> F64:
    return np.concatenate([features, ctx.vector()])
