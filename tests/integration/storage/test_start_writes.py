"""What a starting station writes to its store (issue 19: a fleet's boot storm).

A fresh station records only what it must: what the CSMS set (HeartbeatInterval), the slot it
connected on.  The first state of each EVSE's transaction engine, the PowerUp boot reason and the
factory-default monitors are what a start after a power cut rebuilds identically, so they are
not written (the monitors go to the store with their first change); a restart rewrites nothing
that did not change.
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


def monitor_ids(data_dir: Path) -> list[int]:
    with sqlite3.connect(data_dir / STORE_FILE) as conn:
        return [i for (i,) in conn.execute("SELECT id FROM variable_monitors ORDER BY id")]


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
    assert "monitoring" not in rows and monitor_ids(data_dir) == []  # factory defaults

    # The same station again: it boots as before (PowerUp) and keeps what it had.
    again = await make_station(evses=TWO_EVSES, data_dir=data_dir, station_id="CS001")
    boots = await csms.wait_received("BootNotification", count=2)
    assert [b["reason"] for b in boots] == ["PowerUp", "PowerUp"]
    await csms.wait_received("StatusNotification", count=4)
    assert state_rows(data_dir) == rows

    # The first change of the monitors stores the defaults with it (N07.FR.13: kept over a
    # reboot): a custom monitor beside factory-default monitor 1 (the hard-wired ones are never
    # stored, they come with the firmware).
    sid = again.config.id
    item = {
        "component": {"name": "OCPPCommCtrlr"},
        "variable": {"name": "HeartbeatInterval"},
        "type": "Delta",
        "value": 5,
        "severity": 5,
    }
    response = await csms.send(sid, "SetVariableMonitoring", {"setMonitoringData": [item]})
    (result,) = response["setMonitoringResult"]
    assert result["status"] == "Accepted"
    await again.stop()
    assert monitor_ids(data_dir) == [1, result["id"]]
    assert state_rows(data_dir)["monitoring"] == '{"initialised":true,"next_event_id":1}'
    third = await make_station(evses=TWO_EVSES, data_dir=data_dir, station_id="CS001")
    await csms.wait_received("StatusNotification", count=6)
    answer = await csms.send(sid, "GetMonitoringReport", {"requestId": 7})
    assert answer["status"] == "Accepted"
    (part,) = await csms.wait_for(lambda: csms.received("NotifyMonitoringReport", sid))
    await third.stop()
    reported = sorted(vm["id"] for m in part["monitor"] for vm in m["variableMonitoring"])
    assert reported == [1, 100, 101, result["id"]]  # 100, 101: hard-wired, one per EVSE
