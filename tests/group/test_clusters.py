"""Clusters in the catalog: listing, manual decisions and their survival of re-clustering."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from kilo.analyze import analyze
from kilo.catalog import Catalog
from kilo.cull import pick_winner
from kilo.errors import InvalidInput, NotFound
from kilo.group import (
    get_cluster,
    list_clusters,
    merge_clusters,
    split_cluster,
    update_cluster,
)
from kilo.models import Cluster, Project, UpdateClusterRequest
from support.cull_engine import add_analyzed_asset

T0 = datetime(2024, 5, 4, 14, 0, 0)


@pytest.fixture
def shoot(catalog: Catalog, project: Project, shared_photos_dir: Path) -> dict[str, list[str]]:
    """Two bursts (sharp frame + blurred frames) 20 min apart, and an undated copy."""
    photos_dir = shared_photos_dir
    ids: dict[str, list[str]] = {"kite": [], "bridge": [], "copy": []}
    for k, blur in enumerate([2.0, 0.0, 3.0]):
        ids["kite"].append(
            add_analyzed_asset(
                catalog,
                project.id,
                photos_dir / "plasma_Kite.jpg",
                T0 + timedelta(seconds=0.4 * k),
                blur=blur,
                filename=f"kite{k}.jpg",
            )
        )
    for k, blur in enumerate([0.0, 2.5]):
        ids["bridge"].append(
            add_analyzed_asset(
                catalog,
                project.id,
                photos_dir / "Bridge_by_Sander_Klootwijk.jpg",
                T0 + timedelta(minutes=20, seconds=0.5 * k),
                blur=blur,
                filename=f"bridge{k}.jpg",
            )
        )
    ids["copy"].append(
        add_analyzed_asset(
            catalog, project.id, photos_dir / "plasma_Kite_screenshot.jpg", None, camera=None
        )
    )
    analyze(catalog, project.id, embed=False)
    return ids


def _by_kind(catalog: Catalog, project_id: str, kind: str) -> list[Cluster]:
    return list_clusters(catalog, project_id, kind=kind).items


def _burst_of(catalog: Catalog, project_id: str, asset_id: str) -> Cluster:
    found = [
        c
        for c in _by_kind(catalog, project_id, "burst")
        if asset_id in [m.asset_id for m in c.assets]
    ]
    assert len(found) == 1
    return found[0]


def test_analyze_makes_moments_bursts_and_duplicates(
    catalog: Catalog, project: Project, shoot: dict[str, list[str]]
) -> None:
    kite = _burst_of(catalog, project.id, shoot["kite"][0])
    assert sorted(m.asset_id for m in kite.assets) == sorted(shoot["kite"])
    assert kite.winner_asset_id == shoot["kite"][1]  # the unblurred frame
    assert kite.why_winner and kite.why_winner[0] == "Sharpest of the 3 frames"
    assert [m.role for m in kite.assets] == ["winner", "alt", "alt"]
    assert [m.rank for m in kite.assets] == [1, 2, 3]
    assert kite.assets[0].signals["sharpness"] > kite.assets[1].signals["sharpness"]
    moments = _by_kind(catalog, project.id, "moment")
    # the kite burst (joined by its undated copy) and the bridge burst 20 min later
    assert len(moments) == 2
    kite_moment = next(m for m in moments if m.id == kite.parent_id)
    assert sorted(m.asset_id for m in kite_moment.assets) == sorted(shoot["kite"] + shoot["copy"])
    dups = _by_kind(catalog, project.id, "duplicate_group")
    assert any(shoot["copy"][0] in [m.asset_id for m in d.assets] for d in dups)


def test_paging_walks_every_cluster_once(
    catalog: Catalog, project: Project, shoot: dict[str, list[str]]
) -> None:
    everything = list_clusters(catalog, project.id).items
    seen: list[str] = []
    cursor = None
    while True:
        page = list_clusters(catalog, project.id, cursor=cursor, limit=2)
        seen += [c.id for c in page.items]
        cursor = page.page_info.next_cursor
        if cursor is None:
            break
    assert seen == [c.id for c in everything] and len(set(seen)) == len(seen)
    with pytest.raises(InvalidInput):
        list_clusters(catalog, project.id, kind="album")


def test_manual_decisions_survive_reclustering(
    catalog: Catalog, project: Project, shoot: dict[str, list[str]]
) -> None:
    kite = _burst_of(catalog, project.id, shoot["kite"][0])
    update_cluster(catalog, kite.id, UpdateClusterRequest(title="Kite run", reviewed=True))
    chosen = shoot["kite"][2]
    pick_winner(catalog, kite.id, chosen)
    after = get_cluster(catalog, kite.id)
    assert after.winner_asset_id == chosen and after.why_winner == ["Chosen by you"]
    assert after.assets[0].asset_id == chosen and after.assets[0].role == "winner"
    before_ids = sorted(c.id for c in list_clusters(catalog, project.id).items)
    analyze(catalog, project.id, embed=False)
    analyze(catalog, project.id, embed=False)
    again = get_cluster(catalog, kite.id)
    assert again.title == "Kite run" and again.reviewed
    assert again.winner_asset_id == chosen
    assert sorted(c.id for c in list_clusters(catalog, project.id).items) == before_ids


def test_split_and_merge_are_kept(
    catalog: Catalog, project: Project, shoot: dict[str, list[str]]
) -> None:
    kite = _burst_of(catalog, project.id, shoot["kite"][0])
    rest, new = split_cluster(catalog, kite.id, [shoot["kite"][2]])
    assert [m.asset_id for m in new.assets] == [shoot["kite"][2]]
    assert sorted(m.asset_id for m in rest.assets) == sorted(shoot["kite"][:2])
    analyze(catalog, project.id, embed=False)
    assert [m.asset_id for m in get_cluster(catalog, new.id).assets] == [shoot["kite"][2]]
    assert len(get_cluster(catalog, rest.id).assets) == 2
    bridge = _burst_of(catalog, project.id, shoot["bridge"][0])
    merged = merge_clusters(catalog, [rest.id, bridge.id])
    assert len(merged.assets) == 4
    analyze(catalog, project.id, embed=False)
    assert len(get_cluster(catalog, merged.id).assets) == 4
    with pytest.raises(NotFound):
        get_cluster(catalog, bridge.id)
    with pytest.raises(InvalidInput):
        pick_winner(catalog, new.id, shoot["bridge"][0])
    with pytest.raises(InvalidInput):
        split_cluster(catalog, new.id, [shoot["kite"][2]])
