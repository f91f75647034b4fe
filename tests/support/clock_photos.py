"""The photos of the one-clock tests: ``cv_ela_original.jpg`` (real; 2018-06-06 22:20:11 at
-03:00, an offset found from its GPS time), ``wall_clock.jpg`` (written with piexif: 22:30:05
with no offset at all) and ``scan.png`` (no EXIF: only its file time, so undated)."""

from __future__ import annotations

import shutil
from pathlib import Path


def write_card(shared_photos_dir: Path, folder: Path) -> Path:
    import piexif
    from PIL import Image

    folder.mkdir()
    shutil.copy2(shared_photos_dir / "cv_ela_original.jpg", folder / "cv_ela_original.jpg")
    img = Image.new("RGB", (640, 480), (200, 120, 40))
    for y in range(0, 480, 40):
        for x in range(0, 640, 40):
            if (x // 40 + y // 40) % 2:
                img.paste((30, 60, 160), (x, y, x + 40, y + 40))
    exif = {"Exif": {piexif.ExifIFD.DateTimeOriginal: b"2018:06:06 22:30:05"}}
    img.save(folder / "wall_clock.jpg", exif=piexif.dump(exif), quality=90)
    Image.new("RGB", (640, 480), (90, 120, 150)).save(folder / "scan.png")
    return folder
