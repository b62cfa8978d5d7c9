"""The device model in a database it shares: a borrowed ``sqlite3.Connection`` (one file per
station, the device model's table beside the owner's tables)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from device_model import DeviceModel, DeviceModelConfigError
from device_model.store import SCHEMA_VERSION

EVSES = {1: [1], 2: [1, 2]}


def _owner(path: Path) -> sqlite3.Connection:
    """Open the database the way its owner (the station store) does."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA user_version=7")
    conn.execute("CREATE TABLE IF NOT EXISTS message (id INTEGER PRIMARY KEY, body TEXT)")
    return conn


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    owner = _owner(tmp_path / "station.db")
    yield owner
    owner.close()


def _hb(value: str) -> list[dict[str, object]]:
    return [
        {
            "component": {"name": "OCPPCommCtrlr"},
            "variable": {"name": "HeartbeatInterval"},
            "attributeValue": value,
        }
    ]


def test_shared_with_another_table_written_between_writes(
    tmp_path: Path, conn: sqlite3.Connection
) -> None:
    dm = DeviceModel.open(conn, EVSES, {"ChargingStation.Model": "X1"})
    conn.execute("INSERT INTO message (body) VALUES ('boot')")
    assert dm.set("TxCtrlr", "TxStopPoint", "Authorized") == "Accepted"
    conn.execute("BEGIN IMMEDIATE")  # the owner's own transaction, committed by the owner
    conn.execute("INSERT INTO message (body) VALUES ('status')")
    conn.execute("COMMIT")
    [result] = dm.set_variables(_hb("77"))
    assert result["attributeStatus"] == "Accepted"
    conn.execute("INSERT INTO message (body) VALUES ('heartbeat')")
    dm.close()

    # close() left the connection to its owner, PRAGMAs untouched
    assert conn.execute("SELECT count(*) FROM message").fetchone()[0] == 3
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 7
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert not conn.in_transaction
    assert conn.execute("SELECT version FROM device_model_schema").fetchall() == [(2,)]

    # another process opening the file later sees everything committed
    other = _owner(tmp_path / "station.db")
    try:
        bodies = [r[0] for r in other.execute("SELECT body FROM message ORDER BY id")]
        assert bodies == ["boot", "status", "heartbeat"]
        dm = DeviceModel.open(other, EVSES)
        assert dm.get_int("OCPPCommCtrlr", "HeartbeatInterval") == 77
        assert dm.get("TxCtrlr", "TxStopPoint") == "Authorized"
        dm.close()
    finally:
        other.close()


def test_table_and_columns_are_those_of_the_own_file(
    tmp_path: Path, conn: sqlite3.Connection
) -> None:
    """A migration copies the rows of an old device_model.db into the shared database as is."""
    old_path = tmp_path / "device_model.db"
    old = DeviceModel.open(old_path, EVSES)
    old.set("OCPPCommCtrlr", "HeartbeatInterval", 42)
    old.close()

    DeviceModel.open(conn, EVSES).close()  # creates the table in the shared database

    def columns(c: sqlite3.Connection, schema: str) -> list[tuple[object, ...]]:
        return c.execute(f"PRAGMA {schema}.table_info(attribute_value)").fetchall()

    conn.execute("ATTACH DATABASE ? AS old", (str(old_path),))
    assert columns(conn, "main") == columns(conn, "old")
    conn.execute("INSERT OR REPLACE INTO main.attribute_value SELECT * FROM old.attribute_value")
    conn.execute("DETACH DATABASE old")

    dm = DeviceModel.open(conn, EVSES)
    try:
        assert dm.get_int("OCPPCommCtrlr", "HeartbeatInterval") == 42
    finally:
        dm.close()


def test_write_while_the_owner_is_inside_a_transaction_is_rejected(
    conn: sqlite3.Connection,
) -> None:
    """The device model never commits (or rolls back) the owner's unfinished work."""
    dm = DeviceModel.open(conn, EVSES)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO message (body) VALUES ('half done')")
    assert dm.set("OCPPCommCtrlr", "HeartbeatInterval", 60) == "Rejected"
    [result] = dm.set_variables(_hb("61"))
    assert result["attributeStatus"] == "Rejected"  # B05.FR.09
    assert dm.get_int("OCPPCommCtrlr", "HeartbeatInterval") == 300
    assert conn.in_transaction  # still the owner's, with its row
    conn.execute("ROLLBACK")
    assert conn.execute("SELECT count(*) FROM message").fetchone()[0] == 0
    assert dm.set("OCPPCommCtrlr", "HeartbeatInterval", 60) == "Accepted"
    dm.close()


def test_closed_model_no_longer_writes_to_the_borrowed_connection(
    conn: sqlite3.Connection,
) -> None:
    dm = DeviceModel.open(conn, EVSES)
    dm.close()
    assert dm.set("OCPPCommCtrlr", "HeartbeatInterval", 60) == "Rejected"
    stored = conn.execute(
        "SELECT value FROM attribute_value WHERE variable = 'HeartbeatInterval'"
    ).fetchall()
    assert stored == [("300",)]


def test_connection_not_in_autocommit_mode_is_refused(tmp_path: Path) -> None:
    legacy = sqlite3.connect(tmp_path / "station.db")  # isolation_level "" (implicit BEGIN)
    try:
        with pytest.raises(ValueError, match="isolation_level=None"):
            DeviceModel.open(legacy, EVSES)
        assert legacy.execute("SELECT name FROM sqlite_master").fetchall() == []
    finally:
        legacy.close()


def test_newer_schema_version_is_refused_and_nothing_changes(conn: sqlite3.Connection) -> None:
    DeviceModel.open(conn, EVSES).close()
    conn.execute("UPDATE device_model_schema SET version = 3")
    with pytest.raises(sqlite3.DatabaseError, match="schema version 3 is newer"):
        DeviceModel.open(conn, EVSES)
    assert not conn.in_transaction
    assert conn.execute("SELECT version FROM device_model_schema").fetchall() == [(3,)]


def test_config_error_writes_nothing_to_the_shared_database(conn: sqlite3.Connection) -> None:
    with pytest.raises(DeviceModelConfigError):
        DeviceModel.open(conn, EVSES, {"Nope.X": 1})
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"message"}


def test_own_file_keeps_its_version_in_user_version(tmp_path: Path) -> None:
    path = tmp_path / "dm.db"
    DeviceModel.open(path, EVSES).close()
    with closing(sqlite3.connect(path, isolation_level=None)) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == 2
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert tables == {"attribute_value"}
        raw.execute("PRAGMA user_version=3")
    with pytest.raises(sqlite3.DatabaseError, match="schema version 3 is newer"):
        DeviceModel.open(path, EVSES)


def test_reopening_writes_nothing_when_the_schema_is_current(conn: sqlite3.Connection) -> None:
    # A station's every start borrows the connection again: with nothing to change, no row is
    # written, so the commit costs no fsync (the start-up of issue 19).
    DeviceModel.open(conn, EVSES).close()
    writes: list[str] = []
    conn.set_trace_callback(
        lambda s: writes.append(s) if s.lstrip().upper().startswith(("INSERT", "UPDATE")) else None
    )
    DeviceModel.open(conn, EVSES).close()
    conn.set_trace_callback(None)
    assert not [w for w in writes if "device_model_schema" in w]
    row = conn.execute("SELECT version FROM device_model_schema WHERE station = ''").fetchone()
    assert row == (SCHEMA_VERSION,)
