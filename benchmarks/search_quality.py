"""Search quality: Precision@10 of text queries over a labelled folder of photos.

    .venv/bin/python benchmarks/search_quality.py [--photos DIR] [--labels labels.json]

``labels.json`` maps a query to the file names that answer it::

    {"a flower": ["flower.png", "flower.png.im_q85_420.jpg", ...], "a dog": ["pug.heic"]}

Without ``--labels`` a small built-in list for ``../shared/photos`` is used. The CLIP model is
the one the settings name (``KILO_CLIP_MODEL``/``KILO_CLIP_PRETRAINED`` or
``KILO_CLIP_CHECKPOINT``). With no real weights on this machine it falls back to the tiny
random test model and says that the figure is then NOT meaningful (it only proves the path
runs). The seed's target is Precision@10 >= 0.7 with a real model.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PHOTOS = ROOT.parent / "shared" / "photos"
BUILTIN_LABELS: dict[str, list[str]] = {
    "a flower": [
        "flower.png",
        "flower.png.im_q85_420.jpg",
        "flower.png.im_q85_420_R13B.jpg",
        "flower.png.im_q85_420_progr.jpg",
        "flower.png.im_q85_422.jpg",
        "flower.png.im_q85_440.jpg",
        "flower.png.im_q85_444.jpg",
        "mate_YellowFlower.jpg",
    ],
    "a group of people": ["group_t1.jpg", "people_zidane.jpg", "friends_by_Aitzol_Berasategi.jpg"],
    "a dragonfly": ["Dragonfly_by_Bolly.jpg"],
    "a bird": ["Kleiber_by_Lukas_Baubkus.jpg", "bird_burst.heic"],
    "a bridge": ["Bridge_by_Sander_Klootwijk.jpg"],
    "a glass of wine": ["Wine_by_Jakkub_Mede.jpg"],
    "a dog": ["pug.heic"],
    "text on a page": ["cv_text_defocus.jpg", "cv_text_motion.jpg"],
}
SUFFIXES = {".jpg", ".jpeg", ".png", ".heic", ".heif", ".webp", ".tif", ".tiff"}


def open_photo(path: Path) -> object:
    from PIL import Image

    try:
        from pillow_heif import register_heif_opener

        register_heif_opener()
    except ImportError:
        pass
    with Image.open(path) as im:
        im.draft("RGB", (1024, 1024))
        rgb = im.convert("RGB")
    rgb.thumbnail((1024, 1024))
    return rgb


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    ap.add_argument("--labels", type=Path)
    args = ap.parse_args()
    labels = json.loads(args.labels.read_text(encoding="utf-8")) if args.labels else BUILTIN_LABELS

    from kilo.measure.embed import embedder_status, load_embedder
    from kilo.settings import load_settings

    settings = load_settings()
    emb = load_embedder(settings)
    meaningful = emb is not None
    if emb is None:
        print(f"no real CLIP model: {embedder_status(settings)}")
        sys.path.insert(0, str(ROOT / "tests"))
        from support.clip import build_tiny_checkpoint

        ckpt = build_tiny_checkpoint(Path(tempfile.mkdtemp()) / "tiny.pt")
        emb = load_embedder(load_settings(clip_enabled=True, clip_checkpoint=ckpt))
        assert emb is not None
    files = sorted(p for p in args.photos.iterdir() if p.suffix.lower() in SUFFIXES)
    t = time.perf_counter()
    images, names = [], []
    for p in files:
        try:
            images.append(open_photo(p))
            names.append(p.name)
        except Exception as exc:  # a benchmark skips what it cannot decode, and says so
            print(f"skipped {p.name}: {exc}")
    vecs = emb.embed_images(images)  # type: ignore[arg-type]
    per = (time.perf_counter() - t) / max(1, len(images)) * 1000
    print(
        f"embedded {len(images)} photos with {emb.model_id} ({per:.0f} ms per photo incl. decode)"
    )
    precisions = []
    for query, relevant in labels.items():
        q = emb.embed_texts([query])[0]
        top = np.argsort(-(vecs @ q))[:10]
        hits = sum(1 for i in top if names[i] in set(relevant))
        p10 = hits / min(10, len(relevant))
        precisions.append(p10)
        print(f"  {query!r}: P@10 {p10:.2f} (top: {', '.join(names[i] for i in top[:3])})")
    mean = float(np.mean(precisions))
    note = "" if meaningful else "  <- NOT meaningful: random tiny model, no real CLIP weights here"
    print(
        f"Precision@10 (normalised by min(10, #relevant)) over {len(labels)} queries: "
        f"{mean:.2f}{note}"
    )
    print("target with a real model: >= 0.70")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
