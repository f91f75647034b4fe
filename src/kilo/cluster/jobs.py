"""The ``project.cluster`` job (in-process, one project): read every asset's time, camera,
signals, hashes and, when present, the embeddings of the current model; cluster and rank
(:mod:`kilo.cluster.build`); ``apply`` stores them stably (:mod:`kilo.cluster.recluster`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from kilo.catalog import Catalog
from kilo.catalog.tables import CAPTURE_ORDER, latest_file
from kilo.cluster.build import AssetRow, ClusterInput, build_clusters
from kilo.cluster.recluster import ComputedCluster, store_clusters
from kilo.cluster.store import locked_clusters
from kilo.hashing import to_unsigned64
from kilo.jobs import JobRow
from kilo.jobspec import JobHandler, JobType
from kilo.records import json_object

log = logging.getLogger(__name__)


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


def current_model_id(catalog: Catalog, project_id: str) -> str | None:
    """The embedding model whose vectors cover most of the project (newest on ties)."""
    row = catalog.fetchone(
        "SELECT e.model_id FROM embeddings e JOIN assets a ON a.id = e.asset_id "
        "WHERE a.project_id = ? GROUP BY e.model_id ORDER BY count(*) DESC, max(e.created_at) "
        "DESC LIMIT 1",
        [project_id],
    )
    return str(row[0]) if row else None


def load_cluster_input(catalog: Catalog, project_id: str) -> ClusterInput:
    """Everything clustering needs about a project, read in a few queries."""
    from kilo.rank import load_weights

    rows = catalog.fetchall(
        "SELECT a.id, a.captured_at, a.camera_make, a.camera_model, a.camera_serial, a.filename, "
        "coalesce(a.width_px, 0) * coalesce(a.height_px, 0), a.exposure_bias_ev, a.exif, "
        "s.values, h.phash, h.dhash, a.captured_at_source, a.source_uri, a.frame_count, a.format, "
        f"a.content_type, a.byte_size, a.frame_count, {latest_file('thumbnail')} FROM assets a "
        "LEFT JOIN signals s ON s.asset_id = a.id "
        "LEFT JOIN perceptual_hashes h ON h.asset_id = a.id "
        "WHERE a.project_id = ? AND a.state <> 'quarantined' "
        f"ORDER BY {CAPTURE_ORDER}",
        [project_id],
    )
    assets: list[AssetRow] = []
    thumbs: dict[str, str] = {}
    for row in rows:
        aid, cap, make, model, serial, fname, px, bias, exif, sig, ph, dh, src = row[:13]
        source_uri, frame_count, fmt, ctype, byte_size, frames, thumb = row[13:]
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
                sequence=str(source_uri) if (frame_count or 1) > 1 else None,
                lossless=_lossless(fmt, ctype, fname),
                # bytes per frame: a multi-frame file's size is shared by its frames
                byte_size=int(byte_size) // max(1, int(frames or 1)) if byte_size else None,
            )
        )
    model_id = current_model_id(catalog, project_id)
    emb: np.ndarray | None = None
    if model_id is not None and assets:
        pos = {a.id: i for i, a in enumerate(assets)}
        vec_rows = catalog.fetchall(
            "SELECT e.asset_id, e.vector FROM embeddings e JOIN assets a ON a.id = e.asset_id "
            "WHERE a.project_id = ? AND e.model_id = ?",
            [project_id, model_id],
        )
        if vec_rows:
            dim = len(vec_rows[0][1])
            emb = np.zeros((len(assets), dim), dtype=np.float32)
            for aid, vec in vec_rows:
                if aid in pos and len(vec) == dim:
                    v = np.asarray(vec, dtype=np.float32)
                    emb[pos[aid]] = v / max(float(np.linalg.norm(v)), 1e-12)
    return ClusterInput(
        project_id=project_id,
        assets=assets,
        embeddings=emb,
        model_id=model_id if emb is not None else None,
        weights=load_weights(catalog),
        locked=locked_clusters(catalog, project_id),
        load_grey=_grey_loader(catalog, thumbs),
    )


def _grey_loader(catalog: Catalog, thumbs: dict[str, str]) -> Any:
    """asset id -> its thumbnail as a grey array (None when it cannot be read: that member
    is then ranked on its own signals only)."""
    settings = catalog.settings

    def load(asset_id: str) -> np.ndarray | None:
        import io

        from PIL import Image

        from kilo.cluster.compare import grey_thumbnail
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


@dataclass
class ClusterOutcome:
    clusters: list[ComputedCluster]
    model_id: str | None


class ClusterHandler(JobHandler):
    type = JobType.CLUSTER
    pooled = False

    def prepare(self, catalog: Catalog, job: JobRow) -> ClusterInput:
        project_id = job.project_id or str(job.payload.get("projectId") or "")
        return load_cluster_input(catalog, project_id)

    def compute(self, payload: ClusterInput) -> ClusterOutcome:
        return ClusterOutcome(build_clusters(payload), payload.model_id)

    def apply(self, catalog: Catalog, job: JobRow, result: ClusterOutcome) -> None:
        project_id = job.project_id or str(job.payload.get("projectId") or "")
        store_clusters(catalog, project_id, result.clusters)


CLUSTER_HANDLER = ClusterHandler()
