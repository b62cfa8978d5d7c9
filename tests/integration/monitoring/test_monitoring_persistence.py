"""Monitors across a restart (N04 remark, N07.FR.13/14) and NotifyEvents while offline
(N07.FR.04), through the ``ocpp``-package CSMS, the control socket and the simulated controller."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from support import StationFactory, get_variables, queued, sim

from ocpp_station.clock import parse_iso
from ocpp_station.control.server import call
from ocpp_station.csms import LocalCSMS

HEARTBEAT = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
CONNECTOR = {"component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}}}


def events(csms: LocalCSMS, sid: str) -> list[dict[str, Any]]:
    return [e for n in csms.received("NotifyEvent", sid) for e in n["eventData"]]


async def set_monitor(csms: LocalCSMS, sid: str, **item: Any) -> int:
    response = await csms.send(sid, "SetVariableMonitoring", {"setMonitoringData": [item]})
    (result,) = response["setMonitoringResult"]
    assert result["status"] == "Accepted", result
    return int(result["id"])


async def set_heartbeat(csms: LocalCSMS, sid: str, value: str) -> None:
    item = {**HEARTBEAT, "attributeValue": value}
    response = await csms.send(sid, "SetVariables", {"setVariableData": [item]})
    assert response["setVariableResult"][0]["attributeStatus"] == "Accepted"


async def test_monitors_base_level_and_tripped_state_persist_across_a_restart(
    csms: LocalCSMS, make_station: StationFactory, short_tmp: Path
) -> None:
    data_dir = short_tmp / "persist"
    first = await make_station(station_id="CS001", data_dir=data_dir)
    await csms.wait_received("StatusNotification", station="CS001")
    mine = await set_monitor(
        csms, "CS001", **HEARTBEAT, type="UpperThreshold", value=600, severity=4
    )
    assert (await csms.send("CS001", "SetMonitoringLevel", {"severity": 8}))["status"] == "Accepted"
    base = await csms.send("CS001", "SetMonitoringBase", {"monitoringBase": "All"})
    assert base["status"] == "Accepted"
    await set_heartbeat(csms, "CS001", "700")  # a BootNotification sets it to 300 again
    (alert,) = await csms.wait_for(lambda: events(csms, "CS001"))
    assert (alert["variableMonitoringId"], alert["cleared"]) == (mine, False)
    await first.stop()

    await make_station(station_id="CS001", data_dir=data_dir)
    await csms.wait_received("BootNotification", count=2, station="CS001")
    await csms.wait_for(lambda: "CS001" in csms.stations())
    response = await csms.send("CS001", "GetMonitoringReport", {"requestId": 3})
    assert response["status"] == "Accepted"
    (part,) = await csms.wait_received("NotifyMonitoringReport", station="CS001")
    ids = sorted(vm["id"] for m in part["monitor"] for vm in m["variableMonitoring"])
    assert ids == [1, 100, 200, 300, mine]  # base All and the custom monitor, same id
    item = {"component": {"name": "MonitoringCtrlr"}, "variable": {"name": "ActiveMonitoringLevel"}}
    (level,) = await get_variables(csms, "CS001", item)
    assert level["attributeValue"] == "8"
    # N07.FR.14: the threshold tripped before the restart clears after it (the boot's
    # interval, 300, set HeartbeatInterval back within it)
    await csms.wait_for(lambda: len(events(csms, "CS001")) >= 2)
    cleared = events(csms, "CS001")[1]
    assert (cleared["variableMonitoringId"], cleared["cleared"], cleared["actualValue"]) == (
        mine,
        True,
        "300",
    )
    assert cleared["eventId"] > alert["eventId"]


async def test_offline_events_queued_by_severity(
    csms: LocalCSMS, make_station: StationFactory, short_tmp: Path
) -> None:
    """N07.FR.04: while offline, the NotifyEvent of a monitor with severity at most
    OfflineQueuingSeverity is queued and delivered once online; a more severe number is not
    evaluated offline and reports the current situation when the station is back (N07 remark)."""
    sock = short_tmp / "c.sock"
    station = await make_station(
        control=sock, device_model={"MonitoringCtrlr.OfflineQueuingSeverity": 3}
    )
    sid = station.config.id
    await csms.wait_received("StatusNotification", station=sid)
    availability = {**CONNECTOR, "variable": {"name": "AvailabilityState"}}
    queued_one = await set_monitor(csms, sid, **availability, type="Delta", value=1, severity=3)
    later_one = await set_monitor(csms, sid, **availability, type="Delta", value=1, severity=7)
    await call(sock, "stop")
    await csms.wait_for(lambda: not station.connected)
    before = queued(station)
    sim(station).plug_in(1)
    await csms.wait_for(lambda: queued(station) > before)
    assert events(csms, sid) == []
    restarted_at = time.time()
    await call(sock, "restart")

    def both() -> list[dict[str, Any]]:
        found = {e["variableMonitoringId"]: e for e in events(csms, sid)}
        return [found[i] for i in (queued_one, later_one) if i in found]

    first, second = await csms.wait_for(lambda: len(both()) == 2 and both())
    assert (first["actualValue"], second["actualValue"]) == ("Occupied", "Occupied")
    # the queued event happened offline; the other one was evaluated once back online
    assert parse_iso(first["timestamp"]) < restarted_at < parse_iso(second["timestamp"]) + 0.05
    mine = [e for e in events(csms, sid) if e["variableMonitoringId"] in (queued_one, later_one)]
    assert len(mine) == 2  # each monitor fired once
