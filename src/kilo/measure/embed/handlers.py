"""The ``project.embed`` job: give every asset of a project a vector from the preview.

In-process (the model is loaded once and kept): ``prepare`` picks up to ``MAX_PER_JOB``
assets without a vector for the current model, ``compute`` decodes their previews and embeds
them in batches, ``apply`` writes the ``embeddings`` rows, adds the vectors to the search
index incrementally and queues a follow-up job when more assets wait. Without weights the job
succeeds with a warning in its result (clustering then falls back to hashes and signals).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kilo.catalog import Catalog
from kilo.catalog.file_reads import latest_file
from kilo.errors import KiloError
from kilo.jobs import JobRow, enqueue, run_jobs
from kilo.jobspec import JobHandler, JobType
from kilo.progress import ProgressCallback
from kilo.records import json_object
from kilo.settings import Settings

MAX_PER_JOB = 1024
DECODE_BATCH = 64


@dataclass
class EmbedPayload:
    project_id: str
    settings: Settings
    model_id: str | None
    items: list[tuple[str, str]] = field(default_factory=list)  # (asset id, preview uri)
    no_preview: list[str] = field(default_factory=list)
    more_after: tuple[str, str] | None = None  # (ingested_at iso, id) to continue from
    warning: str | None = None


def _decode_preview(uri: str, settings: Settings, size: int) -> Any:
    from PIL import Image

    from kilo.store import read_bytes

    data = read_bytes(uri, settings)
    im = Image.open(io.BytesIO(data))
    if im.format == "JPEG":
        im.draft("RGB", (4 * size, 4 * size))
    im.load()
    return im.convert("RGB")


class EmbedHandler(JobHandler):
    type = JobType.EMBED
    pooled = False

    def prepare(self, catalog: Catalog, job: JobRow) -> EmbedPayload:
        from kilo.measure.embed import embedder_status, load_embedder

        project_id = job.project_id or str(job.payload.get("projectId") or "")
        emb = load_embedder(catalog.settings)
        if emb is None:
            return EmbedPayload(
                project_id, catalog.settings, None, warning=embedder_status(catalog.settings)
            )
        after = job.payload.get("after")
        where = "a.project_id = ? AND a.state <> 'quarantined'"
        params: list[Any] = [project_id]
        if isinstance(after, list) and len(after) == 2:
            where += " AND (a.ingested_at, a.id) > (CAST(? AS TIMESTAMP), ?)"
            params += after
        rows = catalog.fetchall(
            f"SELECT a.id, a.ingested_at, {latest_file('preview')} "
            f"FROM assets a WHERE {where} AND NOT EXISTS (SELECT 1 FROM embeddings e "
            "WHERE e.asset_id = a.id AND e.model_id = ?) ORDER BY a.ingested_at, a.id LIMIT ?",
            [*params, emb.model_id, MAX_PER_JOB + 1],
        )
        more = None
        if len(rows) > MAX_PER_JOB:
            rows = rows[:MAX_PER_JOB]
            more = (rows[-1][1].isoformat(), str(rows[-1][0]))
        payload = EmbedPayload(project_id, catalog.settings, emb.model_id, more_after=more)
        for asset_id, _, uri in rows:
            if uri:
                payload.items.append((str(asset_id), str(uri)))
            else:
                payload.no_preview.append(str(asset_id))
        return payload

    def compute(self, payload: EmbedPayload) -> dict[str, Any]:
        from kilo.measure.embed import load_embedder

        summary: dict[str, Any] = {
            "modelId": payload.model_id,
            "embedded": 0,
            "failed": [],
            "noPreview": len(payload.no_preview),
        }
        if payload.model_id is None:
            summary["warning"] = payload.warning
            return summary
        emb = load_embedder(payload.settings)
        if emb is None or emb.model_id != payload.model_id:
            summary["warning"] = "the CLIP model changed while the job ran; it will run again"
            return summary
        size = int(getattr(emb, "image_size", 224))
        ids: list[str] = []
        chunks: list[np.ndarray] = []
        for start in range(0, len(payload.items), DECODE_BATCH):
            batch_ids: list[str] = []
            images: list[Any] = []
            for asset_id, uri in payload.items[start : start + DECODE_BATCH]:
                try:
                    images.append(_decode_preview(uri, payload.settings, size))
                    batch_ids.append(asset_id)
                except (KiloError, OSError, ValueError) as exc:
                    reason = exc.message if isinstance(exc, KiloError) else str(exc)
                    summary["failed"].append({"assetId": asset_id, "reason": reason})
            if images:
                chunks.append(emb.embed_images(images))
                ids += batch_ids
        summary["embedded"] = len(ids)
        summary["_vectors"] = (ids, np.concatenate(chunks) if chunks else None)
        summary["_more_after"] = payload.more_after
        return summary

    def apply(self, catalog: Catalog, job: JobRow, result: dict[str, Any]) -> None:
        from kilo.measure.embed.vectors import write_vectors
        from kilo.search.index import add_to_index

        # Vectors travel in the result but must not be stored as the job's JSON result.
        ids, vectors = result.pop("_vectors", ([], None))
        more_after = result.pop("_more_after", None)
        model_id = result.get("modelId")
        if model_id and ids and vectors is not None:
            write_vectors(catalog, model_id, ids, vectors)
            add_to_index(catalog, model_id, ids, vectors)
        if more_after is not None and job.project_id:
            enqueue(
                catalog,
                JobType.EMBED,
                project_id=job.project_id,
                payload={"after": list(more_after)},
            )


EMBED_HANDLER = EmbedHandler()


def enqueue_embed(catalog: Catalog, project_id: str) -> str:
    """Queue ``project.embed`` for a project (reuses a queued one)."""
    return enqueue(
        catalog, JobType.EMBED, project_id=project_id, dedupe_key=f"{JobType.EMBED}:{project_id}"
    )


def embed_project(
    catalog: Catalog, project_id: str, *, progress: ProgressCallback | None = None
) -> dict[str, Any]:
    """Embed every asset of the project that lacks a vector now; returns a summary
    (``embedded``, ``failed`` [{assetId, reason}], ``noPreview``, ``warning``)."""
    enqueue_embed(catalog, project_id)
    report = run_jobs(catalog, project_id, types=[JobType.EMBED], progress=progress)
    rows = catalog.table("jobs").rows_where(
        "project_id = ? AND type = ?",
        [project_id, JobType.EMBED],
        select=("result", "status", "error"),
        order_by="created_at DESC",
        limit=max(1, report.done + report.failed),
    )
    total: dict[str, Any] = {"embedded": 0, "failed": [], "noPreview": 0, "warning": None}
    for row in rows:
        result, status, error = row["result"], row["status"], row["error"]
        data = json_object(result)
        total["embedded"] += int(data.get("embedded", 0))
        total["failed"] += list(data.get("failed", []))
        total["noPreview"] = max(total["noPreview"], int(data.get("noPreview", 0)))
        total["warning"] = total["warning"] or data.get("warning")
        if status == "failed":
            total["failed"].append({"assetId": None, "reason": error})
    return total
