"""What a starting station writes to its store (issue 19: a fleet's boot storm).

A fresh station records only what it must: the monitors it starts with and their record (one
transaction) and what the CSMS set (HeartbeatInterval).  The first state of each EVSE's
transaction engine and the PowerUp boot reason are what a start after a power cut rebuilds
identically, so they are not written; a restart rewrites nothing that did not change.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from support import StationFactory

from ocpp_station.csms import LocalCSMS
from ocpp_station.storage import STORE_FILE

TWO_EVSES = [{"id": 1, "connectors": [1]}, {"id": 2, "connectors": [1]}]


def state_rows(data_dir: Path) -> dict[str, str]:
    with sqlite3.connect(data_dir / STORE_FILE) as conn:
        return dict(conn.execute("SELECT key, value FROM state").fetchall())


async def test_a_fresh_station_writes_no_default_state(
    csms: LocalCSMS, make_station: StationFactory, short_tmp: Path
) -> None:
    csms.policy.boot = [("Accepted", 30)]
    data_dir = short_tmp / "fresh"
    station = await make_station(evses=TWO_EVSES, data_dir=data_dir)
    await csms.wait_received("StatusNotification", count=2)
    assert station.registration == "Accepted"
    await station.stop()
    rows = state_rows(data_dir)
    assert "station.boot" not in rows  # PowerUp: what no record reads as
    assert not {"tx.1", "tx.2"} & set(rows)  # idle engines, as a fresh start rebuilds them
    assert rows["monitoring"] == '{"initialised":true,"next_event_id":1}'
    with sqlite3.connect(data_dir / STORE_FILE) as conn:
        (monitors,) = conn.execute("SELECT COUNT(*) FROM variable_monitors").fetchone()
    assert monitors > 0  # the predefined monitors, stored with their record

    # The same station again: it boots as before (PowerUp) and keeps what it had.
    again = await make_station(evses=TWO_EVSES, data_dir=data_dir, station_id="CS001")
    boots = await csms.wait_received("BootNotification", count=2)
    assert [b["reason"] for b in boots] == ["PowerUp", "PowerUp"]
    await csms.wait_received("StatusNotification", count=4)
    await again.stop()
    assert state_rows(data_dir) == rows
