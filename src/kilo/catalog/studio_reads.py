"""Reads of the browser studio, each one query over several tables: a project's cull data
version (a digest that changes whenever a decision, cluster or photo of the project
changes, so a client polls it cheaply), its processing progress, and the join that says
which photos have an embedding."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from kilo.catalog import Catalog
from kilo.clock import to_utc_naive, utcnow

__all__ = ["EMBEDDED_JOIN", "THROUGHPUT_WINDOW_MIN", "count_progress", "cull_data_version"]

#: SQL: ``e.embedded_id`` is not null when the asset ``a`` has an embedding (any model)
EMBEDDED_JOIN = (
    "LEFT JOIN (SELECT DISTINCT asset_id AS embedded_id FROM embeddings) e ON e.embedded_id = a.id"
)
#: the minutes over which the progress' throughput is measured
THROUGHPUT_WINDOW_MIN = 5

_DIGEST = "count(*)::VARCHAR || '.' || coalesce(sum(hash({})), 0)::VARCHAR"
_VERSION_SQL = f"""
SELECT
  (SELECT {
    _DIGEST.format(
        "id, state, error, preview_file_id, width_px, height_px, orientation, captured_at, filename"
    )
}
     FROM assets WHERE project_id = $p AND state <> 'pending_upload'),
  (SELECT {_DIGEST.format("r.asset_id, r.rating, r.picked, r.rejected, r.starred")}
     FROM ratings r JOIN assets a ON a.id = r.asset_id
     WHERE a.project_id = $p AND r.user_id = $u),
  (SELECT {
    _DIGEST.format(
        "id, kind, parent_id, title, reviewed, winner_asset_id, why_winner, confidence, start_time"
    )
}
     FROM clusters WHERE project_id = $p),
  (SELECT {_DIGEST.format("m.cluster_id, m.asset_id, m.rank, m.role")}
     FROM cluster_members m JOIN clusters c ON c.id = m.cluster_id WHERE c.project_id = $p),
  (SELECT {_DIGEST.format("s.asset_id, s.computed_at")}
     FROM signals s JOIN assets a ON a.id = s.asset_id WHERE a.project_id = $p),
  (SELECT count(DISTINCT x.asset_id)::VARCHAR
     FROM embeddings x JOIN assets a ON a.id = x.asset_id WHERE a.project_id = $p)
"""


def cull_data_version(catalog: Catalog, project_id: str, user_id: str) -> str:
    """A short digest of everything a cull view of the project shows for the user (photos
    and their state, the user's decisions, clusters, members, signals, embeddings), in one
    query: equal digests, the same view."""
    row = catalog.fetchone(_VERSION_SQL, {"p": project_id, "u": user_id})
    text = "|".join(str(v) for v in (row or ()))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


_PROGRESS_SQL = f"""
SELECT
  count(*),
  count(*) FILTER (WHERE a.state = 'ready'),
  count(s.asset_id),
  count(e.embedded_id),
  count(*) FILTER (WHERE a.state = 'quarantined' OR a.error IS NOT NULL),
  (SELECT count(*) FROM quarantine q WHERE q.project_id = $p),
  (SELECT count(*) FROM asset_files f JOIN assets b ON b.id = f.asset_id
     WHERE b.project_id = $p AND f.kind = 'thumbnail' AND f.created_at >= $since),
  (SELECT count(*) FROM jobs j WHERE j.project_id = $p AND j.status = 'queued'),
  (SELECT count(*) FROM jobs j WHERE j.project_id = $p AND j.status = 'running')
FROM assets a LEFT JOIN signals s ON s.asset_id = a.id {EMBEDDED_JOIN}
WHERE a.project_id = $p AND a.state <> 'pending_upload'
"""


def count_progress(catalog: Catalog, project_id: str) -> dict[str, Any]:
    """The project's photos: total, processed (previews ready), analysed (signals),
    embedded, failed, quarantined files, thumbnails made in the last
    :data:`THROUGHPUT_WINDOW_MIN` minutes, queued and running jobs; one query."""
    since = to_utc_naive(utcnow() - timedelta(minutes=THROUGHPUT_WINDOW_MIN))
    row = catalog.fetchone(_PROGRESS_SQL, {"p": project_id, "since": since})
    assert row is not None
    names = (
        "total",
        "processed",
        "analyzed",
        "embedded",
        "failed",
        "quarantined",
        "recent",
        "queued",
        "running",
    )
    return {name: int(value or 0) for name, value in zip(names, row, strict=True)}
