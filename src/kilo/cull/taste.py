"""Personal culling taste: what a photographer prefers, learned from their own decisions.

Every winner a user picks inside a burst or duplicate group is a set of pairwise preferences
(the chosen frame over each other member). Over the quality signals that ranking uses
(``kilo.group.rank.DEFAULT_WEIGHTS``) we fit a Bradley-Terry model, i.e. a logistic regression on
signal differences, ``P(a beats b) = sigmoid(theta . (x_a - x_b))``, whose prior is the
default weights: ``theta = s * w_default + delta`` with ``delta`` penalised (L2, on
standardised signals) so that a handful of decisions only nudges the defaults and a user
whose taste is the default keeps the default ranking. The scale ``s`` is free (ranking does not
depend on it); the stored weights are rescaled to the defaults' L1 norm.

The model is per user, refit from the action log after every decision, and stored in the
``preference_models`` table (``weights`` JSON keyed by signal name, ``pair_count`` = number of
cluster decisions it learned from). Ranking uses it once ``pair_count >= MIN_DECISIONS``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from kilo.catalog import Catalog
from kilo.catalog.file_reads import list_winner_picks, pick_duplicate_groups
from kilo.catalog.measures_repo import read_signal_values
from kilo.clock import utcnow
from kilo.records import json_object

__all__ = [
    "CONSENSUS",
    "EXTRA_SIGNALS",
    "MIN_DECISIONS",
    "MODEL_VERSION",
    "Decision",
    "TasteModel",
    "collect_decisions",
    "default_weights",
    "describe_taste",
    "describe_weights",
    "fit_preferences",
    "get_taste",
    "refresh_taste",
]

FloatArray = npt.NDArray[np.float64]

MIN_DECISIONS = 20
MODEL_VERSION = "bt-1"
PRIOR_STRENGTH = 2.0
#: the scale ``s`` of the default direction (standardised units) is free above _SCALE_MIN (so
#: consistent decisions can sharpen the defaults) and strongly held above it (so a few contrary
#: decisions cannot flip them); _SCALE_TINY keeps separable data finite
_SCALE_MIN = 1.0
_SCALE_HOLD = 50.0
_SCALE_TINY = 1e-3
#: smallest per-signal spread used to standardise differences (signals are in [0, 1])
_MIN_SCALE = 0.05


@dataclass(frozen=True, slots=True)
class Decision:
    """One cluster decision: the chosen frame's signals and those of the frames passed over."""

    cluster_id: str
    winner: Mapping[str, float]
    losers: Sequence[Mapping[str, float]]


@dataclass(slots=True)
class TasteModel:
    user_id: str
    weights: dict[str, float]
    defaults: dict[str, float]
    pair_count: int = 0
    version: str = MODEL_VERSION
    sentences: list[str] = field(default_factory=list)

    @property
    def active(self) -> bool:
        """Whether ranking uses these weights (enough decisions)."""
        return self.pair_count >= MIN_DECISIONS

    def dump(self) -> dict[str, Any]:
        return {
            "userId": self.user_id,
            "version": self.version,
            "pairCount": self.pair_count,
            "active": self.active,
            "minDecisions": MIN_DECISIONS,
            "weights": self.weights,
            "defaults": self.defaults,
            "sentences": self.sentences,
        }


#: signals the default ranking does not weigh but a taste may (default weight 0)
EXTRA_SIGNALS = ("brightness", "contrast", "faces")
#: the ranking's in-cluster term ``-|brightness - median brightness|``, learned like a signal
CONSENSUS = "exposure_consensus"


def default_weights() -> dict[str, float]:
    """The weights the model starts from: ``kilo.group.rank.DEFAULT_WEIGHTS``, then the extra
    signals at 0, then the ranking's exposure-consensus term at its fixed weight."""
    from kilo.group import rank

    weights = {k: float(v) for k, v in rank.DEFAULT_WEIGHTS.items()}
    for name in EXTRA_SIGNALS:
        weights.setdefault(name, 0.0)
    weights[CONSENSUS] = float(getattr(rank, "EXPOSURE_CONSENSUS_WEIGHT", 0.0))
    return weights


# -- the math ----------------------------------------------------------------------------------
def _sigmoid(x: FloatArray) -> FloatArray:
    out: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * x))
    return out


def _features(members: Sequence[Mapping[str, float]], names: Sequence[str]) -> FloatArray:
    """Rows of ``names`` per member as the ranking sees them: a signal missing on a frame takes
    the cluster's mean (0 when no frame has it); CONSENSUS is ``-|b - median b|``."""
    out = np.zeros((len(members), len(names)))
    for j, name in enumerate(names):
        if name == CONSENSUS:
            bright = np.array([float(m.get("brightness", 0.5)) for m in members])
            out[:, j] = -np.abs(bright - float(np.median(bright)))
            continue
        present = [float(m[name]) for m in members if m.get(name) is not None]
        fill = sum(present) / len(present) if present else 0.0
        out[:, j] = [float(m[name]) if m.get(name) is not None else fill for m in members]
    return out


def pair_matrix(
    decisions: Sequence[Decision], names: Sequence[str]
) -> tuple[FloatArray, FloatArray]:
    """(differences winner - loser, one row per pair; pair weights summing to 1 per decision)."""
    blocks: list[FloatArray] = []
    weights: list[float] = []
    for decision in decisions:
        if not decision.losers:
            continue
        rows = _features([decision.winner, *decision.losers], names)
        blocks.append(rows[0] - rows[1:])
        weights += [1.0 / len(decision.losers)] * len(decision.losers)
    if not blocks:
        return np.zeros((0, len(names))), np.zeros(0)
    return np.vstack(blocks), np.asarray(weights, dtype=np.float64)


def _scale_penalty(sv: float) -> tuple[float, float, float]:
    """(value, gradient, curvature) of the prior on the temperature ``s``."""
    below = min(sv - _SCALE_MIN, 0.0)
    hold = _SCALE_HOLD if below < 0 else 0.0
    return (
        0.5 * _SCALE_TINY * sv**2 + 0.5 * _SCALE_HOLD * below**2,
        _SCALE_TINY * sv + _SCALE_HOLD * below,
        _SCALE_TINY + hold,
    )


def _newton(
    z: FloatArray, c: FloatArray, jac: FloatArray, reg: FloatArray, iterations: int
) -> FloatArray:
    """The MAP parameters [s, delta_1..delta_k] by damped Newton steps with backtracking:
    weighted logistic loss on the margins ``z @ (jac @ p)`` plus the L2 prior ``reg`` and the
    prior on ``s``."""

    def loss(params: FloatArray) -> float:
        margin = z @ (jac @ params)
        penalty = 0.5 * (reg * params**2).sum() + _scale_penalty(float(params[0]))[0]
        return float((c * np.logaddexp(0.0, -margin)).sum() + penalty)

    p = np.zeros(jac.shape[1])
    p[0] = _SCALE_MIN
    current = loss(p)
    for _ in range(iterations):
        prob = _sigmoid(-(z @ (jac @ p)))  # P(wrong order)
        grad_theta = -(z * (c * prob)[:, None]).sum(0)
        hess_theta = (z * (c * prob * (1.0 - prob))[:, None]).T @ z
        _, s_grad, s_curv = _scale_penalty(float(p[0]))
        grad = jac.T @ grad_theta + reg * p
        grad[0] += s_grad
        hess = jac.T @ hess_theta @ jac + np.diag(reg)
        hess[0, 0] += s_curv
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while t > 1e-4:
            trial = p - t * step
            value = loss(trial)
            if value <= current:
                break
            t *= 0.5
        else:
            break
        done = abs(current - value) < 1e-10 * max(1.0, abs(current))
        p, current = trial, value
        if done:
            break
    return p


def fit_preferences(
    diffs: FloatArray,
    defaults: FloatArray,
    *,
    pair_weights: FloatArray | None = None,
    prior_strength: float = PRIOR_STRENGTH,
    iterations: int = 50,
    anchor: int | None = None,
) -> FloatArray:
    """MAP Bradley-Terry weights from pairwise signal differences (winner minus loser).

    ``theta = s * defaults + delta``, ``delta`` L2-penalised by ``prior_strength`` on
    standardised differences, ``s`` kept positive. Returned with the L1 norm of ``defaults``.
    ``anchor`` is the index of a term the ranking applies at a fixed weight (its consensus
    exposure penalty): its deviation is pinned to 0 and the result is scaled so the term keeps
    its default weight, which makes the other weights exact in the ranking's own units (the
    fitted temperature ``s`` is divided out). With no pairs: the defaults themselves.
    """
    defaults = np.asarray(defaults, dtype=np.float64)
    k = defaults.shape[0]
    norm = float(np.abs(defaults).sum()) or 1.0
    if diffs.shape[0] == 0:
        return defaults.copy()
    c = np.ones(diffs.shape[0]) if pair_weights is None else np.asarray(pair_weights, float)
    rms = np.sqrt((c[:, None] * diffs**2).sum(0) / c.sum())
    live = rms > 1e-9
    # standardise, but never blow up differences smaller than _MIN_SCALE (noise-level)
    scale = np.where(live, np.maximum(rms, _MIN_SCALE), 1.0)
    z = diffs / scale  # standardised differences
    u = defaults * scale
    u_norm = float(np.linalg.norm(u))
    u = np.ones(k) / np.sqrt(k) if u_norm == 0.0 else u / u_norm
    # parameters p = [s, delta_1..delta_k]; theta' = s u + delta; dead features keep delta 0
    jac = np.hstack([u[:, None], np.eye(k)])  # d theta' / d p
    reg = np.concatenate([[0.0], np.where(live, prior_strength, 1e6)])
    pinned = anchor is not None and defaults[anchor] > 0
    if anchor is not None and pinned:
        reg[1 + anchor] = 1e6  # a term the ranking applies at a fixed weight cannot be learned
    p = _newton(z, c, jac, reg, iterations)
    theta = (jac @ p) / scale
    total = float(np.abs(theta).sum())
    if total == 0.0 or not np.isfinite(total):
        return defaults.copy()
    result: FloatArray = theta * (norm / total)
    if pinned and anchor is not None and result[anchor] > 0:
        # the temperature is the scale of the pinned term: give it back its fixed weight
        result = result * (defaults[anchor] / result[anchor])
    return result


# -- the catalog side ----------------------------------------------------------------------
def _signal_values(catalog: Catalog, asset_ids: Sequence[str]) -> dict[str, dict[str, float]]:
    ids = sorted(set(asset_ids))
    if not ids:
        return {}
    out: dict[str, dict[str, float]] = {}
    for asset_id, values in read_signal_values(catalog, ids):
        data = json_object(values)
        clean: dict[str, float] = {}
        for key, value in data.items():
            if isinstance(value, bool) or (isinstance(value, int | float) and np.isfinite(value)):
                clean[key] = float(value)
        out[asset_id] = clean
    return out


def collect_decisions(catalog: Catalog, user_id: str | None = None) -> list[Decision]:
    """The user's standing winner choices (from the cull log, undone ones excluded): for each
    burst the latest ``pick_winner`` decision, as signals of the winner vs the others."""
    user = user_id or catalog.local_user_id
    latest: dict[str, tuple[str, list[str]]] = {}
    for after in list_winner_picks(catalog, user):
        state = json_object(after)
        for cid, cluster in state.get("clusters", {}).items():
            winner = cluster.get("winner_asset_id")
            members = list(cluster.get("members", {}))
            if winner and winner in members:
                latest.pop(cid, None)
                latest[cid] = (winner, [m for m in members if m != winner])
    # choosing among copies of one picture (duplicate groups) says nothing about taste
    if latest:
        for cid in pick_duplicate_groups(catalog, sorted(latest)):
            latest.pop(cid, None)
    signals = _signal_values(catalog, [a for w, losers in latest.values() for a in [w, *losers]])
    decisions = []
    for cid, (winner, losers) in latest.items():
        if winner not in signals:
            continue
        others = [signals[a] for a in losers if a in signals]
        if others:
            decisions.append(Decision(cid, signals[winner], others))
    return decisions


def refresh_taste(catalog: Catalog, user_id: str | None = None) -> TasteModel:
    """Refit the user's model from their decisions and store it in ``preference_models``."""
    user = user_id or catalog.local_user_id
    defaults = default_weights()
    names = list(defaults)
    decisions = collect_decisions(catalog, user)
    diffs, pair_weights = pair_matrix(decisions, names)
    fitted = fit_preferences(
        diffs,
        np.array([defaults[n] for n in names]),
        pair_weights=pair_weights,
        anchor=names.index(CONSENSUS) if CONSENSUS in names else None,
    )
    weights = {n: round(float(w), 6) for n, w in zip(names, fitted, strict=True)}
    count = len(decisions)
    catalog.table("preference_models").upsert(
        {
            "user_id": user,
            "version": MODEL_VERSION,
            "weights": weights,
            "pair_count": count,
            "updated_at": utcnow(),
        }
    )
    model = TasteModel(user, weights, defaults, count)
    model.sentences = describe_weights(weights, defaults, count)
    return model


def get_taste(catalog: Catalog, user_id: str | None = None) -> TasteModel:
    """The user's stored model (the defaults, with no decisions, when none is stored)."""
    user = user_id or catalog.local_user_id
    defaults = default_weights()
    row = catalog.fetchone(
        "SELECT weights, pair_count, version FROM preference_models WHERE user_id = ?", [user]
    )
    if row is None:
        model = TasteModel(user, dict(defaults), defaults, 0)
    else:
        stored = json_object(row[0])
        weights = {n: float(stored.get(n, defaults[n])) for n in defaults}
        model = TasteModel(user, weights, defaults, int(row[1]), str(row[2]))
    model.sentences = describe_weights(model.weights, defaults, model.pair_count)
    return model


# -- words ---------------------------------------------------------------------------------
#: signal name -> (what a higher value makes a frame, what a lower value makes it)
PHRASES: dict[str, tuple[str, str]] = {
    "sharpness": ("sharper", "softer"),
    "subject_sharpness": ("sharper on the subject", "softer on the subject"),
    "face_sharpness": ("sharper on faces", "softer on faces"),
    "exposure": ("better exposed", "worse exposed"),
    "brightness": ("brighter", "darker"),
    "luminance": ("brighter", "darker"),
    "contrast": ("higher-contrast", "flatter"),
    "noise": ("noisier", "cleaner"),
    "low_noise": ("cleaner", "noisier"),
    "clean": ("cleaner", "noisier"),
    "faces": ("with more faces", "with fewer faces"),
    "face_count": ("with more faces", "with fewer faces"),
    "face_size": ("with larger faces", "with smaller faces"),
    "eyes_open": ("with eyes open", "with eyes closed"),
    "exposure_consensus": ("exposed like the rest of the burst", "exposed unlike the rest"),
    "sharpness_global": ("sharper overall", "softer overall"),
    "highlights": ("with more clipped highlights", "with fewer clipped highlights"),
    "clipped_highlights": ("with more clipped highlights", "with fewer clipped highlights"),
    "shadows": ("with more crushed shadows", "with fewer crushed shadows"),
    "crushed_shadows": ("with more crushed shadows", "with fewer crushed shadows"),
    "motion_blur": ("more motion-blurred", "steadier"),
    "defocus": ("more out of focus", "better focused"),
    "colorfulness": ("more colorful", "more muted"),
    "saturation": ("more saturated", "more muted"),
}


def _phrase(name: str, sign: float) -> str:
    """What a frame is when this signal is higher (``sign`` >= 0) or lower."""
    label = name.replace("_", " ")
    higher, lower = PHRASES.get(name, (f"higher-{label}", f"lower-{label}"))
    return higher if sign >= 0 else lower


def _frames(phrase: str, *, ones: bool = False) -> str:
    """'brighter' -> 'brighter frames' (or 'brighter ones'); 'with eyes open' -> 'frames with
    eyes open'."""
    if " " in phrase:
        return f"frames {phrase}"
    return f"{phrase} {'ones' if ones else 'frames'}"


def describe_weights(
    weights: Mapping[str, float], defaults: Mapping[str, float], decisions: int
) -> list[str]:
    """Plain sentences about how ``weights`` differ from ``defaults``."""
    if decisions == 0:
        return [
            "No winner decisions yet: ranking uses the default weights. "
            "Pick winners in bursts (F in kilo cull) to teach it your taste."
        ]
    # the consensus term has a fixed weight in the ranking: compare the learnable signals only
    names = [n for n in defaults if n != CONSENSUS]
    total_w = sum(abs(weights.get(n, 0.0)) for n in names) or 1.0
    total_d = sum(abs(defaults[n]) for n in names) or 1.0
    change: dict[str, float] = {}
    phrase: dict[str, str] = {}
    for n in names:
        d, w = defaults[n], weights.get(n, 0.0)
        if d != 0:  # share of the total weight, in the direction the default favours
            sign = 1.0 if d > 0 else -1.0
            change[n] = w * sign / total_w - abs(d) / total_d
        else:  # a signal the default ignores: the direction is what was learned
            sign = 1.0 if w >= 0 else -1.0
            change[n] = abs(w) / total_w
        phrase[n] = _phrase(n, sign)
    ordered = sorted(names, key=lambda n: change[n])
    up, down = ordered[-1], ordered[0]
    threshold = 0.03
    sentences: list[str] = []
    if change[up] > threshold and change[down] < -threshold:
        sentences.append(
            f"You prefer {_frames(phrase[up])} over {_frames(phrase[down], ones=True)}."
        )
    elif change[up] > threshold:
        sentences.append(f"You prefer {_frames(phrase[up])} more than the default ranking does.")
    more = [n for n in reversed(ordered) if change[n] > threshold and n != up][:2]
    if more:
        sentences.append(
            "You also lean towards " + " and ".join(_frames(phrase[n]) for n in more) + "."
        )
    less = [n for n in ordered if change[n] < -threshold and defaults[n] != 0 and n != down][:2]
    if less:
        sentences.append(
            "You care less than the default ranking about "
            + " and ".join(n.replace("_", " ") for n in less)
            + "."
        )
    if not sentences:
        sentences.append("Your picks agree with the default ranking; nothing to adjust.")
    plural = "s" if decisions != 1 else ""
    if decisions < MIN_DECISIONS:
        sentences.append(
            f"Learned from {decisions} decision{plural}; personalised ranking starts after "
            f"{MIN_DECISIONS}."
        )
    else:
        sentences.append(f"Learned from {decisions} decision{plural}; ranking uses it.")
    return sentences


def describe_taste(catalog: Catalog, user_id: str | None = None) -> list[str]:
    """What the user's model learned, as plain sentences."""
    return get_taste(catalog, user_id).sentences
