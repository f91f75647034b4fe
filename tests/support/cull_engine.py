"""Catalog rows for culling-engine tests: assets with capture time, camera, real signals and
hashes of real photos (measured once per file), without going through ingest."""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image

from kilo.catalog import Catalog
from kilo.clock import new_id, utcnow
from kilo.measure.hashing import compute_hashes, to_signed64
from kilo.measure.signals import SIGNALS_VERSION, compute_signals


@lru_cache(maxsize=64)
def measure(path: Path, blur: float = 0.0) -> tuple[dict[str, float], int, int, tuple[int, int]]:
    """Signals and (p, d) hashes of a real photo at preview scale (optionally blurred)."""
    from PIL import ImageFilter

    im = Image.open(path).convert("RGB")
    im.thumbnail((1024, 1024))
    if blur:
        im = im.filter(ImageFilter.GaussianBlur(blur))
    h = compute_hashes(im)
    return compute_signals(im, faces=False), h.phash, h.dhash, im.size


def add_analyzed_asset(
    catalog: Catalog,
    project_id: str,
    path: Path,
    captured_at: datetime | None,
    *,
    camera: str | None = "Canon",
    blur: float = 0.0,
    **cols: Any,
) -> str:
    """An ``assets`` row (state ready) plus its ``signals`` and ``perceptual_hashes`` rows."""
    values, ph, dh, (w, h) = measure(path, blur)
    aid = new_id()
    now = utcnow()
    catalog.execute(
        "INSERT INTO assets (id, project_id, filename, source_uri, captured_at, "
        "captured_at_source, camera_make, camera_model, width_px, height_px, ingested_at, "
        "updated_at, state, exposure_bias_ev) "
        "VALUES (?, ?, ?, ?, ?, 'exif', ?, 'Model', ?, ?, ?, ?, 'ready', ?)",
        [
            aid,
            project_id,
            cols.get("filename", path.name),
            str(path),
            captured_at,
            camera,
            w,
            h,
            now,
            now,
            cols.get("exposure_bias"),
        ],
    )
    catalog.execute(
        'INSERT INTO signals (asset_id, version, "values", computed_at) VALUES (?, ?, ?, ?)',
        [aid, SIGNALS_VERSION, json.dumps(values), now],
    )
    catalog.execute(
        "INSERT INTO perceptual_hashes (asset_id, phash, dhash, computed_at) VALUES (?, ?, ?, ?)",
        [aid, to_signed64(ph), to_signed64(dh), now],
    )
    return aid
