"""Exports through the catalog: picks by default, jobs, events, idempotency, zip, contact
sheet, edits applied, failures that leave nothing behind, and the CLI."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kilo.catalog import Catalog
from kilo.clock import new_id, utcnow
from kilo.errors import Conflict, InvalidInput, NotFound
from kilo.export import (
    create_export,
    download_export,
    get_export,
    list_exports,
    run_export,
    select_assets,
)
from kilo.models import Project
from support.export_data import (
    PHOTOS,
    add_assets,
    add_cluster,
    have_poppler,
    pdf_pages,
    pdf_text,
    rate,
)


@pytest.fixture
def shoot(
    catalog: Catalog, project: Project, shared_photos_dir: Path, tmp_path: Path
) -> tuple[Project, list[str]]:
    ids = add_assets(catalog, project.id, shared_photos_dir, tmp_path / "thumbs", PHOTOS[:4])
    rate(catalog, ids[0], rating=5, picked=True)
    rate(catalog, ids[2], rating=4, picked=True)
    rate(catalog, ids[3], rejected=True)
    return project, ids


def test_exports_are_listed_newest_first_one_page_at_a_time(
    catalog: Catalog, shoot: tuple[Project, list[str]], tmp_path: Path
) -> None:
    project, _ = shoot
    made = [
        create_export(catalog, project.id, "web", dest=str(tmp_path / f"out{i}")).id
        for i in range(3)
    ]
    first = list_exports(catalog, project.id, limit=2)
    assert [e.id for e in first.items] == made[::-1][:2]
    cursor = first.page_info.next_cursor
    assert cursor is not None
    second = list_exports(catalog, project.id, limit=2, cursor=cursor)
    assert [e.id for e in second.items] == [made[0]]
    assert second.page_info.next_cursor is None
    assert [e.id for e in list_exports(catalog, project.id, status="done").items] == []
    assert len(list_exports(catalog, project.id, status="queued").items) == 3


def test_web_export_of_picks_runs_as_a_job(
    catalog: Catalog, shoot: tuple[Project, list[str]], tmp_path: Path
) -> None:
    project, ids = shoot
    dest = tmp_path / "out"
    exp = create_export(catalog, project.id, "web", dest=str(dest))
    assert exp.status == "queued" and exp.asset_count == 2
    seen: list[str] = []
    done = run_export(catalog, exp.id, progress=lambda p: seen.append(p.stage))
    assert done.status == "done", done.error
    assert done.progress == 1.0 and done.error is None
    files = sorted(p.name for p in dest.iterdir())
    assert files == ["2024-06-01_Test-shoot_0001.jpg", "2024-06-01_Test-shoot_0002.jpg"]
    assert all(max(Image.open(dest / f).size) <= 2048 for f in files)
    assert "render" in seen and "publish" in seen
    job = catalog.fetchone(
        "SELECT status, type FROM jobs WHERE id = (SELECT job_id FROM exports WHERE id = ?)",
        [exp.id],
    )
    assert job == ("done", "export.run")
    statuses = [
        json.loads(r[0])["status"]
        for r in catalog.fetchall(
            "SELECT data FROM events WHERE type = 'export.updated' ORDER BY id"
        )
    ]
    assert statuses[0] == "queued" and "running" in statuses and statuses[-1] == "done"
    assert download_export(catalog, exp.id).url == str(dest)
    assert [e.id for e in list_exports(catalog, project.id).items] == [exp.id]
    # the second run of the same export is a no-op, and re-exporting never overwrites
    assert run_export(catalog, exp.id).status == "done"
    again = run_export(catalog, create_export(catalog, project.id, "web", dest=str(dest)).id)
    assert again.status == "done"
    assert len(list(dest.iterdir())) == 4
    exported = catalog.fetchall("SELECT asset_id FROM asset_files WHERE kind = 'export'")
    assert {r[0] for r in exported} == {ids[0], ids[2]}


def test_selection_modes(catalog: Catalog, shoot: tuple[Project, list[str]]) -> None:
    project, ids = shoot
    assert select_assets(catalog, project.id, "picked") == [ids[0], ids[2]]
    assert select_assets(catalog, project.id, "all") == ids
    add_cluster(catalog, project.id, "burst", [ids[0], ids[1]], winner=ids[1])
    # winners of bursts, plus photos in no burst, minus rejects
    assert select_assets(catalog, project.id, "cluster_winners") == [ids[1], ids[2]]


def test_idempotency_key(
    catalog: Catalog, shoot: tuple[Project, list[str]], tmp_path: Path
) -> None:
    project, _ = shoot
    a = create_export(catalog, project.id, "web", dest=str(tmp_path / "o"), idempotency_key="k1")
    b = create_export(catalog, project.id, "web", dest=str(tmp_path / "o"), idempotency_key="k1")
    assert a.id == b.id
    assert catalog.scalar("SELECT count(*) FROM exports") == 1
    with pytest.raises(Conflict):
        create_export(
            catalog, project.id, "full_res", dest=str(tmp_path / "o"), idempotency_key="k1"
        )


def test_one_idempotency_key_from_many_threads_makes_one_export(
    catalog: Catalog, shoot: tuple[Project, list[str]], tmp_path: Path
) -> None:
    """The key's check and its use are one transaction: eight threads sending the same
    request at once get one export, and all of them its id."""
    import threading

    project, _ = shoot
    ids: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def send() -> None:
        start.wait()
        try:
            exp = create_export(
                catalog, project.id, "web", dest=str(tmp_path / "o"), idempotency_key="same"
            )
            ids.append(exp.id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(set(ids)) == 1 and len(ids) == 8
    assert catalog.scalar("SELECT count(*) FROM exports") == 1


def test_bad_requests(catalog: Catalog, shoot: tuple[Project, list[str]]) -> None:
    project, _ = shoot
    with pytest.raises(InvalidInput):
        create_export(catalog, project.id, "poster")
    with pytest.raises(NotFound):
        create_export(catalog, project.id, "web", asset_ids=[new_id()])
    with pytest.raises(InvalidInput, match="name template"):
        create_export(catalog, project.id, "web", settings={"nameTemplate": "{project.__init__}"})
    catalog.execute("DELETE FROM ratings")
    with pytest.raises(InvalidInput, match="no picked photos"):
        create_export(catalog, project.id, "web")


def test_unwritable_destination_fails_and_leaves_nothing(
    catalog: Catalog, shoot: tuple[Project, list[str]], tmp_path: Path
) -> None:
    project, _ = shoot
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the destination folder should be")
    exp = create_export(catalog, project.id, "web", dest=str(blocker / "out"))
    done = run_export(catalog, exp.id)
    assert done.status == "failed"
    assert done.error and "not writable" in done.error
    assert blocker.read_text().startswith("a file")
    assert not (blocker.parent / "out").exists()
    job = catalog.fetchone(
        "SELECT status, error FROM jobs WHERE id = (SELECT job_id FROM exports WHERE id = ?)",
        [exp.id],
    )
    assert job is not None and job[0] == "failed" and "not writable" in job[1]
    with pytest.raises(Conflict):
        download_export(catalog, exp.id)


def test_failure_midway_removes_staged_files(
    catalog: Catalog, project: Project, shared_photos_dir: Path, tmp_path: Path
) -> None:
    # a photo whose original vanished after ingest: it fails, the good one is still exported
    ids = add_assets(catalog, project.id, shared_photos_dir, tmp_path / "t", ["people_zidane.jpg"])
    gone = tmp_path / "gone.jpg"
    Image.open(shared_photos_dir / "mate_Dune.jpg").save(gone)
    ids += add_assets(catalog, project.id, tmp_path, tmp_path / "t", ["gone.jpg"])
    gone.unlink()
    dest = tmp_path / "out"
    exp = run_export(
        catalog, create_export(catalog, project.id, "web", asset_ids=ids, dest=str(dest)).id
    )
    assert exp.status == "done"
    assert exp.error and "1 photo(s) failed" in exp.error and "gone.jpg" in exp.error
    assert [p.name for p in dest.iterdir()] == ["2024-06-01_Test-shoot_0001.jpg"]
    # each photo's outcome, by asset: which one failed and why
    outcomes = {r.asset_id: (r.status, r.reason or "") for r in exp.results or []}
    assert outcomes[ids[0]] == ("ok", "")
    assert outcomes[ids[1]][0] == "failed" and "gone.jpg" in outcomes[ids[1]][1]
    assert get_export(catalog, exp.id).dump()["results"][1]["assetId"] == ids[1]
    # nothing exportable at all: failed, and no staging folder left behind
    only_bad = create_export(catalog, project.id, "web", asset_ids=[ids[1]], dest=str(dest))
    failed = run_export(catalog, only_bad.id)
    assert failed.status == "failed" and "no photo could be exported" in (failed.error or "")
    assert [p.name for p in dest.iterdir()] == ["2024-06-01_Test-shoot_0001.jpg"]


def test_zip_artifact_and_carousel(
    catalog: Catalog, shoot: tuple[Project, list[str]], tmp_path: Path
) -> None:
    project, _ = shoot
    exp = run_export(
        catalog,
        create_export(
            catalog,
            project.id,
            "instagram_carousel",
            settings={"zip": True, "nameTemplate": "{seq:02d}_{filename}"},
            dest=str(tmp_path / "z"),
        ).id,
    )
    assert exp.status == "done", exp.error
    assert exp.artifact and exp.artifact.endswith(".zip")
    with zipfile.ZipFile(exp.artifact) as zf:
        names = zf.namelist()
        assert names == ["01_people_zidane.jpg", "02_Kleiber_by_Lukas_Baubkus.jpg"]
        with zf.open(names[0]) as fh:
            assert Image.open(fh).size == (1080, 1350)
    assert [p.name for p in (tmp_path / "z").iterdir()] == [Path(exp.artifact).name]


def test_edit_is_applied(
    catalog: Catalog, shoot: tuple[Project, list[str]], tmp_path: Path
) -> None:
    project, ids = shoot
    plain = run_export(
        catalog,
        create_export(catalog, project.id, "web", asset_ids=[ids[0]], dest=str(tmp_path / "a")).id,
    )
    catalog.execute(
        "INSERT INTO edit_versions (id, asset_id, user_id, params, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        [new_id(), ids[0], catalog.local_user_id, {"exposure": 1.0}, utcnow()],
    )
    edited = run_export(
        catalog,
        create_export(catalog, project.id, "web", asset_ids=[ids[0]], dest=str(tmp_path / "b")).id,
    )
    assert plain.status == edited.status == "done"
    a = np.asarray(Image.open(next((tmp_path / "a").iterdir())).convert("L"), dtype=np.float32)
    b = np.asarray(Image.open(next((tmp_path / "b").iterdir())).convert("L"), dtype=np.float32)
    assert a.shape == b.shape
    assert b.mean() > a.mean() + 15  # one stop brighter


def test_generic_job_runner_runs_exports(
    catalog: Catalog, shoot: tuple[Project, list[str]], tmp_path: Path
) -> None:
    from kilo.jobs import run_jobs

    project, _ = shoot
    exp = create_export(catalog, project.id, "story_9x16", dest=str(tmp_path / "s"))
    report = run_jobs(catalog, project.id, types=["export.run"])
    assert report.done == 1
    assert get_export(catalog, exp.id).status == "done"
    assert all(Image.open(p).size == (1080, 1920) for p in (tmp_path / "s").iterdir())


@pytest.mark.skipif(not have_poppler(), reason="needs Debian poppler-utils")
def test_contact_sheet_export_of_the_whole_project(
    catalog: Catalog, shoot: tuple[Project, list[str]], tmp_path: Path
) -> None:
    project, ids = shoot
    add_cluster(catalog, project.id, "moment", ids[:2], title="Arrival")
    add_cluster(catalog, project.id, "moment", ids[2:], title="Dinner")
    exp = run_export(
        catalog,
        create_export(
            catalog,
            project.id,
            "contact_sheet_pdf",
            settings={"paper": "Letter"},
            dest=str(tmp_path / "cs"),
        ).id,
    )
    assert exp.status == "done", exp.error
    assert exp.asset_count == 4  # every photo, not only the picks
    assert exp.artifact and exp.artifact.endswith(".pdf")
    assert pdf_pages(Path(exp.artifact)) == 2
    text = pdf_text(Path(exp.artifact))
    assert "Arrival · 2 photos" in text and "Dinner · 2 photos" in text
    assert "Photographer" not in text  # the CLI's built-in user is nobody's name


def test_cli_export_unattended(
    catalog: Catalog,
    shoot: tuple[Project, list[str]],
    tmp_path: Path,
    home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from kilo_cli.main import main

    project, _ = shoot
    catalog.close()
    dest = tmp_path / "cli"
    code = main(
        [
            "--home",
            str(home),
            "export",
            project.title,
            "--preset",
            "web",
            "--dest",
            str(dest),
            "--long-edge",
            "800",
            "--watermark",
            "© test",
            "--json",
        ]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "done" and out["settings"]["longEdgePx"] == 800
    assert sorted(max(Image.open(p).size) for p in dest.iterdir()) == [800, 800]
    code = main(["--home", str(home), "exports", "list", "--json"])
    listed = json.loads(capsys.readouterr().out)
    assert code == 0 and listed[0]["id"] == out["id"]
    code = main(
        [
            "--home",
            str(home),
            "export",
            project.title,
            "--preset",
            "web",
            "--dest",
            str(next(dest.iterdir()) / "x"),
            "--json",
        ]
    )
    assert code == 1
    assert json.loads(capsys.readouterr().out)["status"] == "failed"
    code = main(["--home", str(home), "exports", "download", out["id"]])
    assert code == 0 and capsys.readouterr().out.strip() == str(dest)


def test_a_file_time_is_not_shown_as_the_capture_time() -> None:
    """A file's mtime says when it was copied: sheets and EXIF fallbacks must not use it."""
    from datetime import datetime

    from kilo.export.handlers import _shot_time

    when = datetime(2026, 6, 20, 12, 0)
    assert _shot_time(
        {"captured_at": when, "captured_offset_min": 120, "captured_at_source": "exif"}
    ) == datetime(2026, 6, 20, 14, 0)
    assert (
        _shot_time(
            {"captured_at": when, "captured_offset_min": None, "captured_at_source": "file_mtime"}
        )
        is None
    )


@pytest.mark.skipif(not have_poppler(), reason="needs Debian poppler-utils")
def test_contact_sheet_names_the_frames_of_a_multi_frame_file(
    catalog: Catalog, project: Project, photos_dir: Path, tmp_path: Path
) -> None:
    """bird_burst.heic holds four frames: the sheet prints "bird_burst.heic [2/4]"..."""
    from kilo.ingest import ingest

    ingest(catalog, project.id, [str(photos_dir / "bird_burst.heic")])
    exp = run_export(
        catalog,
        create_export(catalog, project.id, "contact_sheet_pdf", dest=str(tmp_path / "cs")).id,
    )
    assert exp.status == "done", exp.error
    text = pdf_text(Path(exp.artifact or ""))
    assert all(f"bird_burst.heic [{k}/4]" in text for k in range(1, 5)), text
