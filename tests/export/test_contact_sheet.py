"""Contact sheet PDFs: cover, grid, captions, page numbers, paper sizes, pages that render."""

from __future__ import annotations

import re
import subprocess
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kilo.errors import InvalidInput
from kilo.export.contact_sheet import SheetItem, SheetSpec, build_html, render_contact_sheet
from support.export_data import have_poppler, pdf_pages, pdf_text, render_page

pytestmark = pytest.mark.skipif(
    not have_poppler(), reason="needs pdftoppm/pdfinfo (Debian poppler-utils)"
)
NAMES = [
    "people_zidane.jpg",
    "mate_LadyBird.jpg",
    "plasma_ColorfulCups.jpg",
    "group_t1.jpg",
    "cv_leuvenA.jpg",
    "Wine_by_Jakkub_Mede.jpg",
    "mate_Dune.jpg",
    "sunset_by_Aitzol_Berasategi.jpg",
    "plasma_Kite.jpg",
]


def _thumbs(shared_photos_dir: Path, tmp: Path) -> list[Path]:
    out = []
    for name in NAMES:
        im = Image.open(shared_photos_dir / name)
        im.draft("RGB", (512, 512))
        im = im.convert("RGB")
        im.thumbnail((512, 512))
        path = tmp / f"{name}.thumb.jpg"
        im.save(path, quality=85)
        out.append(path)
    return out


def _items(shared_photos_dir: Path, tmp: Path, repeat: int = 1) -> list[SheetItem]:
    thumbs = _thumbs(shared_photos_dir, tmp)
    start = datetime(2024, 6, 1, 14, 0)
    items = []
    for r in range(repeat):
        for i, (name, thumb) in enumerate(zip(NAMES, thumbs, strict=True)):
            n = r * len(NAMES) + i
            items.append(
                SheetItem(
                    filename=name,
                    thumbnail=thumb,
                    captured_at=start + timedelta(seconds=40 * n),
                    rating=(n % 5) + 1 if n % 3 else None,
                    picked=n % 4 == 0,
                    rejected=n % 4 == 3,
                    group=f"Ceremony {1 + n // 6}",
                )
            )
    return items


def test_contact_sheet_pages_text_and_thumbnails(shared_photos_dir: Path, tmp_path: Path) -> None:
    items = _items(shared_photos_dir, tmp_path)
    pdf = tmp_path / "sheet.pdf"
    pdf.write_bytes(
        render_contact_sheet(
            items, SheetSpec(title="Smith wedding", sheet_date=date(2024, 6, 2), columns=4)
        )
    )
    pages = pdf_pages(pdf)
    assert pages >= 2
    cover = pdf_text(pdf, 1)
    assert "Smith wedding" in cover and "02 June 2024" in cover and "9" in cover
    body = pdf_text(pdf)
    for name in NAMES:
        assert name in body
    assert f"Page 2 of {pages}" in body
    assert "Ceremony 1" in body and "Ceremony 2" in body
    assert "PICK" in body and "REJECT" in body and "★" in body
    assert "2024-06-01 14:00:40" in body  # capture time under the second photo
    page = render_page(pdf, 2, tmp_path)
    arr = np.asarray(page, dtype=np.float32)
    non_white = (arr.min(axis=2) < 235).mean()
    assert non_white > 0.15  # the thumbnails are drawn, not just captions
    # the first cell shows the first photo: compare its colours with the thumbnail's
    thumb = np.asarray(Image.open(items[0].thumbnail).convert("RGB"), dtype=np.float32)  # type: ignore[arg-type]
    top = arr[: arr.shape[0] // 3, : arr.shape[1] // 4]
    ink = top[top.min(axis=2) < 235]
    assert np.abs(ink.mean(axis=0) - thumb.reshape(-1, 3).mean(axis=0)).mean() < 40


def test_letter_and_a4_sizes(shared_photos_dir: Path, tmp_path: Path) -> None:
    items = _items(shared_photos_dir, tmp_path)[:3]
    sizes = {}
    for paper in ("A4", "Letter"):
        path = tmp_path / f"{paper}.pdf"
        path.write_bytes(render_contact_sheet(items, SheetSpec(title="t", paper=paper)))  # type: ignore[arg-type]
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
        sizes[paper] = next(line for line in info.splitlines() if line.startswith("Page size"))
    assert "(A4)" in sizes["A4"] and "letter" in sizes["Letter"].lower()


def test_bad_inputs() -> None:
    with pytest.raises(InvalidInput):
        render_contact_sheet([], SheetSpec(title="x"))
    with pytest.raises(InvalidInput):
        build_html([SheetItem("a.jpg", None)], SheetSpec(title="x", columns=12))


def test_titles_are_escaped() -> None:
    html = build_html([SheetItem("<b>x</b>.jpg", None)], SheetSpec(title='A "quoted" </style>'))
    assert "<b>x</b>.jpg" not in html
    assert "</style> contact" not in html


@pytest.mark.slow
def test_a_few_hundred_photos_in_one_pdf(shared_photos_dir: Path, tmp_path: Path) -> None:
    items = _items(shared_photos_dir, tmp_path, repeat=34)  # 306 photos
    pdf = tmp_path / "big.pdf"
    pdf.write_bytes(render_contact_sheet(items, SheetSpec(title="Big day", columns=5)))
    pages = pdf_pages(pdf)
    assert pages > 10
    last = pdf_text(pdf, pages)
    assert f"Page {pages} of {pages}" in last
    assert "#306" in last


def test_lone_frames_share_one_section_and_groups_count_what_they_show() -> None:
    from datetime import datetime

    def shot(name: str, day: int, group: str | None) -> SheetItem:
        return SheetItem(name, None, captured_at=datetime(2024, 6, day, 12), group=group)

    items = [
        shot("a.jpg", 1, "01 Jun 2024, 12:00"),
        shot("b.jpg", 2, "02 Jun 2024, 12:00"),
        shot("c.jpg", 3, "03 Jun 2024, 12:00"),
        shot("d.jpg", 4, "Ceremony"),
        shot("e.jpg", 4, "Ceremony"),
        shot("f.jpg", 5, "05 Jun 2024, 12:00"),
    ]
    html = build_html(items, SheetSpec(title="Wedding"))
    headers = re.findall(r"<h2>(.*?) <span class=\"count\">· (\d+) photos?</span></h2>", html)
    assert headers == [
        ("Single shots, 01 Jun 2024 – 03 Jun 2024", "3"),
        ("Ceremony", "2"),
        ("05 Jun 2024, 12:00", "1"),  # one lone frame keeps its own header
    ]
