"""The face strip: the people of a burst followed across its frames, from what analysis
stored (a burst made of the real group photo, ingested and analysed), and the cull screen's
E key showing it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import piexif
import pytest
from PIL import Image

from kilo.catalog import Catalog
from kilo.cull.faces import face_strip, render_face_strip
from kilo.group import list_clusters
from kilo.measure.faces import face_source
from kilo.models import Project

pytestmark = pytest.mark.skipif(face_source() != "blazeface", reason="face models not installed")


def _group_burst(photos_dir: Path, folder: Path) -> None:
    folder.mkdir()
    base = np.asarray(Image.open(photos_dir / "group_t1.jpg").convert("RGB"))
    for k, (dx, dy) in enumerate([(0, 0), (6, 3), (3, 7)]):
        frame = np.ascontiguousarray(base[10 + dy : 10 + dy + 860, 12 + dx : 12 + dx + 1250])
        when = f"2024:06:01 18:00:0{k}".encode()
        exif = {
            "0th": {piexif.ImageIFD.Make: b"Sony", piexif.ImageIFD.Model: b"A7 IV"},
            "Exif": {piexif.ExifIFD.DateTimeOriginal: when},
        }
        Image.fromarray(frame).save(folder / f"g{k}.jpg", quality=92, exif=piexif.dump(exif))


@pytest.fixture
def burst(catalog: Catalog, project: Project, photos_dir: Path, tmp_path: Path) -> list[str]:
    from kilo.analyze import analyze
    from kilo.ingest import ingest

    _group_burst(photos_dir, tmp_path / "card")
    ingest(catalog, project.id, [str(tmp_path / "card")])
    analyze(catalog, project.id, embed=False)
    bursts = list_clusters(catalog, project.id, kind="burst").items
    assert len(bursts) == 1
    return [m.asset_id for m in bursts[0].assets]


@pytest.mark.slow
def test_every_person_is_followed_across_the_burst(catalog: Catalog, burst: list[str]) -> None:
    strip = face_strip(catalog, burst)
    assert len(strip.people) == 6
    # a person is one row, whatever frame they were found in (the detector misses a face
    # now and then: that frame's cell is empty, the person is not split in two)
    assert sum(f is not None for row in strip.people for f in row) >= 16
    lines = [strip.eyes_line(p) for p in range(6)]
    assert any("CLOSED" in line for line in lines)  # the man laughing with his eyes shut
    assert sum(line.count("open") for line in lines) >= 9
    image = render_face_strip(catalog, strip, cell=64)
    assert image.size == (3 * 68 + 4, 6 * 68 + 4)


@pytest.mark.slow
def test_the_cull_screen_shows_the_strip_on_e(
    catalog: Catalog, project: Project, burst: list[str]
) -> None:
    from kilo_cli.tui.cull import CullApp

    async def script() -> None:
        app = CullApp(catalog, project.id, images=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            while app.stack is not None and app.stack.kind != "burst":
                await pilot.press("down")
                await pilot.pause()
            await pilot.press("e")
            await pilot.pause()
            info = str(app.query_one("#face-info").render())
            assert "person 1:" in info and "person 6:" in info, info
            assert app.has_class("faces")
            await pilot.press("e")
            await pilot.pause()
            assert not app.has_class("faces")

    asyncio.run(script())


@pytest.mark.slow
def test_the_strip_fills_its_panel_and_its_words_take_the_outline_colours(
    catalog: Catalog, project: Project, burst: list[str]
) -> None:
    """Issue 32: the strip was drawn six cells wide, and the legend named colours the words
    under it did not have."""
    from kilo_cli.tui.cull import CullApp

    async def script() -> None:
        app = CullApp(catalog, project.id, images=True)
        if not app.images:
            pytest.skip("textual-image cannot size this terminal")
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            while app.stack is not None and app.stack.kind != "burst":
                await pilot.press("down")
                await pilot.pause()
            await pilot.press("e")
            await pilot.pause()
            from textual_image._terminal import get_cell_size

            strip = app.query_one("#face-strip")
            image = strip.image  # type: ignore[attr-defined]
            size, room = strip.content_size, app.query_one("#centre").content_size
            assert size.height >= room.height // 2, (size, room)  # the panel's height, not 6 cells
            cell = get_cell_size()
            shown = size.width * cell.width / (size.height * cell.height)
            true = image.width / image.height  # 3 frames by 6 people
            assert abs(shown - true) / true < 0.15, (shown, true)  # at its own aspect ratio
            text = app.query_one("#face-info").render()
            styled = {str(text)[s.start : s.end]: str(s.style) for s in getattr(text, "spans", [])}
            assert any(w == "open" and "green" in st for w, st in styled.items()), styled
            assert any(w == "CLOSED" and "red" in st for w, st in styled.items()), styled

    asyncio.run(script())
