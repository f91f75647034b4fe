"""The cull queue's frames are what they were when each was read as a dict: load_queue now
reads rows as tuples, copies a frame into its stacks by one attrgetter, and joins the
embeddings only when asked. This compares every frame of every stack with the first
formula (kept here) over a fixed catalog of frames that differ in every column."""

from __future__ import annotations

import json
import random
from dataclasses import fields, replace
from datetime import datetime, timedelta

from kilo.catalog import Catalog
from kilo.catalog.file_reads import CAPTURE_INSTANT, project_frames
from kilo.catalog.studio_reads import EMBEDDED_JOIN
from kilo.cull.review_order import CullFrame, load_queue
from kilo.projects import create_project
from kilo.records import json_object
from kilo.text import frame_name
from support.studio import insert_cluster_members

_EXPOSURE = ("camera_model", "lens_model", "iso", "shutter_speed", "aperture", "focal_length_mm")


def _reference_frames(catalog: Catalog, pid: str, user: str) -> dict[str, CullFrame]:
    """The frames as load_queue first made them (a dict per row, embeddings joined)."""
    rows = project_frames(
        catalog,
        pid,
        user,
        "a.id, a.filename, a.captured_at, a.captured_offset_min, a.captured_at_source, "
        f"{CAPTURE_INSTANT} AS order_at, "
        's."values" AS signals, r.rating, r.picked, '
        "r.rejected, r.starred, a.frame_index, a.frame_count, a.width_px, a.height_px, "
        "a.orientation, a.state, a.error IS NOT NULL AS failed, "
        "e.embedded_id IS NOT NULL AS embedded, a.camera_model, a.lens_model, a.iso, "
        "a.shutter_speed, a.aperture, a.focal_length_mm",
        joins=f"LEFT JOIN signals s ON s.asset_id = a.id {EMBEDDED_JOIN}",
    )
    return {
        r["id"]: CullFrame(
            asset_id=r["id"],
            filename=frame_name(r["filename"], r["frame_index"], r["frame_count"]),
            captured_at=r["captured_at"],
            captured_offset_min=r["captured_offset_min"],
            captured_at_source=r["captured_at_source"],
            order_at=r["order_at"],
            rating=r["rating"],
            picked=bool(r["picked"]),
            rejected=bool(r["rejected"]),
            starred=bool(r["starred"]),
            signals={
                k: float(v)
                for k, v in json_object(r["signals"]).items()
                if isinstance(v, int | float) and not isinstance(v, bool)
            },
            frame_index=int(r["frame_index"] or 0),
            frame_count=int(r["frame_count"] or 1),
            width=r["width_px"],
            height=r["height_px"],
            orientation=r["orientation"],
            state=r["state"],
            failed=bool(r["failed"]),
            embedded=bool(r["embedded"]),
            exposure={k: r[k] for k in _EXPOSURE if r[k] is not None},
        )
        for r in rows
    }


def _cols(*specs: str) -> list[tuple[str, str]]:
    """insert_many's (column, SQL type) from ``"name TYPE"``."""
    return [(spec.split()[0], spec.split()[1]) for spec in specs]


def _maybe(rng: random.Random, value: object, p: float = 0.5) -> object:
    return value if rng.random() < p else None


def _fill(catalog: Catalog, pid: str, user: str, n: int) -> None:
    """``n`` frames differing in every column the queue reads; some with signals, ratings,
    an embedding (of one or two models); bursts, a duplicate group, moments over them."""
    rng = random.Random(32)
    now = datetime(2026, 1, 1)
    ids = [f"00000000-0000-4000-8000-{i:012d}" for i in range(n)]
    assets, signals, ratings, vectors = [], [], [], []
    for i, aid in enumerate(ids):
        count = rng.choice([1, 1, 3])
        assets.append(
            [
                aid,
                pid,
                f"IMG_{i % 7}.jpg",
                f"file:///IMG_{i}.jpg",
                now,
                _maybe(rng, datetime(2024, 6, 1) + timedelta(seconds=rng.randrange(9000)), 0.9),
                _maybe(rng, rng.choice([0, 120, -300])),
                _maybe(rng, rng.choice(["exif", "file_mtime"])),
                rng.randrange(count),
                count,
                _maybe(rng, 6000),
                _maybe(rng, 4000),
                _maybe(rng, rng.choice([1, 6, 8])),
                rng.choice(["ready", "ready", "registered", "quarantined"]),
                _maybe(rng, "decode failed", 0.1),
                _maybe(rng, "X-T5"),
                _maybe(rng, "XF 23mm"),
                _maybe(rng, 400),
                _maybe(rng, "1/250"),
                _maybe(rng, 2.8),
                _maybe(rng, 23.0),
                now,
            ]
        )
        if rng.random() < 0.7:
            values = {"sharpness": rng.random(), "exposure": 0.5, "flag": True, "note": "x"}
            signals.append([aid, "v1", json.dumps(values), now])
        if rng.random() < 0.5:
            decision = [_maybe(rng, rng.randint(1, 5)), _maybe(rng, True), rng.random() < 0.3]
            ratings.append([aid, user, *decision, _maybe(rng, rng.random() < 0.5), now])
        for model in ("clip-a", "clip-b"):
            if rng.random() < 0.4:
                vectors.append([aid, model, 2, [0.1, 0.2], now])
    catalog.insert_many(
        "assets",
        _cols(
            "id VARCHAR",
            "project_id VARCHAR",
            "filename VARCHAR",
            "source_uri VARCHAR",
            "ingested_at TIMESTAMP",
            "captured_at TIMESTAMP",
            "captured_offset_min INTEGER",
            "captured_at_source VARCHAR",
            "frame_index INTEGER",
            "frame_count INTEGER",
            "width_px INTEGER",
            "height_px INTEGER",
            "orientation INTEGER",
            "state VARCHAR",
            "error VARCHAR",
            "camera_model VARCHAR",
            "lens_model VARCHAR",
            "iso INTEGER",
            "shutter_speed VARCHAR",
            "aperture DOUBLE",
            "focal_length_mm DOUBLE",
            "updated_at TIMESTAMP",
        ),
        assets,
    )
    catalog.insert_many(
        "signals",
        _cols("asset_id VARCHAR", "version VARCHAR", "values JSON", "computed_at TIMESTAMP"),
        signals,
    )
    catalog.insert_many(
        "ratings",
        _cols(
            "asset_id VARCHAR",
            "user_id VARCHAR",
            "rating INTEGER",
            "picked BOOLEAN",
            "rejected BOOLEAN",
            "starred BOOLEAN",
            "updated_at TIMESTAMP",
        ),
        ratings,
    )
    catalog.insert_many(
        "embeddings",
        _cols(
            "asset_id VARCHAR",
            "model_id VARCHAR",
            "dim INTEGER",
            "vector FLOAT[]",
            "created_at TIMESTAMP",
        ),
        vectors,
    )
    clusters, members = [], []
    for c, start in enumerate(range(0, n - 6, 9)):
        kind = "duplicate_group" if c % 5 == 4 else "burst"
        cid = f"00000000-0000-4000-9000-{c:012d}"
        clusters.append([cid, pid, kind, ids[start], now, now, now])
        for k in range(rng.randint(2, 6)):
            members.append([cid, ids[start + k], k + 1, "winner" if k == 0 else "alt"])
    for m in range(3):  # moments over a third of the frames each, one burst frame shared
        mid = f"00000000-0000-4000-a000-{m:012d}"
        clusters.append([mid, pid, "moment", None, now + timedelta(hours=m), now, now])
        members += [[mid, aid, 1, None] for aid in ids[m * n // 3 : (m + 1) * n // 3]]
    catalog.insert_many(
        "clusters",
        _cols(
            "id VARCHAR",
            "project_id VARCHAR",
            "kind VARCHAR",
            "winner_asset_id VARCHAR",
            "start_time TIMESTAMP",
            "created_at TIMESTAMP",
            "updated_at TIMESTAMP",
        ),
        clusters,
    )
    insert_cluster_members(catalog, members)


def test_queue_frames_equal_the_dict_formula(catalog: Catalog) -> None:
    pid = create_project(catalog, "Queue").id
    user = catalog.local_user_id
    _fill(catalog, pid, user, 240)
    reference = _reference_frames(catalog, pid, user)
    member_of = {
        (str(c), str(a)): (int(r), role)
        for c, a, r, role in catalog.fetchall(
            "SELECT cluster_id, asset_id, rank, role FROM cluster_members"
        )
    }
    queue = load_queue(catalog, pid, embedded=True)
    unread = load_queue(catalog, pid)
    assert queue.ai_ready and len(queue.stacks) == len(unread.stacks)
    seen = 0
    for stack, other in zip(queue.stacks, unread.stacks, strict=True):
        assert (stack.kind, stack.cluster_id) == (other.kind, other.cluster_id)
        for frame, same in zip(stack.frames, other.frames, strict=True):
            want = reference[frame.asset_id]
            if stack.cluster_id is not None:
                rank, role = member_of[(stack.cluster_id, frame.asset_id)]
                want = replace(want, rank=rank, role=role)
            assert frame == want
            assert same == replace(want, embedded=None)  # not read unless asked
            seen += 1
    assert seen >= len(reference)  # every frame, some in two stacks
    # the catalog has what the comparison is about
    values = {
        f.name: {repr(getattr(x, f.name)) for x in reference.values()} for f in fields(CullFrame)
    }
    assert {k for k, v in values.items() if len(v) == 1} == {"rank", "role"}
    copies = [f for s in queue.stacks if s.cluster_id for f in s.frames]
    assert all(f.rank is not None for f in copies)
    assert all(f is not reference.get(f.asset_id) for f in copies)
