"""Perceptual hashes (pHash, dHash, aHash) of a photo as 64-bit integers, and Hamming helpers.

Hashes are computed with :mod:`imagehash` on the preview. They are stored in the catalog as
signed 64-bit integers (DuckDB ``BIGINT``); :func:`to_signed64` / :func:`to_unsigned64` convert.
Hamming distance between two hashes is the number of differing bits (0 = identical, 64 = all
bits differ; unrelated photos sit around 32).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

__all__ = [
    "HASH_BITS",
    "ImageHashes",
    "compute_hashes",
    "hamming",
    "hamming_matrix",
    "hamming_to_many",
    "to_signed64",
    "to_unsigned64",
]

HASH_BITS = 64
_MASK = (1 << 64) - 1


@dataclass(frozen=True, slots=True)
class ImageHashes:
    """Unsigned 64-bit perceptual hashes of one image."""

    phash: int
    dhash: int
    ahash: int


def _bits_to_int(bits: np.ndarray) -> int:
    value = 0
    for bit in bits.flatten():
        value = (value << 1) | int(bool(bit))
    return value


def compute_hashes(img: Image.Image) -> ImageHashes:
    """pHash (DCT), dHash (gradient) and aHash (mean) of ``img`` as unsigned 64-bit ints."""
    import imagehash

    gray = img.convert("L")
    # One shared downscale keeps hashing fast on 2048 px previews and does not change hashes
    # (imagehash itself resizes to 32x32 / 9x8 / 8x8).
    if max(gray.size) > 512:
        gray = gray.copy()
        gray.thumbnail((512, 512), Image.Resampling.BILINEAR)
    return ImageHashes(
        phash=_bits_to_int(imagehash.phash(gray).hash),
        dhash=_bits_to_int(imagehash.dhash(gray).hash),
        ahash=_bits_to_int(imagehash.average_hash(gray).hash),
    )


def to_signed64(value: int) -> int:
    """An unsigned 64-bit hash as the signed value a BIGINT column holds."""
    value &= _MASK
    return value - (1 << 64) if value >= (1 << 63) else value


def to_unsigned64(value: int) -> int:
    """A stored (signed) BIGINT hash back to its unsigned 64-bit value."""
    return int(value) & _MASK


def hamming(a: int, b: int) -> int:
    """Number of differing bits between two 64-bit hashes (signed or unsigned)."""
    return ((int(a) ^ int(b)) & _MASK).bit_count()


def _as_u64(values: Sequence[int] | np.ndarray) -> np.ndarray:
    arr = np.asarray([to_unsigned64(int(v)) for v in values], dtype=np.uint64)
    return arr


def hamming_to_many(value: int, others: Sequence[int] | np.ndarray) -> np.ndarray:
    """Hamming distances from one hash to many, as an int array."""
    arr = others if isinstance(others, np.ndarray) and others.dtype == np.uint64 else None
    if arr is None:
        arr = _as_u64(others)
    x = np.bitwise_xor(arr, np.uint64(to_unsigned64(value)))
    out: np.ndarray = np.bitwise_count(x).astype(np.int64)
    return out


def hamming_matrix(values: Sequence[int] | np.ndarray) -> np.ndarray:
    """All pairwise Hamming distances (n x n int array). Memory is n^2: use on groups."""
    arr = (
        _as_u64(values)
        if not (isinstance(values, np.ndarray) and values.dtype == np.uint64)
        else values
    )
    x = np.bitwise_xor(arr[:, None], arr[None, :])
    out: np.ndarray = np.bitwise_count(x).astype(np.int64)
    return out
