"""What each tool reads after ``write-xmp``, checked with exiftool (the independent reader):
a real RAW+JPEG pair (``mate_Dune.dng`` + ``mate_Dune.jpg``), a JPEG alone, a raw alone,
darktable's names, and the pick/reject mapping."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from kilo.catalog import Catalog
from kilo.cull import upsert_rating
from kilo.cull.decision_sidecar import PickMapping, SidecarState, merge_xmp, write_xmp_sidecars
from kilo.cull.sidecar_targets import FileRef, plan_targets
from kilo.errors import InvalidInput
from kilo.models import Project
from kilo.progress import ItemResult
from support.cull_data import add_asset
from support.exiftool import exiftool, needs_exiftool

pytestmark = needs_exiftool


def _notes(result: ItemResult) -> list[str]:
    return [str(n["kind"]) for n in result.extra["notes"]]  # type: ignore[attr-defined]


@pytest.fixture
def pair(
    catalog: Catalog, project: Project, shared_photos_dir: Path, tmp_path: Path
) -> tuple[Path, dict[str, str]]:
    """The real pair in one folder, the JPEG picked, the raw rejected with 2 stars."""
    shoot = tmp_path / "shoot"
    shoot.mkdir()
    shutil.copy(shared_photos_dir / "mate_Dune.jpg", shoot)
    shutil.copy(shared_photos_dir / "raw" / "mate_Dune.dng", shoot)
    ids = {
        name: add_asset(catalog, project.id, shoot / name, datetime(2024, 5, 1, 12, n))
        for n, name in enumerate(["mate_Dune.jpg", "mate_Dune.dng"])
    }
    upsert_rating(catalog, ids["mate_Dune.jpg"], picked=True, rating=3)
    upsert_rating(catalog, ids["mate_Dune.dng"], rejected=True, rating=2)
    return shoot, ids


def test_a_raw_jpeg_pair_as_lightroom_reads_it(
    catalog: Catalog, project: Project, pair: tuple[Path, dict[str, str]]
) -> None:
    shoot, _ = pair
    before = (shoot / "mate_Dune.jpg").read_bytes()
    results = {r.item: r for r in write_xmp_sidecars(catalog, project.id)}
    # IMG.xmp is the raw's: its reject, marked as the DNG's sidecar
    [tags] = exiftool(shoot / "mate_Dune.xmp")
    assert (tags["Rating"], tags["Pick"], tags["SidecarForExtension"]) == (-1, -1, "DNG")
    assert "Label" not in tags  # the JPEG's pick is not in it
    # the JPEG gets no sidecar (Lightroom would not read it) and is said to share one
    jpg = results["mate_Dune.jpg"]
    assert jpg.status == "skipped" and _notes(jpg) == ["shared_sidecar"]
    text = jpg.extra["notes"][0]["text"]  # type: ignore[index]
    assert "mate_Dune.jpg and mate_Dune.dng would share mate_Dune.xmp" in text
    assert "--embed" in text
    assert sorted(p.name for p in shoot.iterdir()) == [
        "mate_Dune.dng",
        "mate_Dune.jpg",
        "mate_Dune.xmp",
    ]
    # Lightroom reads a DNG's own XMP: said so
    dng = results["mate_Dune.dng"]
    assert dng.status == "ok" and _notes(dng) == ["not_read_by_lightroom"]
    assert (shoot / "mate_Dune.jpg").read_bytes() == before  # no original touched


def test_a_raw_jpeg_pair_as_darktable_reads_it(
    catalog: Catalog, project: Project, pair: tuple[Path, dict[str, str]]
) -> None:
    shoot, _ = pair
    results = write_xmp_sidecars(catalog, project.id, naming="darktable")
    assert [r.status for r in results] == ["ok", "ok"]
    assert all(_notes(r) == [] for r in results)  # one sidecar each, nothing shared
    jpg, dng = exiftool(shoot / "mate_Dune.jpg.xmp", shoot / "mate_Dune.dng.xmp")
    assert (jpg["Rating"], jpg["Label"], jpg["Pick"]) == (3, "Green", 1)
    assert (dng["Rating"], dng["Pick"]) == (-1, -1) and "Label" not in dng
    assert "SidecarForExtension" not in jpg  # darktable's name says whose it is
    assert not (shoot / "mate_Dune.xmp").exists()


def test_a_jpeg_alone_and_a_raw_alone(
    catalog: Catalog, project: Project, shared_photos_dir: Path, tmp_path: Path
) -> None:
    shoot = tmp_path / "shoot"
    shoot.mkdir()
    shutil.copy(shared_photos_dir / "cv_leuvenA.jpg", shoot)
    shutil.copy(shared_photos_dir / "raw" / "plasma_Kite.dng", shoot)
    jpg = add_asset(catalog, project.id, shoot / "cv_leuvenA.jpg", datetime(2024, 5, 1))
    raw = add_asset(catalog, project.id, shoot / "plasma_Kite.dng", datetime(2024, 5, 2))
    upsert_rating(catalog, jpg, rating=4)
    upsert_rating(catalog, raw, picked=True, rating=5)
    results = write_xmp_sidecars(catalog, project.id)
    assert [r.status for r in results] == ["ok", "ok"]
    a, b = exiftool(shoot / "cv_leuvenA.xmp", shoot / "plasma_Kite.xmp")
    assert (a["Rating"], a["SidecarForExtension"]) == (4, "JPG")
    assert (b["Rating"], b["Label"], b["SidecarForExtension"]) == (5, "Green", "DNG")
    # neither sidecar is what Lightroom Classic reads for these files: said for each
    assert [_notes(r) for r in results] == [["not_read_by_lightroom"]] * 2
    assert "cv_leuvenA.jpg: Lightroom Classic reads a JPEG file's own XMP" in str(
        results[0].extra["notes"]
    )


def test_lightroom_pairs_the_sidecar_with_a_proprietary_raw() -> None:
    files = [
        FileRef("a", "/s/IMG_0001.JPG", "IMG_0001.JPG"),
        FileRef("b", "/s/IMG_0001.CR2", "IMG_0001.CR2"),
        FileRef("c", "/s/IMG_0002.NEF", "IMG_0002.NEF"),
        FileRef("d", "s3://bucket/IMG_0003.jpg", "IMG_0003.jpg"),
    ]
    jpg, cr2, nef, remote = plan_targets(files, "lightroom", "/store", embed=True)
    assert (cr2.sidecar, cr2.for_extension, cr2.notes) == ("/s/IMG_0001.xmp", "CR2", [])
    assert cr2.embed is False  # a proprietary raw is read from its sidecar
    assert jpg.sidecar is None and jpg.embed is True
    assert [n.kind for n in jpg.notes] == ["shared_sidecar"]
    assert "IMG_0001.JPG's goes into the file itself" in jpg.notes[0].text
    assert (nef.sidecar, nef.notes) == ("/s/IMG_0002.xmp", [])
    # an original in an object store: its sidecar in the store, never embedded
    assert remote.sidecar == "/store/sidecars/d/IMG_0003.xmp" and remote.embed is False
    assert [n.kind for n in remote.notes] == ["embed_refused", "not_read_by_lightroom"]
    assert remote.notes[0].text.startswith("IMG_0003.jpg: not embedded: the original is in")
    assert remote.notes[1].text.endswith("own XMP, not IMG_0003.xmp")  # no --embed advice
    # a file kilo cannot embed into, beside a raw: its decision is said to be not written
    heic, nef = plan_targets(
        [FileRef("e", "/s/IMG_9.HEIC", "IMG_9.HEIC"), FileRef("f", "/s/IMG_9.NEF", "IMG_9.NEF")],
        "lightroom",
        "/store",
    )
    assert heic.sidecar is None and nef.sidecar == "/s/IMG_9.xmp"
    assert heic.notes[0].text.endswith("(IMG_9.HEIC's decision is not written)")


def test_pick_and_reject_mapping_as_exiftool_reads_it(tmp_path: Path) -> None:
    def read(text: str) -> dict[str, Any]:
        path = tmp_path / "x.xmp"
        path.write_text(text, encoding="utf-8")
        return exiftool(path)[0]

    rejected = SidecarState(rating=3, pick=-1)
    assert read(merge_xmp(None, rejected))["Rating"] == -1  # Bridge's and darktable's reject
    as_label = read(merge_xmp(None, rejected, PickMapping(reject_as="label")))
    assert (as_label["Rating"], as_label["Label"]) == (3, "Red")  # the stars kept
    purple = PickMapping(reject_as="label", reject_label="Purple")
    assert read(merge_xmp(None, rejected, purple))["Label"] == "Purple"
    only_kilo = read(merge_xmp(None, rejected, PickMapping(reject_as="none")))
    assert (only_kilo["Rating"], only_kilo["Pick"]) == (3, -1) and "Label" not in only_kilo
    # a reject taken back takes kilo's reject label off; a pick as a rating floor
    back = merge_xmp(
        merge_xmp(None, rejected, PickMapping(reject_as="label")),
        SidecarState(rating=3),
        PickMapping(reject_as="label"),
    )
    assert "Label" not in read(back)
    floor = read(merge_xmp(None, SidecarState(pick=1), PickMapping("rating", floor=2)))
    assert floor["Rating"] == 2
    with pytest.raises(InvalidInput):
        PickMapping(reject_as="label", reject_label="Green")
    with pytest.raises(InvalidInput):
        PickMapping(reject_as="stars")  # type: ignore[arg-type]


def test_cli_says_each_case_in_json(
    catalog: Catalog,
    project: Project,
    pair: tuple[Path, dict[str, str]],
    home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from kilo_cli.main import main

    catalog.close()
    code = main(["--home", str(home), "cull", "write-xmp", project.title, "--json"])
    assert code == 0
    out = {r["item"]: r for r in json.loads(capsys.readouterr().out)}
    assert [n["kind"] for n in out["mate_Dune.jpg"]["extra"]["notes"]] == ["shared_sidecar"]
    assert out["mate_Dune.dng"]["extra"]["uri"].endswith("mate_Dune.xmp")
    code = main(["--home", str(home), "cull", "write-xmp", project.title])
    human = capsys.readouterr().out
    assert code == 0
    assert "mate_Dune.jpg and mate_Dune.dng would share mate_Dune.xmp" in " ".join(human.split())
