"""Ingest from ``s3://bucket/prefix`` into a store on S3, against moto's server mode."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from kilo.assets import list_asset_files, open_rendition
from kilo.catalog import open_catalog
from kilo.ingest import ingest
from kilo.projects import create_project
from kilo.settings import load_settings
from support.s3 import S3Server, s3_server

__all__ = ["s3_server"]

NAMES = ["cv_leuvenA.jpg", "cv_text_motion.jpg", "bird_burst.heic"]


@pytest.fixture
def bucket(s3_server: S3Server, photos_dir: Path) -> str:
    client: Any = s3_server.client()
    name = "shoot"
    client.create_bucket(Bucket=name)
    for n in NAMES:
        client.put_object(Bucket=name, Key=f"card/DCIM/{n}", Body=(photos_dir / n).read_bytes())
    client.put_object(Bucket=name, Key="card/DCIM/.hidden.jpg", Body=b"junk")
    client.put_object(Bucket=name, Key="card/DCIM/broken.jpg", Body=b"\xff\xd8\xff broken")
    client.put_object(
        Bucket=name,
        Key="card/other/cv_leuvenA_copy.jpg",
        Body=(photos_dir / "cv_leuvenA.jpg").read_bytes(),
    )
    return name


@pytest.mark.slow
def test_s3_round_trip(s3_server: S3Server, bucket: str, tmp_path: Path) -> None:
    settings = load_settings(
        home=tmp_path / "home",
        store=f"s3://{bucket}/kilo-store",
        s3_endpoint_url=s3_server.endpoint_url,
        workers=2,
    )
    with open_catalog(settings) as cat:
        project = create_project(cat, "S3 shoot")
        rep = ingest(cat, project.id, [f"s3://{bucket}/card"], copy=True)
        assert rep.registered == rep.ready == 1 + 1 + 4  # the burst has 4 frames
        assert rep.failed == 1 and rep.failures[0].path == f"s3://{bucket}/card/DCIM/broken.jpg"
        assert rep.skipped == 1  # the copy under card/other is a duplicate
        sources = {r[0] for r in cat.fetchall("SELECT DISTINCT source_uri FROM assets")}
        assert f"s3://{bucket}/card/DCIM/cv_leuvenA.jpg" in sources
        files = list_asset_files(cat, rep.asset_ids[0]).files
        assert {f.kind for f in files} == {"original", "preview", "thumbnail"}
        assert all(f.url.startswith(f"s3://{bucket}/kilo-store/") for f in files)
        client: Any = s3_server.client()
        thumb = next(f for f in files if f.kind == "thumbnail")
        key = thumb.url.split(f"s3://{bucket}/", 1)[1]
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert max(Image.open(io.BytesIO(body)).size) <= 512
        assert open_rendition(cat, rep.asset_ids[0], "preview").mode == "RGB"
        again = ingest(cat, project.id, [f"s3://{bucket}/card"])
        assert again.registered == 0 and again.skipped == 4 and again.failed == 1


def test_an_object_store_without_credentials_says_so_in_one_line(
    catalog: Any, project: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kilo.errors import StoreError

    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "KILO_S3_ENDPOINT_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(StoreError) as err:
        ingest(catalog, project.id, ["s3://kilo-no-credentials/shoot"])
    assert err.value.code == "store_error" and "AWS_ACCESS_KEY_ID" in str(err.value)
    assert "\n" not in str(err.value)
