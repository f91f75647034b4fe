"""``web/openapi.json``, which the web app generates its client from, is what the server
describes now (``scripts/dump_openapi.py``), whatever the hash seed; every studio extension
is in it with a typed answer and the Error schema on its error statuses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STUDIO = (
    ("/x-kilo/projects/{projectId}/cull", "get", "CullView"),
    ("/x-kilo/projects/{projectId}/cull/version", "get", "CullDataVersion"),
    ("/x-kilo/projects/{projectId}/cull:undo", "post", "CullStepResponse"),
    ("/x-kilo/projects/{projectId}/cull:redo", "post", "CullStepResponse"),
    ("/x-kilo/clusters/{clusterId}:reject", "post", "ClusterActionResponse"),
    ("/x-kilo/clusters/{clusterId}:split", "post", "SplitClusterResponse"),
    ("/x-kilo/clusters/{clusterId}:merge", "post", "Cluster"),
    ("/x-kilo/clusters/{clusterId}/faces", "get", "FaceStripResponse"),
    ("/x-kilo/projects/{projectId}/progress", "get", "ProjectProgress"),
    ("/x-kilo/projects/{projectId}/ingest-local", "post", "IngestLocalResponse"),
    ("/x-kilo/me", "get", "Me"),
    ("/x-kilo/health", "get", "Health"),
)


def test_the_committed_description_is_current() -> None:
    for seed in ("0", "4242"):
        done = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "dump_openapi.py"), "--check"],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr


def test_every_studio_extension_has_a_typed_answer() -> None:
    schema = json.loads((ROOT / "web" / "openapi.json").read_text())
    for path, method, model in STUDIO:
        op = schema["paths"][path][method]
        answers = {k: v for k, v in op["responses"].items() if k.startswith("2")}
        (ok,) = answers.values()
        ref = ok["content"]["application/json"]["schema"]["$ref"]
        assert ref == f"#/components/schemas/{model}", path
        for status, answer in op["responses"].items():
            if status.startswith("4"):
                got = answer["content"]["application/json"]["schema"]["$ref"]
                assert got == "#/components/schemas/Error", (path, status)
    frame = schema["components"]["schemas"]["CullFrame"]["properties"]
    for name in ("assetId", "thumbUrl", "previewUrl", "loupeUrl", "displayWidth", "state"):
        assert name in frame
