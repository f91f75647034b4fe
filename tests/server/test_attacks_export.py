"""Attacks on exports over HTTP (a real uvicorn, signed in through the mailbox): no export
setting may name a file or folder of the server, and nothing an export answers tells which
server paths exist. User A owns a photo; user B, signed in, tries to reach it (and the
server's own files) through B's exports.

Everything a request names is refused up front (400 in the contract's Error schema): a
watermark ``image`` that is a path or URL, someone else's asset as a logo (exactly like an
asset that does not exist), a destination, a name template that leaves the export folder.
A contact sheet loads nothing but its own thumbnails, whatever its title holds.
"""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from kilo.export.core import run_export
from kilo.ingest import ingest
from support.api import EXAMPLES, LiveServer, Mailbox, login

LOGO_RGB = (255, 0, 255)


@dataclass
class World:
    http: httpx.Client
    live: LiveServer
    a: dict[str, str]
    b: dict[str, str]
    a_asset: str
    a_original: str  # the file A's photo is stored in, on the server's disk
    b_project: str
    b_photo: str
    b_logo: str
    home: Path

    def export(self, settings: dict[str, Any], **body: Any) -> httpx.Response:
        payload = {"preset": "web", "assetIds": [self.b_photo], "settings": settings, **body}
        return self.http.post(f"/projects/{self.b_project}/exports", json=payload, headers=self.b)

    def run(self, export_id: str) -> dict[str, Any]:
        run_export(self.live.catalog, export_id)
        got = self.http.get(f"/exports/{export_id}", headers=self.b)
        assert got.status_code == 200, got.text
        return dict(got.json())

    def download(self, export_id: str) -> bytes:
        link = self.http.get(f"/exports/{export_id}/download", headers=self.b)
        assert link.status_code == 200, link.text
        root = self.live.url.removesuffix("/v1")
        got = httpx.get(root + link.json()["url"], timeout=60)
        assert got.status_code == 200, got.text
        return got.content


def _logo_png(path: Path) -> Path:
    """A magenta square with a transparent border: unmistakable in an exported photo."""
    img = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    img.paste(Image.new("RGBA", (360, 360), (*LOGO_RGB, 255)), (20, 20))
    img.save(path)
    return path


@pytest.fixture
def world(
    live_server: LiveServer, mailbox: tuple[Mailbox, int], home: Path, tmp_path: Path
) -> Iterator[World]:
    box, _ = mailbox
    catalog = live_server.catalog
    with httpx.Client(base_url=live_server.url, timeout=60) as http:
        a = login(http, box, "a@example.com")  # type: ignore[arg-type]
        b = login(http, box, "b@example.com")  # type: ignore[arg-type]
        pa = http.post("/projects", json={"title": "A private"}, headers=a).json()["id"]
        pb = http.post("/projects", json={"title": "B shoot"}, headers=b).json()["id"]
        got_a = ingest(catalog, pa, [EXAMPLES / "cv_aloeL.jpg"])
        got_b = ingest(catalog, pb, [EXAMPLES / "cv_leuvenA.jpg", _logo_png(tmp_path / "logo.png")])
        assert got_a.failed == 0 and got_b.failed == 0
        a_asset = got_a.asset_ids[0]
        original = catalog.scalar(
            "SELECT coalesce((SELECT f.uri FROM asset_files f WHERE f.asset_id = a.id AND "
            "f.kind = 'original' ORDER BY f.created_at DESC LIMIT 1), a.source_uri) "
            "FROM assets a WHERE a.id = ?",
            [a_asset],
        )
        names = dict(catalog.fetchall("SELECT filename, id FROM assets WHERE project_id = ?", [pb]))
        yield World(
            http,
            live_server,
            a,
            b,
            a_asset,
            str(original),
            pb,
            str(names["cv_leuvenA.jpg"]),
            str(names["logo.png"]),
            home,
        )


def _b_exports(w: World) -> int:
    return int(
        w.live.catalog.scalar("SELECT count(*) FROM exports WHERE project_id = ?", [w.b_project])
    )


def _assert_error(resp: httpx.Response, *hidden: str) -> dict[str, Any]:
    """A 400 in the contract's Error schema that repeats none of ``hidden``."""
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["code"] == "bad_request" and isinstance(body["message"], str), body
    for text in hidden:
        assert text not in resp.text, resp.text
    return dict(body)


def _parallel(calls: list[Any]) -> list[httpx.Response]:
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def test_watermark_image_cannot_name_a_server_file(world: World) -> None:
    """User B's watermark logo given as a path or URL of the server (A's stored original,
    /etc/passwd, the process's environment, the signing key, a URL): refused at once, all
    attempts at the same time, the error repeating none of it, no export recorded."""
    targets = [
        world.a_original,
        "/etc/passwd",
        "/proc/self/environ",
        str(world.home / "secret.key"),
        "file:///etc/passwd",
        "../../../../../../etc/passwd",
        "s3://kilo-store/originals/logo.png",
        "http://169.254.169.254/latest/meta-data/",
    ]
    calls = [lambda t=t: world.export({"watermark": {"image": t, "opacity": 1}}) for t in targets]
    calls += [lambda t=t: world.export({"watermark": {"imageAsset": t}}) for t in targets]
    for target, resp in zip(targets * 2, _parallel(calls), strict=True):
        _assert_error(resp, target)
    assert _b_exports(world) == 0


def test_someone_elses_asset_as_a_logo_is_like_a_missing_one(world: World) -> None:
    """A's asset id as B's logo is refused exactly as an id that names nothing."""
    missing = str(uuid.uuid4())
    answers = _parallel(
        [
            lambda: world.export({"watermark": {"image": world.a_asset}}),
            lambda: world.export({"watermark": {"image": missing}}),
            lambda: world.export({"watermark": {"imageAsset": world.a_asset}}),
        ]
    )
    theirs, nothing, theirs_too = (_assert_error(r) for r in answers)
    assert theirs["message"].replace(world.a_asset, "ID") == nothing["message"].replace(
        missing, "ID"
    )
    assert theirs_too["message"] == theirs["message"]
    assert _b_exports(world) == 0


def test_a_watermark_string_is_a_text_never_a_file(world: World) -> None:
    """A plain string naming A's original is burned in as text: the server never opens it
    (before, an existing image path became the logo)."""
    resp = world.export({"watermark": world.a_original})
    assert resp.status_code == 201, resp.text
    watermark = resp.json()["settings"]["watermark"]
    assert watermark.get("text") == world.a_original and "image" not in watermark
    done = world.run(resp.json()["id"])
    assert done["status"] == "done", done


def test_own_asset_as_logo_is_burned_in(world: World) -> None:
    """B's own uploaded logo (an asset id of B's) works: its magenta is in the corner."""
    wm = {"image": world.b_logo, "position": "top-left", "opacity": 1, "scale": 0.2, "margin": 0}
    resp = world.export({"watermark": wm, "zip": True})
    assert resp.status_code == 201, resp.text
    assert resp.json()["settings"]["watermark"]["imageAsset"] == world.b_logo
    done = world.run(resp.json()["id"])
    assert done["status"] == "done" and not done.get("error"), done
    with zipfile.ZipFile(io.BytesIO(world.download(done["id"]))) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".jpg"))
        img = Image.open(io.BytesIO(zf.read(name))).convert("RGB")
    side = round(0.2 * max(img.size))
    inner = img.crop((side // 5, side // 5, side * 4 // 5, side * 4 // 5)).resize((1, 1))
    r, g, b = inner.getpixel((0, 0))  # type: ignore[misc]
    assert r > 220 and g < 40 and b > 220, (r, g, b)


def test_export_errors_name_no_server_path(world: World, tmp_path: Path) -> None:
    """An export that fails on a file of the server says so without its path."""
    doomed = tmp_path / "gone" / "doomed.jpg"
    doomed.parent.mkdir()
    doomed.write_bytes((EXAMPLES / "cv_aloeR.jpg").read_bytes())
    report = ingest(world.live.catalog, world.b_project, [doomed])
    assert report.failed == 0
    doomed.unlink()
    resp = world.export({}, assetIds=[report.asset_ids[0]])
    assert resp.status_code == 201, resp.text
    failed = world.run(resp.json()["id"])
    assert failed["status"] == "failed" and failed["error"], failed
    text = str(failed)
    assert str(tmp_path) not in text and "/gone/" not in text, text


def test_name_template_cannot_leave_the_export_folder(world: World) -> None:
    """Templates with separators, parent folders or absolute paths, and padding that would
    build gigabyte names, are refused; what is allowed stays inside the export's folder."""
    bad = [
        "../../{seq}",
        "/tmp/{seq}",
        "..\\..\\{seq}",
        "{seq}/../../x",
        "{seq:0999999999d}",
        "{date:>100000000}",
        "{filename.__class__}",
        "{seq!r}",
    ]
    answers = _parallel([lambda t=t: world.export({"nameTemplate": t}) for t in bad])
    for template, resp in zip(bad, answers, strict=True):
        _assert_error(resp)
        assert resp.status_code == 400, template
    assert _b_exports(world) == 0
    renamed = world.http.patch(
        f"/projects/{world.b_project}", headers=world.b, json={"title": "../../../escape"}
    )
    assert renamed.status_code in (200, 400), renamed.text
    resp = world.export({"nameTemplate": "..{project}..{filename}.."})
    assert resp.status_code == 201, resp.text
    done = world.run(resp.json()["id"])
    assert done["status"] == "done", done
    folder = Path(world.live.catalog.table("exports").value(done["id"], "artifact_uri"))
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert len(files) == 1 and files[0].parent == folder and not files[0].name.startswith(".")


def test_destination_cannot_be_chosen_over_http(world: World) -> None:
    """An export destination (a folder or s3://) in the request is refused."""
    answers = _parallel(
        [
            lambda: world.export({}, dest="/tmp/kilo-stolen"),
            lambda: world.export({"dest": "/tmp/kilo-stolen"}),
            lambda: world.export({"destUri": "s3://attacker-bucket/x"}),
            lambda: world.export({}, destUri="file:///etc"),
        ]
    )
    for resp in answers:
        _assert_error(resp, "/tmp/kilo-stolen", "attacker-bucket", "file:///etc")
    assert _b_exports(world) == 0
    assert not Path("/tmp/kilo-stolen").exists()


def test_contact_sheet_loads_only_its_own_thumbnails(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A contact sheet title with HTML, and one that breaks out of the CSS it is printed in
    to use A's original and /etc/passwd as backgrounds: the PDF holds neither, WeasyPrint
    was never asked for them, and the HTML is shown as text."""
    from weasyprint.urls import URLFetcher

    fetched: list[str] = []
    real = URLFetcher.fetch

    def spy(self: Any, url: str, headers: Any = None) -> Any:
        fetched.append(url)
        return real(self, url, headers)

    monkeypatch.setattr(URLFetcher, "fetch", spy)
    original = Path(world.a_original).absolute()
    css = f"html {{ background: url({original.as_uri()}) }}"
    css += " body { background: url(file:///etc/passwd) } p {"
    title = f'<img src="file:///etc/passwd">\r}} }} {css}'

    assert len(title) <= 200
    resp = world.http.post(
        f"/projects/{world.b_project}/exports",
        headers=world.b,
        json={"preset": "contact_sheet_pdf", "settings": {"title": title}},
    )
    assert resp.status_code == 201, resp.text
    done = world.run(resp.json()["id"])
    assert done["status"] == "done", done
    pdf = world.download(done["id"])
    assert pdf.startswith(b"%PDF")
    with Image.open(original) as im:
        a_width = im.width
    widths = {int(w) for w in re.findall(rb"/Width (\d+)", pdf)}
    assert widths and a_width not in widths, widths  # B's own thumbnails, nothing else
    assert not [u for u in fetched if "passwd" in u or original.name in u], fetched
    assert all(u.startswith(("data:", "file:")) for u in fetched), fetched


def test_job_reasons_over_http_name_no_server_path(world: World, tmp_path: Path) -> None:
    """The failed job behind an export, as the jobs list and the realtime stream show it,
    says why without the server's paths (the catalog keeps the full reason for the CLI)."""
    from kilo.jobs import run_jobs
    from kilo_server.events import read_events
    from kilo_server.realtime import _sse

    doomed = tmp_path / "gone" / "doomed.jpg"
    doomed.parent.mkdir()
    doomed.write_bytes((EXAMPLES / "cv_aloeR.jpg").read_bytes())
    catalog = world.live.catalog
    report = ingest(catalog, world.b_project, [doomed])
    assert report.failed == 0
    doomed.unlink()
    resp = world.export({}, assetIds=[report.asset_ids[0]])
    assert resp.status_code == 201, resp.text
    run_jobs(catalog, world.b_project)
    jobs = world.http.get(f"/projects/{world.b_project}/jobs", headers=world.b).json()["items"]
    failed = [j for j in jobs if j["status"] == "failed"]
    assert failed and all(j["error"] for j in failed), jobs
    stored = catalog.fetchall("SELECT error FROM jobs WHERE status = 'failed'")
    assert any(str(tmp_path) in str(row[0]) for row in stored)  # the CLI still sees the path
    shown = str(failed) + "".join(
        _sse(e)["data"] for e in read_events(catalog, project_id=world.b_project)
    )
    assert str(tmp_path) not in shown and "/gone/" not in shown, shown
