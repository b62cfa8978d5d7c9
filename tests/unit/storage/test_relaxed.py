"""``unsynced`` on a station store's connection: NORMAL for the commits inside, FULL again before
the next statement outside that may write (not after every block: a start makes several
unsynced commits in a row)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ocpp_station.storage import StationStore
from ocpp_station.storage.connection import unsynced


def level(conn: sqlite3.Connection) -> int:
    """PRAGMA synchronous as SQLite has it now, read past the store's own bookkeeping."""
    return int(sqlite3.Connection.execute(conn, "PRAGMA synchronous").fetchone()[0])


def test_full_comes_back_before_the_next_write_not_before_a_read(tmp_path: Path) -> None:
    store = StationStore.open(tmp_path)
    conn = store.connection
    try:
        store.state.save("z", {"n": 0})  # (a new copy opens relaxed: see the test below)
        assert level(conn) == 2  # FULL
        store.state.save("a", {"n": 1}, synced=False)
        assert level(conn) == 1  # NORMAL, and it stays for reads and further unsynced commits
        assert store.state.load("a") == {"n": 1}
        with unsynced(conn):
            conn.execute("INSERT OR REPLACE INTO state (key, value) VALUES ('b', '{}')")
            assert level(conn) == 1
        assert level(conn) == 1
        store.state.save("c", {"n": 3})  # a synced commit: FULL before its statement
        assert level(conn) == 2
        store.messages.ack(12345)  # unsynced again (a DELETE that finds nothing)
        assert level(conn) == 1
        assert conn.execute("PRAGMA synchronous").fetchone() == (2,)  # a PRAGMA restores too
    finally:
        store.close()


def test_a_new_copy_opens_relaxed_and_is_full_before_its_first_synced_commit(
    tmp_path: Path,
) -> None:
    store = StationStore.open(tmp_path)
    conn = store.connection
    try:
        assert store.fresh and level(conn) == 1  # NORMAL: a start's first commits are unsynced
        with unsynced(conn):  # (no level of its own to set)
            conn.execute("INSERT OR REPLACE INTO state (key, value) VALUES ('b', '{}')")
        assert store.state.load("b") == {} and level(conn) == 1
        store.state.save("c", {"n": 3})
        assert level(conn) == 2
    finally:
        store.close()
    store = StationStore.open(tmp_path)  # an existing store opens FULL
    try:
        assert not store.fresh and level(store.connection) == 2
    finally:
        store.close()


def test_a_plain_connection_is_restored_at_the_end_of_the_block(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    conn.execute("PRAGMA synchronous=FULL")
    with unsynced(conn):
        assert level(conn) == 1
    assert level(conn) == 2
    conn.close()
