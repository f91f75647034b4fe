"""Style DNA, the pure part: per-context-bucket ridge regression on exact sufficient statistics.

For each bucket (daylight, indoor, night, golden, shade) the model keeps the weighted sums
``n, Σw, Σw·x, Σw·x·xᵀ, Σw·x·yᵀ, Σw·y²`` of the inputs ``x`` (photo features + context) and the
targets ``y`` (the photographer's final params minus Fix, in normalised units). From these:

* the ridge solution, exactly (closed form on standardised inputs; the intercept is not
  penalised), so an update costs one rank-one addition and an event can be removed exactly
  (when a photo is re-edited, its old event is subtracted);
* the training input distribution (mean and a shrunk covariance) for a Mahalanobis distance;
* the residual variance with the ridge's effective degrees of freedom, from the same sums.

Confidence = sample-count term x distance term x consistency term, each in [0, 1]. Below the
gate threshold a caller applies only Fix. Predicted deltas are clamped to :data:`CLAMPS`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np
from numpy.typing import NDArray

from kilo.edit.color import mired
from kilo.edit.params import EditParams

F64 = NDArray[np.float64]
MODEL_VERSION = "style-dna/2"
#: the parameters Style DNA learns, the unit of one "normalised" step, and the clamp
TARGETS: tuple[str, ...] = EditParams.GLOBAL_FIELDS  # temperature is learned in mired
SCALES = np.array([0.5, 25, 25, 25, 25, 25, 25, 15, 25, 25], dtype=np.float64)
CLAMPS = np.array([1.0, 40, 50, 50, 40, 40, 60, 30, 40, 30], dtype=np.float64)
RIDGE_LAMBDA = 4.0
PRIOR_VAR_WEIGHT = 2.0  # pseudo-samples of the prior variance added to each input variance
#: prior variance of the context inputs (kilo.style.features.Context.vector: light mired, ISO,
#: indoor probability, time of day sin/cos, night flag): their spread over photos in general
#: (a flag or a probability varies at most 0.25, a sine 0.5); image features are scaled to 1
CONTEXT_PRIOR_VAR = (1.0, 1.0, 0.25, 0.5, 0.5, 0.25)
INTERCEPT_PRIOR = 1.0  # pseudo-samples of zero delta (shrinks the mean of tiny buckets)
RESIDUAL_PRIOR = (2.0, 0.25)  # (pseudo-samples, variance) of the residual noise prior
COUNT_HALF = 2.0  # samples at which the count term reaches 0.5
#: share of a bucket's own photos whose distance passes untouched: (features, context)
DIST_QUANTILES = (0.999, 0.99)
DIST_SCALE = 0.5  # beyond the threshold, the term falls by e per half a threshold
NOISE_FREE = 0.5  # residual RMS (normalised units) accepted without penalty
NOISE_SCALE = 0.5
DEFAULT_MIN_CONFIDENCE = 0.5


def params_vector(p: EditParams) -> F64:
    """The learned parameters of ``p`` in native units (temperature as mired)."""
    return np.array(
        [
            p.exposure,
            p.contrast,
            p.highlights,
            p.shadows,
            p.whites,
            p.blacks,
            mired(p.temperature),
            p.tint,
            p.vibrance,
            p.saturation,
        ],
        dtype=np.float64,
    )


def apply_delta(base: EditParams, delta_native: F64) -> EditParams:
    """``base`` with a native-unit delta added to the learned parameters (kept in range)."""
    v = params_vector(base) + delta_native
    lo = np.array([-5, -100, -100, -100, -100, -100, 20, -150, -100, -100], dtype=np.float64)
    hi = np.array([5, 100, 100, 100, 100, 100, 500, 150, 100, 100], dtype=np.float64)
    v = np.clip(v, lo, hi)
    return base.with_changes(
        exposure=round(float(v[0]), 2),
        contrast=round(float(v[1])),
        highlights=round(float(v[2])),
        shadows=round(float(v[3])),
        whites=round(float(v[4])),
        blacks=round(float(v[5])),
        temperature=float(np.clip(round(1e6 / v[6] / 10) * 10, 2000, 50000)),
        tint=round(float(v[7])),
        vibrance=round(float(v[8])),
        saturation=round(float(v[9])),
    )


def target_delta(final: EditParams, fix: EditParams) -> F64:
    """What Style DNA learns from one edit: (final - Fix) in normalised units."""
    return (params_vector(final) - params_vector(fix)) / SCALES


def chi2_quantile(dof: int, q: float) -> float:
    """The ``q`` quantile of a chi-square with ``dof`` degrees of freedom (Wilson-Hilferty)."""
    z = NormalDist().inv_cdf(q)
    a = 2.0 / (9.0 * dof)
    return float(dof * (1.0 - a + z * math.sqrt(a)) ** 3)


def distance_threshold(dof: int, samples: float, quantile: float = 0.99) -> float:
    """Squared Mahalanobis distance that a fresh photo drawn like a bucket's ``samples``
    training photos stays under with probability ``quantile``.

    The chi-square quantile of the block's dimension, inflated for an estimated mean
    (1 + 1/n) and estimated variances (a Student-t with n - 1 degrees of freedom has
    variance (n - 1) / (n - 3)), so small buckets are not judged as if their spread were
    known exactly."""
    nu = max(samples - 1.0, 3.0)
    inflation = (1.0 + 1.0 / max(samples, 1.0)) * nu / (nu - 2.0)
    return chi2_quantile(dof, quantile) * inflation


@dataclass
class Prediction:
    bucket: str
    confidence: float
    delta: F64  # native units, clamped
    count_term: float
    distance_term: float
    noise_term: float
    samples: int
    distance: float

    def reason(self, min_confidence: float) -> str:
        if self.samples == 0:
            return f"Fix only: no edits learned yet for {self.bucket} photos"
        parts = []
        if self.count_term < 0.75:
            parts.append(f"only {self.samples} edits in {self.bucket}")
        if self.distance_term < 0.75:
            parts.append("photo unlike the ones you edited")
        if self.noise_term < 0.75:
            parts.append("your edits here vary a lot")
        why = ", ".join(parts) or "low confidence"
        if self.confidence < min_confidence:
            return f"Fix only: confidence {self.confidence:.2f} < {min_confidence:.2f} ({why})"
        return f"Style DNA applied: confidence {self.confidence:.2f} ({self.bucket})"


@dataclass
class BucketStats:
    """Exact weighted sufficient statistics of one bucket."""

    dim: int
    context_dims: int = 0  # the last inputs are context: their distance is judged on its own
    k: int = len(TARGETS)
    n: int = 0
    sw: float = 0.0
    sx: F64 = field(default_factory=lambda: np.zeros(0))
    sxx: F64 = field(default_factory=lambda: np.zeros((0, 0)))
    sxy: F64 = field(default_factory=lambda: np.zeros((0, 0)))
    sy: F64 = field(default_factory=lambda: np.zeros(0))
    syy: F64 = field(default_factory=lambda: np.zeros(0))
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.sx.shape != (self.dim,):
            self.sx = np.zeros(self.dim)
            self.sxx = np.zeros((self.dim, self.dim))
            self.sxy = np.zeros((self.dim, self.k))
            self.sy = np.zeros(self.k)
            self.syy = np.zeros(self.k)

    def add(self, x: F64, y: F64, weight: float = 1.0, sign: int = 1) -> None:
        w = sign * float(weight)
        self.n += sign
        self.sw += w
        self.sx += w * x
        self.sxx += w * np.outer(x, x)
        self.sxy += w * np.outer(x, y)
        self.sy += w * y
        self.syy += w * y * y
        self._cache.clear()
        if self.n <= 0 or self.sw <= 1e-9:  # removed everything: reset rounding residue
            self.__init__(self.dim, self.context_dims, self.k)  # type: ignore[misc]

    # -- derived quantities, cached until the next update -------------------------------------
    def _fit(self) -> dict[str, Any]:
        if self._cache:
            return self._cache
        sw = self.sw
        mu = self.sx / sw
        cov = self.sxx / sw - np.outer(mu, mu)
        prior = np.ones(self.dim)
        if self.context_dims == len(CONTEXT_PRIOR_VAR) < self.dim:
            prior[-self.context_dims :] = CONTEXT_PRIOR_VAR
        var = (sw * np.clip(np.diag(cov), 0, None) + PRIOR_VAR_WEIGHT * prior) / (
            sw + PRIOR_VAR_WEIGHT
        )
        sd = np.sqrt(var)
        czz = cov / np.outer(sd, sd)
        mu_y = self.sy / sw
        czy = (self.sxy / sw - np.outer(mu, mu_y)) / sd[:, None]
        reg = czz + (RIDGE_LAMBDA / sw) * np.eye(self.dim)
        wz = np.linalg.solve(reg, czy)
        intercept = mu_y * sw / (sw + INTERCEPT_PRIOR)
        cyy = self.syy / sw - mu_y**2
        rss = np.clip(cyy - 2 * np.sum(wz * czy, axis=0) + np.sum(wz * (czz @ wz), axis=0), 0, None)
        eig = np.clip(np.linalg.eigvalsh(czz), 0, None)
        df = 1.0 + float(np.sum(eig / (eig + RIDGE_LAMBDA / sw)))
        s0, v0 = RESIDUAL_PRIOR
        sigma2 = (rss * sw + s0 * v0) / (max(sw - df, 0.0) + s0)
        alpha = self.dim / (self.dim + sw)
        shrunk = (1 - alpha) * czz + alpha * np.eye(self.dim)
        blocks = []
        for (lo, hi), q in zip(self.blocks(), DIST_QUANTILES, strict=False):
            prec = np.linalg.inv(shrunk[lo:hi, lo:hi])
            blocks.append((lo, hi, prec, distance_threshold(hi - lo, sw, q)))
        self._cache.update(mu=mu, sd=sd, wz=wz, intercept=intercept, sigma2=sigma2, blocks=blocks)
        return self._cache

    def blocks(self) -> list[tuple[int, int]]:
        """Input ranges whose Mahalanobis distances are judged separately: the photo's
        features, and its context (a context never seen must not hide among 14 features)."""
        c = self.context_dims
        if 0 < c < self.dim:
            return [(0, self.dim - c), (self.dim - c, self.dim)]
        return [(0, self.dim)]

    def predict(self, x: F64) -> tuple[F64, float, float]:
        """(delta in normalised units, distance ratio, residual RMS).

        The distance ratio is the largest, over the input blocks, of the squared Mahalanobis
        distance (shrunk covariance) over that block's threshold: <= 1 for all but
        ``1 - quantile`` of photos drawn like the bucket's own (:data:`DIST_QUANTILES`)."""
        fit = self._fit()
        z = (x - fit["mu"]) / fit["sd"]
        delta = fit["intercept"] + z @ fit["wz"]
        ratio = 0.0
        for lo, hi, prec, threshold in fit["blocks"]:
            zb = z[lo:hi]
            ratio = max(ratio, float(zb @ prec @ zb) / threshold)
        return delta, ratio, float(math.sqrt(float(np.mean(fit["sigma2"]))))

    def weights(self) -> tuple[F64, F64]:
        """(ridge weights over standardised inputs, inputs x targets; intercept per target),
        in normalised target units: what an aggregate may share."""
        fit = self._fit()
        return np.array(fit["wz"], dtype=np.float64), np.array(fit["intercept"], dtype=np.float64)

    # -- persistence ----------------------------------------------------------------------
    def to_state(self) -> dict[str, Any]:
        return {
            "dim": self.dim,
            "n": self.n,
            "sw": self.sw,
            "sx": self.sx.tolist(),
            "sxx": self.sxx.tolist(),
            "sxy": self.sxy.tolist(),
            "sy": self.sy.tolist(),
            "syy": self.syy.tolist(),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], context_dims: int = 0) -> BucketStats:
        b = cls(int(state["dim"]), context_dims)
        b.n = int(state["n"])
        b.sw = float(state["sw"])
        b.sx = np.asarray(state["sx"], dtype=np.float64)
        b.sxx = np.asarray(state["sxx"], dtype=np.float64)
        b.sxy = np.asarray(state["sxy"], dtype=np.float64)
        b.sy = np.asarray(state["sy"], dtype=np.float64)
        b.syy = np.asarray(state["syy"], dtype=np.float64)
        return b


@dataclass
class StyleModel:
    """All buckets of one photographer (for one feature kind)."""

    dim: int
    buckets: dict[str, BucketStats] = field(default_factory=dict)
    context_dims: int = 0

    def update(self, bucket: str, x: F64, y: F64, weight: float = 1.0) -> None:
        if x.shape != (self.dim,):
            raise ValueError(f"expected {self.dim} inputs, got {x.shape}")
        stats = self.buckets.setdefault(bucket, BucketStats(self.dim, self.context_dims))
        stats.add(x, y, weight)

    def remove(self, bucket: str, x: F64, y: F64, weight: float = 1.0) -> None:
        if bucket in self.buckets:
            self.buckets[bucket].add(x, y, weight, sign=-1)
            if self.buckets[bucket].n <= 0:
                del self.buckets[bucket]

    @property
    def event_count(self) -> int:
        return sum(b.n for b in self.buckets.values())

    def predict(self, bucket: str, x: F64) -> Prediction:
        stats = self.buckets.get(bucket)
        if stats is None or stats.n == 0:
            return Prediction(bucket, 0.0, np.zeros(len(TARGETS)), 0.0, 0.0, 0.0, 0, math.inf)
        delta_n, d2, noise = stats.predict(x)
        count_term = stats.sw / (stats.sw + COUNT_HALF)
        distance_term = math.exp(-max(0.0, d2 - 1.0) / DIST_SCALE)
        noise_term = math.exp(-max(0.0, noise - NOISE_FREE) / NOISE_SCALE)
        delta = np.clip(delta_n * SCALES, -CLAMPS, CLAMPS)
        return Prediction(
            bucket=bucket,
            confidence=count_term * distance_term * noise_term,
            delta=delta,
            count_term=count_term,
            distance_term=distance_term,
            noise_term=noise_term,
            samples=stats.n,
            distance=d2,
        )

    def bucket_mean(self, bucket: str) -> F64:
        """The average learned delta of a bucket (native units)."""
        stats = self.buckets[bucket]
        return np.asarray(stats.sy / stats.sw * SCALES, dtype=np.float64)

    def to_state(self) -> dict[str, Any]:
        return {
            "dim": self.dim,
            "contextDims": self.context_dims,
            "buckets": {k: b.to_state() for k, b in self.buckets.items()},
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], context_dims: int = 0) -> StyleModel:
        """``context_dims`` applies to a state saved before it was recorded (style-dna/1)."""
        c = int(state.get("contextDims", context_dims))
        return cls(
            dim=int(state["dim"]),
            buckets={k: BucketStats.from_state(v, c) for k, v in state.get("buckets", {}).items()},
            context_dims=c,
        )
