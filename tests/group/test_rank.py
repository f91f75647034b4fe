"""Winner ranking: invariants, true reasons, low confidence, learned weights."""

from __future__ import annotations

import json
import re

from hypothesis import given
from hypothesis import strategies as st

from kilo.catalog import Catalog
from kilo.clock import utcnow
from kilo.group.rank import (
    DEFAULT_WEIGHTS,
    MAX_REASONS,
    MIN_PREFERENCE_PAIRS,
    RankInput,
    load_weights,
    rank_members,
)

unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
signal_dicts = st.fixed_dictionaries(
    {"sharpness": unit, "exposure": unit, "noise": unit, "brightness": unit},
    optional={"eyes_open": unit, "face_sharpness": unit, "sharpness_global": unit},
)


@given(st.lists(signal_dicts, min_size=1, max_size=9), st.booleans())
def test_rank_is_a_permutation_with_at_most_three_reasons(
    sigs: list[dict[str, float]], dup: bool
) -> None:
    members = [RankInput(f"a{i}", s, pixels=1000 * (i + 1)) for i, s in enumerate(sigs)]
    r = rank_members(members, duplicate_group=dup)
    assert sorted(r.order) == sorted(m.id for m in members)
    assert r.winner == r.order[0]
    assert len(r.why_winner) <= MAX_REASONS
    assert 0.0 <= r.confidence <= 1.0
    if not dup:
        scores = [r.scores[i] for i in r.order]
        assert scores == sorted(scores, reverse=True)
    # plain words: no signal's name, no bare pair of values, and exposure (no weight) unsaid
    for text in r.why_winner:
        internal = [n for n in DEFAULT_WEIGHTS if "_" in n] + [
            "softness",
            "sharpness",
            "blockiness",
        ]
        assert not any(name in text for name in internal)
        assert not re.search(r"\d\.\d\d vs", text) and "expos" not in text.lower()


def _sig(sharp: float, **kw: float) -> dict[str, float]:
    base = {
        "sharpness": sharp,
        "sharpness_global": sharp * 0.8,
        "exposure": 0.8,
        "noise": 0.02,
        "brightness": 0.45,
    }
    return base | kw


def test_sharpest_frame_wins_with_a_measured_reason() -> None:
    r = rank_members(
        [
            RankInput("soft", _sig(0.40)),
            RankInput("crisp", _sig(0.80)),
            RankInput("mid", _sig(0.55)),
        ]
    )
    assert r.order == ["crisp", "mid", "soft"]
    assert r.why_winner[0] == "Sharpest of the 3 frames"
    assert not r.low_confidence


def test_noise_does_not_buy_a_win_and_eyes_open_is_a_reason() -> None:
    r = rank_members(
        [
            RankInput("noisy", _sig(0.62, noise=0.4, eyes_open=1.0)),
            RankInput("clean", _sig(0.60, eyes_open=1.0)),
            RankInput("blink", _sig(0.61, eyes_open=0.0, noise=0.05)),
        ]
    )
    assert r.winner == "clean"
    assert any(w.startswith("Least noise") for w in r.why_winner)
    assert "Eyes open (closed in 1 of the 2 other frames)" in r.why_winner
    assert "Sharpest" not in " ".join(r.why_winner)  # it is not the sharpest


def test_a_group_says_how_many_faces_have_eyes_open_and_how_many_blink() -> None:
    six = {"faces": 0.3, "faces_judged": 0.3}
    r = rank_members(
        [
            RankInput("all", _sig(0.60, eyes_open=1.0, **six)),
            RankInput("one", _sig(0.61, eyes_open=5 / 6, **six)),
            RankInput("two", _sig(0.62, eyes_open=4 / 6, **six)),
        ]
    )
    assert r.winner == "all"
    assert "All 6 faces have eyes open (next: 1 of 6 blinking)" in r.why_winner


def test_a_winner_without_a_clear_reason_still_says_a_true_one() -> None:
    r = rank_members([RankInput("a", _sig(0.601)), RankInput("b", _sig(0.600))])
    assert r.why_winner, "every winner gets a reason"
    assert r.why_winner[0].startswith("Close call")
    same = rank_members([RankInput("a", _sig(0.6)), RankInput("b", _sig(0.6))])
    assert same.why_winner and "Close call" in same.why_winner[0]


def test_close_call_is_said_not_hidden() -> None:
    r = rank_members([RankInput("a", _sig(0.700)), RankInput("b", _sig(0.701))])
    assert r.low_confidence
    assert r.why_winner[0].startswith("Close call")
    assert r.confidence < 0.3


def test_duplicate_group_prefers_the_biggest_then_lossless_copy() -> None:
    r = rank_members(
        [RankInput("small", _sig(0.9), pixels=100_000), RankInput("big", _sig(0.7), 4_000_000)],
        duplicate_group=True,
    )
    assert r.winner == "big" and r.why_winner[0].startswith("Largest copy (4.0 MP")
    r = rank_members(
        [RankInput("jpg", _sig(0.7), 1_000_000), RankInput("png", _sig(0.7), 1_000_000, True)],
        duplicate_group=True,
    )
    assert r.winner == "png" and r.why_winner[0].startswith("Lossless original")


def test_learned_weights_apply_from_twenty_pairs(catalog: Catalog) -> None:
    learned = {"sharpness": 0.1, "exposure": 3.0, "noise": -0.5}

    def put(pairs: int) -> None:
        catalog.execute(
            "INSERT OR REPLACE INTO preference_models (user_id, version, weights, pair_count, "
            "updated_at) VALUES (?, 'test', ?, ?, ?)",
            [catalog.local_user_id, json.dumps(learned), pairs, utcnow()],
        )

    assert load_weights(catalog) == DEFAULT_WEIGHTS
    put(MIN_PREFERENCE_PAIRS - 1)
    assert load_weights(catalog) == DEFAULT_WEIGHTS
    put(MIN_PREFERENCE_PAIRS)
    weights = load_weights(catalog)
    assert weights == learned
    members = [RankInput("sharp", _sig(0.9, exposure=0.5)), RankInput("bright", _sig(0.6))]
    assert rank_members(members).winner == "sharp"
    assert rank_members(members, weights=weights).winner == "bright"


def test_duplicate_group_prefers_the_least_compressed_copy_of_one_size() -> None:
    sig = {"sharpness": 0.5, "exposure": 0.9, "noise": 0.04, "brightness": 0.5}
    px = 2268 * 1512
    members = [
        RankInput("q420", dict(sig, sharpness=0.51), px, False, 546_797),
        RankInput("q444", sig, px, False, 696_659),
        RankInput("png", sig, px // 4, True, 4_330_524),
    ]
    result = rank_members(members, duplicate_group=True)
    assert result.order[:2] == ["q444", "q420"]
    assert result.why_winner == ["Least compressed copy (+27% data per pixel)"]
    assert not result.low_confidence
    same = [RankInput("a", sig, px, False, 600_000), RankInput("b", sig, px, False, 610_000)]
    assert not any("compressed" in r for r in rank_members(same, duplicate_group=True).why_winner)
    edge = rank_members(
        [RankInput("a", _sig(0.61)), RankInput("b", _sig(0.60))], weights={"sharpness": 50.0}
    )
    assert not edge.low_confidence  # a clear win on one weighted measurement
    assert edge.why_winner == ["Sharper than the other frame"]


def test_a_reason_says_which_way_against_how_many_and_only_what_carried_weight() -> None:
    four = [RankInput(k, _sig(v, exposure=e)) for k, v, e in [("a", 0.5, 0.9), ("b", 0.8, 0.1)]]
    r = rank_members(four)
    assert r.winner == "b" and r.why_winner == ["Sharper than the other frame"]
    # exposure weighs nothing by default: the better exposed frame is not "Best exposed"
    assert not any("xpos" in w for w in r.why_winner)
    weighted = rank_members(four, weights={"exposure": 1.0, "sharpness": 0.1})
    assert (
        weighted.winner == "a" and weighted.why_winner[0] == "Better exposed than the other frame"
    )
    many = [RankInput(k, _sig(v)) for k, v in [("a", 0.5), ("b", 0.8), ("c", 0.6), ("d", 0.55)]]
    assert rank_members(many).why_winner == ["Sharpest of the 4 frames"]


def test_below_every_threshold_the_fallback_still_names_a_direction_in_words() -> None:
    a = _sig(0.6, noise=0.020, contrast=0.503)
    b = _sig(0.6, noise=0.023, contrast=0.500)
    r = rank_members([RankInput("a", a), RankInput("b", b)])
    assert r.winner == "a" and not r.low_confidence  # 0.008 + 0.0035: a clear sum of small gains
    assert r.why_winner == ["Slightly less noise than the runner-up"]
    named = [RankInput("a", a, name="IMG_1.jpg"), RankInput("b", b, name="bird.heic [2/4]")]
    assert rank_members(named).why_winner == [
        "Slightly less noise than the runner-up (bird.heic [2/4])"
    ]


def test_frames_of_different_content_are_not_called_soft() -> None:
    """An edited copy beside its original (cv_ela_modified.jpg: a pasted logo, a crop): more
    detail there is more content, so neither sharpness nor "others go soft" is claimed."""
    edited = {"local_softness": 0.05, "reframe": 0.26, "exposure_offset": 0.02}
    original = {"local_softness": 0.70, "reframe": 0.26, "exposure_offset": 0.02}
    far = (1 << 30) - 1  # 30 bits apart: not the same picture
    members = [
        RankInput("m", _sig(0.8, **edited), name="cv_ela_modified.jpg", phash=far),
        RankInput("o", _sig(0.6, **original), name="cv_ela_original.jpg", phash=0),
    ]
    r = rank_members(members)
    assert r.winner == "m"
    text = " ".join(r.why_winner)
    assert "soft" not in text and "Sharp" not in text
    assert r.why_winner[0].startswith("Not the same picture as cv_ela_original.jpg")
    near = [RankInput(m.id, m.signals, name=m.name, phash=m.phash and 0b111) for m in members]
    alike = rank_members(near).why_winner
    assert "Sharper than the other frame" in alike
    assert any(w.startswith("Sharp where others go soft") for w in alike)


def test_the_raw_of_a_raw_jpeg_pair_is_kept_and_says_so() -> None:
    """mate_Dune.dng and mate_Dune.jpg: the JPEG has a few more pixels, the RAW is kept."""
    sig = _sig(0.6)
    members = [
        RankInput("jpg", sig, 1_800_000, name="mate_Dune.jpg"),
        RankInput("dng", sig, 1_700_000, True, name="mate_Dune.dng", jpeg_of_raw="mate_Dune.jpg"),
        RankInput("small", sig, 100_000, name="mate_Dune_small.jpg"),
    ]
    r = rank_members(members, duplicate_group=True)
    assert r.order == ["dng", "jpg", "small"] and r.confidence == 1.0
    assert r.why_winner == [
        "RAW original kept (mate_Dune.jpg is its JPEG copy, though larger: 1.8 MP vs 1.7 MP)"
    ]
    alone = [m for m in members if m.id != "jpg"]  # no JPEG of it: the usual rules
    alone[0].jpeg_of_raw = None
    assert rank_members(alone, duplicate_group=True).why_winner[0].startswith("Largest copy")
