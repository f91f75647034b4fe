"""Client galleries in the library: links, the gate, favorites and comments, the images as
served, and selections coming back as picks. Real photos, a real catalog."""

from __future__ import annotations

import io
import shutil
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kilo.catalog import Catalog
from kilo.clock import utcnow
from kilo.cull import get_rating, undo
from kilo.errors import Conflict, InvalidInput, NotFound, Unauthorized
from kilo.gallery import (
    add_gallery_assets,
    apply_selections,
    create_gallery,
    get_gallery,
    list_activity,
    list_selections,
    remove_gallery_assets,
    resolve_gallery,
    revoke_gallery,
    rotate_link,
    update_gallery,
)
from kilo.gallery.view import gallery_image, gallery_zip, view_items
from kilo.gallery.visitors import (
    add_comment,
    authenticate,
    open_gallery,
    session_visit,
    set_favorite,
    start_visit,
    submit_selection,
    visit,
)
from kilo.ingest import ingest
from kilo.models import Project, UpdateGalleryRequest

PHOTOS = ["cv_leuvenA.jpg", "cv_leuvenB.jpg", "group_t1.jpg", "people_zidane.jpg"]


@pytest.fixture
def shoot(catalog: Catalog, project: Project, shared_photos_dir: Path, tmp_path: Path) -> list[str]:
    card = tmp_path / "card"
    card.mkdir()
    for name in PHOTOS:
        shutil.copy(next(shared_photos_dir.rglob(name)), card / name)
    report = ingest(catalog, project.id, [card])
    assert report.ready == len(PHOTOS)
    return sorted(report.asset_ids)


def test_a_gallery_has_a_long_random_link_a_hashed_password_and_a_default_expiry(
    catalog: Catalog, project: Project, shoot: list[str]
) -> None:
    g = create_gallery(
        catalog, project.id, title="Smith wedding", asset_ids=shoot[:3], password="rings"
    )
    assert len(g.share_slug) >= 22 and g.share_path == f"/g/{g.share_slug}"
    assert g.requires_password and g.asset_count == 3 and g.status == "active"
    assert g.expires_at is not None
    assert timedelta(days=29) < g.expires_at - utcnow() <= timedelta(days=30)
    stored = catalog.scalar("SELECT password_hash FROM galleries WHERE id = ?", [g.id])
    assert stored.startswith("$argon2id$") and "rings" not in stored
    assert "rings" not in g.model_dump_json()
    other = create_gallery(catalog, project.id, title="Family", asset_ids=shoot[:1])
    assert other.share_slug != g.share_slug
    assert resolve_gallery(catalog, "smith") == g.id  # a title, in any case, or its start
    never = create_gallery(
        catalog, project.id, title="Forever", asset_ids=shoot[:1], expires_at=None
    )
    assert never.expires_at is None


def test_the_gate_refuses_missing_expired_revoked_and_wrong_passwords_alike(
    catalog: Catalog, project: Project, shoot: list[str]
) -> None:
    g = create_gallery(catalog, project.id, title="Private", asset_ids=shoot, password="rings")
    with pytest.raises(Unauthorized) as wrong:
        authenticate(catalog, g.share_slug, "nope")
    with pytest.raises(Unauthorized) as missing:
        authenticate(catalog, "x" * 22, "rings")
    assert str(wrong.value) == str(missing.value)
    token = authenticate(catalog, g.share_slug, "rings")
    v = visit(catalog, g.share_slug, token)
    assert v.gallery_id == g.id
    with pytest.raises(Unauthorized):
        visit(catalog, g.share_slug, token + "x")
    # at the expiry boundary (a frozen clock): open one second before, gone at the second
    expires = utcnow() + timedelta(days=2)
    update_gallery(catalog, g.id, expires_at=expires)
    token = authenticate(catalog, g.share_slug, "rings")
    open_gallery(catalog, g.share_slug, now=expires - timedelta(seconds=1))
    with pytest.raises(NotFound) as expired:
        open_gallery(catalog, g.share_slug, now=expires)
    with pytest.raises(Unauthorized):
        authenticate(catalog, g.share_slug, "rings", now=expires)
    # a new link ends every session of the old one; revoking ends everything
    rotated = rotate_link(catalog, g.id)
    with pytest.raises(NotFound) as old_link:
        visit(catalog, g.share_slug, token)
    new_token = authenticate(catalog, rotated.share_slug, "rings")
    revoke_gallery(catalog, g.id)
    with pytest.raises(NotFound) as revoked:
        visit(catalog, rotated.share_slug, new_token)
    assert str(expired.value) == str(old_link.value) == str(revoked.value)
    assert catalog.scalar("SELECT count(*) FROM gallery_sessions WHERE gallery_id = ?", [g.id]) == 0


def test_favorites_comments_and_a_submitted_selection_come_back_as_picks(
    catalog: Catalog, project: Project, shoot: list[str]
) -> None:
    g = create_gallery(
        catalog, project.id, title="Picks", asset_ids=shoot, min_picks=2, max_picks=3
    )
    gallery = open_gallery(catalog, g.share_slug)
    _, anna = start_visit(catalog, gallery)
    _, ben = start_visit(catalog, gallery)
    set_favorite(catalog, anna, shoot[0], True)
    with pytest.raises(InvalidInput, match="at least 2"):
        submit_selection(catalog, anna)
    set_favorite(catalog, anna, shoot[1], True)
    set_favorite(catalog, anna, shoot[1], True)  # twice: still one
    set_favorite(catalog, ben, shoot[3], True)
    script = "<script>alert(1)</script> love this"
    cid = add_comment(catalog, anna, shoot[0], script)
    assert catalog.scalar("SELECT text FROM comments WHERE id = ?", [cid]) == script
    with pytest.raises(InvalidInput):
        add_comment(catalog, anna, shoot[0], "x" * 2001)
    with pytest.raises(NotFound):
        set_favorite(catalog, anna, project.id, True)  # not a photo of this gallery
    items = {i.asset_id: i for i in view_items(catalog, anna)}
    assert items[shoot[0]].favorites == 1 and items[shoot[0]].comments == 1
    assert items[shoot[0]].mine and not items[shoot[3]].mine and items[shoot[3]].favorites == 1
    assert all(i.filename is None for i in items.values())  # file names are not shown
    assert submit_selection(catalog, anna, "Anna") == 2
    with pytest.raises(Conflict):
        set_favorite(catalog, anna, shoot[2], True)  # a submitted selection is locked

    sels = {s.visitor: s for s in list_selections(catalog, g.id)}
    assert sels["v1"].asset_ids == shoot[:2] and sels["v1"].submitted_at is not None
    assert sels["v2"].asset_ids == [shoot[3]] and sels["v2"].submitted_at is None
    kinds = [a.kind for a in list_activity(catalog, g.id)]
    assert kinds.count("view") == 2 and kinds.count("favorite") == 3 and "submit" in kinds
    assert any(a.text == script for a in list_activity(catalog, g.id))

    applied = apply_selections(catalog, g.id, who="submitted")
    assert applied.picked == shoot[:2]
    assert get_rating(catalog, shoot[0]).picked and not get_rating(catalog, shoot[3]).picked
    undo(catalog, project.id)  # one cull action: undone at once
    assert not get_rating(catalog, shoot[0]).picked
    assert set(apply_selections(catalog, g.id).picked) == {shoot[0], shoot[1], shoot[3]}


def test_served_images_carry_no_metadata_and_downloads_only_when_allowed(
    catalog: Catalog, project: Project, shoot: list[str]
) -> None:
    g = create_gallery(catalog, project.id, title="Proofs", asset_ids=shoot, watermark=True)
    _, v = start_visit(catalog, open_gallery(catalog, g.share_slug))
    leuven = next(
        a
        for a in shoot
        if catalog.scalar("SELECT filename FROM assets WHERE id = ?", [a]) == "cv_leuvenA.jpg"
    )
    data = gallery_image(catalog, v, leuven, "preview")
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "JPEG" and max(img.size) <= 2048
        assert not img.getexif() and "icc_profile" not in img.info
    assert b"iPhone" not in data and b"Exif" not in data
    with pytest.raises(NotFound):
        gallery_image(catalog, v, leuven, "download")
    update_gallery(catalog, g.id, allow_downloads=True, download_size="original")
    _, v = start_visit(catalog, open_gallery(catalog, g.share_slug))
    full = gallery_image(catalog, v, leuven, "download")
    assert b"Exif" not in full and len(full) > len(data) / 2
    # a photo taken out of the gallery stops being served, to the same session
    remove_gallery_assets(catalog, g.id, [leuven])
    with pytest.raises(NotFound):
        gallery_image(catalog, session_visit(catalog, g.share_slug, v.session_id), leuven, "thumb")
    assert get_gallery(catalog, g.id).asset_count == len(shoot) - 1
    assert add_gallery_assets(catalog, g.id, [leuven]).asset_count == len(shoot)


def test_a_logo_watermark_is_burned_in_and_a_bad_logo_refused(
    catalog: Catalog, project: Project, shoot: list[str], tmp_path: Path
) -> None:
    logo = tmp_path / "studio.png"
    Image.new("RGBA", (200, 80), (255, 0, 0, 255)).save(logo)
    plain = create_gallery(catalog, project.id, title="Plain", asset_ids=shoot[:1])
    marked = create_gallery(
        catalog, project.id, title="Logo", asset_ids=shoot[:1], watermark=True, watermark_logo=logo
    )
    assert marked.watermark_logo and str(logo) not in marked.model_dump_json()

    def redness(g: object) -> float:  # mean of red minus green over the served preview
        _, v = start_visit(catalog, open_gallery(catalog, g.share_slug))  # type: ignore[attr-defined]
        with Image.open(io.BytesIO(gallery_image(catalog, v, shoot[0], "preview"))) as img:
            rgb = np.asarray(img.convert("RGB"), dtype=np.float64)
        return float((rgb[..., 0] - rgb[..., 1]).mean())

    assert redness(marked) > redness(plain) + 3  # the red logo, tiled at 30% opacity
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(InvalidInput, match="not an image"):
        update_gallery(catalog, plain.id, watermark_logo=tmp_path / "notes.txt")


def test_a_gallery_title_needs_a_visible_character_and_no_control_characters(
    catalog: Catalog, project: Project, shoot: list[str]
) -> None:
    """The library refuses what the HTTP route refuses ("blank-titles"): the CLI and a
    notebook cannot store a title that heads the client's page blank or rewrites a terminal."""
    for title in ("", "   ", "Smith\x1b[2J wedding", "x" * 201):
        with pytest.raises(InvalidInput):
            create_gallery(catalog, project.id, title=title, asset_ids=shoot[:1])
    g = create_gallery(catalog, project.id, title="  Smith wedding ", asset_ids=shoot[:1])
    assert g.title == "Smith wedding"
    with pytest.raises(InvalidInput):
        update_gallery(catalog, g.id, UpdateGalleryRequest(title="\t"))
    assert get_gallery(catalog, g.id).title == "Smith wedding"


def test_frames_of_one_file_are_named_as_frames_on_the_page_and_in_the_zip(
    catalog: Catalog, project: Project, photos_dir: Path, tmp_path: Path
) -> None:
    """bird_burst.heic holds four frames: the page names them ``bird_burst.heic [2/4]``,
    the download-all zip ``bird_burst_2of4.jpg``; a name with spaces and brackets is kept
    to safe characters, and a name taken already (another file really called
    ``bird_burst_2of4.jpg``) gets its position, so no entry overwrites another."""
    import zipfile

    from kilo.assets import list_assets

    card = tmp_path / "card"
    card.mkdir()
    shutil.copy(photos_dir / "bird_burst.heic", card / "bird_burst.heic")
    shutil.copy(photos_dir / "cv_leuvenB.jpg", card / "my photo [1].jpg")
    shutil.copy(photos_dir / "cv_aloeL.jpg", card / "BIRD_BURST_2of4.jpg")
    ingest(catalog, project.id, [card])
    ids = [a.id for a in list_assets(catalog, project.id).items]  # chronological
    assert len(ids) == 6
    g = create_gallery(
        catalog,
        project.id,
        title="Burst",
        asset_ids=ids,
        show_filenames=True,
        allow_downloads=True,
    )
    _, v = start_visit(catalog, open_gallery(catalog, g.share_slug))
    shown = [i.filename for i in view_items(catalog, v)]
    assert shown == [
        "BIRD_BURST_2of4.jpg",  # 2011 (cv_aloeL.jpg's capture time)
        "my photo [1].jpg",  # 2019
        "bird_burst.heic [1/4]",  # undated: last, by name and frame
        "bird_burst.heic [2/4]",
        "bird_burst.heic [3/4]",
        "bird_burst.heic [4/4]",
    ]
    names = zipfile.ZipFile(io.BytesIO(b"".join(gallery_zip(catalog, v)))).namelist()
    assert names == [
        "BIRD_BURST_2of4.jpg",
        "my_photo_1.jpg",
        "bird_burst_1of4.jpg",
        "bird_burst_2of4-0004.jpg",  # the name was taken (without case): its position
        "bird_burst_3of4.jpg",
        "bird_burst_4of4.jpg",
    ]
    update_gallery(catalog, g.id, show_filenames=False)
    _, v = start_visit(catalog, open_gallery(catalog, g.share_slug))
    assert {i.filename for i in view_items(catalog, v)} == {None}
    hidden = zipfile.ZipFile(io.BytesIO(b"".join(gallery_zip(catalog, v)))).namelist()
    assert hidden == [f"photo-{n:04d}.jpg" for n in range(1, 7)]
