"""The browser studio's cull screen at a wedding's size, as the photographer runs it: a real
``kilo serve`` (a subprocess with its own KILO_HOME), signed in through ``kilo open
--print-url``, driven in Debian's headless Chromium by selenium.

    .venv/bin/python benchmarks/studio_browser.py [--n 3000] [--presses 60]

The data is built before anything is measured: the real photos of ../shared/photos (and
its raw/*.dng) are ingested once with ``kilo ingest`` (metadata, real renditions,
signals, hashes, faces); then ``--fill sql`` (the default) copies their catalog rows into
``n`` frames with plain SQL (new ids and names, the same rendition files), because
``kilo ingest`` skips byte-identical copies (SHA-256) and byte-altered copies of every
photo would be ~3 GB to write and decode on this loaded 2-core machine; ``--fill ingest``
writes such copies (a byte appended to each) and ingests them all for real. Stacks are
bursts of 5 under moments of 100 (tests/support/studio.py).

Figures come from the page: Performance API marks the app sets (``kilo:first-frame``,
``kilo:key-to-paint``: two animation frames after the image's ``decode()``), keys sent
through CDP ``Input.dispatchKeyEvent``, CDP ``Performance.getMetrics`` and
``performance.memory`` for the JS heap, Resource Timing for what the server sent."""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
KILO = Path(sys.executable).parent / "kilo"
PHOTOS = ROOT.parent / "shared" / "photos"
WEBAPP = ROOT / "server" / "kilo_server" / "webapp"
COPIED = ("asset_files", "signals", "perceptual_hashes", "faces")
ANCHORS = "Photo Mechanic, Lightroom, Narrative Select, Immich web: not runnable here"
KEYS = {
    "ArrowRight": ("ArrowRight", 39),
    "ArrowDown": ("ArrowDown", 40),
    " ": ("Space", 32),
}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def env_for(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "KILO_HOME": str(home),
        "KILO_CLIP_ENABLED": "false",
        "KILO_AUTO_ANALYZE": "false",
        "KILO_LOG": "error",
    }


def kilo(home: Path, *args: str) -> str:
    done = subprocess.run(
        [str(KILO), *args], env=env_for(home), capture_output=True, text=True, check=False
    )
    if done.returncode:
        sys.exit(f"kilo {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def gather_photos(tmp: Path) -> Path:
    """The real photos (and DNGs) in one folder, under their own names."""
    src = tmp / "photos"
    src.mkdir()
    for f in [*PHOTOS.iterdir(), *(PHOTOS / "raw").glob("*.dng")]:
        if f.is_file() and f.suffix.lower() not in (".md", ".tsv", ".py"):
            shutil.copy2(f, src / f.name)
    return src


def copy_rows(home: Path, pid: str, rounds: int) -> None:
    """``rounds`` copies of every asset of the project with plain SQL (new ids, names and
    source URIs, capture times a week apart per round), with their files (the same
    rendition files), signals, hashes and faces."""
    from kilo.catalog import open_catalog
    from kilo.clock import new_id
    from kilo.settings import Settings

    with open_catalog(Settings(home=home, clip_enabled=False)) as cat:
        seed = [r[0] for r in cat.fetchall("SELECT id FROM assets WHERE project_id = ?", [pid])]
        pairs = [[a, new_id(), k] for k in range(1, rounds + 1) for a in seed]
        cat.execute("CREATE TEMP TABLE copymap (old VARCHAR, new VARCHAR, k INTEGER)")
        cat.insert_many(
            "copymap", [("old", "VARCHAR"), ("new", "VARCHAR"), ("k", "INTEGER")], pairs
        )
        over = {
            "id": "m.new",
            "filename": "printf('c%03d_', m.k) || t.filename",
            "source_uri": "t.source_uri || printf('#copy%03d', m.k)",
            "captured_at": "t.captured_at + to_days(7 * m.k)",
        }
        cat.execute(_copy_sql(cat, "assets", "id", over))
        for table in COPIED:
            cols = _columns(cat, table)
            extra = {"asset_id": "m.new"} | (
                {"id": "gen_random_uuid()::VARCHAR"} if "id" in cols else {}
            )
            cat.execute(_copy_sql(cat, table, "asset_id", extra))


def _columns(cat: Any, table: str) -> list[str]:
    return [
        r[0]
        for r in cat.fetchall(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "ORDER BY ordinal_position",
            [table],
        )
    ]


def _copy_sql(cat: Any, table: str, key: str, over: dict[str, str]) -> str:
    cols = _columns(cat, table)
    select = ", ".join(over.get(c, f't."{c}"') for c in cols)
    names = ", ".join(f'"{c}"' for c in cols)
    return (
        f"INSERT INTO {table} ({names}) SELECT {select} FROM {table} t "
        f"JOIN copymap m ON t.{key} = m.old"
    )


def ingest_copies(tmp: Path, src: Path, home: Path, rounds: int) -> None:
    """``rounds`` byte-altered copies of every photo (one byte appended), ingested."""
    dest = tmp / "copies"
    dest.mkdir()
    for k in range(1, rounds + 1):
        for f in src.iterdir():
            data = f.read_bytes() + bytes([k % 256])
            (dest / f"c{k:03d}_{f.name}").write_bytes(data)
    kilo(home, "ingest", str(dest), "--project", "Wedding", "--json")


def make_stacks(home: Path, pid: str) -> int:
    """Moments of 100 and bursts of 5 over the frames in capture order (the seed's own
    clusters removed): the stacks the cull screen walks. The number of frames."""
    from kilo.catalog import open_catalog
    from kilo.settings import Settings
    from support.studio import _clusters

    with open_catalog(Settings(home=home, clip_enabled=False)) as cat:
        ids = [
            r[0]
            for r in cat.fetchall(
                "SELECT id FROM assets WHERE project_id = ? ORDER BY captured_at NULLS LAST, id",
                [pid],
            )
        ]
        cat.execute(
            "DELETE FROM cluster_members WHERE cluster_id IN "
            "(SELECT id FROM clusters WHERE project_id = ?)",
            [pid],
        )
        cat.execute("DELETE FROM clusters WHERE project_id = ?", [pid])
        now = cat.fetchall("SELECT now()::TIMESTAMP")[0][0]
        start = cat.fetchall("SELECT min(captured_at) FROM assets")[0][0] or now
        _clusters(cat, pid, ids, start, 5, now)
    return len(ids)


def build_project(tmp: Path, n: int, fill: str) -> tuple[Path, str, int, str]:
    home = tmp / "home"
    src = gather_photos(tmp)
    started = time.perf_counter()
    out = json.loads(kilo(home, "ingest", str(src), "--project", "Wedding", "--create", "--json"))
    took = time.perf_counter() - started
    pid, seed = str(out["projectId"]), int(out["ready"])
    rounds = max(0, -(-n // seed) - 1)
    if fill == "ingest":
        ingest_copies(tmp, src, home, rounds)
    else:
        copy_rows(home, pid, rounds)
    total = make_stacks(home, pid)
    how = (
        f"data: {seed} real photos ingested by kilo ingest in {took:.1f} s (real renditions); "
        f"{total - seed} more frames by "
        + (
            "kilo ingest of byte-altered copies"
            if fill == "ingest"
            else "SQL copies of "
            "their catalog rows (same rendition files), as catalog_paths.py fill() does"
        )
    )
    return home, pid, total, how


def start_server(home: Path, port: int) -> subprocess.Popen[bytes]:
    from studio_cull import start_server as start_kilo_serve  # benchmarks/ is on sys.path

    return start_kilo_serve(home, port, env_for(home), wait_s=90)


def make_driver() -> Any:
    from support.web_browser import make_browser

    driver = make_browser(1440, 900)
    driver.set_page_load_timeout(120)
    driver.set_script_timeout(120)
    return driver


def wait(check: Any, timeout: float = 120.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.01)
    raise SystemExit(f"the page did not get there in time ({what or check})")


def step(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def press(driver: Any, key: str) -> None:
    code, vk = KEYS[key]
    for kind in ("keyDown", "keyUp"):
        driver.execute_cdp_cmd(
            "Input.dispatchKeyEvent",
            {
                "type": kind,
                "key": key,
                "code": code,
                "windowsVirtualKeyCode": vk,
                **({"text": key} if key == " " and kind == "keyDown" else {}),
            },
        )


def measures(driver: Any) -> list[float]:
    return list(
        driver.execute_script(
            "return performance.getEntriesByName('kilo:key-to-paint').map(e => e.duration)"
        )
    )


def here(driver: Any) -> str:
    return str(
        driver.execute_script(
            "const s = document.querySelector('[data-testid=stage]');"
            "return s ? s.getAttribute('data-asset') : ''"
        )
    )


def last_key_painted(driver: Any) -> bool:
    """The newest key's frame is painted (its measure starts at the newest key mark)."""
    return bool(
        driver.execute_script(
            "const k = performance.getEntriesByName('kilo:key').slice(-1)[0];"
            "const m = performance.getEntriesByName('kilo:key-to-paint').slice(-1)[0];"
            "return !!k && !!m && m.startTime >= k.startTime"
        )
    )


def open_cull(driver: Any, base: str, pid: str, query: str = "") -> float:
    """A fresh navigation to the cull screen; ms from navigation start to the first frame
    painted (``kilo:first-frame``, set after the key handler is listening)."""
    driver.get(f"{base}/projects/{pid}/cull{query}")
    return float(
        wait(
            lambda: driver.execute_script(
                "const e = performance.getEntriesByName('kilo:first-frame')[0];"
                "return e ? e.startTime : 0"
            )
        )
    )


def cull_view(driver: Any, pid: str) -> dict[str, Any]:
    text = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        f"fetch('/v1/x-kilo/projects/{pid}/cull', {{headers: {{'X-Kilo-Studio': '1'}}}})"
        ".then(r => r.text()).then(done);"
    )
    return dict(json.loads(text))


def naive_tab(driver: Any, url: str) -> float:
    """The naive peer: the image URL opened in a fresh tab; ms to its load event."""
    main = driver.current_window_handle
    base = driver.current_url.split("/", 3)[:3]
    url = url if url.startswith("http") else "/".join(base) + url
    driver.switch_to.new_window("tab")
    try:
        driver.get(url)
        return float(
            wait(
                lambda: driver.execute_script(
                    "const n = performance.getEntriesByType('navigation')[0];"
                    "return n && n.loadEventEnd > 0 ? n.loadEventEnd : 0"
                )
            )
        )
    finally:
        driver.close()
        driver.switch_to.window(main)


def timed_presses(driver: Any, key: str, count: int, pause: float, burst: int = 1) -> list[float]:
    """ms from the last key of each burst to its frame painted."""
    out = []
    for _ in range(count):
        for _ in range(burst):
            press(driver, key)
        try:
            wait(lambda: last_key_painted(driver), what=f"{key} painted")
        except SystemExit:
            driver.save_screenshot("/tmp/studio_browser_stuck.png")
            step(
                str(
                    driver.execute_script(
                        "return [location.href, performance.getEntriesByName('kilo:key').length,"
                        " performance.getEntriesByName('kilo:key-to-paint').length,"
                        " document.visibilityState, document.hasFocus()]"
                    )
                )
            )
            raise
        out.append(measures(driver)[-1])
        time.sleep(pause)
    return out


def loupe_times(driver: Any, base: str, pid: str, frames: list[dict[str, Any]]) -> list[float]:
    """Space on each frame (opened by URL, fitted preview painted first) to the 100% loupe
    painted; each frame's original is read for the first time."""
    out = []
    for m in frames:
        open_cull(driver, base, pid, f"?stack={m['stack']}&frame={m['assetId']}")
        wait(lambda m=m: here(driver) == m["assetId"])
        time.sleep(0.3)
        press(driver, " ")
        wait(lambda: last_key_painted(driver))
        out.append(measures(driver)[-1])
    return out


def hold_arrow(driver: Any, base: str, pid: str, order: list[str], n: int) -> tuple[bool, str]:
    """n keyDown events (autoRepeat) as fast as CDP takes them from the first frame."""
    open_cull(driver, base, pid)
    start = order.index(here(driver))
    driver.execute_script("performance.clearMarks('kilo:key')")
    for i in range(n):
        driver.execute_cdp_cmd(
            "Input.dispatchKeyEvent",
            {
                "type": "keyDown",
                "key": "ArrowRight",
                "code": "ArrowRight",
                "windowsVirtualKeyCode": 39,
                "autoRepeat": i > 0,
            },
        )
    driver.execute_cdp_cmd(
        "Input.dispatchKeyEvent",
        {"type": "keyUp", "key": "ArrowRight", "code": "ArrowRight", "windowsVirtualKeyCode": 39},
    )
    want = order[start + n]
    with contextlib.suppress(SystemExit):  # a wrong end is reported below
        wait(lambda: want in driver.current_url, timeout=30, what="the URL")
    got_keys = driver.execute_script("return performance.getEntriesByName('kilo:key').length")
    ok = here(driver) == want and got_keys == n
    return ok, f"{got_keys} keys seen, stage on frame {order.index(here(driver)) - start} ahead"


def memory_after(driver: Any, visits: int) -> tuple[list[float], dict[str, float]]:
    """Visit ``visits`` frames (each painted before the next key), collect garbage, read
    the JS heap (CDP and performance.memory), DOM nodes and Chromium's resident memory."""
    paced = timed_presses(driver, "ArrowRight", visits, 0.0)
    driver.execute_cdp_cmd("HeapProfiler.enable", {})
    driver.execute_cdp_cmd("HeapProfiler.collectGarbage", {})
    driver.execute_cdp_cmd("Performance.enable", {})
    got = driver.execute_cdp_cmd("Performance.getMetrics", {})
    metrics = {m["name"]: float(m["value"]) for m in got["metrics"]}
    metrics["performance.memory"] = float(
        driver.execute_script("return performance.memory.usedJSHeapSize")
    )
    metrics["chromium RSS"], metrics["renderer RSS"] = chromium_rss(driver)
    return paced, metrics


def chromium_rss(driver: Any) -> tuple[float, float]:
    """Resident bytes of every process of this browser (renderer, GPU, browser, ...), and
    of its largest renderer (the page's)."""
    import psutil

    root = psutil.Process(driver.service.process.pid)
    total, renderer = 0.0, 0.0
    for proc in root.children(recursive=True):
        try:
            if "chrom" in proc.name() and "driver" not in proc.name():
                rss = float(proc.memory_info().rss)
                total += rss
                if "--type=renderer" in " ".join(proc.cmdline()):
                    renderer = max(renderer, rss)
        except psutil.Error:
            continue
    return total, renderer


def js_sizes(driver: Any) -> tuple[int, int, dict[str, int], str]:
    """(raw bytes of the built JS, gzip -9 of it, what the browser received for the JS of
    the page's cold load by Resource Timing: ``transfer`` (body and headers as sent),
    ``encoded`` and ``decoded`` body bytes; the Content-Encoding the server answered to the
    browser's own Accept-Encoding, read by a fetch from the page past its cache)."""
    files = sorted((WEBAPP / "assets").glob("*.js"))
    raw = sum(f.stat().st_size for f in files)
    packed = sum(len(gzip.compress(f.read_bytes(), 9)) for f in files)
    sent = driver.execute_script(
        "const js = performance.getEntriesByType('resource').filter(e => e.name.endsWith('.js'));"
        "const sum = k => js.reduce((a, e) => a + e[k], 0);"
        "return {transfer: sum('transferSize'), encoded: sum('encodedBodySize'),"
        " decoded: sum('decodedBodySize')}"
    )
    encoding = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        f"fetch('/assets/{files[0].name}', {{cache: 'no-store'}})"
        ".then(r => done(r.headers.get('content-encoding') || 'none (identity)'))"
        ".catch(e => done(String(e)));"
    )
    return raw, packed, {k: int(v) for k, v in sent.items()}, str(encoding)


def frames_of(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [{**m, "stack": s["id"]} for s in view["stacks"] for m in s["members"]]


def line(name: str, value: str, target: str, peer: str = "") -> str:
    return f"{name:<52} {value:>22}  target {target:<10} {peer}".rstrip()


def spread(values: list[float]) -> str:
    return f"p50 {pct(values, 50):.0f} / p95 {pct(values, 95):.0f} ms"


def measure(driver: Any, base: str, pid: str, args: argparse.Namespace) -> list[str]:
    out: list[str] = []
    driver.execute_cdp_cmd("Network.clearBrowserCache", {})
    cold = open_cull(driver, base, pid)
    raw, packed, sent, encoding = js_sizes(driver)
    warm = [open_cull(driver, base, pid) for _ in range(4)]
    view = cull_view(driver, pid)
    frames = frames_of(view)
    order = [f["assetId"] for f in frames]
    far = frames[len(frames) // 2]
    naive = [naive_tab(driver, f["previewUrl"]) for f in frames[-5:]]
    out.append(
        line("cull screen interactive, cold cache (nav -> frame)", f"{cold:.0f} ms", "< 1500 ms")
    )
    out.append(
        line(
            "cull screen interactive, warm cache, 4 loads",
            f"max {max(warm):.0f} ms",
            "< 1500 ms",
            f"naive peer (preview URL in a new tab): p50 {pct(naive, 50):.0f} ms",
        )
    )
    open_cull(driver, base, pid)
    time.sleep(1)
    pre = timed_presses(driver, "ArrowRight", args.presses, 0.4)
    out.append(
        line(f"key -> next frame painted, prefetched ({len(pre)} x ->)", spread(pre), "p95 < 50")
    )
    cold_keys = timed_presses(driver, "ArrowDown", args.presses // 2, 0.4, burst=3)
    out.append(
        line(
            f"key -> frame painted, not prefetched ({len(cold_keys)} x 3 down)",
            spread(cold_keys),
            "p95 < 150",
            f"naive peer: p50 {pct(naive, 50):.0f} ms",
        )
    )
    later = frames[len(frames) // 3 :]
    jpegs = [f for f in later[::7] if f["fileName"].lower().endswith(".jpg")][:6]
    dngs = [f for f in later if f["fileName"].lower().endswith(".dng")][:6]
    for label, both in (("JPEG", jpegs), ("DNG", dngs)):
        chosen, others = both[: len(both) // 2], both[len(both) // 2 :]  # peer: unseen ones
        if not chosen:
            out.append(line(f"100% loupe shown, {label}", "n/a (no such frame)", "< 400 ms"))
            continue
        got = loupe_times(driver, base, pid, chosen)
        peer = [naive_tab(driver, f["loupeUrl"]) for f in others]
        out.append(
            line(
                f"100% loupe shown, {label} ({len(got)} frames)",
                " / ".join(f"{t:.0f}" for t in got) + " ms",
                "< 400 ms",
                "naive peer (loupe URL in a new tab): "
                + " / ".join(f"{t:.0f}" for t in peer)
                + " ms",
            )
        )
    step("held arrow")
    ok, how = hold_arrow(driver, base, pid, order, args.hold)
    out.append(
        line(
            f"held arrow, {args.hold} keyDown events via CDP",
            "ok" if ok else "FAILED",
            "0 dropped",
            how,
        )
    )
    out.append(
        line(
            "JS of the build (raw / gzip -9)",
            f"{raw / 1e3:.1f} / {packed / 1e3:.1f} KB",
            "< 250 KB gz",
        )
    )
    out.append(
        line(
            "JS the server sent (Resource Timing transferSize)",
            f"{sent['transfer'] / 1e3:.1f} KB",
            "< 250 KB gz",
            f"Content-Encoding: {encoding}; body {sent['encoded'] / 1e3:.1f} KB as sent, "
            f"{sent['decoded'] / 1e3:.1f} KB decoded",
        )
    )
    open_cull(driver, base, pid, f"?stack={far['stack']}&frame={far['assetId']}")
    step(f"visiting {args.visits} frames")
    paced, mem = memory_after(driver, args.visits)
    out.append(line(f"key -> painted, next key at once ({len(paced)} x ->)", spread(paced), "-"))
    out.append(
        line(
            f"JS heap used after {args.visits} frames (CDP, after GC)",
            f"{mem['JSHeapUsedSize'] / 1e6:.1f} MB",
            "< 400 MB",
            f"total {mem['JSHeapTotalSize'] / 1e6:.1f} MB, "
            f"performance.memory {mem['performance.memory'] / 1e6:.1f} MB, "
            f"{mem['Nodes']:.0f} DOM nodes",
        )
    )
    out.append(
        line(
            f"page's renderer process, resident, after {args.visits} frames",
            f"{mem['renderer RSS'] / 1e6:.0f} MB",
            "< 400 MB",
            f"all Chromium processes {mem['chromium RSS'] / 1e6:.0f} MB (browser, GPU, ...)",
        )
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--presses", type=int, default=60)
    ap.add_argument("--hold", type=int, default=500)
    ap.add_argument("--visits", type=int, default=1000)
    ap.add_argument("--fill", choices=("sql", "ingest"), default="sql")
    args = ap.parse_args()
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="kilo-studio-browser-") as tmp:
        step("building the project")
        home, pid, total, how = build_project(Path(tmp), args.n, args.fill)
        step(how)
        port = 19500 + os.getpid() % 400
        proc = start_server(home, port)
        driver = make_driver()
        try:
            url = kilo(home, "open", pid, "--print-url").strip().splitlines()[-1]
            driver.get(url)  # the one-time link sets the session cookie
            wait(lambda: "/cull" in driver.current_url)
            lines = measure(driver, f"http://127.0.0.1:{port}", pid, args)
        finally:
            driver.quit()
            proc.terminate()
            proc.wait(timeout=30)
    load1 = os.getloadavg()
    print(f"{total} frames; {how}")
    print(
        f"load average at start {load0[0]:.1f} {load0[1]:.1f} {load0[2]:.1f}, "
        f"at end {load1[0]:.1f} {load1[1]:.1f} {load1[2]:.1f} (2 cores, shared)"
    )
    print(f"headless Chromium 1440x900 via selenium; anchors: {ANCHORS}")
    for text in lines:
        print(text)


if __name__ == "__main__":
    main()
