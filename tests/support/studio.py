"""A big project for the browser studio's tests and benchmark, written straight into the
catalog (no pixels): ``n`` processed photos a second apart, each with its thumbnail and
preview rows and signals, in bursts of ``burst`` frames under moments of 100, with
suggested winners, reasons and some of the user's decisions. What the cull view reads of
a real 3,000-frame wedding, built in well under a second."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from kilo.catalog import Catalog
from kilo.clock import new_id, utcnow

_ASSET_COLUMNS = [
    ("id", "VARCHAR"),
    ("project_id", "VARCHAR"),
    ("filename", "VARCHAR"),
    ("source_uri", "VARCHAR"),
    ("captured_at", "TIMESTAMP"),
    ("width_px", "INTEGER"),
    ("height_px", "INTEGER"),
    ("orientation", "INTEGER"),
    ("state", "VARCHAR"),
    ("preview_file_id", "VARCHAR"),
    ("preview_uri", "VARCHAR"),
    ("ingested_at", "TIMESTAMP"),
    ("updated_at", "TIMESTAMP"),
]


def build_big_project(
    catalog: Catalog, project_id: str, user_id: str, n: int = 3000, burst: int = 5
) -> list[str]:
    """Fill the project with ``n`` photos (see the module); their ids in capture order."""
    now = utcnow().replace(tzinfo=None)
    start = datetime(2026, 6, 20, 14, 0, 0)
    ids = [new_id() for _ in range(n)]
    assets: list[list[Any]] = []
    files: list[list[Any]] = []
    signals: list[list[Any]] = []
    for k, aid in enumerate(ids):
        preview = new_id()
        portrait = k % 7 == 0
        uri = f"/nowhere/renditions/{aid}"
        assets.append(
            [
                aid,
                project_id,
                f"IMG_{k:05d}.CR3",
                f"/card/IMG_{k:05d}.CR3",
                start + timedelta(seconds=k),
                4000 if portrait else 6000,  # the catalog keeps the upright size
                6000 if portrait else 4000,
                6 if portrait else 1,
                "ready",
                preview,
                f"{uri}/preview.jpg",
                now,
                now,
            ]
        )
        files.append([preview, aid, "preview", f"{uri}/preview.jpg", now])
        files.append([new_id(), aid, "thumbnail", f"{uri}/thumbnail.jpg", now])
        signals.append([aid, "v1", json.dumps({"sharpness": (k % 10) / 10}), now])
    catalog.insert_many("assets", _ASSET_COLUMNS, assets)
    catalog.insert_many(
        "asset_files",
        [
            ("id", "VARCHAR"),
            ("asset_id", "VARCHAR"),
            ("kind", "VARCHAR"),
            ("uri", "VARCHAR"),
            ("created_at", "TIMESTAMP"),
        ],
        files,
    )
    catalog.insert_many(
        "signals",
        [
            ("asset_id", "VARCHAR"),
            ("version", "VARCHAR"),
            ("values", "JSON"),
            ("computed_at", "TIMESTAMP"),
        ],
        signals,
    )
    _clusters(catalog, project_id, ids, start, burst, now)
    _decisions(catalog, user_id, ids, now)
    return ids


def _clusters(
    catalog: Catalog, pid: str, ids: list[str], start: datetime, burst: int, now: datetime
) -> None:
    clusters: list[list[Any]] = []
    members: list[list[Any]] = []
    for m in range(0, len(ids), 100):
        moment = new_id()
        clusters.append(
            [
                moment,
                pid,
                "moment",
                None,
                f"Moment {m // 100 + 1}",
                start + timedelta(seconds=m),
                None,
                None,
                now,
                now,
            ]
        )
        for rank, aid in enumerate(ids[m : m + 100], 1):
            members.append([moment, aid, rank, None])
        for b in range(m, min(m + 100, len(ids)) - burst + 1, burst * 2):
            cid = new_id()
            frames = ids[b : b + burst]
            clusters.append(
                [
                    cid,
                    pid,
                    "burst",
                    moment,
                    None,
                    start + timedelta(seconds=b),
                    frames[0],
                    ["Sharpest", "Eyes open", "Best framed"],
                    now,
                    now,
                ]
            )
            for rank, aid in enumerate(frames, 1):
                members.append([cid, aid, rank, "winner" if rank == 1 else "candidate"])
    catalog.insert_many(
        "clusters",
        [
            ("id", "VARCHAR"),
            ("project_id", "VARCHAR"),
            ("kind", "VARCHAR"),
            ("parent_id", "VARCHAR"),
            ("title", "VARCHAR"),
            ("start_time", "TIMESTAMP"),
            ("winner_asset_id", "VARCHAR"),
            ("why_winner", "VARCHAR[]"),
            ("created_at", "TIMESTAMP"),
            ("updated_at", "TIMESTAMP"),
        ],
        clusters,
    )
    insert_cluster_members(catalog, members)


def insert_cluster_members(catalog: Catalog, members: list[list[object]]) -> None:
    """Rows of (cluster id, asset id, rank, role) straight into ``cluster_members``."""
    catalog.insert_many(
        "cluster_members",
        [
            ("cluster_id", "VARCHAR"),
            ("asset_id", "VARCHAR"),
            ("rank", "INTEGER"),
            ("role", "VARCHAR"),
        ],
        members,
    )


def _decisions(catalog: Catalog, user_id: str, ids: list[str], now: datetime) -> None:
    rows = [
        [
            aid,
            user_id,
            (k % 5) + 1 if k % 3 == 0 else None,
            k % 11 == 0,
            k % 13 == 0,
            k % 17 == 0,
            now,
        ]
        for k, aid in enumerate(ids)
        if k % 3 == 0 or k % 11 == 0 or k % 13 == 0
    ]
    rows = [r for r in rows if not (r[3] and r[4])]  # picked and rejected exclude each other
    catalog.insert_many(
        "ratings",
        [
            ("asset_id", "VARCHAR"),
            ("user_id", "VARCHAR"),
            ("rating", "INTEGER"),
            ("picked", "BOOLEAN"),
            ("rejected", "BOOLEAN"),
            ("starred", "BOOLEAN"),
            ("updated_at", "TIMESTAMP"),
        ],
        rows,
    )
