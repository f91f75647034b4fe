"""Clustering algorithms on hand-built items (times, cameras, hashes) and their invariants."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kilo.group import ClusterItem, cluster_items, find_bursts, find_duplicates, find_moments

CAM = "Canon|EOS R5|123"


def _flip(h: int, bits: int, rng: random.Random) -> int:
    for b in rng.sample(range(64), bits):
        h ^= 1 << b
    return h


def _scene(rng: random.Random) -> int:
    return rng.getrandbits(64)


def test_burst_needs_short_gaps_same_body_and_similar_content() -> None:
    rng = random.Random(0)
    a, b = _scene(rng), _scene(rng)
    items = [
        ClusterItem("a0", 100.0, CAM, _flip(a, 3, rng), a),
        ClusterItem("a1", 100.3, CAM, _flip(a, 5, rng), a),
        ClusterItem("a2", 100.6, CAM, _flip(a, 4, rng), a),
        # other subject right after: new run
        ClusterItem("b0", 100.9, CAM, b, b),
        ClusterItem("b1", 101.2, CAM, _flip(b, 2, rng), b),
        # same subject, another camera body at the same time: not in the run
        ClusterItem("c0", 100.4, "Nikon|Z6|9", a, a),
        # same subject but 30 s later: not a burst frame
        ClusterItem("a3", 131.0, CAM, a, a),
    ]
    bursts, kinds = find_bursts(items)
    named = sorted(sorted(items[i].id for i in g) for g in bursts)
    assert named == [["a0", "a1", "a2"], ["b0", "b1"]]
    assert kinds == ["burst", "burst"]


def test_exposure_bracket_is_kept_whole_even_when_hashes_differ() -> None:
    rng = random.Random(1)
    items = [
        ClusterItem(f"e{k}", 10.0 + 0.5 * k, CAM, _scene(rng), _scene(rng), exposure_bias=ev)
        for k, ev in enumerate([-2.0, 0.0, 2.0])
    ]
    bursts, kinds = find_bursts(items)
    assert bursts == [[0, 1, 2]] and kinds == ["bracket"]


def test_duplicates_are_copies_not_distinct_exposures() -> None:
    rng = random.Random(2)
    h = _scene(rng)
    items = [
        ClusterItem("orig", 50.0, CAM, h, h),
        ClusterItem("copy", None, None, _flip(h, 2, rng), _flip(h, 3, rng)),
        ClusterItem("next-frame", 50.2, CAM, _flip(h, 1, rng), h),  # same camera, new instant
        ClusterItem("other", None, None, _scene(rng), _scene(rng)),
    ]
    groups = find_duplicates(items)
    assert [sorted(items[i].id for i in g) for g in groups] == [["copy", "orig"]]


def test_embeddings_catch_edited_copies_hashes_half_miss() -> None:
    rng = random.Random(3)
    h = _scene(rng)
    items = [
        ClusterItem("orig", None, None, h, h),
        ClusterItem("edit", None, None, _flip(h, 14, rng), _flip(h, 20, rng)),
    ]
    assert find_duplicates(items) == []
    v = np.random.default_rng(0).normal(size=(1, 32)).astype(np.float32)
    emb = np.vstack([v, v + 0.01]).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    assert find_duplicates(items, emb) == [[0, 1]]


def test_moments_follow_the_shoots_rhythm() -> None:
    rng = random.Random(4)
    items: list[ClusterItem] = []
    t = 0.0
    truth: list[int] = []
    for moment in range(4):
        for _ in range(rng.randint(2, 5)):
            items.append(ClusterItem(f"m{moment}-{len(items)}", t, CAM, _scene(rng), None))
            truth.append(moment)
            t += rng.uniform(20, 80)
        t += rng.uniform(15 * 60, 40 * 60)
    moments = find_moments(items)
    got = [0] * len(items)
    for k, g in enumerate(moments):
        for i in g:
            got[i] = k
    assert got == truth


def test_multi_frame_file_is_one_burst_and_undated_items_get_moments() -> None:
    rng = random.Random(5)
    h = _scene(rng)
    items = [
        ClusterItem(f"f{k}", None, None, _flip(h, 1, rng), h, sequence="bird.heic", order=k)
        for k in range(4)
    ]
    res = cluster_items(items)
    assert res.bursts == [[0, 1, 2, 3]] and res.duplicates == []
    assert sorted(i for g in res.moments for i in g) == [0, 1, 2, 3]
    # the undated frames of one file share one moment (not four moments of one photo), also
    # beside another undated photo, and a frame with a time takes its undated mates along
    other = ClusterItem("x", None, None, _scene(rng), None, order=9)
    assert cluster_items([*items, other]).moments == [[0, 1, 2, 3], [4]]
    items[2].time = 1_000.0
    assert cluster_items([*items, other]).moments == [[2, 0, 1, 3], [4]]


@st.composite
def shoots(draw: st.DrawFn) -> list[ClusterItem]:
    n = draw(st.integers(min_value=0, max_value=40))
    seed = draw(st.integers(min_value=0, max_value=10_000))
    rng = random.Random(seed)
    scenes = [_scene(rng) for _ in range(5)]
    t = 0.0
    items = []
    for k in range(n):
        t += rng.choice([0.2, 0.5, 3.0, 40.0, 900.0])
        s = rng.choice(scenes)
        items.append(
            ClusterItem(
                f"i{k}",
                t if rng.random() > 0.15 else None,
                rng.choice([CAM, "Sony|A7|1", None]),
                _flip(s, rng.randint(0, 8), rng),
                _flip(s, rng.randint(0, 8), rng),
                exposure_bias=rng.choice([None, None, 0.0, 1.0]),
                order=k,
            )
        )
    return items


@settings(max_examples=60, deadline=None)
@given(shoots())
def test_clustering_invariants(items: list[ClusterItem]) -> None:
    res = cluster_items(items)
    n = len(items)
    # every item in exactly one moment
    flat = sorted(i for g in res.moments for i in g)
    assert flat == list(range(n))
    # bursts and duplicate groups are disjoint groups of >= 2
    for groups in (res.bursts, res.duplicates):
        seen = [i for g in groups for i in g]
        assert len(seen) == len(set(seen))
        assert all(len(g) >= 2 for g in groups)
    # a burst lies inside one moment, dated or not
    moment_of = {i: k for k, g in enumerate(res.moments) for i in g}
    for g in res.bursts:
        assert len({moment_of[i] for i in g}) == 1
    # deterministic
    again = cluster_items(items)
    assert again.moments == res.moments and again.bursts == res.bursts
    assert again.duplicates == res.duplicates


def test_a_burst_survives_a_walk_in_or_a_reframed_frame_and_gaps_up_to_1_5_s() -> None:
    rng = random.Random(7)
    a = _scene(rng)
    hashes = [
        _flip(a, 3, rng),
        _flip(a, 4, rng),
        _scene(rng),
        _flip(a, 2, rng),
        _scene(rng),
        _flip(a, 5, rng),
    ]  # frames 2 and 4: look like nothing else
    t, items = 50.0, []
    for k, h in enumerate(hashes):
        items.append(ClusterItem(f"f{k}", t, CAM, h, h))
        t += 1.45
    bursts, _ = find_bursts(items)
    assert [sorted(items[i].id for i in g) for g in bursts] == [[f"f{k}" for k in range(6)]]


def test_the_moments_of_a_day_do_not_merge_when_older_photos_join() -> None:
    rng = random.Random(5)
    day: list[ClusterItem] = []
    truth: list[int] = []
    t = 10 * 365 * 86400.0
    for moment in range(4):  # bursts 30 - 90 s apart, moments 12 - 20 minutes apart
        for _ in range(rng.randint(3, 5)):
            day.append(ClusterItem(f"d{moment}-{len(day)}", t, CAM, _scene(rng), None))
            truth.append(moment)
            t += rng.uniform(30, 90)
        t += rng.uniform(12 * 60, 20 * 60)
    old = [ClusterItem(f"old{k}", k * 200 * 86400.0, CAM, _scene(rng), None) for k in range(12)]
    moments = find_moments(day + old)
    of = {i: k for k, g in enumerate(moments) for i in g}
    got = [of[i] for i in range(len(day))]
    assert len(set(got)) == 4 and all(
        (got[i] == got[j]) == (truth[i] == truth[j])
        for i in range(len(day))
        for j in range(len(day))
    )


def test_near_pairs_by_multi_index_hashing_match_every_pair() -> None:
    """The fast duplicate candidate search finds exactly what comparing every pair finds."""
    import numpy as np

    from kilo.group.hamming import _all_near_pairs, near_pairs

    rng = np.random.default_rng(3)
    base = rng.integers(0, 2**63, size=3000, dtype=np.int64).astype(np.uint64)
    flips = [
        sum(1 << int(b) for b in rng.choice(64, size=int(rng.integers(0, 9)), replace=False))
        for _ in range(1500)
    ]
    ph = np.concatenate([base, base[:1500] ^ np.array(flips, dtype=np.uint64)])
    idx = np.arange(len(ph))[::-1].copy()  # positions need not be in order
    for t in (0, 3, 6, 7):
        fast = set(zip(*(x.tolist() for x in near_pairs(ph, idx, t)), strict=True))
        every = set(zip(*(x.tolist() for x in _all_near_pairs(ph[idx], idx, t)), strict=True))
        assert fast == every and len(fast) > 0


@pytest.mark.parametrize("dim", [64, 512])  # 512: the width of CLIP ViT-B vectors
def test_duplicates_by_vectors_in_a_large_project_match_every_pair(
    monkeypatch: pytest.MonkeyPatch, dim: int
) -> None:
    """Above VECTOR_PAIRS_FROM items the vector rule's candidates come from a neighbour
    search; the groups are those of comparing every pair."""
    from kilo.group import algorithms
    from kilo.group.neighbours import close_pairs

    rng = np.random.default_rng(5)
    n, groups = 5000, 300
    vecs = rng.normal(size=(n, dim)).astype(np.float32)
    ph = rng.integers(0, 2**63, size=n, dtype=np.int64)
    for _ in range(groups):  # edited copies: nearly the same vector, pHash 8-18 bits away
        members = rng.choice(n, size=int(rng.integers(2, 5)), replace=False)
        for m in members[1:]:
            vecs[m] = vecs[members[0]] + rng.normal(scale=0.08, size=dim).astype(np.float32)
            flips = rng.choice(64, size=int(rng.integers(8, 19)), replace=False)
            ph[m] = ph[members[0]] ^ sum(1 << int(b) for b in flips if b < 63)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    items = [
        ClusterItem(id=f"a{i}", time=None, camera=None, phash=int(ph[i]), dhash=None, order=i)
        for i in range(n)
    ]
    a, b, s = close_pairs(vecs, np.arange(n), 0.96)
    exact = np.triu(vecs @ vecs.T, 1) >= 0.96
    assert set(zip(a.tolist(), b.tolist(), strict=True)) == set(
        zip(*(x.tolist() for x in np.nonzero(exact)), strict=True)
    )
    np.testing.assert_allclose(s, (vecs[a] * vecs[b]).sum(axis=1), atol=1e-5)
    fast = find_duplicates(items, vecs)
    monkeypatch.setattr(algorithms, "VECTOR_PAIRS_FROM", 10**9)  # every pair of hashes
    every = find_duplicates(items, vecs)
    assert fast == every and len(every) >= 200


def test_pairs_at_the_threshold_are_found_as_often_as_promised() -> None:
    """2,000 pairs at exactly the threshold among 4,000 random vectors: close_pairs returns a
    pair with probability >= RECALL (0.995; 0.98 is nine standard deviations below), and
    nothing below the threshold."""
    from kilo.group.neighbours import RECALL, close_pairs

    rng = np.random.default_rng(11)
    pairs, dim, cos_min = 2000, 512, 0.96
    x = rng.normal(size=(pairs, dim))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    z = rng.normal(size=(pairs, dim))
    z -= (z * x).sum(axis=1, keepdims=True) * x  # orthogonal to x
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    cos = cos_min + 1e-4  # just above, so that float32 rounding keeps it above
    y = cos * x + np.sqrt(1 - cos**2) * z
    vecs = np.concatenate([x, y]).astype(np.float32)
    a, b, s = close_pairs(vecs, np.arange(2 * pairs), cos_min)
    found = {(int(i), int(j)) for i, j in zip(a, b, strict=True)}
    hits = sum((i, i + pairs) in found for i in range(pairs))
    assert RECALL >= 0.995 and hits / pairs >= 0.98, hits
    assert (s >= cos_min).all() and len(found) == len(a)
