"""The station store: one file, one durability policy, a schema version, the state facet."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from ocpp_station.blocks.smart_charging.store import STATION_MAX, ProfileStore
from ocpp_station.storage import SCHEMA_VERSION, STORE_FILE, StationStore, StorageError

TABLES = {
    "attribute_value",
    "messages",
    "state",
    "charging_profiles",
    "dead_letters",
    "local_auth_list",
    "local_auth_list_version",
    "variable_monitors",
    "security_log",
    "device_model_schema",
}


def tables(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows} - {"sqlite_sequence"}


def test_one_file_wal_full_and_versioned(tmp_path: Path) -> None:
    store = StationStore.open(tmp_path / "new" / "dir")
    try:
        conn = store.connection
        assert store.path == tmp_path / "new" / "dir" / STORE_FILE
        assert conn.isolation_level is None
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
        assert store.schema_version == SCHEMA_VERSION == 7
        assert tables(conn) == TABLES
    finally:
        store.close()
    assert sorted(p.name for p in (tmp_path / "new" / "dir").glob("*.db")) == [STORE_FILE]


def test_a_newer_schema_is_refused_and_left_alone(tmp_path: Path) -> None:
    StationStore.open(tmp_path).close()
    conn = sqlite3.connect(tmp_path / STORE_FILE)
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StorageError, match="newer than this release"):
        StationStore.open(tmp_path)
    conn = sqlite3.connect(tmp_path / STORE_FILE)
    assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION + 1,)
    conn.close()


def test_state_records(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = StationStore.open(tmp_path)
    store.state.save("b", {"y": 2})
    store.state.save("a", {"x": 1})
    store.state.save("a", {"x": 3})
    assert store.state.items() == [("a", {"x": 3}), ("b", {"y": 2})]
    store.state.delete("a")
    assert store.state.load("a") is None and store.state.items() == [("b", {"y": 2})]
    with pytest.raises(ValueError, match="must be a dict"):
        store.state.save("c", [1])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="state key"):
        store.state.save("", {})
    store.connection.execute("INSERT INTO state (key, value) VALUES ('broken', '{nope')")
    with caplog.at_level(logging.WARNING, logger="ocpp_station.storage"):
        assert store.state.load("broken") is None  # its owner starts afresh, the station starts
    assert "'broken' is unreadable" in caplog.text
    assert [key for key, _ in store.state.items()] == ["b"]
    store.close()
    store = StationStore.open(tmp_path)
    assert store.state.load("b") == {"y": 2}
    store.close()


def test_profile_store_on_the_shared_connection_keeps_full_durability(tmp_path: Path) -> None:
    store = StationStore.open(tmp_path)
    profiles = ProfileStore(store.connection)
    assert store.connection.execute("PRAGMA synchronous").fetchone() == (2,)  # untouched
    profile = {
        "id": 7,
        "stackLevel": 1,
        "chargingProfilePurpose": STATION_MAX,
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [],
    }
    profiles.add(0, profile)
    profiles.close()  # borrowed: the store's connection stays open
    store.close()
    store = StationStore.open(tmp_path)
    found = ProfileStore(store.connection).get(7)
    assert found is not None and found.profile == profile
    store.close()


def test_a_new_store_is_initialised_unsynced_then_full(tmp_path: Path) -> None:
    """A new station.db: the schema and ``initialise``'s writes (the device model's seed) are
    the initial state a start after a power cut rebuilds identically, committed without any
    sync (``synchronous=OFF``); the store is back to ``synchronous=FULL`` before ``open``
    returns.  An existing file is initialised under FULL."""
    seen: list[int] = []

    def initialise(store: StationStore) -> None:
        seen.append(store.connection.execute("PRAGMA synchronous").fetchone()[0])
        store.state.save("seeded", {"by": "initialise"})

    store = StationStore.open(tmp_path, initialise=initialise)
    try:
        assert store.connection.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
        assert store.schema_version == SCHEMA_VERSION
    finally:
        store.close()
    store = StationStore.open(tmp_path, initialise=initialise)
    try:
        assert seen == [0, 2]  # OFF for the new file, FULL for the existing one
        assert store.state.load("seeded") == {"by": "initialise"}
        assert store.connection.execute("PRAGMA synchronous").fetchone() == (2,)
    finally:
        store.close()


def test_a_failing_initialise_closes_the_store(tmp_path: Path) -> None:
    def initialise(store: StationStore) -> None:
        raise RuntimeError("bad seed")

    with pytest.raises(RuntimeError, match="bad seed"):
        StationStore.open(tmp_path, initialise=initialise)
    store = StationStore.open(tmp_path)  # the file is usable: nothing was left open or broken
    try:
        assert store.schema_version == SCHEMA_VERSION
    finally:
        store.close()


def test_unsynced_commits_then_full_again(tmp_path: Path) -> None:
    from ocpp_station.storage.connection import transaction, unsynced

    store = StationStore.open(tmp_path)
    conn = store.connection
    try:
        with unsynced(conn), transaction(conn):
            assert conn.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
            store.state.save("defaults", {"v": 1})
        assert conn.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
        with pytest.raises(RuntimeError), unsynced(conn), transaction(conn):
            store.state.save("lost", {"v": 2})
            raise RuntimeError("rolled back")
        assert conn.execute("PRAGMA synchronous").fetchone() == (2,)
        assert store.state.load("defaults") == {"v": 1}
        assert store.state.load("lost") is None
    finally:
        store.close()


def test_an_unsynced_state_record_is_committed_and_full_is_back(tmp_path: Path) -> None:
    store = StationStore.open(tmp_path, pooled=True)  # also through a fleet's pooled handle
    try:
        store.state.save("defaults", {"v": 1}, synced=False)
        assert store.connection.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
        with pytest.raises(ValueError):
            store.state.save("bad", {"v": object()}, synced=False)  # checked before writing
        assert store.connection.execute("PRAGMA synchronous").fetchone() == (2,)
    finally:
        store.close()
    again = StationStore.open(tmp_path)
    try:
        assert again.state.load("defaults") == {"v": 1}
        assert again.state.load("bad") is None
    finally:
        again.close()


def test_the_store_says_whether_its_data_directory_was_made_by_this_open(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = StationStore.open(data)
    assert store.new_directory  # (nothing can be in it yet: the blocks look for no file)
    store.close()
    again = StationStore.open(data)
    assert not again.new_directory
    again.close()
    made_before = tmp_path / "empty"
    made_before.mkdir(mode=0o700)
    other = StationStore.open(made_before)
    assert not other.new_directory  # there before: files may have been put there
    other.close()
