"""Ingest, analysis and export on a real Dask cluster (``support.dask``) against the moto S3
server: the same catalog as the local executor, a worker killed mid-run, re-runs."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kilo.catalog import open_catalog
from kilo.errors import InvalidInput
from kilo.executors import open_pool, parse_executor
from kilo.ingest import ingest
from kilo.projects import create_project
from kilo.settings import load_settings
from support.dask import dask_cluster
from support.s3 import S3Server, s3_server

__all__ = ["dask_cluster", "s3_server"]

BUCKET = "studio"
#: a few dozen of the test photos, the small ones (< 600 kB)
N_PHOTOS = 30


def test_executor_names() -> None:
    assert str(parse_executor(None)) == "local"
    assert str(parse_executor("dask:local")) == "dask:local"
    assert parse_executor("dask://sched.lan").address == "tcp://sched.lan:8786"
    assert parse_executor("tcp://10.0.0.2:9000").address == "tcp://10.0.0.2:9000"
    for bad in ("ray://x", "dask://", "dask://host:99999", "threads"):
        with pytest.raises(InvalidInput, match="unknown executor"):
            parse_executor(bad)


@pytest.fixture(scope="module")
def card(s3_server: S3Server, shared_photos_dir: Path) -> list[str]:
    """A card on S3: the photos and one broken file."""
    client: Any = s3_server.client()
    client.create_bucket(Bucket=BUCKET)
    photos = sorted(
        (p for p in shared_photos_dir.glob("*.jpg") if p.stat().st_size < 600_000),
        key=lambda p: p.name,
    )[:N_PHOTOS]
    for p in photos:
        client.put_object(Bucket=BUCKET, Key=f"card/{p.name}", Body=p.read_bytes())
    client.put_object(Bucket=BUCKET, Key="card/broken.jpg", Body=b"\xff\xd8\xff broken")
    return [p.name for p in photos]


def _settings(tmp: Path, s3: S3Server, name: str, executor: str) -> Any:
    return load_settings(
        home=tmp / name,
        store=f"s3://{BUCKET}/{name}",
        workers=2,
        s3_endpoint_url=s3.endpoint_url,
        executor=executor,
        clip_enabled=False,
    )


def _catalog_view(settings: Any, s3: S3Server) -> dict[str, Any]:
    """What an ingest made, independent of ids and store prefixes: per source file its
    sha256, state, metadata, and each rendition's size and the sha256 of its bytes."""
    client: Any = s3.client()
    out: dict[str, Any] = {}
    with open_catalog(settings) as cat:
        for aid, uri, sha, state, *meta in cat.fetchall(
            "SELECT id, source_uri, sha256, state, width_px, height_px, captured_at, "
            "camera_model, iso, orientation FROM assets"
        ):
            files = {}
            for kind, url, size, fsha in cat.fetchall(
                "SELECT kind, uri, byte_size, sha256 FROM asset_files WHERE asset_id = ? "
                "AND kind IN ('thumbnail', 'preview')",
                [aid],
            ):
                body = client.get_object(Bucket=BUCKET, Key=url.split(f"{BUCKET}/", 1)[1])
                data = body["Body"].read()
                assert len(data) == size and hashlib.sha256(data).hexdigest() == fsha
                files[kind] = (size, fsha)
            out[uri.rsplit("/", 1)[1]] = (sha, state, files, meta)
        # (the broken file is tried again by every run: a job each time, quarantined again)
        jobs = cat.fetchall(
            "SELECT type, status, count(*) FROM jobs WHERE asset_id IN "
            "(SELECT id FROM assets WHERE state = 'ready') GROUP BY ALL"
        )
    out["_jobs"] = jobs
    return out


@pytest.mark.slow
def test_dask_ingest_from_s3_matches_the_local_executor(
    dask_cluster: Any, s3_server: S3Server, card: list[str], tmp_path: Path
) -> None:
    views = {}
    for name, executor in (("local", "local"), ("dask", dask_cluster.scheduler_address)):
        settings = _settings(tmp_path, s3_server, name, executor)
        with open_catalog(settings) as cat:
            project = create_project(cat, "Wedding")
            rep = ingest(cat, project.id, [f"s3://{BUCKET}/card"])
            assert rep.registered == rep.ready == len(card), rep.failures
            assert rep.failed == 1 and rep.failures[0].path.endswith("/broken.jpg")
        views[name] = _catalog_view(settings, s3_server)
    assert views["dask"] == views["local"]
    assert set(views["dask"]) == {*card, "_jobs"}
    # the same ingest again changes nothing: no new asset, no rendition rewritten
    settings = _settings(tmp_path, s3_server, "dask", dask_cluster.scheduler_address)
    with open_catalog(settings) as cat:
        project_id = cat.fetchone("SELECT id FROM projects")[0]  # type: ignore[index]
        again = ingest(cat, project_id, [f"s3://{BUCKET}/card"])
    assert again.registered == 0 and again.skipped == len(card) and again.failed == 1
    assert _catalog_view(settings, s3_server) == views["dask"]


@pytest.mark.slow
def test_a_worker_killed_mid_run_loses_nothing(
    dask_cluster: Any, s3_server: S3Server, card: list[str], tmp_path: Path
) -> None:
    settings = _settings(tmp_path, s3_server, "killed", dask_cluster.scheduler_address)
    killed: list[int] = []
    with open_pool(settings.executor, 2) as pool, open_catalog(settings) as cat:
        victim = pool.worker_pids()[0]  # type: ignore[attr-defined]

        def kill_once(p: Any) -> None:
            if p.stage == "process" and p.done >= 2 and not killed:
                killed.append(victim)
                os.kill(victim, signal.SIGKILL)

        project = create_project(cat, "Killed")
        rep = ingest(cat, project.id, [f"s3://{BUCKET}/card"], pool=pool, progress=kill_once)
        assert killed, "the run ended before a worker could be killed"
        assert rep.ready == len(card) and rep.failed == 1
        statuses = dict(cat.fetchall("SELECT status, count(*) FROM jobs GROUP BY status"))
        assert statuses == {"done": len(card) + 1}  # the broken file's job quarantined it
        assert victim not in pool.worker_pids()  # type: ignore[attr-defined]
    view = _catalog_view(settings, s3_server)
    assert all(
        v[1] == "ready" and set(v[2]) == {"thumbnail", "preview"}
        for k, v in view.items()
        if k != "_jobs"
    )


@pytest.mark.slow
def test_analysis_and_export_on_the_cluster(
    dask_cluster: Any, s3_server: S3Server, card: list[str], tmp_path: Path
) -> None:
    from kilo.analyze import analyze
    from kilo.export import create_export, run_export, select_assets

    settings = _settings(tmp_path, s3_server, "deliver", dask_cluster.scheduler_address)
    with open_pool(settings.executor, 2) as pool, open_catalog(settings) as cat:
        project = create_project(cat, "Deliver")
        ingest(cat, project.id, [f"s3://{BUCKET}/card"], pool=pool)
        rep = analyze(cat, project.id, pool=pool)
        assert rep.analyzed == len(card) and rep.failed == 0
        assert cat.fetchone("SELECT count(*) FROM signals")[0] == len(card)  # type: ignore[index]
        ids = select_assets(cat, project.id, "all")[:6]
        exp = create_export(cat, project.id, "web", asset_ids=ids, dest=f"s3://{BUCKET}/delivery")
        done = run_export(cat, exp.id)
        assert done.status == "done" and not done.error
    keys = [
        o["Key"]
        for o in s3_server.client().list_objects_v2(  # type: ignore[attr-defined]
            Bucket=BUCKET, Prefix="delivery/"
        )["Contents"]
    ]
    assert len(keys) == 6 and all(k.endswith(".jpg") for k in keys)


@pytest.mark.slow
def test_the_cli_ingests_from_s3_on_a_dask_local_cluster(
    s3_server: S3Server, card: list[str], tmp_path: Path
) -> None:
    """The issue's command, as a user runs it: KILO_EXECUTOR=dask:local kilo ingest s3://..."""
    env = dict(
        os.environ,
        KILO_HOME=str(tmp_path / "cli"),
        KILO_EXECUTOR="dask:local",
        KILO_STORE=f"s3://{BUCKET}/cli",
        KILO_S3_ENDPOINT_URL=s3_server.endpoint_url,
        KILO_WORKERS="2",
        KILO_CLIP_ENABLED="false",
    )
    kilo = Path(sys.executable).with_name("kilo")
    proc = subprocess.run(
        [str(kilo), "ingest", f"s3://{BUCKET}/card", "--project", "Studio", "--create", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 3, proc.stderr  # partial success: the broken file
    report = json.loads(proc.stdout)
    assert report["ready"] == len(card) and report["failed"] == 1
    assert "Traceback" not in proc.stderr


def test_an_unreachable_scheduler_is_one_line() -> None:
    from kilo.errors import KiloError
    from support.s3 import free_port

    with pytest.raises(KiloError, match="cannot reach the Dask scheduler at tcp://127"):
        open_pool(f"dask://127.0.0.1:{free_port()}", 1)
