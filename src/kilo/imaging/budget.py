"""The decode budget: the memory one photo may take while it is decoded.

A 20 KB PNG can declare 13000 x 13000 pixels (under Pillow's decompression-bomb limit) and
take 2 GB and 15 s to turn into a thumbnail; four of them on two workers take a laptop down.
So before any pixel is decoded, kilo estimates the peak memory of its own decoding path for
that file (the decoded frame at the scale it will be read at, plus the one conversion a mode
needs before it can be shrunk) and refuses the file with a reason when that is over the
budget: ``KILO_DECODE_BUDGET_MB`` (default 320 MB, so a worker stays under ~400 MB whatever
the input). JPEGs are read shrunk at decode time (DCT scaling), so even huge ones fit.
"""

from __future__ import annotations

import os
import warnings

from PIL import Image

from kilo.errors import DecodeError

# Pillow warns on stderr for every image over 89 MP; kilo's own budget decides instead (a
# legitimate 100 MP photo is no bomb, and a 20 KB one can be)
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)

__all__ = ["DEFAULT_BUDGET_MB", "budget_bytes", "check_budget", "pillow_peak_bytes"]

DEFAULT_BUDGET_MB = 320
ENV_VAR = "KILO_DECODE_BUDGET_MB"

#: bytes per pixel Pillow keeps for a mode (RGB is stored as 4)
_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}
#: modes Pillow cannot shrink as they are (``Image.reduce``), and the bytes per pixel of
#: what they are converted to first: L for "1", RGB(A) for the others
CONVERTED_FIRST = {"1": 1, "P": 4, "I;16": 4, "I;16B": 4, "I;16L": 4, "I;16N": 4}


def budget_bytes() -> int:
    """The budget in bytes, from ``KILO_DECODE_BUDGET_MB`` (read at each call: worker
    processes take the caller's environment)."""
    raw = os.environ.get(ENV_VAR, "")
    try:
        mb = int(raw) if raw.strip() else DEFAULT_BUDGET_MB
    except ValueError:
        mb = DEFAULT_BUDGET_MB
    return max(16, mb) * 1024 * 1024


def pillow_peak_bytes(mode: str, size: tuple[int, int]) -> int:
    """Peak memory of decoding an image of ``mode`` and ``size`` with Pillow and shrinking it."""
    pixels = size[0] * size[1]
    return pixels * (_BYTES_PER_PIXEL.get(mode, 4) + CONVERTED_FIRST.get(mode, 0))


def check_budget(size: tuple[int, int], peak: int, *, name: str | None = None) -> None:
    """Raise DecodeError when decoding ``size`` pixels would need ``peak`` bytes, over
    budget."""
    limit = budget_bytes()
    if peak <= limit:
        return
    w, h = size
    raise DecodeError(
        f"too large to decode: {w}x{h} ({w * h / 1e6:.0f} MP) needs about {peak >> 20} MB, "
        f"over the decode budget of {limit >> 20} MB (raise {ENV_VAR} to allow it)",
        path=name or None,
    )
