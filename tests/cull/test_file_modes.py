"""Files kilo writes for the photographer get the mode every program gives a new file (0666
less the umask), not a temporary file's 0600: decision and develop sidecars, renders, store
files, exports and the contact sheet, under umask 022 and 027 (each in a fresh process, as
the umask is read once per process). A file written over keeps its mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from support.shared import REPO_ROOT

SCRIPT = r"""
import json, os, sys
from datetime import datetime
from pathlib import Path

os.umask(int(sys.argv[1], 8))
out, photos = Path(sys.argv[2]), Path(sys.argv[3])

from PIL import Image
from kilo import store
from kilo.catalog import open_catalog
from kilo.cull import upsert_rating
from kilo.cull.decision_sidecar import write_xmp_sidecars
from kilo.edit.develop_sidecar import write_xmp_sidecar
from kilo.edit.output import write_image
from kilo.edit.params import EditParams
from kilo.export import create_export, run_export
from kilo.projects import create_project
from kilo.settings import load_settings
from support import cull_data, export_data

settings = load_settings(home=out / "home", workers=1, clip_enabled=False)
cat = open_catalog(settings)
project = create_project(cat, "Modes")
shoot = out / "shoot"
shoot.mkdir()
(shoot / "IMG_1.jpg").write_bytes((photos / "cv_aloeL.jpg").read_bytes())
asset = cull_data.add_asset(cat, project.id, shoot / "IMG_1.jpg", datetime(2024, 1, 1))
upsert_rating(cat, asset, rating=4)
write_xmp_sidecars(cat, project.id)
write_xmp_sidecar(EditParams(exposure=0.3), shoot / "IMG_1.edit.xmp", raw=False)
with Image.open(photos / "cv_aloeL.jpg") as img:
    write_image(img.convert("RGB"), out / "render.jpg")
store.write_bytes(str(out / "store.bin"), b"new", settings)
(out / "kept.bin").write_bytes(b"old")
(out / "kept.bin").chmod(0o600)
store.write_bytes(str(out / "kept.bin"), b"over", settings)
ids = export_data.add_assets(cat, project.id, photos, out / "thumbs", ["mate_LadyBird.jpg"])
export_data.rate(cat, ids[0], rating=5, picked=True)
run_export(cat, create_export(cat, project.id, "web", dest=str(out / "web")).id)
run_export(cat, create_export(cat, project.id, "contact_sheet_pdf", dest=str(out / "cs")).id)
files = {
    "decision sidecar": shoot / "IMG_1.xmp",
    "develop sidecar": shoot / "IMG_1.edit.xmp",
    "render": out / "render.jpg",
    "store file": out / "store.bin",
    "written over": out / "kept.bin",
    "export": next((out / "web").iterdir()),
    "contact sheet": next((out / "cs").iterdir()),
}
print(json.dumps({name: oct(path.stat().st_mode & 0o777) for name, path in files.items()}))
"""


@pytest.mark.slow
@pytest.mark.parametrize(("umask", "mode"), [("022", "0o644"), ("027", "0o640")])
def test_user_files_honour_the_umask(
    umask: str, mode: str, shared_photos_dir: Path, tmp_path: Path
) -> None:
    env = dict(os.environ)
    paths = [REPO_ROOT / "tests", *(p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p)]
    env["PYTHONPATH"] = os.pathsep.join(map(str, paths))
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, umask, str(tmp_path), str(shared_photos_dir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    modes = json.loads(done.stdout.strip().splitlines()[-1])
    assert modes.pop("written over") == "0o600"  # a file written over keeps its mode
    assert modes == dict.fromkeys(modes, mode)
