"""Recording identified files in the catalog, in batches, each batch one transaction:
asset rows (state ``registered``, one per frame), their ``original`` file row, the
``source_files`` row that lets an unchanged re-run skip before hashing, quarantine rows, and
one ``asset.process`` job per asset. An uploaded file (:mod:`kilo_server.uploads`) is recorded by
:func:`register_upload` into the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kilo.catalog import Catalog
from kilo.catalog.assets_repo import update_registered, update_uploaded
from kilo.clock import new_id
from kilo.ingest.discover import Found
from kilo.ingest.identify import Identified
from kilo.jobs.claims import worker_id
from kilo.jobs.queue import LIVE_JOB_OF_ASSET
from kilo.jobspec import EventType, JobType
from kilo.progress import ItemResult
from kilo.quarantine import quarantine_files

#: source_files outcomes that mean "nothing left to do for this file if it is unchanged"
SETTLED = ("registered", "ingested", "duplicate")


@dataclass
class Registrar:
    """Decides what each identified file becomes and writes the decisions in batches."""

    catalog: Catalog
    project_id: str
    reserve: bool = False  # queue the processing jobs for this process (it runs them)
    by_sha: dict[str, str] = field(default_factory=dict)  # sha256 -> asset id (frame 0)
    by_uri: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # uri -> (id, frame)
    seen: dict[str, tuple[int, float, str, str | None]] = field(default_factory=dict)
    asset_ids: list[str] = field(default_factory=list)
    results: list[ItemResult] = field(default_factory=list)
    _assets: list[list[Any]] = field(default_factory=list)
    _updates: list[list[Any]] = field(default_factory=list)
    _files: list[list[Any]] = field(default_factory=list)
    _sources: list[list[Any]] = field(default_factory=list)
    _quarantine: list[list[Any]] = field(default_factory=list)
    _jobs: list[tuple[str, str]] = field(default_factory=list)  # (asset id, source uri)

    def load(self) -> None:
        """What the catalog already knows about this project."""
        for row in self.catalog.table("assets").rows_where(
            "project_id = ?",
            [self.project_id],
            select=("id", "sha256", "source_uri", "frame_index"),
            order_by="frame_index",
        ):
            aid, sha, frame = row["id"], row["sha256"], int(row["frame_index"])
            if sha and frame == 0:
                self.by_sha.setdefault(sha, aid)
            self.by_uri.setdefault(row["source_uri"], []).append((aid, frame))
        for uri, size, mtime, outcome, aid in self.catalog.fetchall(
            "SELECT source_uri, byte_size, source_mtime, outcome, asset_id FROM source_files "
            "WHERE project_id = ?",
            [self.project_id],
        ):
            self.seen[uri] = (int(size), float(mtime), str(outcome), aid)

    # -- decisions ------------------------------------------------------------------------
    def unchanged(self, found: Found) -> ItemResult | None:
        """A skip result when ``found`` was settled by an earlier run and has not changed."""
        prev = self.seen.get(found.uri)
        if prev is None or found.error:
            return None
        size, mtime, outcome, aid = prev
        if size != found.size or abs(mtime - found.mtime) > 1e-3 or outcome not in SETTLED:
            return None
        reason = "unchanged since the last ingest"
        if outcome == "duplicate":
            reason = "unchanged; a duplicate of an asset already in the project"
        result = ItemResult(item=found.uri, status="skipped", reason=reason, asset_id=aid)
        self.results.append(result)
        return result

    def add(self, ident: Identified, now: datetime) -> ItemResult | None:
        """Plan the catalog rows of one identified file; returns its result (None: ignored)."""
        f = ident.found
        if ident.ignored:
            return None
        if ident.error or ident.sha256 is None:
            reason = ident.error or "unreadable"
            self._quarantine.append([new_id(), self.project_id, f.uri, reason, f.size, now])
            self._sources.append(
                [self.project_id, f.uri, f.size, f.mtime, None, None, "quarantined", now]
            )
            return self._result(f.uri, "failed", reason)
        sha = ident.sha256
        existing = self.by_sha.get(sha)
        if existing is not None:
            same_place = any(aid == existing for aid, _ in self.by_uri.get(f.uri, []))
            reason = (
                "unchanged content (already ingested from this location)"
                if same_place
                else f"duplicate: the same content is already asset {existing}"
            )
            outcome = "registered" if same_place else "duplicate"
            self._sources.append(
                [self.project_id, f.uri, f.size, f.mtime, sha, existing, outcome, now]
            )
            return self._result(f.uri, "skipped", reason, existing)
        old = dict((frame, aid) for aid, frame in self.by_uri.get(f.uri, []))
        first_id = ""
        for frame in range(ident.frame_count):
            aid = old.get(frame)
            if aid is not None:  # the file at this location changed: re-process in place
                self._updates.append(
                    [
                        sha,
                        f.size,
                        f.mtime,
                        ident.content_type,
                        ident.frame_count,
                        f.sidecar_uri,
                        now,
                        aid,
                    ]
                )
            else:
                aid = new_id()
                self._assets.append(_frame_row(self.project_id, ident, frame, aid, now, f.mtime))
                self._files.append(_original_row(ident, aid, now))
                self.by_uri.setdefault(f.uri, []).append((aid, frame))
            first_id = first_id or aid
            self.asset_ids.append(aid)
            self._jobs.append((aid, f.uri))
        self.by_sha[sha] = first_id
        self._sources.append(
            [self.project_id, f.uri, f.size, f.mtime, sha, first_id, "registered", now]
        )
        frames = f" ({ident.frame_count} frames)" if ident.frame_count > 1 else ""
        return self._result(f.uri, "ok", f"registered{frames}", first_id)

    def _result(
        self, uri: str, status: Any, reason: str | None, asset_id: str | None = None
    ) -> ItemResult:
        result = ItemResult(item=uri, status=status, reason=reason, asset_id=asset_id)
        self.results.append(result)
        return result

    # -- writing --------------------------------------------------------------------------
    @property
    def pending(self) -> int:
        return len(self._sources)

    def flush(self) -> None:
        """Write every planned row in one transaction."""
        if not self._sources and not self._jobs:
            return
        from kilo.jobs import enqueue_many

        cat = self.catalog
        with cat.transaction():
            cat.insert_many("assets", ASSET_COLUMNS, [[*row, "registered"] for row in self._assets])
            update_registered(cat, self._updates)
            cat.insert_many("asset_files", ORIGINAL_FILE_COLUMNS, self._files)
            quarantine_files(cat, self._quarantine, replace="source")
            cat.insert_many("source_files", SOURCE_COLUMNS, self._sources, replace=True)
            enqueue_many(
                cat, (process_job(self.project_id, aid, self.reserve) for aid, _ in self._jobs)
            )
            if self._assets:
                cat.emit_event(
                    EventType.ASSETS_REGISTERED,
                    project_id=self.project_id,
                    data={"count": len(self._assets)},
                )
        for buf in (self._assets, self._updates, self._files, self._sources, self._quarantine):
            buf.clear()
        self._jobs.clear()


def process_job(project_id: str, asset_id: str, reserve: bool = False) -> dict[str, Any]:
    """The ``asset.process`` job of one asset (``reserve``: for this process to run)."""
    return {
        "job_type": JobType.PROCESS,
        "project_id": project_id,
        "asset_id": asset_id,
        "payload": {"assetId": asset_id},
        "dedupe_key": f"{JobType.PROCESS}:{asset_id}",
        "reserved_for": worker_id() if reserve else None,
    }


def _frame_row(
    project_id: str, ident: Identified, frame: int, aid: str, now: datetime, mtime: float | None
) -> list[Any]:
    """The asset row (ASSET_COLUMNS but its state) of one frame of an identified file."""
    f = ident.found
    return [
        aid,
        project_id,
        f.name,
        f.uri,
        frame,
        ident.frame_count,
        ident.sha256,
        f.size,
        mtime,
        ident.content_type,
        now,
        f.sidecar_uri,
        now,
    ]


def _original_row(ident: Identified, aid: str, now: datetime) -> list[Any]:
    """The ``original`` asset_files row (ORIGINAL_FILE_COLUMNS) of one frame."""
    f = ident.found
    return [
        new_id(),
        aid,
        "original",
        ident.original_uri or f.uri,
        ident.content_type,
        f.size,
        ident.sha256,
        now,
    ]


#: the quarantine reason of an uploaded file that is not a photo at all (ingest leaves such
#: a file out; an upload has an asset to account for)
NOT_A_PHOTO = "not a supported image: its content does not match any format"


def register_upload(
    catalog: Catalog, project_id: str, asset_id: str, ident: Identified, now: datetime
) -> list[str]:
    """Record an uploaded file (its pending asset ``asset_id``) as ingest records a file it
    found, from the same :func:`kilo.ingest.identify.identify`: the asset becomes frame 0,
    state ``registered``, with its original; a file of several frames (a HEIC burst) gets one
    more asset per further frame. A file identify refuses is quarantined with the reason and
    its asset removed. Returns the ids of the assets to process. Call inside the caller's
    transaction."""
    f = ident.found
    if ident.ignored or ident.error or ident.sha256 is None:
        reason = ident.error or NOT_A_PHOTO
        catalog.table("assets").delete(asset_id)
        quarantine_files(catalog, [[new_id(), project_id, f.uri, reason, f.size, now]])
        catalog.emit_event(
            EventType.ASSET_QUARANTINED,
            project_id=project_id,
            asset_id=asset_id,
            data={"assetId": asset_id, "reason": reason},
        )
        return []
    update_uploaded(
        catalog, asset_id, ident.sha256, f.size, ident.content_type, ident.frame_count, now
    )
    ids = [asset_id, *(new_id() for _ in range(1, ident.frame_count))]
    frames = [
        [*_frame_row(project_id, ident, frame, aid, now, None), "registered"]
        for frame, aid in enumerate(ids)
        if frame
    ]
    catalog.insert_many("assets", ASSET_COLUMNS, frames)
    catalog.insert_many(
        "asset_files", ORIGINAL_FILE_COLUMNS, [_original_row(ident, aid, now) for aid in ids]
    )
    return ids


def _columns(spec: str) -> tuple[tuple[str, str], ...]:
    return tuple((c.split()[0], c.split()[1]) for c in spec.split(", "))


ASSET_COLUMNS = _columns(
    "id VARCHAR, project_id VARCHAR, filename VARCHAR, source_uri VARCHAR, frame_index INTEGER, "
    "frame_count INTEGER, sha256 VARCHAR, byte_size BIGINT, source_mtime DOUBLE, "
    "content_type VARCHAR, ingested_at TIMESTAMP, sidecar_uri VARCHAR, updated_at TIMESTAMP, "
    "state VARCHAR"
)
ORIGINAL_FILE_COLUMNS = _columns(
    "id VARCHAR, asset_id VARCHAR, kind VARCHAR, uri VARCHAR, content_type VARCHAR, "
    "byte_size BIGINT, sha256 VARCHAR, created_at TIMESTAMP"
)
SOURCE_COLUMNS = _columns(
    "project_id VARCHAR, source_uri VARCHAR, byte_size BIGINT, source_mtime DOUBLE, "
    "sha256 VARCHAR, asset_id VARCHAR, outcome VARCHAR, seen_at TIMESTAMP"
)


def requeue_unprocessed(catalog: Catalog, project_id: str, *, reserve: bool = False) -> int:
    """Queue ``asset.process`` for registered assets that have no live job (failed before);
    ``reserve``: for this process to run."""
    from kilo.jobs import enqueue_many

    rows = catalog.table("assets").keys_where(
        f"a.project_id = ? AND a.state = 'registered' AND NOT {LIVE_JOB_OF_ASSET}",
        [project_id, JobType.PROCESS],
    )
    if rows:
        enqueue_many(catalog, (process_job(project_id, aid, reserve) for aid in rows))
    return len(rows)


def mark_source_quarantined(
    catalog: Catalog, project_id: str | None, source_uri: str, now: datetime
) -> None:
    """The file's ``source_files`` row says it was quarantined (processing refused it)."""
    catalog.execute(
        "UPDATE source_files SET outcome = 'quarantined', seen_at = ? "
        "WHERE project_id = ? AND source_uri = ?",
        [now, project_id, source_uri],
    )


def mark_sources_ingested(catalog: Catalog, project_id: str) -> None:
    """source_files of processed assets: 'registered' -> 'ingested' (one statement)."""
    catalog.execute(
        "UPDATE source_files SET outcome = 'ingested' WHERE project_id = ? "
        "AND outcome = 'registered' AND asset_id IN "
        "(SELECT id FROM assets WHERE project_id = ? AND state = 'ready')",
        [project_id, project_id],
    )
