"""Style DNA in the catalog: learn from saved edits, predict for a photo.

``style_profiles`` holds, per user, the sufficient statistics of every bucket (``state`` JSON,
per feature kind); ``style_events`` holds one row per learned photo: a salted hash of the
asset id, the derived features, the context, the delta and the bucket. No pixels, no ids in
clear. Re-editing a photo replaces its event exactly (the old one is subtracted).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from kilo.catalog import Catalog
from kilo.catalog.measures_repo import read_latest_vector
from kilo.clock import new_id, utcnow
from kilo.edit.fix import ImageStats, fix_from_stats, measure_image
from kilo.edit.params import EditParams
from kilo.edit.photo import asset_row, load_preview
from kilo.errors import KiloError
from kilo.models import EditVersion
from kilo.records import json_object
from kilo.style.features import (
    CLIP_DIMS,
    CONTEXT_NAMES,
    STATS_KIND,
    Context,
    clip_projection,
    context_bucket,
    image_features,
    indoor_probability,
    local_hour,
    model_input,
)
from kilo.style.model import (
    MODEL_VERSION,
    TARGETS,
    Prediction,
    StyleModel,
    apply_delta,
    target_delta,
)

F64 = NDArray[np.float64]
PREVIEW_PX = 512


@dataclass
class PhotoInputs:
    """Everything Style DNA derives from one photo."""

    stats: ImageStats
    fix: EditParams
    context: Context
    bucket: str
    kind: str
    x: F64


def asset_key(user_id: str, asset_id: str) -> str:
    """A per-user salted hash of an asset id (events never name assets in clear)."""
    return hashlib.sha256(f"kilo-style:{user_id}:{asset_id}".encode()).hexdigest()[:32]


def photo_inputs(catalog: Catalog, asset_id: str) -> PhotoInputs:
    """Features, context, bucket and Fix of an asset, from its preview and metadata."""
    row = asset_row(catalog, asset_id)
    img = load_preview(catalog, row["id"], max_px=PREVIEW_PX)
    stats = measure_image(img)
    iso = float(row["iso"]) if row.get("iso") else None
    ctx = Context(
        kelvin=stats.kelvin,
        iso=iso,
        local_hour=local_hour(row),
        indoor_prob=indoor_probability(stats, iso, row.get("exposure_time_s")),
    )
    features = image_features(stats)
    kind = STATS_KIND
    emb = read_latest_vector(catalog, row["id"])
    if emb is not None and emb[1]:
        features = np.concatenate([features, clip_projection(np.asarray(emb[1], np.float64))])
        kind = f"{STATS_KIND}+clip{CLIP_DIMS}:{emb[0]}"
    return PhotoInputs(
        stats, fix_from_stats(stats), ctx, context_bucket(ctx), kind, model_input(features, ctx)
    )


# -- profile storage --------------------------------------------------------------------------
def load_state(catalog: Catalog, user_id: str) -> dict[str, Any]:
    raw = catalog.scalar("SELECT state FROM style_profiles WHERE user_id = ?", [user_id])
    if raw is None:
        return {"version": MODEL_VERSION, "kinds": {}}
    state = json_object(raw)
    state.setdefault("kinds", {})
    return state


def load_model(catalog: Catalog, user_id: str, kind: str, dim: int) -> StyleModel:
    state = load_state(catalog, user_id)
    data = state["kinds"].get(kind)
    context = len(CONTEXT_NAMES)  # model_input() puts the context last
    if data:
        return StyleModel.from_state(data, context_dims=context)
    return StyleModel(dim=dim, context_dims=context)


def _save_model(catalog: Catalog, user_id: str, kind: str, model: StyleModel) -> None:
    state = load_state(catalog, user_id)
    state["version"] = MODEL_VERSION
    if model.buckets:
        state["kinds"][kind] = model.to_state()
    else:
        state["kinds"].pop(kind, None)
    count = sum(StyleModel.from_state(v).event_count for v in state["kinds"].values())
    now = utcnow()
    catalog.table("style_profiles").upsert(
        {
            "id": new_id(),
            "user_id": user_id,
            "version": MODEL_VERSION,
            "state": state,
            "event_count": count,
            "created_at": now,
            "updated_at": now,
        },
        key=("user_id",),  # one profile per user: its id and created_at stay
        update=("state", "version", "event_count", "updated_at"),
    )


def drop_style(catalog: Catalog, user_id: str) -> int:
    """Forget the user's profile and every event it learned from; how many events."""
    with catalog.transaction():
        n = catalog.scalar("SELECT count(*) FROM style_events WHERE user_id = ?", [user_id])
        catalog.execute("DELETE FROM style_events WHERE user_id = ?", [user_id])
        catalog.execute("DELETE FROM style_profiles WHERE user_id = ?", [user_id])
    return int(n or 0)


def _learnable(params: EditParams) -> bool:
    """A version teaches the style only if it sets some tone or color (not just a crop)."""
    tonal = params.without_geometry().with_changes(
        sharpness=0, luminance_smoothing=0, color_noise_reduction=0
    )
    return not tonal.is_identity()


def learn_from_version(catalog: Catalog, version: EditVersion, *, weight: float = 1.0) -> bool:
    """Absorb a saved user edit into the user's Style DNA. Returns True if it learned.

    Never raises for a photo it cannot read (no preview, undecodable): learning is a side
    effect of saving and must not break the save.
    """
    params = EditParams.parse(version.params)
    if not _learnable(params):
        return False
    try:
        inputs = photo_inputs(catalog, version.asset_id)
    except KiloError:
        return False
    return absorb(catalog, version.user_id, version.asset_id, inputs, params, weight=weight)


def absorb(
    catalog: Catalog,
    user_id: str,
    asset_id: str,
    inputs: PhotoInputs,
    final: EditParams,
    *,
    weight: float = 1.0,
) -> bool:
    """Add (or replace) one photo's event: ``final`` params against its Fix."""
    y = target_delta(final, inputs.fix)
    key = asset_key(user_id, asset_id)
    n_feat = len(inputs.x) - len(Context(6500.0).vector())
    with catalog.transaction():
        model = load_model(catalog, user_id, inputs.kind, len(inputs.x))
        old = catalog.fetchdicts(
            "SELECT id, bucket, features, context, delta, weight FROM style_events "
            "WHERE user_id = ? AND asset_key = ?",
            [user_id, key],
        )
        for ev in old:
            ox = np.concatenate([np.asarray(ev["features"]), np.asarray(ev["context"])])
            if ox.shape == inputs.x.shape:
                model.remove(ev["bucket"], ox, np.asarray(ev["delta"]), float(ev["weight"]))
            catalog.execute("DELETE FROM style_events WHERE id = ?", [ev["id"]])
        model.update(inputs.bucket, inputs.x, y, weight)
        catalog.execute(
            "INSERT INTO style_events (id, user_id, asset_key, bucket, features, context, delta, "
            "weight, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                new_id(),
                user_id,
                key,
                inputs.bucket,
                [float(v) for v in inputs.x[:n_feat]],
                [float(v) for v in inputs.x[n_feat:]],
                [float(v) for v in y],
                weight,
                utcnow(),
            ],
        )
        _save_model(catalog, user_id, inputs.kind, model)
    return True


@dataclass
class StylePrediction:
    """What Style DNA proposes for one photo."""

    asset_id: str
    fix: EditParams
    params: EditParams  # Fix + delta when applied, else Fix
    applied: bool
    prediction: Prediction
    reason: str

    @property
    def delta(self) -> dict[str, float]:
        return {
            name: round(float(v), 3) for name, v in zip(TARGETS, self.prediction.delta, strict=True)
        }


def predict_for_asset(
    catalog: Catalog,
    asset_id: str,
    *,
    user_id: str | None = None,
    min_confidence: float = 0.5,
) -> StylePrediction:
    """Fix + the learned delta for a photo, or Fix alone when confidence is below the gate."""
    user = user_id or catalog.local_user_id
    inputs = photo_inputs(catalog, asset_id)
    model = load_model(catalog, user, inputs.kind, len(inputs.x))
    pred = model.predict(inputs.bucket, inputs.x)
    applied = pred.confidence >= min_confidence
    params = apply_delta(inputs.fix, pred.delta) if applied else inputs.fix
    return StylePrediction(
        asset_id=asset_row(catalog, asset_id)["id"],
        fix=inputs.fix,
        params=params,
        applied=applied,
        prediction=pred,
        reason=pred.reason(min_confidence),
    )
