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


def test_a_plain_connection_is_restored_at_the_end_of_the_block(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    conn.execute("PRAGMA synchronous=FULL")
    with unsynced(conn):
        assert level(conn) == 1
    assert level(conn) == 2
    conn.close()
