"""Monitoring base (N03), level (N05), clear (N06) and the monitoring report (N02), through the
``ocpp``-package CSMS and the station's publications.

The station's predefined monitors (``device_model/definitions/monitors``): hard-wired 100 on
EVSE[1].Problem; preconfigured 1 (factory default) on ChargingStation.Problem, 200 and 300 (base
All only) on ChargingStation.AvailabilityState and Connector[1,1].AvailabilityState."""

from __future__ import annotations

from typing import Any

from support import StationFactory, get_variables, sim

from ocpp_station.csms import LocalCSMS

HEARTBEAT = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}


async def started(make_station: StationFactory, csms: LocalCSMS, **kwargs: Any) -> Any:
    station = await make_station(**kwargs)
    await csms.wait_received("StatusNotification", station=station.config.id)
    return station


async def custom(csms: LocalCSMS, sid: str, kind: str, value: float, severity: int) -> int:
    item = {**HEARTBEAT, "type": kind, "value": value, "severity": severity}
    response = await csms.send(sid, "SetVariableMonitoring", {"setMonitoringData": [item]})
    (result,) = response["setMonitoringResult"]
    assert result["status"] == "Accepted", result
    return int(result["id"])


async def report(csms: LocalCSMS, sid: str, request_id: int, **filters: Any) -> list[Any]:
    """GetMonitoringReport → the NotifyMonitoringReport parts of this request."""
    response = await csms.send(sid, "GetMonitoringReport", {"requestId": request_id, **filters})
    assert response["status"] == "Accepted", response

    def parts() -> list[dict[str, Any]]:
        return [
            p for p in csms.received("NotifyMonitoringReport", sid) if p["requestId"] == request_id
        ]

    await csms.wait_for(lambda: any(not p["tbc"] for p in parts()))
    return parts()


def monitor_ids(parts: list[dict[str, Any]]) -> list[int]:
    return sorted(
        vm["id"] for p in parts for m in p.get("monitor", []) for vm in m["variableMonitoring"]
    )


async def base(csms: LocalCSMS, sid: str, value: str) -> None:
    response = await csms.send(sid, "SetMonitoringBase", {"monitoringBase": value})
    assert response == {"status": "Accepted"}  # N03.FR.01


async def active(csms: LocalCSMS, sid: str, name: str) -> str:
    item = {"component": {"name": "MonitoringCtrlr"}, "variable": {"name": name}}
    (result,) = await get_variables(csms, sid, item)
    return str(result["attributeValue"])


async def test_monitoring_bases(csms: LocalCSMS, make_station: StationFactory) -> None:
    """N03.FR.03-05: All adds every preconfigured monitor and keeps custom ones; FactoryDefault
    removes custom ones and keeps the factory-default preconfigured ones; HardWiredOnly keeps the
    hard-wired monitors only."""
    sid = (await started(make_station, csms)).config.id
    assert await active(csms, sid, "ActiveMonitoringBase") == "FactoryDefault"
    assert monitor_ids(await report(csms, sid, 1)) == [1, 100]
    mine = await custom(csms, sid, "UpperThreshold", 900, 5)
    await base(csms, sid, "All")
    assert monitor_ids(await report(csms, sid, 2)) == [1, 100, 200, 300, mine]
    assert await active(csms, sid, "ActiveMonitoringBase") == "All"
    await base(csms, sid, "FactoryDefault")
    assert monitor_ids(await report(csms, sid, 3)) == [1, 100]
    await base(csms, sid, "HardWiredOnly")
    assert monitor_ids(await report(csms, sid, 4)) == [100]
    assert await active(csms, sid, "MonitoringBase") == "HardWiredOnly"


async def test_replaced_preconfigured_monitor_becomes_custom_and_all_keeps_it(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """N04.FR.15, N03.FR.03: a replaced preconfigured monitor is a CustomMonitor, and the base
    All leaves it as it is; FactoryDefault removes it, All brings the preconfigured one back."""
    station = await started(make_station, csms)
    sid = station.config.id
    await base(csms, sid, "All")
    item = {
        "id": 200,
        "component": {"name": "ChargingStation"},
        "variable": {"name": "AvailabilityState"},
        "type": "Delta",
        "value": 1,
        "severity": 2,
    }
    response = await csms.send(sid, "SetVariableMonitoring", {"setMonitoringData": [item]})
    assert response["setMonitoringResult"][0]["status"] == "Accepted"
    await base(csms, sid, "All")
    station_only = [{"component": {"name": "ChargingStation"}, "variable": item["variable"]}]
    (part,) = await report(csms, sid, 7, componentVariable=station_only)
    assert part["monitor"][0]["variableMonitoring"] == [
        {"id": 200, "transaction": False, "value": 1, "type": "Delta", "severity": 2}
    ]
    change = {"operationalStatus": "Inoperative"}
    assert (await csms.send(sid, "ChangeAvailability", change))["status"] == "Accepted"

    def events_of_200() -> list[dict[str, Any]]:
        return [
            e
            for n in csms.received("NotifyEvent", sid)
            for e in n["eventData"]
            if e["variableMonitoringId"] == 200
        ]

    (event,) = await csms.wait_for(events_of_200)
    assert (event["eventNotificationType"], event["actualValue"]) == (
        "CustomMonitor",
        "Unavailable",
    )
    await base(csms, sid, "FactoryDefault")
    assert monitor_ids(await report(csms, sid, 8)) == [1, 100]
    await base(csms, sid, "All")
    (part,) = await report(csms, sid, 9, componentVariable=station_only)
    assert part["monitor"][0]["variableMonitoring"] == [
        {"id": 200, "transaction": False, "value": 1, "type": "Delta", "severity": 6}
    ]


async def test_monitoring_level_restricts_notify_event(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """N05.FR.01-03, N07.FR.15: only monitors with a severity number at most the level are
    reported to the CSMS; the local publication (event_data) still comes."""
    station = await started(make_station, csms)
    sid = station.config.id
    published: list[Any] = []
    station.subscribe(lambda topic, data: published.append(data) if topic == "event_data" else None)
    assert await csms.send(sid, "SetMonitoringLevel", {"severity": 10}) == {
        "status": "Rejected",
        "statusInfo": {"reasonCode": "ValueOutOfRange", "additionalInfo": "severity 10 is not 0-9"},
    }
    assert await csms.send(sid, "SetMonitoringLevel", {"severity": 4}) == {"status": "Accepted"}
    assert await active(csms, sid, "ActiveMonitoringLevel") == "4"
    quiet = await custom(csms, sid, "Delta", 0, 5)
    loud = await custom(csms, sid, "Delta", 0, 4)
    item = {**HEARTBEAT, "attributeValue": "120"}
    await csms.send(sid, "SetVariables", {"setVariableData": [item]})
    (notify,) = await csms.wait_received("NotifyEvent", station=sid)
    assert [e["variableMonitoringId"] for e in notify["eventData"]] == [loud]
    await csms.wait_for(lambda: len(published) >= 2)
    assert {e["variableMonitoringId"] for e in published} == {quiet, loud}


async def test_clear_variable_monitoring_statuses(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """N06.FR.01-05: Accepted (the monitor is gone), NotFound, Rejected for a hard-wired one."""
    station = await started(make_station, csms)
    sid = station.config.id
    mine = await custom(csms, sid, "Delta", 0, 5)
    response = await csms.send(sid, "ClearVariableMonitoring", {"id": [mine, 9999, 100, 1]})
    results = response["clearMonitoringResult"]
    assert [(r["id"], r["status"]) for r in results] == [
        (mine, "Accepted"),
        (9999, "NotFound"),
        (100, "Rejected"),  # hard-wired
        (1, "Accepted"),  # preconfigured: may be cleared
    ]
    assert results[1]["statusInfo"]["reasonCode"] == "NotFound"
    assert monitor_ids(await report(csms, sid, 5)) == [100]
    again = await csms.send(sid, "ClearVariableMonitoring", {"id": [mine]})
    assert again["clearMonitoringResult"][0]["status"] == "NotFound"
    item = {**HEARTBEAT, "attributeValue": "120"}
    await csms.send(sid, "SetVariables", {"setVariableData": [item]})
    sim(station).fault(1, "X")  # something that does fire, after the cleared one would have
    notify = await csms.wait_received("NotifyEvent", station=sid)
    assert [e["variableMonitoringId"] for n in notify for e in n["eventData"]] == [100]


async def test_monitoring_report_in_parts_and_filters(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """N02.FR.03/04/09: parts of at most ItemsPerMessage[GetReport] items, seqNo from 0, tbc on
    all but the last; N02.FR.06/08/12-14/16/18 filters; N02.FR.10 EmptyResultSet."""
    station = await started(
        make_station, csms, device_model={"DeviceDataCtrlr.ItemsPerMessage[GetReport]": 2}
    )
    sid = station.config.id
    await base(csms, sid, "All")
    threshold = await custom(csms, sid, "UpperThreshold", 900, 5)
    periodic = await custom(csms, sid, "Periodic", 3600, 6)
    parts = await report(csms, sid, 42)
    assert [(p["seqNo"], p["tbc"], p["requestId"]) for p in parts] == [
        (0, True, 42),
        (1, True, 42),
        (2, False, 42),
    ]
    assert [len(p["monitor"]) for p in parts] == [2, 2, 1]
    assert monitor_ids(parts) == [1, 100, 200, 300, threshold, periodic]
    heartbeat = next(
        m for p in parts for m in p["monitor"] if m["variable"] == HEARTBEAT["variable"]
    )
    assert heartbeat["component"] == HEARTBEAT["component"]
    assert heartbeat["variableMonitoring"] == [
        {
            "id": threshold,
            "transaction": False,
            "value": 900,
            "type": "UpperThreshold",
            "severity": 5,
        },
        {"id": periodic, "transaction": False, "value": 3600, "type": "Periodic", "severity": 6},
    ]
    assert monitor_ids(await report(csms, sid, 43, monitoringCriteria=["ThresholdMonitoring"])) == [
        threshold
    ]
    assert monitor_ids(await report(csms, sid, 44, monitoringCriteria=["PeriodicMonitoring"])) == [
        periodic
    ]
    assert monitor_ids(await report(csms, sid, 45, monitoringCriteria=["DeltaMonitoring"])) == [
        1,
        100,
        200,
        300,
    ]
    only_evse = [{"component": {"name": "EVSE", "evse": {"id": 1}}}]  # every variable: N02.FR.16
    assert monitor_ids(await report(csms, sid, 46, componentVariable=only_evse)) == [100]
    connectors = [{"component": {"name": "Connector"}, "variable": {"name": "AvailabilityState"}}]
    assert monitor_ids(await report(csms, sid, 47, componentVariable=connectors)) == [300]
    both = {"componentVariable": connectors, "monitoringCriteria": ["ThresholdMonitoring"]}
    response = await csms.send(sid, "GetMonitoringReport", {"requestId": 48, **both})
    assert response["status"] == "EmptyResultSet"
    assert not [p for p in csms.received("NotifyMonitoringReport", sid) if p["requestId"] == 48]


async def test_monitoring_disabled_fires_nothing(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """MonitoringCtrlr.Enabled false: no monitor fires (no NotifyEvent, no event_data) until it
    is true again."""
    station = await started(make_station, csms)
    sid = station.config.id
    published: list[Any] = []
    station.subscribe(lambda topic, data: published.append(data) if topic == "event_data" else None)
    monitor = await custom(csms, sid, "Delta", 0, 4)
    off = {"component": {"name": "MonitoringCtrlr"}, "variable": {"name": "Enabled"}}
    await csms.send(sid, "SetVariables", {"setVariableData": [{**off, "attributeValue": "false"}]})
    await csms.send(
        sid, "SetVariables", {"setVariableData": [{**HEARTBEAT, "attributeValue": "120"}]}
    )
    # a later, observable exchange: the SetVariables above were handled before this answer
    await get_variables(csms, sid, HEARTBEAT)
    assert csms.received("NotifyEvent", sid) == [] and published == []
    await csms.send(sid, "SetVariables", {"setVariableData": [{**off, "attributeValue": "true"}]})
    await csms.send(
        sid, "SetVariables", {"setVariableData": [{**HEARTBEAT, "attributeValue": "130"}]}
    )
    (notify,) = await csms.wait_received("NotifyEvent", station=sid)
    assert [e["variableMonitoringId"] for e in notify["eventData"]] == [monitor]
