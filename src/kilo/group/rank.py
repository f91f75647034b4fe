"""Winner ranking inside a burst or duplicate group, with reasons that are true measurements.

The score of a frame is a weighted sum of its signals (:mod:`kilo.measure.signals`, each in [0, 1]):
``score = sum(weights[name] * value[name])`` plus, inside one cluster, a penalty for being
exposed far from the cluster's median brightness (the consensus exposure of a burst or
bracket). Missing signals (no face in a frame) take the cluster's mean for that signal, so they
neither help nor hurt. In duplicate groups the RAW file of a RAW+JPEG pair comes first (the
photographer's original; choosing another winner overrides it), then the copy with most pixels
(the original beats its downscaled copies), the lossless and the least compressed one, then the
signal score.

Weights are :data:`DEFAULT_WEIGHTS` unless the user has a learned preference model (the
``preference_models`` table, written by culling feedback) trained on at least
:data:`MIN_PREFERENCE_PAIRS` pairs.

``why_winner`` holds at most three reasons in plain words (:mod:`kilo.group.reasons`), each a
weighted measurement on which the winner beats every other member ("Sharpest of the 4
frames"). When the top two scores are within :data:`CLOSE_MARGIN` the result is marked
low-confidence and the first reason says so.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kilo.group.reasons import Said, edge_reason, why_winner
from kilo.records import json_object

if TYPE_CHECKING:
    from kilo.catalog import Catalog

__all__ = [
    "CLOSE_MARGIN",
    "CONSENSUS_KEY",
    "DEFAULT_WEIGHTS",
    "MAX_REASONS",
    "MIN_PREFERENCE_PAIRS",
    "RankInput",
    "RankResult",
    "load_weights",
    "rank_members",
    "role_for",
]

#: signal name -> weight; a negative weight means "less is better". Fitted, not chosen by
#: hand: a pairwise logistic regression (Bradley-Terry) of "the keeper beats each other frame"
#: on the signal differences of the 780 bursts of the culling benchmark's tuning seeds 0-19
#: (``benchmarks/cull_quality.py``), each weight held to the sign a photographer would give it
#: (more sharpness, less noise...; ``exposure`` held at 0 or more: the fit wanted it negative,
#: an artefact of the generator), then scaled to the earlier weights' sum of magnitudes.
#: ``eyes_open`` is set, not fitted (the benchmark has no blinks, so it cannot inform it), at
#: its earlier 0.5: at 1.5 the benchmark lost 1.5 points to eye states misjudged on blurred
#: frames, with no blink to gain from.
#: Chosen by leave-one-seed-out cross-validation over the tuning seeds only; the untouched
#: seeds were scored once, after (docs/models/winner_ranker.md).
#: ``detail`` is the measure these weights were fitted with under the name ``sharpness`` (which
#: became the absolute focus score in signals-3, issue 32): the burst ranking is unchanged.
#: ``sharpness`` stays at 0.0 so the reasons can still name the sharpest frame.
DEFAULT_WEIGHTS: dict[str, float] = {
    "detail": 0.125,
    "sharpness": 0.0,
    "sharpness_global": 2.786,
    "face_sharpness": 1.178,
    "eyes_open": 0.5,
    "exposure": 0.0,
    "highlights_clipped": -0.018,
    "shadows_crushed": 0.0,
    "noise": -2.789,
    "motion_blur": 0.0,
    "blockiness": -0.761,
    "contrast": 1.166,
    # burst-relative (kilo.group.compare), computed when the cluster job ranks a burst
    "intrusion": -1.513,
    "reframe": -0.17,
    "local_softness": -0.16,
    "exposure_offset": -0.654,
}
#: weight of |brightness - cluster median brightness| (a weights dict may override it under
#: the key :data:`CONSENSUS_KEY`, as learned preference models do)
EXPOSURE_CONSENSUS_WEIGHT = 1.018
CONSENSUS_KEY = "exposure_consensus"
MIN_PREFERENCE_PAIRS = 20
MAX_REASONS = 3
#: top-two score difference below which the pick is a close call
CLOSE_MARGIN = 0.01
_CONF_SCALE = 0.04


@dataclass(slots=True)
class RankInput:
    """One cluster member: its id, signals and (for duplicate groups) pixel count."""

    id: str
    signals: Mapping[str, float]
    pixels: int | None = None
    #: stored losslessly (PNG, TIFF, RAW): preferred among copies of one picture
    lossless: bool = False
    #: file size: among lossy copies of one size, more bytes per pixel = less compression
    byte_size: int | None = None
    #: what the reasons call it (kilo.text.display_name), when known
    name: str | None = None
    #: its perceptual hash: frames far apart show different content (kilo.group.reasons)
    phash: int | None = None
    #: a RAW file among copies of one picture: the name of its JPEG (same stem) in the group;
    #: the RAW of a RAW+JPEG pair is the copy kept
    jpeg_of_raw: str | None = None


@dataclass(slots=True)
class RankResult:
    #: member ids, best first
    order: list[str]
    #: id -> score (same order of magnitude as the weights; higher is better)
    scores: dict[str, float]
    winner: str | None
    why_winner: list[str] = field(default_factory=list)
    #: 0..1, from the score margin between the first two
    confidence: float = 1.0
    low_confidence: bool = False


def role_for(rank: int, has_winner: bool) -> str:
    """A member's role at ``rank`` (1 = first): the winner, one of the two alternatives
    after it, or a candidate (every member of a group without a winner)."""
    if has_winner and rank == 1:
        return "winner"
    if has_winner and rank <= 3:
        return "alt"
    return "candidate"


def _fill(members: Sequence[RankInput], names: Sequence[str]) -> list[dict[str, float]]:
    out = [dict() for _ in members]  # type: list[dict[str, float]]
    for name in names:
        present = [float(m.signals[name]) for m in members if name in m.signals]
        fill = sum(present) / len(present) if present else None
        for row, m in zip(out, members, strict=True):
            value = m.signals.get(name, fill)
            if value is not None:
                row[name] = float(value)
    return out


def _copy_order(
    members: Sequence[RankInput], scores: Mapping[str, float]
) -> tuple[list[RankInput], Callable[[str, str], bool]]:
    """Copies of one picture best first: the RAW of a RAW+JPEG pair, then the most pixels,
    lossless, the least compressed, then the score; and whether a rule (not the score) put
    a copy before another."""
    pixels = {m.id: m.pixels or 0 for m in members}
    # pixel counts within 2 % of each other count as the same size
    size = {k: round(math.log(v) / math.log(1.02)) if v > 0 else -1 for k, v in pixels.items()}
    # bytes per pixel within 5 % of each other count as the same compression
    bpp = {
        m.id: round(math.log(m.byte_size / pixels[m.id]) / math.log(1.05))
        if m.byte_size and pixels[m.id] > 0
        else -(10**9)
        for m in members
    }
    order = sorted(
        members,
        key=lambda m: (
            m.jpeg_of_raw is None,
            -size[m.id],
            not m.lossless,
            -bpp[m.id] if not m.lossless else 0,
            -scores[m.id],
            m.id,
        ),
    )
    by = {m.id: m for m in members}

    def by_rule(a: str, b: str) -> bool:
        return (
            (by[a].jpeg_of_raw is not None and by[b].jpeg_of_raw is None)
            or size[a] > size[b]
            or (by[a].lossless and not by[b].lossless)
            or (size[a] == size[b] and not by[a].lossless and bpp[a] > bpp[b])
        )

    return order, by_rule


def rank_members(
    members: Sequence[RankInput],
    *,
    weights: Mapping[str, float] | None = None,
    duplicate_group: bool = False,
) -> RankResult:
    """Order ``members`` best first, pick the winner and say why (see the module docstring)."""
    if not members:
        return RankResult(order=[], scores={}, winner=None, confidence=0.0)
    w = dict(weights or DEFAULT_WEIGHTS)
    consensus = float(w.pop(CONSENSUS_KEY, EXPOSURE_CONSENSUS_WEIGHT))
    names = sorted(set(w) | {"brightness"})
    rows = _fill(members, names)
    bright = sorted(r.get("brightness", 0.5) for r in rows)
    median = (
        bright[len(bright) // 2]
        if len(bright) % 2
        else sum(bright[len(bright) // 2 - 1 : len(bright) // 2 + 1]) / 2.0
    )
    scores: dict[str, float] = {}
    for m, r in zip(members, rows, strict=True):
        s = sum(wt * r.get(name, 0.0) for name, wt in w.items())
        s -= consensus * abs(r.get("brightness", median) - median)
        scores[m.id] = s
    if duplicate_group:
        order, by_rule = _copy_order(members, scores)
    else:
        order, by_rule = sorted(members, key=lambda m: (-scores[m.id], m.id)), None
    ids = [m.id for m in order]
    if len(ids) == 1:
        return RankResult(order=ids, scores=scores, winner=ids[0], confidence=1.0)
    win, second = ids[0], ids[1]
    ruled = by_rule is not None and by_rule(win, second)
    margin = 1.0 if ruled else scores[win] - scores[second]
    confidence = float(1.0 - math.exp(-max(0.0, margin) / _CONF_SCALE))
    low = margin < CLOSE_MARGIN
    said = Said(members, rows, w, consensus, median, duplicate_group)
    # every winner says which way it leans, a close call too
    reasons = why_winner(said, win, by_rule=ruled) or [edge_reason(said, win, second)]
    if low:
        reasons = ["Close call: the top two frames score almost the same", *reasons]
    return RankResult(
        order=ids,
        scores={k: round(v, 6) for k, v in scores.items()},
        winner=win,
        why_winner=reasons[:MAX_REASONS],
        confidence=round(confidence, 4),
        low_confidence=low,
    )


def load_weights(catalog: Catalog, user_id: str | None = None) -> dict[str, float]:
    """The user's learned weights when trained on enough pairs, else :data:`DEFAULT_WEIGHTS`."""
    uid = user_id or catalog.local_user_id
    row = catalog.fetchone(
        "SELECT weights, pair_count FROM preference_models WHERE user_id = ?", [uid]
    )
    if row is None or int(row[1] or 0) < MIN_PREFERENCE_PAIRS:
        return dict(DEFAULT_WEIGHTS)
    raw = json_object(row[0])  # {} for anything but an object: the defaults then
    learned = {str(k): float(v) for k, v in raw.items() if isinstance(v, int | float)}
    return learned or dict(DEFAULT_WEIGHTS)
