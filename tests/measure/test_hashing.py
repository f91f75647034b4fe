"""Perceptual hashes: storage round trip, Hamming helpers, real re-encodes vs other photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from kilo.measure.hashing import (
    compute_hashes,
    hamming,
    hamming_matrix,
    hamming_to_many,
    to_signed64,
    to_unsigned64,
)

U64 = st.integers(min_value=0, max_value=(1 << 64) - 1)


@given(U64)
def test_signed_storage_round_trips(value: int) -> None:
    signed = to_signed64(value)
    assert -(1 << 63) <= signed < (1 << 63)
    assert to_unsigned64(signed) == value


@given(U64, U64)
def test_hamming_is_a_bit_count_and_symmetric(a: int, b: int) -> None:
    assert hamming(a, b) == bin(a ^ b).count("1") == hamming(b, a)
    assert hamming(to_signed64(a), b) == hamming(a, b)


@given(st.lists(U64, min_size=1, max_size=12))
def test_matrix_and_many_agree_with_pairwise(values: list[int]) -> None:
    m = hamming_matrix(values)
    assert m.shape == (len(values), len(values))
    assert np.array_equal(m, m.T) and not m.diagonal().any()
    for i, v in enumerate(values):
        assert hamming_to_many(v, values).tolist() == m[i].tolist()
        assert m[i].tolist() == [hamming(v, w) for w in values]


def test_reencodes_hash_alike_and_other_photos_do_not(shared_photos_dir: Path) -> None:
    def h(name: str) -> tuple[int, int]:
        r = compute_hashes(Image.open(shared_photos_dir / name).convert("RGB"))
        assert all(0 <= x < (1 << 64) for x in (r.phash, r.dhash, r.ahash))
        return r.phash, r.dhash

    png = h("flower.png")
    jpg = h("flower.png.im_q85_420.jpg")
    other = h("plasma_Kite.jpg")
    shot = h("plasma_Kite_screenshot.jpg")
    assert hamming(png[0], jpg[0]) <= 4 and hamming(png[1], jpg[1]) <= 4
    assert hamming(other[0], shot[0]) <= 4
    assert hamming(png[0], other[0]) > 12
