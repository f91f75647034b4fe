"""kilo.search: filters against brute force, ANN against exact on known clusters, the index
lifecycle (incremental, persisted, rebuilt), the no-weights path, cut-off, paging, CLI."""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kilo.catalog import Catalog, open_catalog
from kilo.errors import InvalidInput, NotFound
from kilo.measure.embed import load_embedder
from kilo.measure.embed.handlers import embed_project
from kilo.measure.embed.vectors import write_vectors
from kilo.projects import create_project
from kilo.search import candidates, search
from kilo.search.index import VectorIndex, forget_indexes, index_dir, open_index
from kilo.settings import Settings, load_settings
from support import clip as support_clip
from support.search_assets import add_cluster, insert_asset, make_previews, set_rating

CAMERAS = [
    ("SONY", "ILCE-6000"),
    ("Canon", "Canon EOS R5"),
    ("Apple", "iPhone 13 Pro"),
    (None, None),
]
LENSES = ["FE 24-70mm F2.8 GM", "RF 50mm F1.2 L", "iPhone back camera", None]
WORDS = ["bride", "flower", "beach", "dance", "cake"]
KINDS = ["moment", "burst", "duplicate_group"]


# the tiny CLIP fixtures of tests/support/clip.py
tiny_clip_checkpoint = support_clip.tiny_clip_checkpoint
clip_settings = support_clip.clip_settings
fresh_clip_caches = support_clip.fresh_clip_caches  # autouse


@dataclass
class Library:
    catalog: Catalog
    project_id: str
    other_project_id: str
    rows: dict[str, dict[str, Any]]
    model_id: str
    centers: np.ndarray
    cluster_of: dict[str, int]


def _clustered(
    rng: np.random.Generator, n: int, dim: int, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    centers = rng.normal(size=(k, dim)).astype(np.float32)
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    assign = rng.integers(0, k, size=n)
    x = centers[assign] + 0.25 * rng.normal(size=(n, dim)).astype(np.float32) / np.sqrt(dim)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32), assign, centers


def _build_library(settings: Settings) -> Library:
    """~120 assets in two projects with varied metadata, ratings, clusters and synthetic
    clustered vectors stored under the tiny model's id."""
    emb = load_embedder(settings)
    assert emb is not None
    rnd = random.Random(7)
    rng = np.random.default_rng(7)
    cat = open_catalog(settings)
    p1 = create_project(cat, "Wedding").id
    p2 = create_project(cat, "Other").id
    with cat.transaction():
        return _fill_library(cat, emb, p1, p2, rnd, rng)


def _fill_library(
    cat: Catalog, emb: Any, p1: str, p2: str, rnd: random.Random, rng: np.random.Generator
) -> Library:
    rows: dict[str, dict[str, Any]] = {}
    base = datetime(2024, 5, 20, 10, 0)
    for i in range(120):
        make, model = rnd.choice(CAMERAS)
        row = {
            "project_id": p1 if i < 100 else p2,
            "filename": f"IMG_{i:04d}_{rnd.choice(WORDS)}.jpg",
            "captured_at": None if i % 17 == 0 else base + timedelta(hours=rnd.randint(0, 24 * 60)),
            "offset_min": rnd.choice([0, 120, -300]),
            "camera_make": make,
            "camera_model": model,
            "lens_model": rnd.choice(LENSES),
            "keywords": rnd.sample(WORDS, rnd.randint(0, 2)),
        }
        fields = {k: v for k, v in row.items() if k != "project_id"}
        aid = insert_asset(cat, row["project_id"], **fields)
        r = rnd.random()
        row["rating"] = rnd.choice([None, 1, 2, 3, 4, 5])
        row["picked"] = r < 0.3
        row["rejected"] = 0.3 <= r < 0.45
        if row["rating"] or row["picked"] or row["rejected"]:
            set_rating(
                cat, aid, rating=row["rating"], picked=row["picked"], rejected=row["rejected"]
            )
        row["kinds"] = set()
        rows[aid] = row
    ids = list(rows)
    for kind in KINDS:
        for start in range(0, 100, 13 if kind == "burst" else 29):
            members = ids[start : start + (3 if kind == "burst" else 5)]
            add_cluster(cat, p1, kind, members)
            for m in members:
                rows[m]["kinds"].add(kind)
    vecs, assign, centers = _clustered(rng, len(ids), emb.dim, 6)
    write_vectors(cat, emb.model_id, ids[:110], vecs[:110])  # 10 assets without a vector
    return Library(
        cat, p1, p2, rows, emb.model_id, centers, dict(zip(ids, assign.tolist(), strict=True))
    )


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, tiny_clip_checkpoint: Path) -> Any:
    """A read-only library shared by the tests of this module."""
    settings = load_settings(
        home=tmp_path_factory.mktemp("lib"),
        workers=2,
        clip_enabled=True,
        clip_checkpoint=tiny_clip_checkpoint,
    )
    lib = _build_library(settings)
    yield lib
    lib.catalog.close()


@pytest.fixture
def fresh_library(clip_settings: Settings) -> Any:
    """A library a test may change."""
    lib = _build_library(clip_settings)
    yield lib
    lib.catalog.close()


def _local_date(row: dict[str, Any]) -> date | None:
    if row["captured_at"] is None:
        return None
    return (row["captured_at"] + timedelta(minutes=row["offset_min"] or 0)).date()


def _brute(lib: Library, f: dict[str, Any], project: str | None) -> set[str]:
    out = set()
    for aid, r in lib.rows.items():
        if project and r["project_id"] != project:
            continue
        if "picked" in f and bool(r["picked"]) != f["picked"]:
            continue
        if "rejected" in f and bool(r["rejected"]) != f["rejected"]:
            continue
        if "ratingMin" in f and not (r["rating"] and r["rating"] >= f["ratingMin"]):
            continue
        if "cameraModel" in f:  # any part of "make model", in any case
            full = f"{r['camera_make'] or ''} {r['camera_model'] or ''}".lower()
            if not any(c.lower() in full for c in f["cameraModel"]):
                continue
        if "lens" in f and f["lens"].lower() not in (r["lens_model"] or "").lower():
            continue
        if "dateRange" in f:
            d = _local_date(r)
            lo = date.fromisoformat(f["dateRange"]["start"])
            hi = date.fromisoformat(f["dateRange"]["end"])
            if d is None or not lo <= d <= hi:
                continue
        if "keywords" in f and not all(k in r["keywords"] for k in f["keywords"]):
            continue
        if "clusterKind" in f and f["clusterKind"] not in r["kinds"]:
            continue
        out.add(aid)
    return out


FILTER_CASES: list[dict[str, Any]] = [
    {},
    {"picked": True},
    {"picked": False, "rejected": False},
    {"rejected": True},
    {"ratingMin": 4},
    {"ratingMin": 2, "picked": True},
    {"cameraModel": ["ILCE-6000"]},
    {"cameraModel": ["canon canon eos r5", "iPhone 13 Pro"]},
    {"cameraModel": ["sony"]},  # a make alone, in another case
    {"cameraModel": ["IPHONE"]},  # a part of the model
    {"lens": "24-70"},
    {"dateRange": {"start": "2024-06-01", "end": "2024-06-30"}},
    {"dateRange": {"start": "2024-05-20", "end": "2024-05-20"}},
    {"keywords": ["bride"]},
    {"keywords": ["bride", "cake"]},
    {"clusterKind": "burst"},
    {"clusterKind": "duplicate_group", "ratingMin": 1},
    {"cameraModel": ["ILCE-6000"], "lens": "24-70", "picked": False},
]


def _all_pages(catalog: Catalog, project: str | None, q: str, **kw: Any) -> list[Any]:
    out: list[Any] = []
    cursor = None
    while True:
        resp = search(catalog, project, q, limit=7, cursor=cursor, **kw)
        out += resp.results
        cursor = resp.next_cursor
        if cursor is None:
            return out


@pytest.mark.parametrize("f", FILTER_CASES, ids=lambda f: json.dumps(f, sort_keys=True)[:60])
def test_filters_match_brute_force(library: Library, f: dict[str, Any]) -> None:
    lib = library
    for project in (lib.project_id, None):
        expected = _brute(lib, f, project)
        # filter-only listing (no words): every matching asset, by time, across pages
        listed = _all_pages(lib.catalog, project, "", filters=f)
        assert {r.asset_id for r in listed} == expected
        assert len(listed) == len(expected)
        # semantic search with the same filters and no cut-off: the matching assets that
        # have vectors, ranked by cosine
        resp = search(lib.catalog, project, "a flower", filters=f, limit=200, min_score=None)
        assert resp.mode == "semantic"
        with_vectors = {a for a in expected if a in set(list(lib.rows)[:110])}
        assert {r.asset_id for r in resp.results} == with_vectors
        scores = [r.score for r in resp.results]
        assert scores == sorted(scores, reverse=True)
        if len(with_vectors) < len(expected):
            assert "no vector" in (resp.notice or "")


def test_date_words_become_a_date_filter(library: Library) -> None:
    expected = _brute(library, {"dateRange": {"start": "2024-06-01", "end": "2024-06-30"}}, None)
    got = {r.asset_id for r in _all_pages(library.catalog, None, "2024-06")}
    assert got == expected and got


def test_filtered_ann_matches_exact(library: Library, monkeypatch: pytest.MonkeyPatch) -> None:
    f = {"picked": False}
    exact = search(
        library.catalog, library.project_id, "beach", filters=f, limit=20, min_score=None
    )
    monkeypatch.setattr(candidates, "EXACT_MAX_CANDIDATES", 0)  # force the filtered-ANN path
    ann = search(library.catalog, library.project_id, "beach", filters=f, limit=20, min_score=None)
    assert [r.asset_id for r in ann.results] == [r.asset_id for r in exact.results]
    np.testing.assert_allclose(
        [r.score for r in ann.results], [r.score for r in exact.results], atol=1e-4
    )


def test_ann_recall_on_known_clusters() -> None:
    rng = np.random.default_rng(1)
    vecs, assign, centers = _clustered(rng, 3000, 64, 30)
    ids = [f"a{i}" for i in range(len(vecs))]
    idx = VectorIndex("synthetic", 64)
    idx.add(ids, vecs)
    all_labels = np.arange(len(ids))
    recalls = []
    for c in range(30):
        got, scores = idx.query(centers[c], 10)
        want, _ = idx.exact(centers[c], all_labels, 10)
        recalls.append(len(set(got) & set(want)) / 10)
        # the true neighbours of a cluster centre are members of that cluster
        assert all(assign[int(a[1:])] == c for a in got)
        assert list(scores) == sorted(scores, reverse=True)
    assert np.mean(recalls) >= 0.98


def test_index_is_incremental_persisted_and_rebuilt(fresh_library: Library) -> None:
    library = fresh_library
    cat, model = library.catalog, library.model_id
    idx = open_index(cat, model)
    assert idx is not None and len(idx) == 110
    path = index_dir(cat, model)
    assert len(list(path.glob("hnsw-*.bin"))) == 1
    # incremental: vectors written later are picked up on the next open, without a rebuild
    late = list(library.rows)[110:]
    rng = np.random.default_rng(3)
    vec = rng.normal(size=(len(late), 64)).astype(np.float32)
    vec /= np.linalg.norm(vec, axis=1, keepdims=True)
    write_vectors(cat, model, late, vec)
    again = open_index(cat, model)
    assert again is idx and len(idx) == 120
    got, scores = idx.query(vec[0], 1)
    assert got == [late[0]] and scores[0] > 0.999
    # persisted: a new process loads the saved graph
    forget_indexes()
    loaded = VectorIndex.load(path, model)
    assert loaded is not None and set(loaded.labels) == set(library.rows)
    # a deleted vector disappears from the index and the results
    gone = late[1]
    cat.execute("DELETE FROM embeddings WHERE asset_id = ?", [gone])
    resp = search(cat, None, "x", like=late[2], limit=200, min_score=None)
    assert gone not in {r.asset_id for r in resp.results}
    # stale or missing files are rebuilt from the catalog
    forget_indexes()
    shutil.rmtree(path)
    rebuilt = open_index(cat, model)
    assert rebuilt is not None and len(rebuilt) == 119 and (path / "meta.json").is_file()
    forget_indexes()
    (path / "meta.json").write_text("{not json", encoding="utf-8")
    assert len(open_index(cat, model) or []) == 119


def test_more_like_this_uses_the_cluster(library: Library) -> None:
    ids = list(library.rows)[:110]
    probe = ids[0]
    cluster = library.cluster_of[probe]
    resp = search(library.catalog, None, "", like=probe, limit=10)
    assert probe not in [r.asset_id for r in resp.results]
    assert resp.results, resp.notice
    # the calibrated cut-off keeps the probe's cluster mates and nothing else
    same = {a for a in ids if library.cluster_of[a] == cluster} - {probe}
    got = {r.asset_id for r in search(library.catalog, None, "", like=probe, limit=200).results}
    assert got == same
    assert all("sd above the library" in r.highlights[1] for r in resp.results)


def test_no_good_match_is_possible(library: Library) -> None:
    resp = search(library.catalog, library.project_id, "flower", min_score=0.999)
    assert resp.results == [] and "No good match" in (resp.notice or "")


def test_sort_by_time(library: Library) -> None:
    resp = search(
        library.catalog, library.project_id, "flower", sort="time", limit=200, min_score=None
    )
    # the one chronological order (docs/projects.md): by the moment each was taken (every
    # photo here has an offset: its UTC time), no longer by the clock where it was taken
    times = [
        library.rows[r.asset_id]["captured_at"]
        for r in resp.results
        if library.rows[r.asset_id]["captured_at"] is not None
    ]
    assert times == sorted(times) and len(times) > 50


def test_pages_concatenate_to_one_result(library: Library) -> None:
    whole = search(library.catalog, library.project_id, "cake", limit=60, min_score=None)
    paged = _all_pages(library.catalog, library.project_id, "cake", min_score=None)
    assert [r.asset_id for r in paged][:60] == [r.asset_id for r in whole.results]
    with pytest.raises(InvalidInput):
        search(library.catalog, library.project_id, "beach", cursor=whole.next_cursor)


def test_bad_input_is_refused(library: Library) -> None:
    with pytest.raises(InvalidInput):
        search(library.catalog, library.project_id, "x", filters={"color": "red"})
    with pytest.raises(InvalidInput):
        search(library.catalog, library.project_id, "x", filters={"ratingMin": 9})
    with pytest.raises(NotFound):
        search(library.catalog, "00000000-0000-4000-8000-000000000000", "x")


def test_metadata_search_without_weights(catalog: Catalog, settings: Settings) -> None:
    assert not settings.clip_enabled
    pid = create_project(catalog, "No weights").id
    a = insert_asset(catalog, pid, filename="DSC01.jpg", keywords=["Flower", "garden"])
    b = insert_asset(
        catalog, pid, filename="flower_bed.jpg", camera_make="SONY", camera_model="ILCE-6000"
    )
    c = insert_asset(
        catalog,
        pid,
        filename="x.jpg",
        iptc={"caption": "Red flowers by the sea"},
        captured_at=datetime(2024, 6, 3, 9),
        lens_model="FE 24-70mm F2.8 GM",
    )
    insert_asset(catalog, pid, filename="dog.jpg", captured_at=datetime(2023, 1, 1))
    resp = search(catalog, pid, "flowers")
    assert resp.mode == "metadata"
    assert "needs a CLIP model" in (resp.notice or "") and "KILO_CLIP_CHECKPOINT" in (
        resp.notice or ""
    )
    assert [r.asset_id for r in resp.results] == [a, c, b]  # keyword > IPTC > filename
    assert resp.results[0].highlights == ["keyword: Flower"]
    assert [r.asset_id for r in search(catalog, pid, "ilce-6000 flower").results] == [b]
    assert [r.asset_id for r in search(catalog, pid, "24-70").results] == [c]
    assert [r.asset_id for r in search(catalog, pid, "2024-06").results] == [c]
    assert [r.asset_id for r in search(catalog, pid, "flower 2024").results] == [c]
    assert search(catalog, pid, "zebra").results == []


def test_text_search_on_real_previews_with_tiny_model(
    clip_settings: Settings, shared_photos_dir: Path, tmp_path: Path
) -> None:
    with open_catalog(clip_settings) as cat:
        pid = create_project(cat, "Tiny").id
        previews = make_previews(shared_photos_dir, tmp_path / "p")
        ids = {insert_asset(cat, pid, filename=p.name, preview=p) for p in previews}
        assert search(cat, pid, "flower").mode == "metadata"  # nothing embedded yet
        embed_project(cat, pid)
        resp = search(cat, pid, "flower", min_score=None)
        assert resp.mode == "semantic" and {r.asset_id for r in resp.results} == ids
        assert all(r.highlights[0].startswith("cosine ") for r in resp.results)
        auto = search(cat, pid, "flower")
        assert {r.asset_id for r in auto.results} <= ids
        assert auto.results or "No good match" in (auto.notice or "")
        # an image file as the query: its own preview comes first
        like = search(cat, pid, "", like=previews[0], min_score=None)
        assert like.results[0].score > 0.99


def test_more_like_this_without_vectors_ranks_by_perceptual_hashes(
    catalog: Catalog, tmp_path: Path
) -> None:
    """No CLIP here: --like falls back to the hashes analysis stores, and says so; the other
    frame of a stereo pair comes first, well above unrelated photos."""
    from kilo.analyze import analyze
    from kilo.errors import ModelUnavailable
    from kilo.ingest import ingest

    examples = Path(__file__).parents[2] / "examples" / "photos"
    project = create_project(catalog, "Hashes")
    ingest(catalog, project.id, [examples])
    analyze(catalog, project.id, embed=False)
    ids = dict(
        catalog.fetchall("SELECT filename, id FROM assets WHERE project_id = ?", [project.id])
    )
    resp = search(catalog, project.id, "", like=ids["cv_aloeL.jpg"], min_score=None)
    assert resp.mode == "hashes" and "perceptual hashes" in (resp.notice or "")
    ranked = [r.asset_id for r in resp.results]
    assert ids["cv_aloeL.jpg"] not in ranked and ranked[0] == ids["cv_aloeR.jpg"]
    assert resp.results[0].score > resp.results[-1].score + 0.15
    # a file name works as the probe too (a person's way of naming a photo), and the default
    # cut-off keeps only the close ones
    close = search(catalog, project.id, "", like="cv_aloeL.jpg")
    assert [r.asset_id for r in close.results][:1] == [ids["cv_aloeR.jpg"]]
    assert len(close.results) < len(resp.results)
    with pytest.raises(ModelUnavailable):  # words and an image together need vectors
        search(catalog, project.id, "plant", like=ids["cv_aloeL.jpg"])


def test_a_filter_sees_each_change_at_once(
    fresh_library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Filter matches are kept between searches while the catalog stays the same; a rating,
    a new vector or a deleted one is seen by the very next search."""
    cat, pid = fresh_library.catalog, fresh_library.project_id
    f = {"picked": True}

    def found() -> set[str]:
        resp = search(cat, pid, "beach", filters=f, limit=200, min_score=None)
        return {r.asset_id for r in resp.results}

    before = found()
    assert found() == before  # the second one from the kept matches
    pickable = [a for a in fresh_library.rows if a not in before]
    set_rating(cat, pickable[0], picked=True)
    after = found()
    assert after == before | {pickable[0]}
    cat.execute("DELETE FROM embeddings WHERE asset_id = ?", [pickable[0]])
    assert found() == before
    for path in ("exact", "ann"):  # both paths of a filtered search
        if path == "ann":
            monkeypatch.setattr(candidates, "EXACT_MAX_CANDIDATES", 0)
        set_rating(cat, next(iter(before)), picked=False)
        assert next(iter(before)) not in found()
        set_rating(cat, next(iter(before)), picked=True)
        assert next(iter(before)) in found()


def test_both_filtered_paths_count_the_assets_without_vectors(
    fresh_library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    cat, pid = fresh_library.catalog, fresh_library.project_id
    no_vector = next(iter(fresh_library.rows))
    cat.execute("DELETE FROM embeddings WHERE asset_id = ?", [no_vector])
    f = {"picked": False}
    exact = search(cat, pid, "beach", filters=f, limit=20, min_score=None)
    monkeypatch.setattr(candidates, "EXACT_MAX_CANDIDATES", 0)  # the broad-filter path
    broad = search(cat, pid, "beach", filters=f, limit=20, min_score=None)
    assert exact.notice is not None and exact.notice.split(" have no vector")[0].endswith(
        "matching assets"
    )
    assert broad.notice == exact.notice
    assert [r.asset_id for r in broad.results] == [r.asset_id for r in exact.results]
