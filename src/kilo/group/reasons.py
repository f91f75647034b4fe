"""Why the winner of a burst or duplicate group won, in words a photographer reads.

Each reason is a measurement on which the winner beats every other member and which moved
the ranking: a signal the weights ignore (``exposure`` by default) is never a reason, and a
weighted one only when it alone lifts the winner's score above each rival's by at least
:data:`MIN_GAIN` (the close-call margin: a difference that would have decided a tie). Each
says which way it goes and against whom, in words, not signal names ("Sharpest of the 4
frames", "Less noise than the other frame", "Eyes open (closed in the other frame)");
the strongest comes first.

Frames that do not show the same picture (an edited copy beside its original, a frame whose
subject or framing changed: their perceptual hashes more than :data:`CONTENT_PHASH_MAX` bits
apart, the burst rule's own bound for "same subject") are not compared on detail: more
detail there is more content, not more focus. The reasons then say so and name them, instead
of calling the others soft.

Among copies of one picture the keeper is decided by rules first, and said so: the RAW file
of a RAW+JPEG pair, the largest copy, the lossless one, the least compressed one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "CONTENT_PHASH_MAX",
    "MIN_GAIN",
    "Member",
    "Said",
    "content_differs",
    "edge_reason",
    "why_winner",
]


class Member(Protocol):
    """What the reasons read of a group member (a :class:`kilo.group.rank.Member`)."""

    @property
    def id(self) -> str: ...
    @property
    def signals(self) -> Mapping[str, float]: ...
    @property
    def pixels(self) -> int | None: ...
    @property
    def lossless(self) -> bool: ...
    @property
    def byte_size(self) -> int | None: ...
    @property
    def name(self) -> str | None: ...
    @property
    def phash(self) -> int | None: ...
    @property
    def jpeg_of_raw(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Said:
    """One ranking, as the reasons need it: the members, their signals with the group's
    means filled in (``rows``, in member order), the weights, the weight of exposure
    consensus and the group's median brightness, and whether these are copies of one
    picture (a duplicate group) or frames."""

    members: Sequence[Member]
    rows: Sequence[Mapping[str, float]]
    weights: Mapping[str, float]
    consensus: float
    median: float
    duplicate_group: bool

    @property
    def thing(self) -> str:
        return "copy" if self.duplicate_group else "frame"

    def row(self, member_id: str) -> Mapping[str, float]:
        return next(r for m, r in zip(self.members, self.rows, strict=True) if m.id == member_id)


MIN_GAIN = 0.01
CONTENT_PHASH_MAX = 20

#: measurement -> the signals that make it up (their weights give its direction)
_FAMILIES: dict[str, tuple[str, ...]] = {
    "sharp": ("detail", "sharpness", "sharpness_global"),
    "faces": ("face_sharpness",),
    "eyes_sharp": ("eye_sharpness",),
    "noise": ("noise",),
    "blocks": ("blockiness",),
    "contrast": ("contrast",),
    "highlights": ("highlights_clipped",),
    "shadows": ("shadows_crushed",),
    "exposure": ("exposure",),
    "motion": ("motion_blur",),
    "offset": ("exposure_offset",),
}
#: measurement -> (the winner is best of several, better than one: ``{other}`` is "the other
#: frame" or "the next frame")
_WORDS: dict[str, tuple[str, str]] = {
    "sharp": ("Sharpest of the {n} {things}", "sharper than {other}"),
    "faces": ("Sharpest faces of the {n} {things}", "sharper faces than {other}"),
    "eyes_sharp": ("Sharpest eyes of the {n} {things}", "sharper eyes than {other}"),
    "noise": ("Least noise of the {n} {things}", "less noise than {other}"),
    "blocks": (
        "Fewest compression artefacts of the {n} {things}",
        "fewer compression artefacts than {other}",
    ),
    "contrast": ("Most contrast of the {n} {things}", "more contrast than {other}"),
    "highlights": (
        "Fewest blown highlights of the {n} {things}",
        "fewer blown highlights than {other}",
    ),
    "shadows": ("Fewest crushed shadows of the {n} {things}", "fewer crushed shadows than {other}"),
    "exposure": ("Best exposed of the {n} {things}", "better exposed than {other}"),
    "motion": ("Least motion blur of the {n} {things}", "less motion blur than {other}"),
    "offset": (
        "Exposed most like the rest of the {n} {things}",
        "exposed more like the rest than {other}",
    ),
    "consensus": (
        "Brightness closest to the rest of the {n} {things}",
        "brightness closer to the rest than {other}",
    ),
    "local": ("Sharp all over, where the others go soft", "more detail in places than {other}"),
    "intrusion": ("Nothing walks into the frame", "less walking into the frame than {other}"),
    "reframe": ("Framed like the rest of the burst", "framed more like the rest than {other}"),
}
#: measurements of detail: not compared between frames that show different content
_DETAIL = frozenset({"sharp", "faces", "eyes_sharp", "contrast", "local"})
_BURST_FAMILIES: dict[str, tuple[str, ...]] = {
    "local": ("local_softness",),
    "intrusion": ("intrusion",),
    "reframe": ("reframe",),
}


def content_differs(a: int | None, b: int | None) -> bool:
    """Whether two frames show different content: perceptual hashes more than
    :data:`CONTENT_PHASH_MAX` bits apart (unknown hashes: not known to differ)."""
    if a is None or b is None:
        return False
    return ((a ^ b) & (2**64 - 1)).bit_count() > CONTENT_PHASH_MAX


def _gain(
    names: Sequence[str],
    weights: Mapping[str, float],
    mine: Mapping[str, float],
    rival: Mapping[str, float],
) -> float:
    return sum(
        weights.get(s, 0.0) * (mine[s] - rival[s]) for s in names if s in mine and s in rival
    )


def _family_gains(
    weights: Mapping[str, float],
    consensus: float,
    median: float,
    mine: Mapping[str, float],
    rival: Mapping[str, float],
) -> dict[str, float]:
    """How much each measurement lifts the winner's score above ``rival``'s (only those
    that carry weight and both have)."""
    out: dict[str, float] = {}
    for fam, names in {**_FAMILIES, **_BURST_FAMILIES}.items():
        if any(weights.get(s, 0.0) and s in mine and s in rival for s in names):
            out[fam] = _gain(names, weights, mine, rival)
    if consensus and "brightness" in mine and "brightness" in rival:
        out["consensus"] = consensus * (
            abs(rival["brightness"] - median) - abs(mine["brightness"] - median)
        )
    return out


def _phrase(fam: str, n: int, thing: str, runner_up: str | None = None) -> str:
    """The reason in words: best of ``n``, better than the other one, or (``runner_up``
    given: the name of the next member, "" when unknown) slightly better than that one."""
    many, one = _WORDS[fam]
    if runner_up is not None:
        named = f" ({runner_up})" if runner_up else ""
        return "Slightly " + one.format(other=f"the runner-up{named}")
    if n > 2:
        return many.format(n=n, things=_plural(thing))
    text = one.format(other=f"the other {thing}")
    return text[0].upper() + text[1:]


def _plural(thing: str) -> str:
    return "copies" if thing == "copy" else thing + "s"


def _list_names(names: Sequence[str], thing: str) -> str:
    if len(names) == 1:
        return names[0]
    if len(names) <= 3:
        return ", ".join(names[:-1]) + " and " + names[-1]
    return f"{len(names)} other {_plural(thing)}"


def _different(members: Sequence[Member], win: str, thing: str) -> tuple[list[str], str]:
    """(the rivals whose content differs from the winner's, the reason that says so)."""
    me = next(m for m in members if m.id == win)
    odd = [m for m in members if m.id != win and content_differs(me.phash, m.phash)]
    if not odd:
        return [], ""
    names = [m.name for m in odd if m.name]
    who = (
        _list_names(names, thing)
        if len(names) == len(odd)
        else (f"another {thing}" if len(odd) == 1 else f"{len(odd)} other {_plural(thing)}")
    )
    return [m.id for m in odd], (
        f"Not the same picture as {who} (edited, or the subject or framing changed): "
        f"detail cannot be compared, look at {'both' if len(odd) == 1 else 'them all'}"
    )


def why_winner(said: Said, win: str, *, by_rule: bool = False) -> list[str]:
    """The winner's reasons, strongest first (the caller keeps the first few); empty when
    no measurement clears :data:`MIN_GAIN` against every rival (see :func:`edge_reason`).
    ``by_rule``: a copy kept by a rule (RAW, size, lossless, compression) says only that:
    its signals did not decide."""
    members, weights, thing = said.members, said.weights, said.thing
    mine = said.row(win)
    rivals = [said.row(m.id) for m in members if m.id != win]
    found: list[tuple[float, str]] = []
    odd: list[str] = []
    if said.duplicate_group:
        found += _copy_reasons(members, win)
        if by_rule and found:
            return [text for _, text in sorted(found, key=lambda t: -t[0])]
    else:
        odd, note = _different(members, win, thing)
        if note:
            found.append((100.0, note))
    gains = [_family_gains(weights, said.consensus, said.median, mine, r) for r in rivals]
    n = len(members)
    for fam in _WORDS:
        if (odd and fam in _DETAIL) or fam in _BURST_FAMILIES:
            continue
        least = min((g.get(fam, 0.0) for g in gains), default=0.0)
        if gains and all(fam in g for g in gains) and least >= MIN_GAIN:
            found.append((least, _phrase(fam, n, thing)))
    own = {m.id: m.signals for m in members}  # as measured: faces_judged is no weight
    eyes = _eyes_reason(own[win], [own[m.id] for m in members if m.id != win], weights)
    if eyes:
        found.append((0.9, eyes))
    if not said.duplicate_group:
        found += _burst_reasons(mine, rivals, weights, skip_detail=bool(odd))
    found.sort(key=lambda t: -t[0])
    return [text for _, text in found]


def edge_reason(said: Said, win: str, second: str) -> str:
    """What a winner with no clear reason does best against the runner-up, in words: the
    measurement that lifts it most above the runner-up ("Slightly less noise than the
    runner-up (IMG_0002.jpg)")."""
    thing = said.thing
    odd = [] if said.duplicate_group else _different(said.members, win, thing)[0]
    mine, next_one = said.row(win), said.row(second)
    gains = _family_gains(said.weights, said.consensus, said.median, mine, next_one)
    usable = {f: g for f, g in gains.items() if g > 0 and not (odd and f in _DETAIL)}
    if not usable:
        return f"No measured difference to the runner-up: any of the top {_plural(thing)} will do"
    name = next((m.name for m in said.members if m.id == second), None) or ""
    return _phrase(max(usable, key=lambda f: usable[f]), 2, thing, runner_up=name)


def _copy_reasons(members: Sequence[Member], win: str) -> list[tuple[float, str]]:
    """Why one copy of a picture is the one to keep: RAW, size, lossless, least compressed."""
    me = next(m for m in members if m.id == win)
    others = [m for m in members if m.id != win]
    px = {m.id: m.pixels or 0 for m in members}
    found: list[tuple[float, str]] = []
    best_other = max(px[m.id] for m in others)
    if me.jpeg_of_raw:
        kind = me.jpeg_of_raw.rsplit(".", 1)[-1].split(" ")[0].upper()
        kind = "JPEG" if kind in ("JPG", "JPEG", "JPE") else kind
        largest = max(others, key=lambda m: px[m.id])
        extra = ""
        if px[largest.id] > 1.02 * px[win] > 0:  # said, not hidden: the JPEG may be bigger
            nd = _mp_digits(px[largest.id], px[win])
            big, mine = px[largest.id] / 1e6, px[win] / 1e6
            sizes = f"{big:.{nd}f} MP vs {mine:.{nd}f} MP"
            extra = (
                f", though larger: {sizes}"
                if largest.name == me.jpeg_of_raw
                else f"; {largest.name or 'another copy'} is larger: {sizes}"
            )
        found.append((11.0, f"RAW original kept ({me.jpeg_of_raw} is its {kind} copy{extra})"))
    if me.lossless and all(not m.lossless for m in others) and not me.jpeg_of_raw:
        found.append((9.0, "Lossless original (the other copies are compressed)"))
    if px[win] > 1.02 * best_other > 0:
        nd = _mp_digits(px[win], best_other)
        found.append(
            (10.0, f"Largest copy ({px[win] / 1e6:.{nd}f} MP vs {best_other / 1e6:.{nd}f} MP)")
        )
    same_size = [m for m in others if _similar(px[m.id], px[win])]
    if me.byte_size and not me.lossless and same_size and px[win] > 0:
        mine_bpp = me.byte_size / px[win]
        rival_bpp = [m.byte_size / px[m.id] for m in same_size if m.byte_size]
        if rival_bpp and mine_bpp > 1.05 * max(rival_bpp):
            gain = round(100.0 * (mine_bpp - max(rival_bpp)) / max(rival_bpp))
            found.append((8.0, f"Least compressed copy (+{gain}% data per pixel)"))
    return found


def _burst_reasons(
    mine: Mapping[str, float],
    others: Sequence[Mapping[str, float]],
    weights: Mapping[str, float],
    *,
    skip_detail: bool,
) -> list[tuple[float, str]]:
    """Reasons from the burst-relative signals (:mod:`kilo.group.compare`), each only when
    the weights count it: clear of a walk-in, framed like the rest, sharp where the others
    lose detail (not said of frames whose content differs)."""
    out: list[tuple[float, str]] = []

    def worse(name: str, at: float) -> list[float]:
        return [r[name] for r in others if r.get(name, 0.0) >= at]

    if (
        weights.get("intrusion", 0.0) < 0
        and mine.get("intrusion", 1.0) <= 0.02
        and (hit := worse("intrusion", 0.05))
    ):
        out.append(
            (
                1.0,
                f"Nothing walks into the frame ({len(hit)} of the others: up to "
                f"{max(hit):.0%} of it)",
            )
        )
    if (
        weights.get("reframe", 0.0) < 0
        and mine.get("reframe", 1.0) <= 0.25
        and (hit := worse("reframe", 0.6))
    ):
        out.append(
            (
                0.6,
                f"Framed like the rest of the burst ({len(hit)} other frame"
                f"{'s' if len(hit) > 1 else ''} cut tighter or shifted)",
            )
        )
    if (
        not skip_detail
        and weights.get("local_softness", 0.0) < 0
        and mine.get("local_softness", 1.0) <= 0.15
        and (hit := worse("local_softness", 0.3))
    ):
        out.append(
            (0.8, f"Sharp where others go soft (up to {max(hit):.0%} of the detail lost in places)")
        )
    return out


def _faces_judged(signals: Mapping[str, float]) -> int:
    return round(signals.get("faces_judged", 0.05 if "eyes_open" in signals else 0.0) * 20)


def _eyes_reason(
    mine: Mapping[str, float], rivals: Sequence[Mapping[str, float]], weights: Mapping[str, float]
) -> str | None:
    """ "All 6 faces have eyes open (next: 1 of 6 blinking)" when the winner has every judged
    face's eyes open and a rival does not (and open eyes count in the weights)."""
    if weights.get("eyes_open", 0.0) <= 0 or mine.get("eyes_open", 0.0) < 0.999:
        return None
    worse = [r for r in rivals if "eyes_open" in r and r["eyes_open"] < 0.999]
    if not worse:
        return None
    n = _faces_judged(mine)
    best = max(worse, key=lambda r: r["eyes_open"])
    m = _faces_judged(best)
    shut = round((1.0 - best["eyes_open"]) * m)
    who = "Eyes open" if n <= 1 else f"All {n} faces have eyes open"
    if m > 1:
        return f"{who} (next: {shut} of {m} blinking)"
    if len(rivals) == 1:
        return f"{who} (closed in the other frame)"
    if len(worse) == len(rivals):
        return f"{who} (closed in the {len(rivals)} other frames)"
    return f"{who} (closed in {len(worse)} of the {len(rivals)} other frames)"


def _similar(a: int, b: int) -> bool:
    """Pixel counts within 2 % of each other: the same size."""
    return a > 0 and b > 0 and abs(a - b) <= 0.02 * max(a, b)


def _mp_digits(a: int, b: int) -> int:
    """Decimals that make two megapixel counts print differently (1 normally)."""
    for digits in (1, 2, 3):
        if f"{a / 1e6:.{digits}f}" != f"{b / 1e6:.{digits}f}":
            return digits
    return 3
