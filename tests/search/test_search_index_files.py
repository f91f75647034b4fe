"""The vector index's files when several processes save one index at once: a reader always
loads the graph, ids and vectors of one save, never a mix."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from kilo.search.index import VectorIndex

SAVER = """
import sys
import numpy as np
from pathlib import Path
from kilo.search.index import VectorIndex
tag, path = sys.argv[1], Path(sys.argv[2])
rng = np.random.default_rng(ord(tag))
vecs = rng.normal(size=(40, 16)).astype(np.float32)
vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
idx = VectorIndex("m", 16, path)
idx.add([f"{tag}{i}" for i in range(40)], vecs)
for _ in range(int(sys.argv[3])):
    idx.save()
"""


def test_concurrent_saves_never_mix_two_processes_files(tmp_path: Path) -> None:
    path = tmp_path / "index"
    # two processes save indexes of the same size and model but different photos, over and over
    savers = [subprocess.Popen([sys.executable, "-c", SAVER, tag, str(path), "60"]) for tag in "ab"]
    loads = 0
    while any(p.poll() is None for p in savers):
        idx = VectorIndex.load(path, "m")
        if idx is None:
            continue
        loads += 1
        tags = {aid[0] for aid in idx.ids}
        assert len(tags) == 1, f"one load holds ids of two saves: {sorted(tags)}"
        for label in (0, 17, 39):
            got, scores = idx.query(np.asarray(idx.vectors_of(np.array([label])))[0], 1)
            assert got == [idx.ids[label]] and scores[0] > 0.999
    assert all(p.wait(timeout=60) == 0 for p in savers)
    assert loads > 0
    # what is left is the current save and the one before it: no pile-up of old files
    assert len(list(path.glob("hnsw-*.bin"))) <= 2
    assert VectorIndex.load(path, "m") is not None
