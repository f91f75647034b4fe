"""The catalog file: migrations on open, one writer, clear errors, nothing lost on failure."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import duckdb
import pytest

from kilo.catalog import SCHEMA_VERSION, Catalog, open_catalog
from kilo.errors import CatalogError, CatalogLocked
from kilo.projects import create_project, list_projects
from kilo.settings import Settings


def test_new_catalog_is_migrated_to_the_current_version(catalog: Catalog) -> None:
    assert catalog.schema_version() == SCHEMA_VERSION
    tables = {r[0] for r in catalog.fetchall("SELECT table_name FROM information_schema.tables")}
    for table in (
        "projects",
        "assets",
        "asset_files",
        "ratings",
        "clusters",
        "cluster_members",
        "signals",
        "embeddings",
        "perceptual_hashes",
        "edit_versions",
        "style_profiles",
        "galleries",
        "gallery_assets",
        "favorites",
        "comments",
        "exports",
        "jobs",
        "events",
        "smart_collections",
        "idempotency_keys",
        "users",
        "login_challenges",
        "refresh_tokens",
        "quarantine",
        "source_files",
    ):
        assert table in tables
    assert catalog.local_user_id


def test_reopening_keeps_data_and_the_local_user(settings: Settings) -> None:
    with open_catalog(settings) as cat:
        created = create_project(cat, "Kept")
        user = cat.local_user_id
    with open_catalog(settings) as cat:
        assert cat.local_user_id == user
        assert [p.id for p in list_projects(cat).items] == [created.id]
        applied = cat.fetchall("SELECT version FROM schema_version ORDER BY version")
        assert [v for (v,) in applied][-1] == SCHEMA_VERSION


def test_a_file_that_is_not_duckdb_is_refused_and_left_alone(settings: Settings) -> None:
    settings.home.mkdir(parents=True)
    junk = b"this is not a database\n" * 100
    settings.catalog_path.write_bytes(junk)
    with pytest.raises(CatalogError) as info:
        open_catalog(settings)
    assert "\n" not in info.value.message
    assert settings.catalog_path.read_bytes() == junk


def test_a_newer_schema_is_refused_and_left_alone(settings: Settings) -> None:
    with open_catalog(settings) as cat:
        create_project(cat, "From the future")
        cat.execute(
            "INSERT INTO schema_version VALUES (?, 'future.sql', now())", [SCHEMA_VERSION + 50]
        )
    before = settings.catalog_path.read_bytes()
    with pytest.raises(CatalogError, match="newer"):
        open_catalog(settings)
    assert settings.catalog_path.read_bytes() == before


def test_a_directory_in_place_of_the_catalog_is_refused(settings: Settings) -> None:
    settings.catalog_path.mkdir(parents=True)
    with pytest.raises(CatalogError, match="directory"):
        open_catalog(settings)


def _other_process(settings: Settings, body: str, wait_s: float = 30) -> list[str]:
    """Run ``body`` in another Python process with ``cat`` open on the same library; its
    printed lines (a lock error is printed as ``LOCKED <message>``)."""
    code = (
        textwrap.dedent(
            f"""
        from kilo.catalog import open_catalog
        from kilo.errors import CatalogLocked
        from kilo.settings import load_settings
        try:
            with open_catalog(load_settings(home={str(settings.home)!r},
                                            lock_wait_s={wait_s})) as cat:
        """
        )
        + textwrap.indent(textwrap.dedent(body), " " * 8)
        + textwrap.dedent(
            """
        except CatalogLocked as exc:
            print("LOCKED", exc.message)
        """
        )
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()


def test_a_second_process_is_handed_the_catalog_and_both_keep_working(
    settings: Settings,
) -> None:
    """Two kilo processes on one library: the holder hands the file over while it is idle,
    then takes it back, and each sees what the other wrote."""
    with open_catalog(settings) as holder:
        create_project(holder, "Mine")
        lines = _other_process(
            settings,
            """
            from kilo.projects import create_project, list_projects
            print(sorted(p.title for p in list_projects(cat).items))
            create_project(cat, "Theirs")
        """,
        )
        assert lines == ["['Mine']"]
        assert sorted(p.title for p in list_projects(holder).items) == ["Mine", "Theirs"]
        create_project(holder, "Mine again")  # the file came back
    with open_catalog(settings) as cat:
        assert len(list_projects(cat).items) == 3


def test_a_holder_that_never_lets_go_gets_a_one_line_error_naming_it(
    settings: Settings,
) -> None:
    """A transaction left open (or a tool holding the file with DuckDB itself) does not hand
    over: the waiter gives up after its bound, in one line naming the holder's process."""
    with open_catalog(settings) as holder, holder.transaction():
        create_project(holder, "Busy")
        t0 = time.monotonic()
        lines = _other_process(settings, "print('opened')", wait_s=1.5)
        waited = time.monotonic() - t0
    assert len(lines) == 1 and lines[0].startswith("LOCKED"), lines
    assert f"process {os.getpid()}" in lines[0] and "more than 1.5 s" in lines[0]
    assert "pytest" in lines[0]  # and its command
    assert 1.5 <= waited < 30


def test_two_catalogs_of_one_file_in_one_process_have_their_own_transactions(
    settings: Settings,
) -> None:
    """A notebook (or a server and its tests) opening the library twice: both see one
    database, each transaction is its own, and closing one leaves the other working."""
    first, second = open_catalog(settings), open_catalog(settings)
    try:
        with first.transaction():
            first.execute("INSERT INTO meta VALUES ('a', '1')")
            assert second.scalar("SELECT count(*) FROM meta WHERE key = 'a'") == 0
        assert second.scalar("SELECT value FROM meta WHERE key = 'a'") == "1"
        with pytest.raises(RuntimeError), second.transaction():
            second.execute("INSERT INTO meta VALUES ('b', '2')")
            raise RuntimeError("undo")
        first.close()
        first.close()  # twice: still one catalog less, not two
        assert second.scalar("SELECT count(*) FROM meta WHERE key IN ('a', 'b')") == 1
    finally:
        first.close()
        second.close()
    with open_catalog(settings) as again:  # the file was let go and opens again
        assert again.scalar("SELECT value FROM meta WHERE key = 'a'") == "1"


def test_catalog_locked_is_a_catalog_error() -> None:
    assert issubclass(CatalogLocked, CatalogError)


def test_transaction_rolls_back_everything_on_error(catalog: Catalog) -> None:
    with pytest.raises(RuntimeError), catalog.transaction():
        create_project(catalog, "Rolled back")
        raise RuntimeError("boom")
    assert list_projects(catalog).items == []


def test_nested_transactions_join_the_outer_one(catalog: Catalog) -> None:
    with pytest.raises(RuntimeError), catalog.transaction():
        with catalog.transaction():
            create_project(catalog, "Inner")
        raise RuntimeError("outer fails")
    assert list_projects(catalog).items == []


def test_events_have_monotonic_ids(catalog: Catalog) -> None:
    ids = [catalog.emit_event("test.tick", data={"n": n}) for n in range(20)]
    assert ids == sorted(ids) and len(set(ids)) == 20


def test_read_only_open_sees_data(settings: Settings) -> None:
    with open_catalog(settings) as cat:
        create_project(cat, "Readable")
    with open_catalog(settings, read_only=True) as cat:
        assert [p.title for p in list_projects(cat).items] == ["Readable"]


def test_catalog_is_a_real_duckdb_file(settings: Settings) -> None:
    with open_catalog(settings) as cat:
        create_project(cat, "On disk")
    con = duckdb.connect(str(settings.catalog_path), read_only=True)
    try:
        assert con.execute("SELECT title FROM projects").fetchall() == [("On disk",)]
    finally:
        con.close()


def test_kilo_home_moves_all_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kilo.settings import load_settings

    monkeypatch.setenv("KILO_HOME", str(tmp_path / "elsewhere"))
    monkeypatch.delenv("KILO_STORE", raising=False)
    s = load_settings()
    assert s.catalog_path == tmp_path / "elsewhere" / "catalog.duckdb"
    assert s.store_url == str(tmp_path / "elsewhere" / "store")


def test_ctrl_c_during_a_statement_is_a_keyboard_interrupt(catalog: Catalog) -> None:
    """DuckDB answers SIGINT mid-statement with a plain RuntimeError ("Query interrupted");
    the catalog turns it back into KeyboardInterrupt, so no `except Exception` can take an
    interrupt for a failed item and go on."""
    import os
    import signal
    import threading
    import time

    catalog.execute("CREATE TABLE big AS SELECT i FROM range(30000000) t(i)")
    stop = threading.Event()

    def press_ctrl_c() -> None:
        # again every 0.25 s: DuckDB can let a SIGINT that lands as a statement ends go by
        # (seen once on a loaded CI machine), as a person would press Ctrl-C again
        while not stop.wait(0.25):
            os.kill(os.getpid(), signal.SIGINT)

    def interrupt(signum: int, frame: object) -> None:
        if not stop.is_set():  # a press still on its way once the test has one is ignored
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, interrupt)
    presser = threading.Thread(target=press_ctrl_c, daemon=True)
    presser.start()
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            while time.monotonic() - started < 10:
                catalog.fetchall("SELECT sum(i * i) FROM big")
    finally:
        stop.set()
        presser.join()
        signal.signal(signal.SIGINT, previous)
    assert catalog.scalar("SELECT count(*) FROM big") == 30_000_000  # still usable


def test_the_preview_pointer_is_filled_in_when_an_older_catalog_is_opened(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Schema 4 names each photo's best preview file (the newest preview, else the newest
    thumbnail); a catalog made before it gets the pointers from the files it has."""
    from kilo.catalog import schema
    from kilo.clock import utcnow

    bundled = schema.bundled_migrations()
    monkeypatch.setattr(schema, "bundled_migrations", lambda: [m for m in bundled if m[0] <= 3])
    files = {
        "a1": [("t1", "thumbnail", 1), ("p1", "preview", 2), ("p2", "preview", 3)],
        "a2": [("t2", "thumbnail", 1), ("t3", "thumbnail", 2)],
        "a3": [],
    }
    ids = {
        name: str(uuid.UUID(int=n + 1))
        for n, name in enumerate([*files, "t1", "p1", "p2", "t2", "t3"])
    }
    with open_catalog(settings) as cat:
        assert cat.schema_version() == 3
        project = create_project(cat, "Old")
        now = utcnow()
        for asset, rows in files.items():
            cat.execute(
                "INSERT INTO assets (id, project_id, filename, source_uri, ingested_at, state, "
                "updated_at) VALUES (?, ?, ?, ?, ?, 'ready', ?)",
                [ids[asset], project.id, f"{asset}.jpg", f"/card/{asset}.jpg", now, now],
            )
            for file_id, kind, minute in rows:
                cat.execute(
                    "INSERT INTO asset_files (id, asset_id, kind, uri, created_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [
                        ids[file_id],
                        ids[asset],
                        kind,
                        f"/lib/{file_id}.jpg",
                        now.replace(minute=minute),
                    ],
                )
    monkeypatch.setattr(schema, "bundled_migrations", lambda: bundled)
    with open_catalog(settings) as cat:
        assert cat.schema_version() == SCHEMA_VERSION
        got = {
            f: (i, u)
            for f, i, u in cat.fetchall("SELECT filename, preview_file_id, preview_uri FROM assets")
        }
    assert got == {
        "a1.jpg": (ids["p2"], "/lib/p2.jpg"),
        "a2.jpg": (ids["t3"], "/lib/t3.jpg"),
        "a3.jpg": (None, None),
    }


def test_lent_says_when_another_process_has_the_library(settings: Settings) -> None:
    """Long work (the job runner) asks ``lent()`` before writing a batch that can wait: True
    while another process holds the file, False once it is this process's again."""
    code = textwrap.dedent(
        f"""
        import time
        from kilo.catalog import open_catalog
        from kilo.settings import load_settings
        with open_catalog(load_settings(home={str(settings.home)!r})) as cat:
            with cat.transaction():  # holds the file for 2 s
                print("holding", flush=True)
                time.sleep(2)
        """
    )
    with open_catalog(settings) as cat:
        assert cat.lent() is False  # alone
        other = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        assert other.stdout is not None and other.stdout.readline().strip() == "holding"
        assert cat.lent() is True
        other.wait(timeout=60)
        assert cat.lent() is False and cat.schema_version() == SCHEMA_VERSION
