"""Variable monitors set by the CSMS (N04) and the NotifyEvents they send (N07, N08), observed
through the ``ocpp``-package CSMS, the simulated controller and the station's publications.

Every firing test checks the NotifyEventRequest field by field: generatedAt, seqNo 0, tbc false,
and per EventData eventId, timestamp, trigger, cleared, actualValue, eventNotificationType,
component, variable and variableMonitoringId."""

from __future__ import annotations

from typing import Any

from support import StationFactory, sim

from ocpp_station.clock import parse_iso
from ocpp_station.csms import LocalCSMS

HEARTBEAT = ({"name": "OCPPCommCtrlr"}, {"name": "HeartbeatInterval"})


def monitor(
    component: dict[str, Any],
    variable: dict[str, Any],
    kind: str,
    value: float,
    severity: int,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "component": component,
        "variable": variable,
        "type": kind,
        "value": value,
        "severity": severity,
        **extra,
    }


async def set_monitors(csms: LocalCSMS, station: str, *items: dict[str, Any]) -> list[Any]:
    response = await csms.send(station, "SetVariableMonitoring", {"setMonitoringData": list(items)})
    results: list[dict[str, Any]] = response["setMonitoringResult"]
    return results


async def set_heartbeat(csms: LocalCSMS, station: str, value: str) -> None:
    item = {**dict(zip(("component", "variable"), HEARTBEAT)), "attributeValue": value}
    response = await csms.send(station, "SetVariables", {"setVariableData": [item]})
    assert response["setVariableResult"][0]["attributeStatus"] == "Accepted"


async def next_event(csms: LocalCSMS, station: str, count: int, monitor_id: int) -> dict[str, Any]:
    """The ``count``-th EventData of one monitor, its NotifyEventRequest checked as the first and
    only part (other monitors, e.g. the preconfigured ones, may fire meanwhile)."""

    def found() -> list[tuple[dict[str, Any], dict[str, Any]]]:
        return [
            (notify, event)
            for notify in csms.received("NotifyEvent", station)
            for event in notify["eventData"]
            if event["variableMonitoringId"] == monitor_id
        ]

    notify, event = (await csms.wait_for(lambda: len(found()) >= count and found()))[count - 1]
    assert notify["seqNo"] == 0  # N07.FR.07
    assert notify["tbc"] is False
    parse_iso(notify["generatedAt"])
    assert isinstance(event["eventId"], int)
    parse_iso(event["timestamp"])
    return dict(event)


def fired(csms: LocalCSMS, station: str, monitor_id: int) -> int:
    return sum(
        1
        for notify in csms.received("NotifyEvent", station)
        for event in notify["eventData"]
        if event["variableMonitoringId"] == monitor_id
    )


async def started(make_station: StationFactory, csms: LocalCSMS, **kwargs: Any) -> str:
    station = await make_station(**kwargs)
    await csms.wait_received("StatusNotification", station=station.config.id)
    return station.config.id


async def test_every_set_monitoring_status(csms: LocalCSMS, make_station: StationFactory) -> None:
    """N04.FR.01-18: one result per item, in order, with the item's component and variable."""
    sid = await started(make_station, csms)
    connector = {"name": "Connector", "evse": {"id": 1, "connectorId": 1}}
    availability = {"name": "AvailabilityState"}
    items = [
        monitor(*HEARTBEAT, "UpperThreshold", 600, 5),  # Accepted (N04.FR.08, .11)
        monitor({"name": "NoSuchCtrlr"}, {"name": "X"}, "Delta", 1, 5),  # N04.FR.03
        monitor({"name": "EVSE", "evse": {"id": 9}}, {"name": "Power"}, "Delta", 1, 5),
        monitor({"name": "OCPPCommCtrlr"}, {"name": "NoSuch"}, "Delta", 1, 5),  # N04.FR.04
        monitor(connector, availability, "UpperThreshold", 1, 5),  # N04.FR.05: OptionList
        monitor({"name": "TxCtrlr"}, {"name": "EVConnectionTimeOut"}, "Delta", 1, 5),
        monitor(*HEARTBEAT, "UpperThreshold", 100000, 6),  # N04.FR.06: above maxLimit
        monitor(*HEARTBEAT, "Delta", -1, 5),  # N04.FR.14
        monitor(*HEARTBEAT, "Delta", 1, 5, id=9999),  # N04.FR.13
        monitor({"name": "EVSE", "evse": {"id": 1}}, {"name": "Problem"}, "Delta", 1, 4, id=100),
        monitor(*HEARTBEAT, "UpperThreshold", 700, 5),  # N04.FR.10: same type and severity
    ]
    results = await set_monitors(csms, sid, *items)
    assert [r["status"] for r in results] == [
        "Accepted",
        "UnknownComponent",
        "UnknownComponent",
        "UnknownVariable",
        "UnsupportedMonitorType",
        "UnsupportedMonitorType",
        "Rejected",
        "Rejected",
        "Rejected",
        "Rejected",  # N04.FR.18: a hard-wired monitor
        "Duplicate",
    ]
    for item, result in zip(items, results):  # N04.FR.02
        assert (result["component"], result["variable"]) == (item["component"], item["variable"])
        assert (result["type"], result["severity"]) == (item["type"], item["severity"])
        if result["status"] == "Accepted":
            assert isinstance(result["id"], int) and "statusInfo" not in result
        else:
            assert "id" not in result and result["statusInfo"]["reasonCode"]
    # N04.FR.12: the id replaces the monitor; N04.FR.16: its variable cannot change
    first = results[0]["id"]
    again = await set_monitors(
        csms,
        sid,
        monitor(*HEARTBEAT, "UpperThreshold", 700, 5, id=first),
        monitor({"name": "ChargingStation"}, availability, "Delta", 1, 5, id=first),
    )
    assert [(r["status"], r.get("id")) for r in again] == [("Accepted", first), ("Rejected", None)]


async def test_upper_threshold_alerts_above_and_clears_at_or_below(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """N07.FR.16 (above, not on the value), N07.FR.02 (cleared), N07.FR.06."""
    sid = await started(make_station, csms)
    (result,) = await set_monitors(csms, sid, monitor(*HEARTBEAT, "UpperThreshold", 600, 4))
    await set_heartbeat(csms, sid, "600")  # on the threshold: nothing
    await set_heartbeat(csms, sid, "601")
    alert = await next_event(csms, sid, 1, result["id"])
    assert alert == {
        "eventId": alert["eventId"],
        "timestamp": alert["timestamp"],
        "trigger": "Alerting",
        "cleared": False,
        "actualValue": "601",
        "eventNotificationType": "CustomMonitor",
        "component": {"name": "OCPPCommCtrlr"},
        "variable": {"name": "HeartbeatInterval"},
        "variableMonitoringId": result["id"],
    }
    await set_heartbeat(csms, sid, "900")  # still above: nothing new
    await set_heartbeat(csms, sid, "600")
    cleared = await next_event(csms, sid, 2, result["id"])
    assert (cleared["trigger"], cleared["cleared"], cleared["actualValue"]) == (
        "Alerting",
        True,
        "600",
    )
    assert cleared["eventId"] > alert["eventId"]
    assert fired(csms, sid, result["id"]) == 2


async def test_lower_threshold_alerts_below(csms: LocalCSMS, make_station: StationFactory) -> None:
    """N07.FR.17: below the value, not on it; cleared when it is back."""
    sid = await started(make_station, csms)
    (result,) = await set_monitors(csms, sid, monitor(*HEARTBEAT, "LowerThreshold", 60, 4))
    await set_heartbeat(csms, sid, "60")
    await set_heartbeat(csms, sid, "59")
    event = await next_event(csms, sid, 1, result["id"])
    assert (event["trigger"], event["cleared"], event["actualValue"]) == ("Alerting", False, "59")
    assert event["variableMonitoringId"] == result["id"]
    await set_heartbeat(csms, sid, "61")
    event = await next_event(csms, sid, 2, result["id"])
    assert (event["cleared"], event["actualValue"]) == (True, "61")


async def test_threshold_set_on_a_value_already_beyond_it_alerts_at_once(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """N07.FR.11/16: a new (or modified) threshold is checked against the current value."""
    sid = await started(make_station, csms)
    (result,) = await set_monitors(csms, sid, monitor(*HEARTBEAT, "UpperThreshold", 100, 4))
    event = await next_event(csms, sid, 1, result["id"])  # HeartbeatInterval is 300
    assert (event["actualValue"], event["cleared"]) == ("300", False)
    await set_monitors(csms, sid, monitor(*HEARTBEAT, "UpperThreshold", 400, 4, id=result["id"]))
    event = await next_event(csms, sid, 2, result["id"])  # the new one clears the old one
    assert (event["actualValue"], event["cleared"]) == ("300", True)


async def test_numeric_delta_fires_beyond_the_value_from_the_last_event(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """N07.FR.18: more than ± value since the monitor was set or last fired."""
    sid = await started(make_station, csms)
    (result,) = await set_monitors(csms, sid, monitor(*HEARTBEAT, "Delta", 100, 5))
    await set_heartbeat(csms, sid, "350")
    await set_heartbeat(csms, sid, "400")  # exactly 100 from 300: not more
    await set_heartbeat(csms, sid, "401")
    event = await next_event(csms, sid, 1, result["id"])
    assert event == {
        "eventId": event["eventId"],
        "timestamp": event["timestamp"],
        "trigger": "Delta",
        "actualValue": "401",
        "eventNotificationType": "CustomMonitor",
        "component": {"name": "OCPPCommCtrlr"},
        "variable": {"name": "HeartbeatInterval"},
        "variableMonitoringId": result["id"],
    }
    await set_heartbeat(csms, sid, "450")  # 49 from the new reference 401
    await set_heartbeat(csms, sid, "300")
    event = await next_event(csms, sid, 2, result["id"])
    assert event["actualValue"] == "300"
    assert fired(csms, sid, result["id"]) == 2


async def test_delta_on_connector_status_fires_on_every_change_from_the_sim(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """N07.FR.19: a non-numeric variable fires on every change, whatever the value; the
    connector status the charge controller drives is an Actual value monitors see."""
    station = await make_station()
    sid = station.config.id
    await csms.wait_received("StatusNotification", station=sid)
    component = {"name": "Connector", "evse": {"id": 1, "connectorId": 1}}
    (result,) = await set_monitors(
        csms, sid, monitor(component, {"name": "AvailabilityState"}, "Delta", 1, 5)
    )
    sim(station).plug_in(1)
    event = await next_event(csms, sid, 1, result["id"])
    assert (event["trigger"], event["actualValue"]) == ("Delta", "Occupied")
    assert (event["component"], event["variable"]) == (component, {"name": "AvailabilityState"})
    assert event["variableMonitoringId"] == result["id"]
    assert "cleared" not in event
    sim(station).unplug(1)
    assert (await next_event(csms, sid, 2, result["id"]))["actualValue"] == "Available"


async def test_hard_wired_fault_monitor_carries_the_fault_code(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """A fault the charge controller reports is EVSE.Problem; its hard-wired monitor (id 100
    for EVSE 1) sends the fault code as techCode."""
    station = await make_station()
    sid = station.config.id
    await csms.wait_received("StatusNotification", station=sid)
    sim(station).fault(1, "GroundFailure")
    event = await next_event(csms, sid, 1, 100)
    assert event == {
        "eventId": event["eventId"],
        "timestamp": event["timestamp"],
        "trigger": "Delta",
        "actualValue": "true",
        "eventNotificationType": "HardWiredMonitor",
        "component": {"name": "EVSE", "evse": {"id": 1}},
        "variable": {"name": "Problem"},
        "variableMonitoringId": 100,
        "techCode": "GroundFailure",
        "techInfo": "fault GroundFailure raised",
    }
    sim(station).clear_fault(1)
    event = await next_event(csms, sid, 2, 100)
    assert (event["actualValue"], event["techCode"]) == ("false", "GroundFailure")


async def test_periodic_monitors_report_the_value_every_interval(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """N08.FR.05-07: trigger Periodic every value seconds; clock-aligned ones on the multiples
    of the interval after midnight."""
    sid = await started(make_station, csms)
    results = await set_monitors(
        csms,
        sid,
        monitor(*HEARTBEAT, "Periodic", 1, 5),
        monitor(*HEARTBEAT, "PeriodicClockAligned", 1, 6),
    )
    periodic_id, aligned_id = (r["id"] for r in results)

    def by(monitor_id: int) -> list[dict[str, Any]]:
        return [
            e
            for n in csms.received("NotifyEvent", sid)
            for e in n["eventData"]
            if e["variableMonitoringId"] == monitor_id
        ]

    await csms.wait_for(lambda: len(by(periodic_id)) >= 2 and len(by(aligned_id)) >= 2)
    for event in (*by(periodic_id)[:2], *by(aligned_id)[:2]):
        assert (event["trigger"], event["actualValue"]) == ("Periodic", "300")
        assert event["eventNotificationType"] == "CustomMonitor"
    first, second = (parse_iso(e["timestamp"]) for e in by(periodic_id)[:2])
    assert 0.5 < second - first < 2.0
    first, second = (parse_iso(e["timestamp"]) for e in by(aligned_id)[:2])
    assert round(second - first) == 1


async def test_transaction_monitor_on_hal_power_fires_only_during_a_transaction(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """A monitor with the transaction flag is active only while a transaction runs on its EVSE,
    and its event carries the transactionId; EVSE.Power is the charge controller's reading."""
    station = await make_station()
    sid = station.config.id
    await csms.wait_received("StatusNotification", station=sid)
    power = ({"name": "EVSE", "evse": {"id": 1}}, {"name": "Power"})
    results = await set_monitors(
        csms,
        sid,
        monitor(*power, "UpperThreshold", 1000, 4, transaction=True),
        monitor(*power, "UpperThreshold", 1000, 5),  # the same without the flag
    )
    with_tx, without = (r["id"] for r in results)
    sim(station).plug_in(1)
    sim(station).present_id_token(1, "CARD")
    started = await csms.wait_for(
        lambda: [e for e in csms.received("TransactionEvent", sid) if e["eventType"] == "Started"]
    )
    tx_id = started[0]["transactionInfo"]["transactionId"]
    event = await next_event(csms, sid, 1, with_tx)
    assert (event["trigger"], event["cleared"], event["transactionId"]) == (
        "Alerting",
        False,
        tx_id,
    )
    assert float(event["actualValue"]) > 1000
    plain = await next_event(csms, sid, 1, without)
    assert "transactionId" not in plain
    sim(station).unplug(1)  # the transaction ends, power drops
    back = await next_event(csms, sid, 2, without)
    assert (back["cleared"], float(back["actualValue"])) == (True, 0.0)
    assert fired(csms, sid, with_tx) == 1  # not active any more: no cleared event
