"""Personalised winner ranking: does learning from 20 decisions help, and never hurt?

On the seeded synthetic bursts of ``synth.py`` (real photos, camera-like bursts, all frames but
one degraded), simulated photographers pick a winner in every burst:

* ``brighter``: a hidden taste unlike the default: of the frames that are sharp (not defocused,
  not motion-blurred), they keep the brightest (frames within 0.02 of it in mean brightness
  look alike to them; of those, the cleanest);
* ``darker``: the same, keeping the darkest (a moody taste);
* ``default``: their taste is the default ranking (they pick what it suggests);
* ``truth``: they pick the undegraded frame (the culling benchmark's ground truth).

Their first 20 decisions (bursts in capture order) go through the real path: ``pick_winner``
in a catalog (the action log), ``refresh_taste`` (the Bradley-Terry model), stored in
``preference_models`` and read back by ``kilo.group.rank.load_weights``. Top-1 against the
photographer's own choices on the remaining bursts is printed before (default weights) and
after (learned weights), per seed and as mean ± sd over the seeds.

Run: ``.venv/bin/python benchmarks/personalization.py [--seeds 0 1 2 3 4]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kilo.catalog import Catalog, open_catalog
from kilo.clock import new_id, utcnow
from kilo.cull import pick_winner
from kilo.group.rank import RankInput, load_weights, rank_members
from kilo.measure.signals import compute_signals
from kilo.projects import create_project
from kilo.settings import load_settings
from synth import Frame, Shoot, make_shoot

TRAIN = 20
Signals = dict[str, float]
#: (burst member indices, their signals, the frames) -> chosen index
Photographer = Callable[[list[int], dict[int, Signals], list[Frame]], int]


def _signals(path: str) -> Signals:
    with Image.open(path) as im:
        return compute_signals(im.convert("RGB"))


def _default_choice(members: list[int], sig: dict[int, Signals], frames: list[Frame]) -> int:
    r = rank_members([RankInput(str(i), sig[i], frames[i].pixels) for i in members])
    return int(r.order[0])


def _sharp(members: list[int], frames: list[Frame]) -> list[int]:
    """Frames the photographer sees as sharp: not defocused, not motion-blurred."""
    ok = [i for i in members if not any(k in frames[i].degraded for k in ("defocus", "motion"))]
    return ok or members


def _by_light(brighter: bool) -> Photographer:
    """Of the sharp frames, the brightest (or darkest); frames within 0.02 of it in brightness
    look the same to them, and then they keep the cleanest."""

    def choose(members: list[int], sig: dict[int, Signals], frames: list[Frame]) -> int:
        sharp = _sharp(members, frames)
        sign = 1.0 if brighter else -1.0
        best = max(sign * sig[i]["brightness"] for i in sharp)
        alike = [i for i in sharp if sign * sig[i]["brightness"] >= best - 0.02]
        return min(alike, key=lambda i: (sig[i]["noise"], i))

    return choose


def _truth(members: list[int], sig: dict[int, Signals], frames: list[Frame]) -> int:
    return next(i for i in members if frames[i].degraded == "")


PHOTOGRAPHERS: dict[str, Photographer] = {
    "brighter": _by_light(True),
    "darker": _by_light(False),
    "default": _default_choice,
    "truth": _truth,
}


def _catalog_for(
    shoot: Shoot, sig: dict[int, Signals], bursts: list[list[int]], home: Path
) -> tuple[Catalog, list[str], dict[int, str]]:
    """Assets, signals and burst clusters (default-ranked) of the shoot in a fresh catalog."""
    cat = open_catalog(load_settings(home=home, clip_enabled=False))
    project = create_project(cat, f"synthetic seed {shoot.seed}")
    now = utcnow()
    ids: dict[int, str] = {}
    with cat.transaction():
        for members in bursts:
            for i in members:
                f = shoot.frames[i]
                ids[i] = new_id()
                taken = datetime.fromtimestamp(f.time or 0.0, UTC).replace(tzinfo=None)
                cat.execute(
                    "INSERT INTO assets (id, project_id, filename, source_uri, captured_at, "
                    "ingested_at, updated_at, state, width_px) VALUES (?, ?, ?, ?, ?, ?, ?, "
                    "'ready', ?)",
                    [ids[i], project.id, f.path.name, str(f.path), taken, now, now, f.pixels],
                )
                cat.execute(
                    'INSERT INTO signals (asset_id, version, "values", computed_at) '
                    "VALUES (?, 'bench', ?, ?)",
                    [ids[i], json.dumps(sig[i]), now],
                )
        cluster_ids = []
        for members in bursts:
            r = rank_members([RankInput(str(i), sig[i], shoot.frames[i].pixels) for i in members])
            cid = new_id()
            cluster_ids.append(cid)
            cat.execute(
                "INSERT INTO clusters (id, project_id, kind, confidence, reviewed, "
                "winner_asset_id, winner_source, created_at, updated_at) "
                "VALUES (?, ?, 'burst', ?, false, ?, 'auto', ?, ?)",
                [cid, project.id, r.confidence, ids[int(r.order[0])], now, now],
            )
            for rank, i in enumerate(r.order, start=1):
                cat.execute(
                    "INSERT INTO cluster_members (cluster_id, asset_id, rank, role) "
                    "VALUES (?, ?, ?, ?)",
                    [cid, ids[int(i)], rank, "winner" if rank == 1 else "alt"],
                )
    return cat, cluster_ids, ids


def run_seed(
    seed: int, tmp: Path, pool: ProcessPoolExecutor
) -> dict[str, tuple[float, float, int]]:
    shoot = make_shoot(seed, tmp / f"seed{seed}")
    frames = shoot.frames
    burst_ids = sorted(shoot.winners, key=lambda b: frames[shoot.winners[b]].time or 0.0)
    bursts = [[i for i, f in enumerate(frames) if f.burst == b] for b in burst_ids]
    needed = sorted({i for m in bursts for i in m})
    values = list(pool.map(_signals, [str(frames[i].path) for i in needed], chunksize=4))
    sig = dict(zip(needed, values, strict=True))
    cat, cluster_ids, ids = _catalog_for(shoot, sig, bursts, tmp / f"home{seed}")
    out: dict[str, tuple[float, float, int]] = {}
    try:
        for name, photographer in PHOTOGRAPHERS.items():
            user = new_id()
            choices = [photographer(m, sig, frames) for m in bursts]
            for cid, choice in zip(cluster_ids[:TRAIN], choices[:TRAIN], strict=True):
                pick_winner(cat, cid, ids[choice], user_id=user)
            learned = load_weights(cat, user)
            before = after = 0
            test = list(zip(bursts[TRAIN:], choices[TRAIN:], strict=True))
            for members, choice in test:
                inputs = [RankInput(str(i), sig[i], frames[i].pixels) for i in members]
                before += rank_members(inputs).order[0] == str(choice)
                after += rank_members(inputs, weights=learned).order[0] == str(choice)
            out[name] = (before / len(test), after / len(test), len(test))
    finally:
        cat.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2, 3, 4])
    args = ap.parse_args()
    rows: dict[str, list[tuple[float, float, int]]] = {n: [] for n in PHOTOGRAPHERS}
    with tempfile.TemporaryDirectory() as tmp, ProcessPoolExecutor(2) as pool:
        for seed in args.seeds:
            res = run_seed(seed, Path(tmp), pool)
            parts = []
            for name, (b, a, n) in res.items():
                rows[name].append((b, a, n))
                parts.append(f"{name} {b:.3f} -> {a:.3f}")
            n_test = next(iter(res.values()))[2]
            print(f"seed {seed}: {TRAIN} decisions, {n_test} test bursts | " + " | ".join(parts))
    for name, vals in rows.items():
        b = [v[0] for v in vals]
        a = [v[1] for v in vals]
        gain = [100 * (y - x) for x, y in zip(b, a, strict=True)]
        print(
            f"{name:9s} Top-1 before {statistics.mean(b):.3f}±{statistics.pstdev(b):.3f}  "
            f"after {statistics.mean(a):.3f}±{statistics.pstdev(a):.3f}  "
            f"gain {statistics.mean(gain):+.1f} pts (min {min(gain):+.1f}, max {max(gain):+.1f})"
        )


if __name__ == "__main__":
    main()
