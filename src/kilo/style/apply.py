"""Style DNA front: apply to a project, show what was learned in plain words, reset."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from kilo.catalog import Catalog
from kilo.catalog.file_reads import read_capture_instant_sql
from kilo.clock import parse_uuid
from kilo.cull.ratings import picked_among
from kilo.edit.photo import asset_row
from kilo.edit.versions import create_version, latest_of_source, latest_version
from kilo.errors import InvalidInput, KiloError
from kilo.models import CreateEditVersionRequest
from kilo.progress import ItemResult, Progress, ProgressCallback, report
from kilo.style.features import BUCKETS
from kilo.style.learn import drop_style, load_state, predict_for_asset
from kilo.style.model import (
    COUNT_HALF,
    DEFAULT_MIN_CONFIDENCE,
    MODEL_VERSION,
    TARGETS,
    StyleModel,
)

_CAMEL = ConfigDict(alias_generator=to_camel, populate_by_name=True)
BUCKET_WORDS = {
    "daylight": "daylight",
    "indoor": "indoor",
    "night": "night",
    "golden": "warm light (golden hour, tungsten)",
    "shade": "cool light (shade, overcast)",
}


class BucketSummary(BaseModel):
    model_config = _CAMEL
    bucket: str
    edits: int
    mean_delta: dict[str, float]
    summary: str


class StyleSummary(BaseModel):
    model_config = _CAMEL
    user_id: str
    version: str
    event_count: int
    buckets: list[BucketSummary] = Field(default_factory=list)
    lines: list[str] = Field(default_factory=list)


class StyleApplyReport(BaseModel):
    model_config = _CAMEL
    applied: int = 0
    fix_only: int = 0
    kept_edited: int = 0  # photos edited by hand, left as they are
    failed: int = 0
    items: list[ItemResult] = Field(default_factory=list)
    #: when some photos got Fix only (low confidence): a frame to edit by hand and sync to
    #: them (the design's hero-frame path), and why that one
    hero_asset_id: str | None = None
    hero_reason: str | None = None


def _words(delta: dict[str, float]) -> str:
    parts: list[str] = []
    ev = delta["exposure"]
    if abs(ev) >= 0.1:
        parts.append(f"{'brighter' if ev > 0 else 'darker'} by {abs(ev):.1f} EV")
    dm = delta["temperature"]  # mired: + = the light is treated as warmer = cooler render
    if abs(dm) >= 5:
        parts.append("cooler" if dm > 0 else "warmer")
    if abs(delta["tint"]) >= 3:
        parts.append("more magenta" if delta["tint"] > 0 else "greener")
    for name, up, down in (
        ("contrast", "more contrast", "less contrast"),
        ("highlights", "brighter highlights", "highlights pulled down"),
        ("shadows", "shadows opened", "deeper shadows"),
        ("whites", "brighter whites", "softer whites"),
        ("blacks", "lifted blacks", "deeper blacks"),
        ("vibrance", "more vibrance", "less vibrance"),
        ("saturation", "more saturated", "less saturated"),
    ):
        v = delta[name]
        if abs(v) >= 5:
            parts.append(f"{up if v > 0 else down} ({v:+.0f})")
    return ", ".join(parts) if parts else "close to Fix"


def show_style(catalog: Catalog, user_id: str | None = None) -> StyleSummary:
    """What Style DNA has learned for a user, per context, in plain words."""
    user = user_id or catalog.local_user_id
    state = load_state(catalog, user)
    merged: dict[str, tuple[int, Any]] = {}
    for kind_state in state["kinds"].values():
        model = StyleModel.from_state(kind_state)
        for name, b in model.buckets.items():
            n, acc = merged.get(name, (0, np.zeros(len(TARGETS))))
            merged[name] = (n + b.n, acc + model.bucket_mean(name) * b.n)
    buckets: list[BucketSummary] = []
    lines: list[str] = []
    for name in BUCKETS:
        if name not in merged:
            continue
        n, acc = merged[name]
        mean = acc / max(n, 1)
        delta = {t: round(float(v), 2) for t, v in zip(TARGETS, mean, strict=True)}
        words = _words(delta)
        buckets.append(BucketSummary(bucket=name, edits=n, mean_delta=delta, summary=words))
        top = n / (n + COUNT_HALF)  # the count term: what style apply can reach with n edits
        need = (
            f" (with {n} edit{'s' if n != 1 else ''} its confidence is at most {top:.2f}; style "
            "apply uses it from "
            f"{DEFAULT_MIN_CONFIDENCE:.2f}, or the --min-confidence you give)"
            if top < 0.9
            else ""
        )
        lines.append(
            f"{BUCKET_WORDS[name].capitalize()}, {n} edit{'s' if n != 1 else ''}: compared with "
            f"Fix you go {words}{need}."
        )
    total = sum(b.edits for b in buckets)
    if not buckets:
        lines.append(
            "Nothing learned yet: save a few edits (kilo edit set ...) and Style DNA starts."
        )
    return StyleSummary(
        user_id=user,
        version=str(state.get("version", MODEL_VERSION)),
        event_count=total,
        buckets=buckets,
        lines=lines,
    )


def apply_style(
    catalog: Catalog,
    project_id: str,
    asset_ids: list[str] | None = None,
    *,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    user_id: str | None = None,
    progress: ProgressCallback | None = None,
    overwrite_edited: bool = False,
) -> StyleApplyReport:
    """Create a version per photo: Fix + Style DNA where confident, Fix alone otherwise.

    Each item says which it got and why (confidence, bucket, sample count). A photo whose
    latest version is a hand edit is left as it is (``skipped``, counted in
    ``kept_edited``) unless ``overwrite_edited``. Photos of other projects in
    ``asset_ids`` are refused.
    """
    if not 0.0 <= min_confidence <= 1.0:
        raise InvalidInput("min_confidence is between 0 and 1")
    pid = parse_uuid(project_id, "project id")
    if asset_ids is None:
        taken = read_capture_instant_sql(catalog, pid)
        ids = catalog.table("assets").keys_where(
            "project_id = ? AND state <> 'quarantined'",
            [pid],
            order_by=f"{taken} NULLS LAST, a.filename, a.frame_index, a.id",
        )
    else:
        ids = [parse_uuid(a, "asset id") for a in asset_ids]
    user = user_id or catalog.local_user_id
    out = StyleApplyReport()
    for i, aid in enumerate(ids):
        try:
            item = _style_one(catalog, aid, pid, user, min_confidence, overwrite_edited)
        except KiloError as exc:
            item = ItemResult(item=aid, asset_id=aid, status="failed", reason=exc.message)
        out.items.append(item)
        if item.status == "failed":
            out.failed += 1
        elif item.status == "skipped":
            out.kept_edited += 1
        elif item.extra.get("applied"):
            out.applied += 1
        else:
            out.fix_only += 1
        report(
            progress,
            Progress("style", i + 1, len(ids), item=aid, status=item.status, message=item.reason),
        )
    _suggest_hero(catalog, out, user)
    return out


def _style_one(
    catalog: Catalog, aid: str, pid: str, user: str, min_confidence: float, overwrite: bool
) -> ItemResult:
    """One photo's new version (Fix + Style DNA, or Fix alone), or skipped: a hand edit."""
    if asset_row(catalog, aid)["project_id"] != pid:
        raise InvalidInput("asset belongs to another project")
    parent = latest_version(catalog, aid, user)
    if parent is not None and not overwrite and _by_hand(catalog, parent.id):
        return ItemResult(
            item=aid,
            asset_id=aid,
            status="skipped",
            reason="edited by hand: kept (--overwrite-edited puts Style DNA on top)",
            extra={"editId": parent.id},
        )
    pred = predict_for_asset(catalog, aid, user_id=user, min_confidence=min_confidence)
    version = create_version(
        catalog,
        aid,
        CreateEditVersionRequest(
            params=pred.params.dump(),
            name="Style DNA" if pred.applied else "Fix",
            parent_id=parent.id if parent else None,
        ),
        user,
        source="style" if pred.applied else "fix",
        learn=False,
    )
    return ItemResult(
        item=aid,
        asset_id=aid,
        status="ok",
        reason=pred.reason,
        extra={
            "editId": version.id,
            "applied": pred.applied,
            "confidence": round(pred.prediction.confidence, 3),
            "bucket": pred.prediction.bucket,
            "samples": pred.prediction.samples,
        },
    )


def _suggest_hero(catalog: Catalog, rep: StyleApplyReport, user_id: str) -> None:
    """The hero frame for the photos Style DNA was not confident on: in the context (bucket)
    most of them share, the first the photographer picked, else the first of them."""
    low: dict[str, list[str]] = {}
    for it in rep.items:
        if it.status == "ok" and not it.extra.get("applied") and it.asset_id:
            low.setdefault(str(it.extra.get("bucket", "")), []).append(it.asset_id)
    if not low:
        return
    bucket, ids = max(low.items(), key=lambda kv: len(kv[1]))
    picked = picked_among(catalog, user_id, ids)
    hero = next((a for a in ids if a in picked), ids[0])
    rep.hero_asset_id = hero
    words = BUCKET_WORDS.get(bucket, bucket)
    rep.hero_reason = (
        f"{rep.fix_only} photo{'s' if rep.fix_only != 1 else ''} got Fix only (not enough "
        f"confidence); {len(ids)} of them are {words}"
        + (" and this one is a pick" if hero in picked else "")
    )


def fix_only_assets(catalog: Catalog, project_id: str, user_id: str | None = None) -> list[str]:
    """Photos of a project whose latest version is Fix alone (Style DNA was not confident):
    the selection a hero frame's settings are synced to."""
    pid = parse_uuid(project_id, "project id")
    return latest_of_source(catalog, pid, user_id or catalog.local_user_id, "fix")


def _by_hand(catalog: Catalog, edit_id: str) -> bool:
    """Whether a version is the photographer's own edit (not Fix, Style DNA or a batch)."""
    return bool(catalog.table("edit_versions").value(edit_id, "source") == "user")


def reset_style(catalog: Catalog, user_id: str | None = None) -> int:
    """Forget everything Style DNA learned for a user; returns the number of events dropped."""
    user = user_id or catalog.local_user_id
    return drop_style(catalog, user)
