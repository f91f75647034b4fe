"""The ``asset.analyze`` job (pooled, one asset): decode the preview from the store (the
original when there is no preview yet), compute the quality signals and perceptual hashes;
``apply`` writes the ``signals`` and ``perceptual_hashes`` rows. Clustering is
:mod:`kilo.group.handlers`."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from typing import Any

from kilo.catalog import Catalog
from kilo.catalog.assets_repo import read_analysis_source
from kilo.catalog.measures_repo import save_measures
from kilo.errors import DecodeError, NotFound
from kilo.jobs import JobRow
from kilo.jobspec import JobHandler, JobType
from kilo.measure.hashing import compute_hashes, to_signed64
from kilo.measure.signals import SIGNALS_VERSION, measure_image
from kilo.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class AnalyzePayload:
    asset_id: str
    uri: str
    is_rendition: bool
    frame_index: int
    settings: Settings


def _decode(payload: AnalyzePayload) -> Any:
    from PIL import Image

    if payload.is_rendition:
        from kilo.store import read_bytes

        data = read_bytes(payload.uri, payload.settings)
        try:
            im = Image.open(io.BytesIO(data))
            im.load()
        except Exception as exc:
            log.debug("%s: preview cannot be decoded", payload.uri, exc_info=True)
            raise DecodeError(f"preview cannot be decoded: {exc}", path=payload.uri) from None
        return im.convert("RGB")
    from kilo.imaging import load_image

    return load_image(
        payload.uri,
        max_px=payload.settings.preview_px,
        settings=payload.settings,
        frame=payload.frame_index,
    )


class AnalyzeHandler(JobHandler):
    type = JobType.ANALYZE
    pooled = True

    def prepare(self, catalog: Catalog, job: JobRow) -> AnalyzePayload:
        aid = job.asset_id or str(job.payload.get("assetId") or "")
        row = read_analysis_source(catalog, aid)
        if row is None:
            raise NotFound(f"no asset with id {aid}")
        source, frame, preview, original = row
        if preview:
            return AnalyzePayload(aid, str(preview), True, 0, catalog.settings)
        return AnalyzePayload(
            aid, str(original or source), False, int(frame or 0), catalog.settings
        )

    def compute(self, payload: AnalyzePayload) -> dict[str, Any]:
        img = _decode(payload)
        hashes = compute_hashes(img)
        signals, faces = measure_image(img)
        w, h = img.size
        return {
            "assetId": payload.asset_id,
            "version": SIGNALS_VERSION,
            "signals": signals,
            "faces": [
                [f.x / w, f.y / h, f.w / w, f.h / h, f.score, f.eyes, f.openness, f.source]
                for f in faces
            ],
            "phash": to_signed64(hashes.phash),
            "dhash": to_signed64(hashes.dhash),
            "ahash": to_signed64(hashes.ahash),
        }

    def apply(self, catalog: Catalog, job: JobRow, result: dict[str, Any]) -> None:
        save_measures(
            catalog,
            result["assetId"],
            result["version"],
            result["signals"],
            (result["phash"], result["dhash"], result["ahash"]),
            result.get("faces") or [],
        )


ANALYZE_HANDLER = AnalyzeHandler()
