"""The vector index: one hnswlib graph per (library, model id), kept in ``HOME/index``.

One copy of each vector at full dimension, in float16 (the *store*: exact scoring of filtered
subsets, re-ranking, calibration samples). The graph holds what hnswlib needs to walk: the
vectors themselves while the index is small, and from ``PROJECT_FROM`` vectors on, their
``GRAPH_DIM`` leading principal components (fitted on the store when the index first grows
that large). A projected query fetches ``RERANK_MIN`` or more candidates from the graph and
ranks them by their exact scores from the store, so results and scores are those of the full
vectors. A million 512-d vectors take 2.26 GiB resident (``benchmarks/search.py``); a graph
of full vectors plus a float32 matrix would take about 4 GiB by the same count.

Files per model (``HOME/index/<model slug>/``): ``hnsw-<gen>.bin`` (the graph),
``vecs-<gen>.npy`` (the store by label, memory-mapped), ``ids-<gen>.npy`` (label -> asset id),
``proj-<gen>.npz`` (the projection, once there is one) and ``meta.json`` (model id, dim,
count, the generation ``gen`` of the files, and ``synced_until``, the newest
``embeddings.created_at`` the graph holds). The index is a cache of the catalog, and several
processes may save it at once: each save writes a new generation's files, then replaces
``meta.json`` in one rename, so a reader always loads the files of one save (never a graph of
one process with the ids of another); the generation before is kept for readers still loading
it. On open the index is brought up to date with the catalog: vectors written since
``synced_until`` are added (``add_items``; a re-embedded asset replaces its old vector),
vectors whose rows are gone are marked deleted, and a missing, unreadable or older-format
index is rebuilt from the ``embeddings`` table. The embed job also adds its vectors at once
through :func:`add_to_index`.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from kilo.catalog import Catalog
from kilo.catalog.measures_repo import list_embedded_ids, read_embedding_state
from kilo.measure.embed.vectors import read_vectors

log = logging.getLogger(__name__)

M = 16
EF_CONSTRUCTION = 200
EF_SEARCH = 128
FORMAT = 3
#: Vectors of more dimensions than this are walked in this many principal components ...
GRAPH_DIM = 256
#: ... once the index holds this many (below it the graph's memory does not matter).
PROJECT_FROM = 20_000
#: Candidates a projected query takes from the graph for exact re-ranking (at least).
RERANK_MIN = 100
_PCA_SAMPLE = 50_000
_GEN_FILE = re.compile(
    r"^(?:(?:hnsw|vecs|ids|proj)-(?P<gen>[\w-]+)\.(?:bin|npy|npz)"
    r"|meta\.json\.(?P<part>[\w-]+)\.part|hnsw\.bin|vecs\.npy|ids\.npy)$"  # last 3: format 1
)


def index_dir(catalog: Catalog, model_id: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", model_id).strip("_")[:120] or "model"
    return catalog.settings.home / "index" / slug


class VectorIndex:
    """A cosine index over L2-normalised vectors, labelled by asset id: an hnswlib graph to
    find candidates and a float16 store of the full vectors to score them."""

    def __init__(
        self, model_id: str, dim: int, path: Path | None = None, *, init: bool = True
    ) -> None:
        self.model_id = model_id
        self.dim = dim
        self.path = path
        self.ids: list[str] = []
        self.labels: dict[str, int] = {}
        self.deleted: set[int] = set()
        self.synced_until: datetime | None = None
        self.checked: tuple[int, ...] | None = None  # the catalog's data_version at the last sync
        self.mutations = 0  # bumped by every add and remove (caches of labels compare it)
        # The store, row = label (memory-mapped from vecs.npy after a load); hnswlib's own
        # get_items costs ~100 us per item, so exact scores never come from the graph.
        self._vecs = np.zeros((0, dim), dtype=np.float16)
        # (mean, basis dim x GRAPH_DIM) once the graph holds principal components.
        self._proj: tuple[np.ndarray, np.ndarray] | None = None
        self._index = _new_graph(dim, 1024 if init else None)
        self.lock = threading.RLock()

    # -- size -----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.ids) - len(self.deleted)

    @property
    def graph_dim(self) -> int:
        return self.dim if self._proj is None else int(self._proj[1].shape[1])

    def memory_bytes(self) -> int:
        """Approximate resident size: graph (vectors + links) + store + projection + ids."""
        per = 4 * self.graph_dim + 4 * (2 * M + 1) + 8
        upper = 4 * (M + 1) // 2  # levels above 0: 1/M of the elements, each with M links
        graph = self._index.get_max_elements() * (per + upper)
        proj = 0 if self._proj is None else self._proj[1].nbytes + self._proj[0].nbytes
        return int(graph + self._vecs.nbytes + proj + len(self.ids) * 180)

    # -- writes ---------------------------------------------------------------------------
    def add(self, asset_ids: list[str], vectors: np.ndarray) -> int:
        """Add (or replace) vectors; returns how many labels were new."""
        if not asset_ids:
            return 0
        vecs = np.ascontiguousarray(vectors, dtype=np.float32)
        with self.lock:
            self.mutations += 1
            labels = np.empty(len(asset_ids), dtype=np.int64)
            new = 0
            for i, aid in enumerate(asset_ids):
                label = self.labels.get(aid)
                if label is None:
                    label = len(self.ids)
                    self.ids.append(aid)
                    self.labels[aid] = label
                    new += 1
                elif label in self.deleted:
                    self._index.unmark_deleted(label)
                    self.deleted.discard(label)
                labels[i] = label
            needed = len(self.ids)
            if needed > self._vecs.shape[0] or not self._vecs.flags.writeable:
                rows = max(needed, self._vecs.shape[0] + self._vecs.shape[0] // 4)
                grown = np.zeros((rows, self.dim), np.float16)
                grown[: self._vecs.shape[0]] = self._vecs
                self._vecs = grown
            self._vecs[labels] = vecs
            if self._proj is None and self.dim > GRAPH_DIM and needed >= PROJECT_FROM:
                self._project_graph()  # the whole store, these vectors included
            else:
                self._add_to_graph(labels, vecs)
            return new

    def _add_to_graph(self, labels: np.ndarray, vecs: np.ndarray) -> None:
        needed = len(self.ids)
        if needed > self._index.get_max_elements():
            grow = self._index.get_max_elements() // 4
            self._index.resize_index(max(needed, self._index.get_max_elements() + grow))
        for start in range(0, len(labels), 10_000):  # bounded float32 copies when projecting
            part = slice(start, start + 10_000)
            self._index.add_items(
                self._to_graph(vecs[part]), labels[part], num_threads=min(2, os.cpu_count() or 1)
            )

    def _project_graph(self) -> None:
        """Refit the graph on the principal components of the store (once, at PROJECT_FROM)."""
        count = len(self.ids)
        rng = np.random.default_rng(0)
        pick = np.sort(rng.choice(count, size=min(count, _PCA_SAMPLE), replace=False))
        sample = np.asarray(self._vecs[pick], dtype=np.float64)
        mean = sample.mean(axis=0)
        _, basis = np.linalg.eigh(np.cov(sample - mean, rowvar=False))
        self._proj = mean.astype(np.float32), basis[:, ::-1][:, :GRAPH_DIM].astype(np.float32)
        log.info("index of %s: graph refit on %d principal components", self.model_id, GRAPH_DIM)
        self._index = _new_graph(GRAPH_DIM, count)
        labels = np.arange(count, dtype=np.int64)
        self._add_to_graph(labels, self._vecs[:count])  # projected 10,000 rows at a time
        for label in self.deleted:
            self._index.mark_deleted(label)

    def _to_graph(self, vecs: np.ndarray) -> np.ndarray:
        """Vectors as the graph holds them (a query too: the mean only shifts every score)."""
        if self._proj is None:
            return vecs
        mean, basis = self._proj
        return np.ascontiguousarray((vecs - mean) @ basis, dtype=np.float32)

    def remove(self, asset_ids: list[str]) -> None:
        with self.lock:
            self.mutations += 1
            for aid in asset_ids:
                label = self.labels.get(aid)
                if label is not None and label not in self.deleted:
                    self._index.mark_deleted(label)
                    self.deleted.add(label)

    # -- reads ----------------------------------------------------------------------------
    def query(
        self, vector: np.ndarray, k: int, *, allowed: set[int] | None = None, ef: int | None = None
    ) -> tuple[list[str], np.ndarray]:
        """Approximate top-``k`` (asset ids, cosine scores), optionally among ``allowed`` labels."""
        q = np.asarray(vector, dtype=np.float32).ravel()
        with self.lock:
            live = len(self) if allowed is None else min(len(self), len(allowed))
            k = min(k, live)
            if k <= 0:
                return [], np.zeros(0, dtype=np.float32)
            fetch = k
            if self._proj is not None:  # fewer allowed: their projected order is rougher
                share = 1.0 if allowed is None else max(live / max(1, len(self)), 1e-4)
                fetch = min(live, max(int(_rerank_count(len(self)) / share**0.5), 2 * k))
            self._index.set_ef(max(ef or EF_SEARCH, fetch + 16))
            filt = None if allowed is None else allowed.__contains__
            try:
                found, _ = self._index.knn_query(self._to_graph(q[None, :]), k=fetch, filter=filt)
                labels = found[0].astype(np.int64)
            except RuntimeError:
                # hnswlib could not reach ``fetch`` labels (asked for nearly all of a small
                # or much-deleted graph): every candidate is scored exactly instead
                log.debug("the graph gave fewer than %d of %d labels: exact search", fetch, live)
                labels = self._candidates(allowed)
        return self._ranked(q, labels, k)

    def _candidates(self, allowed: set[int] | None) -> np.ndarray:
        """The live labels (among ``allowed``): an exact search's candidates."""
        pool = range(len(self.ids)) if allowed is None else sorted(allowed)
        return np.array([i for i in pool if i not in self.deleted], dtype=np.int64)

    def vectors_of(self, labels: np.ndarray) -> np.ndarray:
        with self.lock:
            return _float32(self._vecs[np.asarray(labels, dtype=np.int64)])

    def exact(self, vector: np.ndarray, labels: np.ndarray, k: int) -> tuple[list[str], np.ndarray]:
        """Exact top-``k`` among ``labels`` (brute force over their stored vectors)."""
        return self._ranked(np.asarray(vector, dtype=np.float32).ravel(), labels, k)

    def _ranked(self, q: np.ndarray, labels: np.ndarray, k: int) -> tuple[list[str], np.ndarray]:
        if len(labels) == 0:
            return [], np.zeros(0, dtype=np.float32)
        labels = np.asarray(labels, dtype=np.int64)
        scores = np.concatenate(  # in blocks that stay in the CPU's cache
            [self.vectors_of(labels[i : i + 2048]) @ q for i in range(0, len(labels), 2048)]
        )
        k = min(k, len(labels))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [self.ids[int(labels[i])] for i in top], scores[top]

    def sample_vectors(self, n: int, seed: int = 0) -> np.ndarray:
        """Up to ``n`` stored vectors chosen at random (for score calibration)."""
        with self.lock:
            live = self._candidates(None)
        if not len(live):
            return np.zeros((0, self.dim), dtype=np.float32)
        rng = np.random.default_rng(seed)
        pick = rng.choice(live, size=min(n, len(live)), replace=False)
        return self.vectors_of(np.sort(pick))

    # -- persistence ----------------------------------------------------------------------
    def save(self) -> None:
        if self.path is None:
            return
        self.path.mkdir(parents=True, exist_ok=True)
        with self.lock, _save_lock(self.path):
            gen = f"{os.getpid()}-{secrets.token_hex(4)}"
            self._index.save_index(str(self.path / f"hnsw-{gen}.bin"))
            np.save(self.path / f"vecs-{gen}.npy", self._vecs[: len(self.ids)])
            np.save(self.path / f"ids-{gen}.npy", np.array(self.ids, dtype=str))
            if self._proj is not None:
                np.savez(self.path / f"proj-{gen}.npz", mean=self._proj[0], basis=self._proj[1])
            meta = {
                "format": FORMAT,
                "gen": gen,
                "modelId": self.model_id,
                "dim": self.dim,
                "graphDim": self.graph_dim,
                "count": len(self.ids),
                "deleted": sorted(self.deleted),
                "syncedUntil": self.synced_until.isoformat() if self.synced_until else None,
            }
            before = _generation(self.path)
            part = self.path / f"meta.json.{gen}.part"
            part.write_text(json.dumps(meta), encoding="utf-8")
            os.replace(part, self.path / "meta.json")
            _drop_generations(self.path, keep={gen, before})

    @classmethod
    def load(cls, path: Path, model_id: str) -> VectorIndex | None:
        """The saved index, or None when it is missing, unreadable or for another model."""
        try:
            meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
            if meta.get("format") != FORMAT or meta.get("modelId") != model_id:
                return None
            gen = str(meta["gen"])
            ids = [str(x) for x in np.load(path / f"ids-{gen}.npy")]
            if len(ids) != int(meta["count"]):
                return None
            idx = cls(model_id, int(meta["dim"]), path, init=False)
            if int(meta["graphDim"]) != idx.dim:
                with np.load(path / f"proj-{gen}.npz") as proj:
                    idx._proj = proj["mean"], proj["basis"]
                if idx._proj[1].shape != (idx.dim, int(meta["graphDim"])):
                    return None
            idx._index = _new_graph(idx.graph_dim, None)
            idx._index.load_index(str(path / f"hnsw-{gen}.bin"), max_elements=max(1024, len(ids)))
            idx._index.set_ef(EF_SEARCH)
            idx._index.set_num_threads(1)
            if idx._index.get_current_count() != len(ids):
                return None
            idx._vecs = np.load(path / f"vecs-{gen}.npy", mmap_mode="r")
            if idx._vecs.shape != (len(ids), idx.dim) or idx._vecs.dtype != np.float16:
                return None
        except (OSError, ValueError, KeyError, RuntimeError):
            return None
        idx.ids = ids
        idx.labels = {aid: i for i, aid in enumerate(ids)}
        idx.deleted = {int(x) for x in meta.get("deleted", [])}
        synced = meta.get("syncedUntil")
        idx.synced_until = datetime.fromisoformat(synced) if synced else None
        return idx


def _rerank_count(size: int) -> int:
    """Candidates a projected query takes: more in a larger index, where the principal
    components separate close neighbours less well (``benchmarks/search.py`` at 1M)."""
    return min(1000, max(RERANK_MIN, size // 2500))


def _float32(halves: np.ndarray) -> np.ndarray:
    """float16 rows as float32: OpenCV's SIMD conversion, 3-4x numpy's ``astype``."""
    import cv2

    if halves.ndim == 2 and halves.size:
        return np.asarray(cv2.convertFp16(np.ascontiguousarray(halves).view(np.int16)))
    return np.asarray(halves, dtype=np.float32)


def _new_graph(dim: int, capacity: int | None) -> Any:
    """An empty hnswlib inner-product graph (initialised for ``capacity``, unless None: to
    be loaded from a file)."""
    import hnswlib

    graph = hnswlib.Index(space="ip", dim=dim)
    if capacity is not None:
        graph.init_index(max_elements=capacity, ef_construction=EF_CONSTRUCTION, M=M)
    graph.set_ef(EF_SEARCH)
    graph.set_num_threads(1)
    return graph


@contextmanager
def _save_lock(path: Path) -> Iterator[None]:
    """One save at a time per index folder, across processes (an advisory file lock)."""
    with open(path / ".save.lock", "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _generation(path: Path) -> str | None:
    """The generation ``meta.json`` names now (None: no readable index)."""
    try:
        return str(json.loads((path / "meta.json").read_text(encoding="utf-8"))["gen"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _drop_generations(path: Path, keep: set[str | None]) -> None:
    """Delete the files of every generation but ``keep``, and a crashed save's leftovers
    (called under the save lock, so no other save is writing)."""
    for entry in path.iterdir():
        m = _GEN_FILE.match(entry.name)
        if m and (m["gen"] or m["part"]) not in keep:
            entry.unlink(missing_ok=True)


# -- the per-process cache and catalog sync -----------------------------------------------
_OPEN: dict[tuple[str, str], VectorIndex] = {}
_OPEN_LOCK = threading.Lock()


def _catalog_state(catalog: Catalog, model_id: str) -> tuple[int, datetime | None, int | None]:
    return read_embedding_state(catalog, model_id)


def _sync(catalog: Catalog, idx: VectorIndex) -> bool:
    """Bring ``idx`` up to date with the catalog; True when anything changed."""
    count, newest, _ = _catalog_state(catalog, idx.model_id)
    if newest is not None and (idx.synced_until is None or newest > idx.synced_until):
        ids = list_embedded_ids(catalog, idx.model_id, since=idx.synced_until)
        if ids:
            got_ids, vecs = read_vectors(catalog, idx.model_id, asset_ids=ids)
            idx.add(got_ids, vecs)
        idx.synced_until = newest
        changed = True
    else:
        changed = False
    if count != len(idx):
        present = set(list_embedded_ids(catalog, idx.model_id))
        gone = [aid for aid in idx.labels if aid not in present]
        idx.remove(gone)
        missing = [
            aid for aid in present if aid not in idx.labels or idx.labels[aid] in idx.deleted
        ]
        if missing:
            got_ids, vecs = read_vectors(catalog, idx.model_id, asset_ids=missing)
            idx.add(got_ids, vecs)
        changed = True
    return changed


def build_index(catalog: Catalog, model_id: str, *, save: bool = True) -> VectorIndex | None:
    """Build the index of ``model_id`` from scratch from the catalog (None: no vectors)."""
    ids, vecs = read_vectors(catalog, model_id)
    if not ids:
        return None
    idx = VectorIndex(model_id, int(vecs.shape[1]), index_dir(catalog, model_id))
    idx.add(ids, vecs)
    idx.synced_until = _catalog_state(catalog, model_id)[1]
    if save:
        idx.save()
    return idx


def open_index(catalog: Catalog, model_id: str) -> VectorIndex | None:
    """The up-to-date index of ``model_id`` (cached per process; loaded, synced or rebuilt as
    needed); None when the catalog has no vectors for this model."""
    key = (str(catalog.settings.home.absolute()), model_id)
    with _OPEN_LOCK:
        idx = _OPEN.get(key)
        if idx is None:
            path = index_dir(catalog, model_id)
            idx = VectorIndex.load(path, model_id) or build_index(catalog, model_id)
            if idx is None:
                return None
            _OPEN[key] = idx
        version = catalog.data_version()
        if idx.checked != version and _sync(catalog, idx):
            idx.save()
        idx.checked = version  # read before the sync: a write during it is seen next time
        return idx


def add_to_index(
    catalog: Catalog, model_id: str, asset_ids: list[str], vectors: np.ndarray
) -> None:
    """Add freshly written vectors to the model's index (creating it if needed) and save it."""
    key = (str(catalog.settings.home.absolute()), model_id)
    with _OPEN_LOCK:
        idx = _OPEN.get(key) or VectorIndex.load(index_dir(catalog, model_id), model_id)
        if idx is None:
            idx = VectorIndex(
                model_id, int(np.asarray(vectors).shape[1]), index_dir(catalog, model_id)
            )
        _OPEN[key] = idx
        idx.add(asset_ids, vectors)
        version = catalog.data_version()
        _sync(catalog, idx)
        idx.checked = version
        idx.save()


def forget_indexes() -> None:
    """Drop the per-process cache (tests; after deleting index files)."""
    with _OPEN_LOCK:
        _OPEN.clear()
