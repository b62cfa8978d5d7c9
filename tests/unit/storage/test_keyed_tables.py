"""Version 6 keys every table of station.db by ``station`` (ocpp_station/storage/migrations.py):
a file of version 5 keeps every row, each readable by its store as the rows of station '', and
two stations sharing one database never see each other's rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from device_model import DeviceModel
from ocpp_station.blocks.local_list.store import ListStore
from ocpp_station.blocks.monitoring.store import MonitorStore
from ocpp_station.blocks.security.log import SecurityLogStore
from ocpp_station.blocks.smart_charging.store import ProfileStore
from ocpp_station.storage import STORE_FILE, StationStore
from ocpp_station.storage.migrations import MIGRATIONS, SCHEMA_VERSION, migrate
from ocpp_station.storage.state import StateRecords

EVSES = {1: [1]}
PROFILE = '{"chargingProfileKind":"Absolute","chargingProfilePurpose":"TxDefaultProfile","id":7}'


def _version_5(path: Path) -> None:
    """A station.db as release 5 left it, one row in each table."""
    conn = sqlite3.connect(path, isolation_level=None)
    for migration in MIGRATIONS[:5]:
        for statement in migration.statements:
            conn.execute(statement)
    conn.execute("PRAGMA user_version=5")
    DeviceModel.open(conn, EVSES, {"OCPPCommCtrlr.HeartbeatInterval": 77}).close()
    conn.execute("UPDATE device_model_schema SET version = 1")  # what release 5 wrote
    conn.executescript(
        f"""
        INSERT INTO messages (action, payload, created) VALUES ('Heartbeat', '{{}}', 1.0);
        INSERT INTO state VALUES ('availability', '{{"x":1}}');
        INSERT INTO charging_profiles VALUES (7, 1, 'TxDefaultProfile', 0, NULL, 'CSO',
                                              '{PROFILE}');
        INSERT INTO dead_letters VALUES (1, 'X', '{{}}', 1, 1.0, 2.0, 'bad');
        INSERT INTO local_auth_list VALUES ('k1', '{{"status":"Accepted"}}');
        INSERT INTO local_auth_list_version VALUES (1, 4);
        INSERT INTO variable_monitors VALUES (3, 'custom', 'EVSE', '', 1, 0, 'Power', '',
                                              'UpperThreshold', 10.0, 5, 0, 1);
        INSERT INTO security_log (timestamp, type, tech_info, critical)
            VALUES ('2026-01-01T00:00:00Z', 'StartupOfTheDevice', NULL, 1);
        """
    )
    conn.close()


def test_a_version_5_file_keeps_every_row(tmp_path: Path) -> None:
    _version_5(tmp_path / STORE_FILE)
    store = StationStore.open(tmp_path)
    try:
        conn = store.connection
        assert store.schema_version == SCHEMA_VERSION == 7
        dm = DeviceModel.open(conn, EVSES, {})
        assert dm.get("OCPPCommCtrlr", "HeartbeatInterval") == "77"  # the stored value kept
        head = store.messages.head()
        assert head is not None and head.action == "Heartbeat"
        assert store.state.load("availability") == {"x": 1}
        assert [p.id for p in ProfileStore(conn, has_table=True).all()] == [7]
        assert [d["reason"] for d in store.messages.dead_letters()] == ["bad"]
        assert ListStore(conn).load() == (4, {"k1": {"status": "Accepted"}})
        [monitor] = MonitorStore(conn).load()
        assert (monitor.id, monitor.tripped) == (3, True)
        assert [e.type for e in SecurityLogStore(conn).entries()] == ["StartupOfTheDevice"]
        keys = {row[0] for row in conn.execute("SELECT station FROM attribute_value")}
        assert keys == {""}
    finally:
        store.close()


def test_two_stations_in_one_database_see_only_their_own_rows(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "shared.db", isolation_level=None)
    migrate(conn)
    a = DeviceModel.open_plan(conn, DeviceModel.plan(EVSES, {}), station="A")
    b = DeviceModel.open_plan(
        conn, DeviceModel.plan(EVSES, {"OCPPCommCtrlr.HeartbeatInterval": 5}), station="B"
    )
    assert a.get("OCPPCommCtrlr", "HeartbeatInterval") != "5"
    assert b.get("OCPPCommCtrlr", "HeartbeatInterval") == "5"
    for key in ("A", "B"):
        StateRecords(conn, station=key).save("r", {"who": key})
        ListStore(conn, station=key)
        SecurityLogStore(conn, station=key, limit=2).append("t", f"E{key}", None, False)
    assert StateRecords(conn, station="A").load("r") == {"who": "A"}
    assert StateRecords(conn, station="").load("r") is None
    log_b = SecurityLogStore(conn, station="B", limit=2)
    for n in range(3):  # B's log is trimmed to its limit; A's entry stays
        log_b.append("t", f"B{n}", None, False)
    assert [e.type for e in log_b.entries()] == ["B1", "B2"]
    assert [e.type for e in SecurityLogStore(conn, station="A").entries()] == ["EA"]
    profiles_a = ProfileStore(conn, has_table=True, station="A")
    profile = {"id": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile"}
    profiles_a.add(1, {**profile, "chargingProfileKind": "Absolute", "chargingSchedule": []})
    profiles_b = ProfileStore(conn, has_table=True, station="B")
    assert profiles_b.all() == [] and profiles_b.clear() == 0
    assert [p.id for p in profiles_a.all()] == [1]
    conn.close()


def _shape(conn: sqlite3.Connection) -> dict[str, object]:
    """Every table's columns (name, type, not null, default, key position) and indexes."""
    shape: dict[str, object] = {}
    names = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    for (name,) in names.fetchall():
        columns = [tuple(row) for row in conn.execute(f"PRAGMA table_info({name})")]
        indexes = sorted(
            (row[1], row[2], tuple(c[2] for c in conn.execute(f"PRAGMA index_info({row[1]})")))
            for row in conn.execute(f"PRAGMA index_list({name})")
        )
        shape[name] = (columns, indexes)
    return shape


def test_a_new_file_has_the_schema_the_migrations_make(tmp_path: Path) -> None:
    new = sqlite3.connect(tmp_path / "new.db", isolation_level=None)
    assert migrate(new) == 0
    _version_5(tmp_path / "old.db")
    old = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    assert migrate(old) == 5
    assert _shape(new) == _shape(old)
    assert new.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    new.close()
    old.close()
