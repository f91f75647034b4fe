"""The ``project.cluster`` job (in-process, one project): read every asset's time, camera,
signals, hashes (:mod:`kilo.group.inputs`) and, when present, the embeddings of the current
model; cluster and rank (:mod:`kilo.group.build`); ``apply`` stores them stably
(:mod:`kilo.group.recluster`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kilo.catalog import Catalog
from kilo.group.build import ClusterInput, build_clusters
from kilo.group.clusters import locked_clusters
from kilo.group.inputs import load_rank_inputs
from kilo.group.recluster import ComputedCluster, store_clusters
from kilo.jobs import JobRow
from kilo.jobspec import JobHandler, JobType


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
    """Everything clustering needs about a project, read in a few queries: the rank inputs
    of every asset (:func:`kilo.group.inputs.load_rank_inputs`, as every re-rank reads
    them), the embeddings of the current model and the clusters a person fixed."""
    ranked = load_rank_inputs(catalog, project_id)
    assets = ranked.assets
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
        weights=ranked.weights,
        locked=locked_clusters(catalog, project_id),
        load_grey=ranked.load_grey,
    )


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
