"""Catalog rows for cull tests: real photos registered as assets, with clusters, members and
signals written directly (as the culling engine would), so cull tests do not depend on the
whole ingest + analyze pipeline."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image

from kilo.catalog import Catalog
from kilo.clock import new_id, utcnow

#: (kind, files) of the clusters of the standard fixture; all belong to one moment
GROUPS: list[tuple[str, list[str]]] = [
    ("burst", ["cv_leuvenA.jpg", "cv_leuvenB.jpg"]),
    ("burst", ["cv_aloeL.jpg", "cv_aloeR.jpg"]),
    (
        "duplicate_group",
        ["flower.png.im_q85_420.jpg", "flower.png.im_q85_444.jpg", "flower.png.im_q85_422.jpg"],
    ),
    ("duplicate_group", ["plasma_Kite.jpg", "plasma_Kite_screenshot.jpg"]),
    ("burst", ["cv_text_defocus.jpg", "cv_text_motion.jpg", "cv_licenseplate_motion.jpg"]),
]
SINGLES = ["mate_Dune.jpg", "people_zidane.jpg"]


@dataclass
class CullData:
    project_id: str
    assets: dict[str, str] = field(default_factory=dict)  # filename -> asset id
    clusters: list[str] = field(default_factory=list)  # bursts/duplicate groups, time order
    moment: str = ""
    members: dict[str, list[str]] = field(default_factory=dict)  # cluster id -> asset ids


def add_asset(
    catalog: Catalog, project_id: str, path: Path, captured_at: datetime, **extra: Any
) -> str:
    asset_id = new_id()
    now = utcnow()
    catalog.execute(
        "INSERT INTO assets (id, project_id, filename, source_uri, captured_at, ingested_at, "
        "updated_at, state, byte_size, keywords) VALUES (?, ?, ?, ?, ?, ?, ?, 'ready', ?, ?)",
        [
            asset_id,
            project_id,
            path.name,
            str(path),
            captured_at,
            now,
            now,
            path.stat().st_size,
            extra.get("keywords"),
        ],
    )
    catalog.execute(
        "INSERT INTO asset_files (id, asset_id, kind, uri, created_at) "
        "VALUES (?, ?, 'original', ?, ?)",
        [new_id(), asset_id, str(path), now],
    )
    return asset_id


def add_signals(catalog: Catalog, asset_id: str, values: dict[str, float]) -> None:
    catalog.execute(
        'INSERT OR REPLACE INTO signals (asset_id, version, "values", computed_at) '
        "VALUES (?, 'test', ?, ?)",
        [asset_id, json.dumps(values), utcnow()],
    )


@lru_cache(maxsize=64)
def measure_signals(path: Path) -> dict[str, float]:
    """The culling engine's real signals of a photo (on a 512 px copy, to stay fast)."""
    from kilo.measure.signals import compute_signals

    with Image.open(path) as img:
        img.draft("RGB", (512, 512))
        small = img.convert("RGB")
        small.thumbnail((512, 512))
    return compute_signals(small, faces=False)


def add_cluster(
    catalog: Catalog,
    project_id: str,
    kind: str,
    members: list[str],
    *,
    start: datetime,
    winner: str | None = None,
    confidence: float | None = 0.8,
    parent_id: str | None = None,
    why: list[str] | None = None,
) -> str:
    cluster_id = new_id()
    now = utcnow()
    catalog.execute(
        "INSERT INTO clusters (id, project_id, kind, parent_id, title, start_time, end_time, "
        "score, confidence, reviewed, winner_asset_id, winner_source, why_winner, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, false, ?, ?, ?, ?, ?)",
        [
            cluster_id,
            project_id,
            kind,
            parent_id,
            f"{kind} at {start:%H:%M:%S}",
            start,
            start + timedelta(seconds=len(members)),
            0.5,
            confidence,
            winner,
            "auto" if winner else None,
            why if why is not None else (["Sharpest frame (+12% over next)"] if winner else []),
            now,
            now,
        ],
    )
    for rank, asset_id in enumerate(members, start=1):
        role = "winner" if asset_id == winner else ("candidate" if winner is None else "alt")
        catalog.execute(
            "INSERT INTO cluster_members (cluster_id, asset_id, rank, role, score) "
            "VALUES (?, ?, ?, ?, ?)",
            [cluster_id, asset_id, rank, role, 1.0 / rank],
        )
    return cluster_id


def build_cull_project(
    catalog: Catalog,
    project_id: str,
    photos_dir: Path,
    *,
    copy_to: Path | None = None,
    signals: bool = True,
    clusters: bool = True,
    keywords: dict[str, list[str]] | None = None,
) -> CullData:
    """Register the fixture photos (copied to ``copy_to`` first when given, so sidecars can be
    written next to them) with signals, three bursts, two duplicate groups and one moment."""
    data = CullData(project_id)
    start = datetime(2024, 5, 1, 10, 0, 0)
    files = [f for _, group in GROUPS for f in group] + SINGLES
    for i, name in enumerate(files):
        path = photos_dir / name
        if copy_to is not None:
            copy_to.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, copy_to / name)
            path = copy_to / name
        data.assets[name] = add_asset(
            catalog,
            project_id,
            path,
            start + timedelta(seconds=2 * i),
            keywords=(keywords or {}).get(name),
        )
        if signals:
            add_signals(catalog, data.assets[name], dict(measure_signals(photos_dir / name)))
    if not clusters:
        return data
    data.moment = add_cluster(
        catalog,
        project_id,
        "moment",
        list(data.assets.values()),
        start=start,
        confidence=None,
    )
    t = start
    for kind, group in GROUPS:
        ids = [data.assets[f] for f in group]
        cid = add_cluster(
            catalog, project_id, kind, ids, start=t, winner=ids[0], parent_id=data.moment
        )
        data.clusters.append(cid)
        data.members[cid] = ids
        t += timedelta(seconds=10)
    return data


def snapshot_project(catalog: Catalog, project_id: str) -> dict[str, Any]:
    """Everything a cull action may change in a project: all ratings rows and the decision
    columns of its clusters and members."""
    ratings = catalog.fetchall(
        "SELECT r.* FROM ratings r JOIN assets a ON a.id = r.asset_id "
        "WHERE a.project_id = ? ORDER BY r.asset_id, r.user_id",
        [project_id],
    )
    clusters = catalog.fetchall(
        "SELECT id, reviewed, winner_asset_id, winner_source, why_winner, manual_overrides, "
        "confidence, updated_at FROM clusters WHERE project_id = ? ORDER BY id",
        [project_id],
    )
    members = catalog.fetchall(
        "SELECT m.cluster_id, m.asset_id, m.rank, m.role FROM cluster_members m "
        "JOIN clusters c ON c.id = m.cluster_id WHERE c.project_id = ? "
        "ORDER BY m.cluster_id, m.asset_id",
        [project_id],
    )
    return {"ratings": ratings, "clusters": clusters, "members": members}
