"""What a photographer reads about real photos' groups: plain reasons that are true, copies
named by the one kept (the RAW of a RAW+JPEG pair), the frames of one file together and
named by frame. Each on the photo it was found with."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kilo.analyze import analyze
from kilo.assets import asset_names
from kilo.catalog import Catalog
from kilo.cull import pick_winner
from kilo.group import list_clusters
from kilo.group.rank import DEFAULT_WEIGHTS
from kilo.models import Cluster, Project

#: words of the engine, not of a photographer
_INTERNAL = [n for n in DEFAULT_WEIGHTS if "_" in n] + ["softness", "sharpness", "blockiness"]


def _ingest(catalog: Catalog, project: Project, paths: list[Path]) -> dict[str, str]:
    """Ingest and analyse ``paths``; asset id -> its display name."""
    from kilo.ingest import ingest

    ingest(catalog, project.id, [str(p) for p in paths])
    analyze(catalog, project.id, embed=False)
    ids = [r[0] for r in catalog.fetchall("SELECT id FROM assets")]
    return asset_names(catalog, ids)


def _with(clusters: list[Cluster], names: dict[str, str], name: str) -> Cluster:
    (found,) = [c for c in clusters if name in [names[m.asset_id] for m in c.assets]]
    return found


def test_frames_of_one_undated_burst_file_share_a_moment_and_show_as_name_k_of_n(
    catalog: Catalog, project: Project, photos_dir: Path
) -> None:
    """bird_burst.heic: four undated frames; they were four moments ("1 photo" each)."""
    names = _ingest(
        catalog,
        project,
        [photos_dir / "bird_burst.heic", photos_dir / "friends_by_Aitzol_Berasategi.jpg"],
    )
    frames = sorted(n for n in names.values() if n.startswith("bird_burst"))
    assert frames == [f"bird_burst.heic [{k}/4]" for k in range(1, 5)]
    moments = list_clusters(catalog, project.id, kind="moment").items
    bird = _with(moments, names, "bird_burst.heic [1/4]")
    assert sorted(names[m.asset_id] for m in bird.assets) == frames
    assert bird.title == "Undated · 4 photos"
    (burst,) = list_clusters(catalog, project.id, kind="burst").items
    assert burst.parent_id == bird.id and len(burst.assets) == 4
    assert names[burst.winner_asset_id or ""] in frames


@pytest.mark.slow
def test_real_copies_and_bursts_read_true_plain_reasons(
    catalog: Catalog, project: Project, shared_photos_dir: Path
) -> None:
    photos = shared_photos_dir
    files = ["mate_Dune.jpg", "raw/mate_Dune.dng", "group_t1.jpg", "raw/group_t1.dng"]
    files += ["cv_ela_original.jpg", "cv_ela_modified.jpg", "empty_icc.heic"]
    names = _ingest(catalog, project, [photos / f for f in files])
    clusters = list_clusters(catalog, project.id).items
    for c in clusters:  # at most 3, in words, no "local softness (0.48 vs 0.88)"
        assert len(c.why_winner) <= 3
        for text in c.why_winner:
            assert not any(word in text for word in _INTERNAL), text
            assert not re.search(r"\d\.\d\d vs", text), text
    copies = [c for c in clusters if c.kind == "duplicate_group"]
    # mate_Dune: titled by the copy kept, the RAW of the pair ("2 copies of mate_Dune.dng"
    # while the JPEG won, before)
    dune = _with(copies, names, "mate_Dune.dng")
    assert names[dune.winner_asset_id or ""] == "mate_Dune.dng"
    assert dune.title == "2 copies of mate_Dune.dng"
    assert dune.why_winner == [
        "RAW original kept (mate_Dune.jpg is its JPEG copy, though larger: 1.8 MP vs 1.7 MP)"
    ]
    # group_t1: exposure weighs nothing, so no "Best exposed (+5% over next)"
    group = _with(copies, names, "group_t1.dng")
    assert names[group.winner_asset_id or ""] == "group_t1.dng"
    assert not any("xposed" in w for w in group.why_winner)
    # cv_ela: an edited copy (a pasted logo, a crop) is not "sharp where others go soft"
    bursts = [c for c in clusters if c.kind == "burst"]
    ela = _with(bursts, names, "cv_ela_original.jpg")
    assert not any("soft" in w or "Sharp" in w for w in ela.why_winner)
    loser = next(names[m.asset_id] for m in ela.assets if m.asset_id != ela.winner_asset_id)
    assert ela.why_winner[0].startswith(f"Not the same picture as {loser} (edited")
    # empty_icc.heic: two frames of one file, named by frame in the reasons too
    pug = _with(bursts, names, "empty_icc.heic [1/2]")
    assert any("empty_icc.heic [" in w for w in pug.why_winner)
    # the photographer's word over the RAW rule, and the title follows it, through a re-run
    jpeg = next(m.asset_id for m in dune.assets if names[m.asset_id] == "mate_Dune.jpg")
    pick_winner(catalog, dune.id, jpeg)
    analyze(catalog, project.id, embed=False)
    again = list_clusters(catalog, project.id, kind="duplicate_group").items
    chosen = _with(again, names, "mate_Dune.dng")
    assert chosen.id == dune.id and chosen.winner_asset_id == jpeg
    assert chosen.title == "2 copies of mate_Dune.jpg" and chosen.why_winner == ["Chosen by you"]
