"""The rank inputs of a project's groups, read from the catalog in one place.

The ``project.cluster`` job and every re-rank after a person's change (a winner picked, a
cluster split or merged: :mod:`kilo.group.clusters`) read what ranking needs here, and rank a
group with :func:`kilo.group.build.rank_group`, so one group is never ranked two ways:

* each member's row: its signals (the ``signals`` table), pixels, whether it is stored
  losslessly and its bytes per frame (copies of one picture), plus what clustering reads
  (time, camera, hashes);
* its thumbnail, for the burst comparisons (:mod:`kilo.group.compare`);
* the learned weights of the project's owner (:func:`kilo.group.rank.load_weights`: the
  taste of :mod:`kilo.cull.taste` once it has learned from enough decisions, else the
  defaults).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from kilo.catalog import Catalog
from kilo.catalog.file_reads import latest_file, read_capture_instant_sql, read_shoot_offset
from kilo.clock import local_capture_time
from kilo.group.build import AssetRow
from kilo.group.rank import load_weights
from kilo.imaging.sniff import RAW_CONTENT_TYPE, is_raw_name
from kilo.measure.hashing import to_unsigned64
from kilo.records import json_object

__all__ = ["RankInputs", "load_rank_inputs", "owner_weights"]

log = logging.getLogger(__name__)

#: asset id -> its grey thumbnail (for the burst comparisons), None when unreadable
GreyLoader = Callable[[str], np.ndarray | None]


@dataclass
class RankInputs:
    """What ranking a project's groups reads: the assets in capture order, the weights and
    a reader of their grey thumbnails."""

    assets: list[AssetRow]
    weights: dict[str, float]
    load_grey: GreyLoader


def _camera(make: Any, model: Any, serial: Any) -> str | None:
    parts = [str(p).strip() for p in (make, model, serial) if p]
    return "|".join(parts) if parts else None


def _focus_distance(exif: Any) -> float | None:
    data = json_object(exif)
    for key in ("FocusDistance", "SubjectDistance", "FocusDistanceUpper"):
        value = data.get(key)
        try:
            return float(value) if value is not None else None
        except (TypeError, ValueError):
            continue
    return None


_LOSSLESS = ("png", "tif", "tiff", "dng", "raw", "cr2", "cr3", "nef", "arw", "raf", "orf", "rw2")


def _lossless(fmt: Any, content_type: Any, filename: Any) -> bool:
    text = f"{fmt or ''} {content_type or ''}".lower()
    if any(k in text for k in _LOSSLESS):
        return True
    return str(filename or "").lower().rsplit(".", 1)[-1] in _LOSSLESS


def _asset_rows(
    catalog: Catalog, project_id: str, asset_ids: Sequence[str] | None
) -> tuple[list[AssetRow], dict[str, str]]:
    """(the project's assets, or those of ``asset_ids``, in capture order; their thumbnails)."""
    only = "" if asset_ids is None else "AND list_contains(?, a.id) "
    rows = catalog.fetchall(
        "SELECT a.id, a.captured_at, a.camera_make, a.camera_model, a.camera_serial, a.filename, "
        "coalesce(a.width_px, 0) * coalesce(a.height_px, 0), a.exposure_bias_ev, a.exif, "
        "s.values, h.phash, h.dhash, a.captured_at_source, a.source_uri, a.frame_count, a.format, "
        f"a.content_type, a.byte_size, a.frame_index, {latest_file('thumbnail')} FROM assets a "
        "LEFT JOIN signals s ON s.asset_id = a.id "
        "LEFT JOIN perceptual_hashes h ON h.asset_id = a.id "
        f"WHERE a.project_id = ? AND a.state <> 'quarantined' {only}"
        f"ORDER BY {read_capture_instant_sql(catalog, project_id)} NULLS LAST, a.filename, "
        "a.frame_index, a.id",
        [project_id] if asset_ids is None else [project_id, list(asset_ids)],
    )
    assets: list[AssetRow] = []
    thumbs: dict[str, str] = {}
    for row in rows:
        aid, cap, make, model, serial, fname, px, bias, exif, sig, ph, dh, src = row[:13]
        source_uri, frame_count, fmt, ctype, byte_size, frame_index, thumb = row[13:]
        frames = max(1, int(frame_count or 1))
        if thumb:
            thumbs[str(aid)] = str(thumb)
        if src and str(src).startswith("file"):
            cap = None  # a file's mtime says when it was copied, not when it was shot
        values = json_object(sig)
        assets.append(
            AssetRow(
                id=aid,
                captured_at=cap,
                camera=_camera(make, model, serial),
                filename=str(fname or ""),
                pixels=int(px or 0),
                exposure_bias=float(bias) if bias is not None else None,
                focus_distance=_focus_distance(exif),
                signals={k: float(v) for k, v in values.items() if isinstance(v, int | float)},
                phash=to_unsigned64(ph) if ph is not None else None,
                dhash=to_unsigned64(dh) if dh is not None else None,
                sequence=str(source_uri) if frames > 1 else None,
                lossless=_lossless(fmt, ctype, fname),
                # bytes per frame: a multi-frame file's size is shared by its frames
                byte_size=int(byte_size) // frames if byte_size else None,
                frame_index=int(frame_index or 0),
                frame_count=frames,
                raw=ctype == RAW_CONTENT_TYPE or is_raw_name(str(fname or "")),
            )
        )
    return assets, thumbs


def _grey_loader(catalog: Catalog, thumbs: dict[str, str]) -> GreyLoader:
    """asset id -> its thumbnail as a grey array (None when it cannot be read: that member
    is then ranked on its own signals only)."""
    settings = catalog.settings

    def load(asset_id: str) -> np.ndarray | None:
        import io

        from PIL import Image

        from kilo.group.compare import grey_thumbnail
        from kilo.imaging.decode import read_source

        uri = thumbs.get(asset_id)
        if uri is None:
            return None
        try:
            with Image.open(io.BytesIO(read_source(uri, settings))) as im:
                return grey_thumbnail(np.asarray(im.convert("RGB")))
        except Exception:  # a missing or damaged rendition: rank without it
            log.debug("no thumbnail for %s", asset_id, exc_info=True)
            return None

    return load


def owner_weights(catalog: Catalog, project_id: str) -> dict[str, float]:
    """The ranking weights of the project's owner (the local user for a project without
    one): learned from their decisions once there are enough, else the defaults."""
    owner = catalog.table("projects").value(project_id, "owner_user_id")
    return load_weights(catalog, str(owner) if owner else None)


def _place_in_time(catalog: Catalog, project_id: str, assets: list[AssetRow]) -> None:
    """Each asset's local time (what titles show) and the moment it orders by: its own
    offset, else the project's time zone (so ``project update --timezone`` and a new
    analysis move a photo without an offset among those with one), else the offset the
    project's other photos carry, else its wall clock; then the assets sorted by that
    moment (a stable sort: ties keep capture order)."""
    zone = catalog.table("projects").value(project_id, "timezone")
    guess = None if zone else read_shoot_offset(catalog, project_id)
    cols = ("captured_at", "captured_offset_min", "captured_at_source")
    rows = catalog.table("assets").rows_for([a.id for a in assets], select=cols)
    for a in assets:
        when = local_capture_time(rows.get(a.id, {}), zone)
        a.captured_at, a.local_time = when.order_key(guess), when.local
    assets.sort(key=lambda a: (a.captured_at is None, a.captured_at or datetime.min))


def load_rank_inputs(
    catalog: Catalog, project_id: str, asset_ids: Sequence[str] | None = None
) -> RankInputs:
    """The rank inputs of the project's assets (or of ``asset_ids`` only: one group's
    members), in capture order; quarantined assets are left out."""
    assets, thumbs = _asset_rows(catalog, project_id, asset_ids)
    _place_in_time(catalog, project_id, assets)
    return RankInputs(assets, owner_weights(catalog, project_id), _grey_loader(catalog, thumbs))
