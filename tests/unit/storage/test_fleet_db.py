"""The fleet database (ocpp_station/storage/fleet_db.py): one ``fleet.db`` for the stations of a
fleet, each station's rows keyed by its id; a station new to it reads nothing and writes its
defaults in one unsynced transaction; closing a station's store leaves the connection open."""

from __future__ import annotations

import logging
import sqlite3
import stat
from pathlib import Path

import pytest

from device_model import DeviceModel
from ocpp_station.storage import STORE_FILE, StationStore, StorageError
from ocpp_station.storage.fleet_db import FLEET_FILE, FleetDatabase

EVSES = {1: [1]}
LOG = logging.getLogger("test")


def start(store: StationStore, seed: dict[str, object]) -> DeviceModel:
    return DeviceModel.open_plan(
        store.connection, DeviceModel.plan(EVSES, seed), station=store.station, new=store.fresh
    )


def test_stations_keep_their_own_rows_over_a_reopen(tmp_path: Path) -> None:
    root = tmp_path / "fleet"
    db = FleetDatabase.open(root, logger=LOG)
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert stat.S_IMODE((root / FLEET_FILE).stat().st_mode) == 0o600
    a = db.store("A", root / "A", logger=LOG)
    assert a.fresh and a.new_directory and a.shared
    statements: list[str] = []
    db.connection.set_trace_callback(statements.append)
    dm_a = start(a, {"OCPPCommCtrlr.HeartbeatInterval": 11})
    # A new station reads nothing; its first write is one unsynced transaction.
    assert not [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert [s for s in statements if s.startswith("PRAGMA synchronous")] == [
        "PRAGMA synchronous=NORMAL"  # (FULL comes back before the next write: health.py)
    ]
    assert statements.count("COMMIT") == 1
    db.connection.set_trace_callback(None)
    start(db.store("B", root / "B", logger=LOG), {"OCPPCommCtrlr.HeartbeatInterval": 22})
    assert dm_a.set("TxCtrlr", "EVConnectionTimeOut", "123") == "Accepted"
    a.state.save("availability", {"who": "A"})
    a.messages.push("Heartbeat", {}, 1.0)
    a.close()  # a station's close leaves the fleet's connection open
    db.connection.execute("SELECT 1")
    db.close()

    again = FleetDatabase.open(root, logger=LOG)
    try:
        a2 = again.store("A", root / "A", logger=LOG)
        b2 = again.store("B", root / "B", logger=LOG)
        assert not a2.fresh and not b2.fresh
        dm_a2 = start(a2, {"OCPPCommCtrlr.HeartbeatInterval": 11})
        dm_b2 = start(b2, {"OCPPCommCtrlr.HeartbeatInterval": 22})
        assert dm_a2.get("TxCtrlr", "EVConnectionTimeOut") == "123"
        assert dm_b2.get("TxCtrlr", "EVConnectionTimeOut") != "123"
        assert dm_b2.get("OCPPCommCtrlr", "HeartbeatInterval") == "22"
        assert a2.state.load("availability") == {"who": "A"}
        assert b2.state.load("availability") is None
        assert len(a2.messages) == 1 and len(b2.messages) == 0
    finally:
        again.close()


def test_a_station_with_a_file_of_its_own_keeps_it(tmp_path: Path) -> None:
    root = tmp_path / "fleet"
    StationStore.open(root / "OLD").close()  # an earlier release's store of one station
    (root / "EMPTY").mkdir()
    (root / "V010").mkdir()
    (root / "V010" / "queue.db").write_bytes(b"")  # release 0.1.0's: its own store imports it
    db = FleetDatabase.open(root, logger=LOG)
    try:
        assert not db.holds(root / "OLD") and not db.holds(root / "V010")
        assert db.holds(root / "EMPTY") and db.holds(root / "NEW")
        assert not db.store("EMPTY", root / "EMPTY", logger=LOG).new_directory
        assert db.store("NEW", root / "NEW", logger=LOG).new_directory
        # A directory somewhere else is looked at.
        assert db.holds(tmp_path / "elsewhere")
        (tmp_path / "elsewhere").mkdir()
        (tmp_path / "elsewhere" / STORE_FILE).write_bytes(b"")
        assert not db.holds(tmp_path / "elsewhere")
    finally:
        db.close()


def test_a_fleet_database_that_cannot_be_opened_says_where_and_why(tmp_path: Path) -> None:
    root = tmp_path / "fleet"
    root.mkdir()
    (root / FLEET_FILE).write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError, match=r"fleet\.db"):
        FleetDatabase.open(root, logger=LOG)
    file = tmp_path / "a-file"
    file.write_text("x")
    with pytest.raises(StorageError, match="fleet data directory"):
        FleetDatabase.open(file / "below", logger=LOG)


def test_two_processes_of_a_fleet_share_the_file(tmp_path: Path) -> None:
    root = tmp_path / "fleet"
    first = FleetDatabase.open(root, logger=LOG)
    second = FleetDatabase.open(root, logger=LOG)  # (a second worker: not locked out)
    try:
        start(first.store("W1-1", root / "W1-1", logger=LOG), {})
        start(second.store("W2-1", root / "W2-1", logger=LOG), {})
        rows = first.connection.execute("SELECT station FROM device_model_schema").fetchall()
        assert sorted(r[0] for r in rows) == ["W1-1", "W2-1"]
    finally:
        first.close()
        second.close()
    with sqlite3.connect(root / FLEET_FILE) as check:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_new_stations_share_their_plans_rows_and_keep_their_first_seed(tmp_path: Path) -> None:
    # device_model/bases.py: each distinct rows tuple is stored once; a station's own rows are
    # only what it changed; its values stay those of its first start when the seed changes.
    root = tmp_path / "fleet"
    db = FleetDatabase.open(root, logger=LOG)
    plan = DeviceModel.plan(EVSES, {"OCPPCommCtrlr.HeartbeatInterval": 11})

    def first_start(station: str) -> DeviceModel:
        store = db.store(station, root / station, logger=LOG)
        return DeviceModel.open_plan(
            store.connection, plan, station=station, new=store.fresh, bases=db.bases
        )

    a, _b = first_start("A"), first_start("B")
    conn = db.connection
    rows = conn.execute("SELECT station, count(*) FROM attribute_value GROUP BY station")
    counts = dict(rows.fetchall())
    assert len(counts) == 1 and next(iter(counts.values())) == len(plan.rows)  # the base alone
    assert a.set("TxCtrlr", "EVConnectionTimeOut", "77") == "Accepted"  # A's own row
    db.close()

    again = FleetDatabase.open(root, logger=LOG)
    try:
        later = DeviceModel.plan(EVSES, {"OCPPCommCtrlr.HeartbeatInterval": 99})  # a new seed
        models = {}
        for station in ("A", "B"):
            store = again.store(station, root / station, logger=LOG)
            assert not store.fresh
            models[station] = DeviceModel.open_plan(
                store.connection, later, station=station, bases=again.bases
            )
        assert models["A"].get("TxCtrlr", "EVConnectionTimeOut") == "77"
        assert models["B"].get("TxCtrlr", "EVConnectionTimeOut") != "77"
        for model in models.values():  # the first start's seed, as a station's own file keeps
            assert model.get("OCPPCommCtrlr", "HeartbeatInterval") == "11"
    finally:
        again.close()
