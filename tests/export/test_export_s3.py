"""Exports to S3 (a moto server over HTTP): files, zip artifacts, presigned downloads,
and a failing bucket that leaves nothing behind."""

from __future__ import annotations

import io
import urllib.request
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from kilo.catalog import Catalog
from kilo.errors import Conflict
from kilo.export import create_export, download_export, run_export
from kilo.projects import create_project
from kilo.settings import Settings, load_settings
from support.export_data import add_assets, rate
from support.s3 import S3Server, s3_server  # noqa: F401  (fixture)


@pytest.fixture
def settings(s3_server: S3Server, home: Path) -> Settings:  # noqa: F811
    """conftest's settings pointed at the S3 server (conftest's ``catalog`` opens them)."""
    return load_settings(
        home=home, workers=2, clip_enabled=False, s3_endpoint_url=s3_server.endpoint_url
    )


@pytest.fixture
def bucket(s3_server: S3Server) -> str:  # noqa: F811
    import uuid

    name = f"kilo-exports-{uuid.uuid4().hex[:8]}"
    s3_server.client().create_bucket(Bucket=name)  # type: ignore[attr-defined]
    return name


def _project(cat: Catalog, shared_photos_dir: Path, tmp_path: Path) -> str:
    project = create_project(cat, "S3 shoot")
    ids = add_assets(
        cat, project.id, shared_photos_dir, tmp_path / "t", ["people_zidane.jpg", "mate_Dune.jpg"]
    )
    for asset_id in ids:
        rate(cat, asset_id, picked=True)
    return project.id


def _keys(server: S3Server, bucket: str) -> list[str]:
    listed = server.client().list_objects_v2(Bucket=bucket)  # type: ignore[attr-defined]
    return sorted(o["Key"] for o in listed.get("Contents", []))


def test_export_zip_to_s3_and_presigned_download(
    catalog: Catalog,
    s3_server: S3Server,  # noqa: F811
    bucket: str,
    shared_photos_dir: Path,
    tmp_path: Path,
) -> None:
    pid = _project(catalog, shared_photos_dir, tmp_path)
    exp = create_export(
        catalog, pid, "web", settings={"zip": True}, dest=f"s3://{bucket}/deliveries/smith"
    )
    done = run_export(catalog, exp.id)
    assert done.status == "done", done.error
    keys = _keys(s3_server, bucket)
    assert len(keys) == 1 and keys[0].startswith("deliveries/smith/") and keys[0].endswith(".zip")
    assert done.artifact == f"s3://{bucket}/{keys[0]}"
    link = download_export(catalog, exp.id, expires_in=600)
    assert link.expires_at is not None
    assert link.url.startswith(s3_server.endpoint_url) and "Signature" in link.url
    with urllib.request.urlopen(link.url) as resp:
        data = resp.read()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        assert len(names) == 2
        assert max(Image.open(io.BytesIO(zf.read(names[0]))).size) <= 2048


def test_export_files_to_s3(
    catalog: Catalog,
    s3_server: S3Server,  # noqa: F811
    bucket: str,
    shared_photos_dir: Path,
    tmp_path: Path,
) -> None:
    pid = _project(catalog, shared_photos_dir, tmp_path)
    exp = run_export(
        catalog,
        create_export(catalog, pid, "instagram_carousel", dest=f"s3://{bucket}/ig").id,
    )
    assert exp.status == "done", exp.error
    keys = _keys(s3_server, bucket)
    assert keys == ["ig/2024-06-01_S3-shoot_0001.jpg", "ig/2024-06-01_S3-shoot_0002.jpg"]
    with pytest.raises(Conflict, match="zip"):
        download_export(catalog, exp.id)


def test_missing_bucket_fails_without_leftovers(
    catalog: Catalog, shared_photos_dir: Path, tmp_path: Path
) -> None:
    pid = _project(catalog, shared_photos_dir, tmp_path)
    exp = run_export(
        catalog, create_export(catalog, pid, "web", dest="s3://no-such-bucket-kilo/x").id
    )
    assert exp.status == "failed"
    assert exp.error and "destination" in exp.error
