"""Upgrade from release 0.1.0: its three SQLite files are imported into ``station.db`` once."""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
from pathlib import Path

import pytest

from ocpp_station.blocks.smart_charging.store import STATION_MAX, ProfileStore
from ocpp_station.storage import STORE_FILE, StationStore, StorageError
from ocpp_station.storage.legacy import import_legacy

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "data_dir_0_1_0"
MANIFEST = json.loads((FIXTURE / "MANIFEST.json").read_text())
OLD = ("device_model.db", "queue.db", "profiles.db")


@pytest.fixture
def old_dir(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    target.mkdir()
    for name in OLD:
        shutil.copy(FIXTURE / name, target / name)
    return target


def files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if not p.name.startswith(STORE_FILE + "-"))


def heartbeat_interval(store: StationStore) -> str:
    (value,) = store.connection.execute(
        "SELECT value FROM attribute_value WHERE component = 'OCPPCommCtrlr' "
        "AND variable = 'HeartbeatInterval' AND attribute = 'Actual'"
    ).fetchone()
    return str(value)


def test_the_0_1_0_data_directory_is_imported(old_dir: Path) -> None:
    store = StationStore.open(old_dir)
    try:
        queued = []
        while (message := store.messages.head()) is not None:
            queued.append(message)
            store.messages.ack(message.id)
        assert len(queued) == MANIFEST["queued_messages"] == 4
        assert [m.id for m in queued] == [4, 5, 6, 7]
        assert [m.payload["seqNo"] for m in queued] == [3, 4, 5, 6]
        assert {m.action for m in queued} == {"TransactionEvent"}
        assert {m.payload["transactionInfo"]["transactionId"] for m in queued} == {
            MANIFEST["transaction_id"]
        }
        # the message id sequence came along: ids keep growing
        assert store.messages.push("Heartbeat", {}, 0.0) == 8

        records = dict(store.state.items())
        assert {"availability", "tx.1", "tx.2", "auth.cache", "station.boot"} <= set(records)
        assert records["station.boot"] == {"reason": "PowerUp"}
        assert records["tx.1"]["seq_no"] == 7
        assert records["availability"]["evses"][str(MANIFEST["inoperative_evse"])] == "Inoperative"
        assert "ISO14443:OLDTOKEN01" in records["auth.cache"]

        profile = ProfileStore(store.connection).get(MANIFEST["profile_id"])
        assert profile is not None and (profile.evse_id, profile.purpose) == (0, STATION_MAX)

        assert heartbeat_interval(store) == str(MANIFEST["heartbeat_interval"]) == "123"
    finally:
        store.close()
    assert files(old_dir) == [f"{name}.migrated" for name in sorted(OLD)] + [STORE_FILE]


def test_opening_twice_imports_once(old_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = StationStore.open(old_dir)
    head = store.messages.head()
    assert head is not None
    store.messages.ack(head.id)
    store.close()
    caplog.clear()  # only the second open counts (the first one's lines are kept when an
    # earlier test of the session left the root logger at INFO)
    with caplog.at_level(logging.INFO, logger="ocpp_station.storage"):
        store = StationStore.open(old_dir)
    try:
        assert len(store.messages) == 3  # the acknowledged message did not come back
        assert "imported" not in caplog.text
    finally:
        store.close()
    assert files(old_dir) == [f"{name}.migrated" for name in sorted(OLD)] + [STORE_FILE]


def test_an_interrupted_import_runs_again(old_dir: Path) -> None:
    # a crash while station.db.tmp was written: the old files are untouched, the .tmp is redone
    (old_dir / f"{STORE_FILE}.tmp").write_bytes(b"half a database")
    store = StationStore.open(old_dir)
    try:
        assert len(store.messages) == 4
    finally:
        store.close()
    assert not (old_dir / f"{STORE_FILE}.tmp").exists()


def test_a_crash_between_rename_and_retire_is_finished(old_dir: Path) -> None:
    import_legacy(old_dir, old_dir / STORE_FILE, logging.getLogger("test"))
    assert (old_dir / "queue.db").exists()  # the crash: old files not yet set aside
    store = StationStore.open(old_dir)
    try:
        assert len(store.messages) == 4  # not imported twice
    finally:
        store.close()
    assert files(old_dir) == [f"{name}.migrated" for name in sorted(OLD)] + [STORE_FILE]


def test_a_failed_import_leaves_the_old_files_alone(old_dir: Path) -> None:
    (old_dir / "profiles.db").write_bytes(b"not a database at all, just some bytes " * 200)
    before = {name: (old_dir / name).read_bytes() for name in OLD}
    with pytest.raises(StorageError, match=r"profiles\.db"):
        StationStore.open(old_dir)
    assert {name: (old_dir / name).read_bytes() for name in OLD} == before
    assert not (old_dir / STORE_FILE).exists()


def test_an_old_file_of_an_unknown_version_is_refused(old_dir: Path) -> None:
    conn = sqlite3.connect(old_dir / "queue.db")
    conn.execute("PRAGMA user_version=5")
    conn.close()
    with pytest.raises(StorageError, match=r"not written by release 0\.1\.0"):
        StationStore.open(old_dir)
    assert (old_dir / "queue.db").exists() and not (old_dir / STORE_FILE).exists()


def test_the_write_ahead_log_of_an_old_file_is_honoured(tmp_path: Path) -> None:
    # 0.1.0 killed with commits still in queue.db-wal (not checkpointed into queue.db)
    live = tmp_path / "live"
    live.mkdir()
    shutil.copy(FIXTURE / "queue.db", live / "queue.db")
    writer = sqlite3.connect(live / "queue.db", isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("INSERT INTO messages (action, payload, created) VALUES ('Heartbeat', '{}', 0)")
    writer.execute("INSERT INTO state VALUES ('late', '{\"in\":\"wal\"}')")
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    for name in ("queue.db", "queue.db-wal"):
        shutil.copy(live / name, crashed / name)
    writer.close()
    store = StationStore.open(crashed)
    try:
        assert len(store.messages) == 5 and store.state.load("late") == {"in": "wal"}
    finally:
        store.close()
    assert files(crashed) == ["queue.db.migrated", STORE_FILE]
