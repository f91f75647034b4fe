"""Burst-relative signals: what a frame lacks or has that the other frames of its burst do not.

A frame is judged against its burst, the way a photographer flicks through it: every member is
aligned to the burst's most central frame (ORB features, a similarity transform by RANSAC) on
its grey thumbnail, and then:

``intrusion``
    The largest connected region (share of the frame) that differs strongly from the
    per-pixel median of the aligned burst: someone or something that walked in, a hand, a
    flash of another photographer. Exposure differences are divided out first.
``reframe``
    How far the framing is from the burst's usual one: the zoom and the shift of the
    transform against the median of the burst (1 = a quarter tighter or a quarter of the
    frame away). A tighter frame has more detail per pixel and would otherwise look sharper.
``local_softness``
    Detail lost where the burst has it: per tile of an 8x8 grid, the frame's Laplacian energy
    over the best member's, averaged over the quarter of tiles where it falls most (0 = as
    detailed everywhere as the best frame; 1 = none of it). Subject motion and focus landing
    elsewhere show here even when a sharp background keeps the frame's own ``sharpness`` high.

``exposure_offset``
    How far the frame's exposure is from the burst's, in stops, capped at 1: the median, over
    the mid-tone pixels the burst shares, of the ratio of the frame to the per-pixel median
    of the burst (the content cancels, so framing and walk-ins do not move it). The keeper
    of a burst is usually exposed like the rest of it.

Frames that cannot be aligned (too few matches: a burst of a blank wall) get no values; a
burst of one frame has nothing to compare.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["BURST_SIGNALS", "compare_burst", "grey_thumbnail", "with_burst_signals"]

BURST_SIGNALS = ("intrusion", "reframe", "local_softness", "exposure_offset")
U8 = NDArray[np.uint8]
_WORK_PX = 512
#: the blur before measuring detail (pixels of the grey thumbnail): below it, noise
_DETAIL_SIGMA = 1.2
_MIN_INLIERS = 12
#: up to this many frames, every pair is matched to find the most central one
_PAIRWISE_MAX = 8
_GRID = 8
#: grey levels (after exposure matching and a light blur) that count as "differs"
_DIFF = 28.0


def _cv() -> Any:
    """OpenCV, untyped: its stubs reject the plain numpy arrays this module passes."""
    import cv2

    return cv2


def grey_thumbnail(rgb: NDArray[np.uint8], long_edge: int = _WORK_PX) -> U8:
    """The grey image the comparison works on (long edge ``long_edge``)."""
    cv2 = _cv()

    grey = cv2.cvtColor(np.ascontiguousarray(rgb[:, :, :3]), cv2.COLOR_RGB2GRAY)
    h, w = grey.shape
    scale = long_edge / max(h, w)
    if scale < 1.0:
        grey = cv2.resize(
            grey, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA
        )
    return np.asarray(grey, dtype=np.uint8)


def _features(grey: U8) -> tuple[list[Any], Any]:
    cv2 = _cv()

    orb = cv2.ORB_create(nfeatures=600, fastThreshold=10)
    keys, desc = orb.detectAndCompute(grey, None)
    return list(keys), desc


Features = tuple[list[Any], Any]


def _transform(a: Features, b: Features) -> tuple[NDArray[np.float64] | None, int]:
    """The similarity transform taking points of ``a`` onto ``b`` and its inlier count."""
    cv2 = _cv()

    (ka, da), (kb, db) = a, b
    if da is None or db is None or len(ka) < _MIN_INLIERS or len(kb) < _MIN_INLIERS:
        return None, 0
    matches = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True).match(da, db)
    if len(matches) < _MIN_INLIERS:
        return None, 0
    src = np.array([ka[m.queryIdx].pt for m in matches], dtype=np.float32)
    dst = np.array([kb[m.trainIdx].pt for m in matches], dtype=np.float32)
    m, inliers = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=3.0)
    count = int(inliers.sum()) if inliers is not None else 0
    return (
        (np.asarray(m, dtype=np.float64), count)
        if m is not None and count >= _MIN_INLIERS
        else (None, count)
    )


def _energy_map(grey: U8, gain: float) -> NDArray[np.float32]:
    """Detail energy of a frame in its own geometry: the Laplacian of the exposure-matched
    frame (``gain``) after a 1.6 px blur, so pixel noise and 8x8 block edges do not count as
    detail, smoothed so that warping it into the reference's geometry loses none (warping
    the image itself would blur every frame but the reference)."""
    cv2 = _cv()

    img = grey.astype(np.float32) * gain
    lap = cv2.Laplacian(cv2.GaussianBlur(img, (0, 0), _DETAIL_SIGMA), cv2.CV_32F)
    return np.asarray(cv2.GaussianBlur(lap * lap, (0, 0), 2.0), dtype=np.float32)


def _tile_energy(energy: NDArray[np.float32], valid: NDArray[np.bool_]) -> NDArray[np.float64]:
    h, w = energy.shape
    ys = np.linspace(0, h, _GRID + 1, dtype=int)
    xs = np.linspace(0, w, _GRID + 1, dtype=int)
    out = np.full((_GRID, _GRID), np.nan)
    for i in range(_GRID):
        for j in range(_GRID):
            sl = (slice(ys[i], ys[i + 1]), slice(xs[j], xs[j + 1]))
            if valid[sl].mean() > 0.9:
                out[i, j] = float(energy[sl].mean())
    return out


def _detail(tiles: NDArray[np.float64]) -> NDArray[np.float64]:
    """Tile energies above the frame's own floor (its flattest fifth): noise and compression
    raise every tile alike, and must not count as detail a cleaner frame lacks."""
    if not np.isfinite(tiles).any():
        return tiles
    floor = float(np.nanpercentile(tiles, 20))
    return np.asarray(np.clip(tiles - floor, 0.0, None), dtype=np.float64)


def _reframe(
    scale: float, shift: NDArray[np.float64], mid_scale: float, mid_shift: NDArray[np.float64]
) -> float:
    """1 for a frame a quarter tighter or looser, or moved a quarter of the frame, than the
    burst's usual framing; 0 for the same."""
    zoom = abs(float(np.log(scale)) - mid_scale) / float(np.log(1.25))
    moved = float(np.abs(shift - mid_shift).max()) / 0.25
    return min(1.0, max(zoom, moved))


def _largest_blob(mask: NDArray[np.uint8]) -> float:
    cv2 = _cv()

    n, _labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return 0.0
    return float(stats[1:, cv2.CC_STAT_AREA].max()) / float(mask.size)


def _align(frames: list[U8]) -> dict[int, NDArray[np.float64]]:
    """Each alignable frame's similarity transform onto the burst's most central frame (the
    one with the most feature matches to the others); frames that cannot be aligned are
    left out."""
    n = len(frames)
    feats = [_features(g) for g in frames]
    pair: dict[tuple[int, int], NDArray[np.float64]] = {}
    if n <= _PAIRWISE_MAX:
        inl = np.zeros((n, n))
        for i in range(n):
            for j in range(n):
                if i != j:
                    m, count = _transform(feats[i], feats[j])
                    inl[i, j] = count
                    if m is not None:
                        pair[(i, j)] = m
        ref = int(np.argmax(inl.sum(axis=0) + inl.sum(axis=1)))
    else:  # a long burst: the middle frame is the reference (n matches, not n squared)
        ref = n // 2
        for i in range(n):
            if i != ref and (m := _transform(feats[i], feats[ref])[0]) is not None:
                pair[(i, ref)] = m
    eye = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    found = {i: (eye if i == ref else pair.get((i, ref))) for i in range(n)}
    return {i: m for i, m in found.items() if m is not None}


def compare_burst(greys: Sequence[U8]) -> list[dict[str, float]]:
    """The burst-relative signals of each member (see the module docstring), in order."""
    cv2 = _cv()

    n = len(greys)
    if n < 2:
        return [{} for _ in greys]
    size = greys[0].shape[::-1]
    frames = [
        g if g.shape[::-1] == size else cv2.resize(g, size, interpolation=cv2.INTER_AREA)
        for g in greys
    ]
    to_ref = _align(frames)
    ok = sorted(to_ref)
    if len(ok) < 2:
        return [{} for _ in greys]
    w, h = size
    aligned: dict[int, NDArray[np.float32]] = {}
    valid: dict[int, NDArray[np.bool_]] = {}
    warped_energy: dict[int, NDArray[np.float32]] = {}
    own = {i: float(np.median(frames[i])) or 1.0 for i in ok}
    mid = float(np.median(list(own.values())))
    for i in ok:
        m = to_ref[i]
        aligned[i] = cv2.warpAffine(frames[i].astype(np.float32), m, size, flags=cv2.INTER_LINEAR)
        valid[i] = cv2.warpAffine(np.ones((h, w), np.uint8), m, size) > 0
        warped_energy[i] = cv2.warpAffine(
            _energy_map(frames[i], mid / own[i]), m, size, flags=cv2.INTER_LINEAR
        )
    covered = np.sum([valid[i] for i in ok], axis=0)
    shared = covered >= max(2, (len(ok) + 1) // 2)  # seen by at least half of the burst
    if shared.mean() < 0.3:
        return [{} for _ in greys]
    level = {i: float(np.median(aligned[i][shared & valid[i]])) or 1.0 for i in ok}
    target = float(np.median(list(level.values())))
    matched = {i: cv2.GaussianBlur(aligned[i] * (target / level[i]), (0, 0), 1.5) for i in ok}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a pixel no frame covers: all NaN
        consensus = np.nanmedian(
            np.stack([np.where(valid[i], matched[i], np.nan) for i in ok]), axis=0
        )
        energy = {i: _detail(_tile_energy(warped_energy[i], valid[i] & shared)) for i in ok}
    offsets = _exposure_offsets(aligned, valid, shared, ok)
    mid_offset = float(np.median(list(offsets.values()))) if offsets else 0.0
    scales = {i: float(np.hypot(*to_ref[i][0, :2])) for i in ok}
    shifts = {i: to_ref[i][:, 2] / np.array([w, h]) for i in ok}
    mid_scale = float(np.median([np.log(s) for s in scales.values()]))
    mid_shift = np.median(np.stack(list(shifts.values())), axis=0)
    # the burst's detail per tile: its upper quartile over the frames framed like the rest (a
    # tighter frame has more detail per pixel), so one noisy, blocky or zoomed frame does not
    # set the bar for the others
    usual = [i for i in ok if _reframe(scales[i], shifts[i], mid_scale, mid_shift) < 0.5]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a tile no frame covers: all NaN
        best = np.nanpercentile(np.stack([energy[i] for i in usual or ok]), 75, axis=0)
    out: list[dict[str, float]] = [{} for _ in greys]
    kernel = np.ones((5, 5), np.uint8)
    for i in ok:
        seen = valid[i] & (covered >= 2)
        diff = (np.abs(matched[i] - np.nan_to_num(consensus)) > _DIFF) & seen
        blob = cv2.morphologyEx(diff.astype(np.uint8), cv2.MORPH_OPEN, kernel)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = energy[i] / best
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            floor = np.nanpercentile(best, 25) if np.isfinite(best).any() else np.inf
        has_detail = np.isfinite(ratio) & (best > max(floor, 0.05 * float(np.nanmax(best))))
        lost = np.sort(np.clip(ratio[has_detail], 0.0, 1.0))
        worst = lost[: max(1, len(lost) // 4)] if len(lost) else np.array([1.0])
        stops = abs(offsets.get(i, 0.0) - mid_offset)
        out[i] = {
            "exposure_offset": round(min(1.0, stops), 4),
            "reframe": round(_reframe(scales[i], shifts[i], mid_scale, mid_shift), 4),
            "local_softness": round(float(1.0 - worst.mean()), 4),
        }
        if len(ok) >= 3:  # with two frames, either could be the one something walked into
            area = _largest_blob(blob) / max(float(seen.mean()), 1e-6)
            out[i]["intrusion"] = round(min(1.0, area), 4)
    return out


def _exposure_offsets(
    aligned: dict[int, NDArray[np.float32]],
    valid: dict[int, NDArray[np.bool_]],
    shared: NDArray[np.bool_],
    ok: list[int],
) -> dict[int, float]:
    """Each frame's exposure against the burst's, in stops: the median over the mid-tone
    pixels the burst shares of log2(frame / per-pixel median of the burst), so the scene's
    content cancels out (a walk-in or a cut frame moves a frame's own median level, not the
    ratio of the pixels it shares with the others). gamma 2.2 turns grey-level ratios into
    stops."""
    cv2 = _cv()

    soft = {i: cv2.GaussianBlur(aligned[i], (0, 0), 2.0) for i in ok}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a pixel no frame covers: all NaN
        middle = np.nanmedian(np.stack([np.where(valid[i], soft[i], np.nan) for i in ok]), axis=0)
    tones = shared & (middle > 25.0) & (middle < 230.0)
    out: dict[int, float] = {}
    for i in ok:
        mask = tones & valid[i]
        if mask.sum() < 200:
            continue
        ratio = np.log2((soft[i][mask] + 1.0) / (middle[mask] + 1.0))
        out[i] = 2.2 * float(np.median(ratio))
    return out


def with_burst_signals(
    signals: Sequence[dict[str, float]], greys: Sequence[U8 | None]
) -> list[dict[str, float]]:
    """Each member's signals plus its burst-relative ones (members without a grey thumbnail
    keep theirs as they are, and are left out of the comparison)."""
    have = [i for i, g in enumerate(greys) if g is not None]
    out = [dict(s) for s in signals]
    if len(have) < 2:
        return out
    for i, extra in zip(have, compare_burst([greys[i] for i in have]), strict=True):  # type: ignore[misc]
        out[i].update(extra)
    return out
