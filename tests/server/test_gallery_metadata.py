"""What a gallery visitor downloads carries nothing of the original but its pixels: real
photos with a JPEG comment ("Colorful cups. Aarhus, Denmark. SONY NEX-3N ..."), GPS, XMP,
IPTC and maker notes go in; every byte stream the gallery serves (thumb, preview, download
at web and original size, with and without a watermark, each photo of the download-all
zip) and the photographer's signed previews are read back with exiftool, fetched as real
concurrent requests from a live server."""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from kilo.gallery import create_gallery
from kilo.ingest import ingest
from support.api import LiveServer, Mailbox, login

#: photos of ../shared/photos with a COM segment (and, for the first, GPS, XMP and Sony
#: maker notes)
COMMENTED = ("plasma_ColorfulCups.jpg", "plasma_Kite.jpg")
#: exiftool groups (-G1) a served JPEG may have: the file itself, its JFIF header, and
#: what exiftool works out from them
PLAIN = {"SourceFile", "ExifTool", "System", "File", "JFIF", "Composite"}
#: never, in anything served: the comment, location, XMP, IPTC, maker notes
FORBIDDEN = ("Comment", "GPS", "XMP", "IPTC", "MakerNotes", "Sony")


def _exif(paths: list[Path]) -> list[dict[str, object]]:
    command = ["exiftool", "-j", "-a", "-G1", *map(str, paths)]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    found: list[dict[str, object]] = json.loads(out.stdout)
    return found


def _leaks(tags: dict[str, object]) -> list[str]:
    return [k for k in tags if any(word.lower() in k.lower() for word in FORBIDDEN)]


@pytest.fixture
def originals(shared_photos_dir: Path) -> list[Path]:
    paths = [shared_photos_dir / name for name in COMMENTED]
    for tags in _exif(paths):  # the attack's material: each carries a comment
        assert "File:Comment" in tags, tags["SourceFile"]
    assert any(k.startswith("GPS:") for k in _exif(paths[:1])[0])
    return paths


def _fetch_all(base: str, urls: list[str]) -> list[bytes]:
    def get(url: str) -> bytes:
        with httpx.Client(base_url=base, timeout=60) as http:
            got = http.get(url)
        assert got.status_code == 200, (url, got.status_code, got.text[:200])
        return got.content

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(get, urls))


def test_every_image_a_gallery_serves_is_clean_of_the_originals_metadata(
    live_server: LiveServer, mailbox: tuple[Mailbox, int], originals: list[Path], tmp_path: Path
) -> None:
    origin = live_server.url.removesuffix("/v1")
    cat = live_server.catalog
    with httpx.Client(base_url=live_server.url, timeout=60) as http:
        a = login(http, mailbox[0], "a@example.com")  # type: ignore[arg-type]
        pid = http.post("/projects", json={"title": "Aarhus"}, headers=a).json()["id"]
        report = ingest(cat, pid, originals)
        assert report.failed == 0
        ids = list(report.asset_ids)
        urls: list[str] = []
        for size in ("original", "web"):
            for watermark in (False, True):
                g = create_gallery(
                    cat,
                    pid,
                    title=f"{size} {watermark}",
                    asset_ids=ids,
                    allow_downloads=True,
                    download_size=size,
                    watermark=watermark,
                )
                view = http.get(f"/share/{g.share_slug}").json()
                for item in view["assets"]:
                    urls += [item["thumbUrl"], item["previewUrl"], item["downloadUrl"]]
                urls.append(view["downloadAllUrl"])
        # the photographer's side: each photo's signed preview and its renditions
        for aid in ids:
            urls.append(http.get(f"/assets/{aid}", headers=a).json()["bestPreviewUrl"])
            files = http.get(f"/assets/{aid}/files", headers=a).json()["files"]
            urls += [f["url"] for f in files if f["kind"] != "original"]

    served: dict[Path, str] = {}  # each file served, and the URL it came from
    for n, (url, data) in enumerate(zip(urls, _fetch_all(origin, urls), strict=True)):
        if data[:2] == b"PK":  # a download-all zip: each photo in it
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for name in archive.namelist():
                    path = tmp_path / f"{n:03d}-zip-{name}"
                    path.write_bytes(archive.read(name))
                    served[path] = url
        else:
            path = tmp_path / f"{n:03d}.jpg"
            path.write_bytes(data)
            served[path] = url
    # 4 galleries x 2 photos x (thumb, preview, download, in the zip); a preview, a thumb
    # and the best preview per photo for the photographer
    assert len(served) == 4 * 2 * 4 + 2 * 3, len(served)
    for tags in _exif(list(served)):
        url = served[Path(str(tags["SourceFile"]))]
        assert tags.get("File:FileType") == "JPEG", url
        assert not _leaks(tags), (url, _leaks(tags))
        if "/share/" in url:  # a visitor's: nothing but the picture (no EXIF, no ICC either)
            assert {k.split(":")[0] for k in tags} <= PLAIN, (url, tags)
