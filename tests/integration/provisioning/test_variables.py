"""Get/SetVariables, GetBaseReport and the HeartbeatInterval reaction through the independent CSMS
(the ``ocpp`` package's ChargePoint on a real websocket): use cases B01, B02, B05, B06, B07."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import sqlite3
from typing import Any

import pytest
from ocpp.exceptions import OCPPError as PackageOCPPError
from support import StationFactory

from device_model import DeviceModel
from ocpp_station import Station
from ocpp_station.csms import LocalCSMS

TWO_EVSES = [{"id": 1, "connectors": [1]}, {"id": 2, "connectors": [1, 2]}]


def cv(component: str, variable: str, **extra: Any) -> dict[str, Any]:
    """A GetVariableData / SetVariableData item (camelCase, as on the wire)."""
    comp: dict[str, Any] = {"name": component}
    var: dict[str, Any] = {"name": variable}
    if "evse" in extra:
        comp["evse"] = extra.pop("evse")
    if "var_instance" in extra:
        var["instance"] = extra.pop("var_instance")
    return {"component": comp, "variable": var, **extra}


async def online(csms: LocalCSMS, make_station: StationFactory, **kwargs: Any) -> Station:
    station = await make_station(**kwargs)
    await csms.wait_received("StatusNotification", station=station.config.id)
    return station


async def get(csms: LocalCSMS, station: Station, *items: dict[str, Any]) -> list[dict[str, Any]]:
    response = await csms.send(station.config.id, "GetVariables", {"getVariableData": list(items)})
    results: list[dict[str, Any]] = response["getVariableResult"]
    return results


async def set_(csms: LocalCSMS, station: Station, *items: dict[str, Any]) -> list[dict[str, Any]]:
    response = await csms.send(station.config.id, "SetVariables", {"setVariableData": list(items)})
    results: list[dict[str, Any]] = response["setVariableResult"]
    return results


async def test_get_variables_every_status(csms: LocalCSMS, make_station: StationFactory) -> None:
    station = await online(csms, make_station, evses=TWO_EVSES)
    results = await get(
        csms,
        station,
        cv("OCPPCommCtrlr", "HeartbeatInterval"),
        cv("NoSuchCtrlr", "HeartbeatInterval"),
        cv("OCPPCommCtrlr", "NoSuchVariable"),
        cv("OCPPCommCtrlr", "HeartbeatInterval", attributeType="Target"),
        cv("SecurityCtrlr", "BasicAuthPassword"),
        cv("EVSE", "AvailabilityState", evse={"id": 2}),
        cv("EVSE", "AvailabilityState", evse={"id": 9}),
        cv("Connector", "AvailabilityState", evse={"id": 2, "connectorId": 2}),
    )
    statuses = [r["attributeStatus"] for r in results]
    assert statuses == [
        "Accepted",
        "UnknownComponent",  # B06.FR.06
        "UnknownVariable",  # B06.FR.07
        "NotSupportedAttributeType",  # B06.FR.08
        "Rejected",  # B06.FR.09: WriteOnly
        "Accepted",
        "UnknownComponent",  # no EVSE 9
        "Accepted",
    ]
    assert results[0]["attributeValue"] == "300"  # boot interval of the default policy
    assert results[0]["attributeType"] == "Actual"  # B06.FR.03: absent means Actual
    assert results[5]["component"] == {"name": "EVSE", "evse": {"id": 2}}  # echoed (B06.FR.02)
    assert results[5]["attributeValue"] == "Available"
    for result in results[1:5] + results[6:7]:
        assert "attributeValue" not in result  # the password never leaves the station
        assert result["attributeStatusInfo"]["reasonCode"]
    assert results[4]["attributeStatusInfo"]["reasonCode"] == "WriteOnly"


async def test_set_variables_every_status(csms: LocalCSMS, make_station: StationFactory) -> None:
    station = await online(csms, make_station)
    results = await set_(
        csms,
        station,
        cv("TxCtrlr", "EVConnectionTimeOut", attributeValue="45"),
        cv("SecurityCtrlr", "SecurityProfile", attributeValue="2"),  # ReadOnly
        cv("OCPPCommCtrlr", "HeartbeatInterval", attributeValue="0"),  # minLimit 1
        cv("OCPPCommCtrlr", "HeartbeatInterval", attributeValue="86401"),  # maxLimit 86400
        cv("OCPPCommCtrlr", "HeartbeatInterval", attributeValue="ten"),
        cv("AuthCacheCtrlr", "Policy", attributeValue="CUSTOM"),  # valuesList: LRU,LFU,FIFO
        cv("NoSuchCtrlr", "Enabled", attributeValue="true"),
        cv("AuthCtrlr", "NoSuchVariable", attributeValue="true"),
        cv("TxCtrlr", "EVConnectionTimeOut", attributeType="MaxSet", attributeValue="50"),
        cv("OCPPCommCtrlr", "NetworkConfigurationPriority", attributeValue="1,0"),  # empty 1
    )
    statuses = [r["attributeStatus"] for r in results]
    assert statuses == [
        "Accepted",  # B05.FR.10
        "Rejected",  # B05.FR.09 (ReadOnly)
        "Rejected",  # B05.FR.08 (range)
        "Rejected",
        "Rejected",  # B05.FR.07 (format)
        "Rejected",
        "UnknownComponent",  # B05.FR.04
        "UnknownVariable",  # B05.FR.05
        "NotSupportedAttributeType",  # B05.FR.06
        "Rejected",  # B10.FR.02: slot 1 holds no network connection profile
    ]
    reasons = [r.get("attributeStatusInfo", {}).get("reasonCode") for r in results]
    assert reasons[1:6] == [
        "ReadOnly",
        "ValueTooLow",
        "ValueTooHigh",
        "InvalidValue",
        "InvalidValue",
    ]
    assert "valuesList" in results[5]["attributeStatusInfo"]["additionalInfo"]
    # Only the accepted values changed.
    after = await get(
        csms,
        station,
        cv("TxCtrlr", "EVConnectionTimeOut"),
        cv("SecurityCtrlr", "SecurityProfile"),
        cv("OCPPCommCtrlr", "HeartbeatInterval"),
        cv("AuthCacheCtrlr", "Policy"),
        cv("OCPPCommCtrlr", "NetworkConfigurationPriority"),
    )
    assert [r["attributeValue"] for r in after] == ["45", "1", "300", "LRU", "0"]


async def test_write_only_can_be_set_but_not_read(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await online(csms, make_station)
    new = "a-new-password-987654321"
    results = await set_(
        csms, station, cv("SecurityCtrlr", "BasicAuthPassword", attributeValue=new)
    )
    assert results[0]["attributeStatus"] == "Accepted"
    # A01: the station reconnects with the new password; read once it is back.
    await csms.wait_for(lambda: csms.connections == 2 and station.online)
    (result,) = await get(csms, station, cv("SecurityCtrlr", "BasicAuthPassword"))
    assert result["attributeStatus"] == "Rejected" and "attributeValue" not in result
    # It was stored: started again (its config still names the old password), the station
    # authenticates with the new one, the only one the CSMS now admits (A01).
    await station.stop()
    csms.policy.passwords = {"CS001": new}
    await make_station(station_id="CS001", data_dir=station.config.data_dir)
    await csms.wait_received("BootNotification", count=2)
    expected = "Basic " + base64.b64encode(f"CS001:{new}".encode()).decode()
    assert csms.auth_headers["CS001"] == expected


async def test_too_many_items_is_a_callerror(csms: LocalCSMS, make_station: StationFactory) -> None:
    station = await online(
        csms, make_station, device_model={"DeviceDataCtrlr.ItemsPerMessage[GetVariables]": 2}
    )
    assert len(await get(csms, station, *[cv("AuthCtrlr", "Enabled")] * 2)) == 2
    with pytest.raises(PackageOCPPError) as info:  # B06.FR.16
        await get(csms, station, *[cv("AuthCtrlr", "Enabled")] * 3)
    assert type(info.value).__name__ == "OccurrenceConstraintViolationError"
    assert "ItemsPerMessage" in str(info.value.description)
    assert station.connected


async def test_change_survives_a_restart(
    csms: LocalCSMS, make_station: StationFactory, short_tmp: Any
) -> None:
    first = await online(csms, make_station)
    results = await set_(
        csms,
        first,
        cv("TxCtrlr", "EVConnectionTimeOut", attributeValue="77"),
        cv("SampledDataCtrlr", "TxUpdatedMeasurands", attributeValue="Voltage,Current.Import"),
    )
    assert [r["attributeStatus"] for r in results] == ["Accepted", "Accepted"]
    await first.stop()
    await csms.wait_for(lambda: "CS001" not in csms.links)
    second = await make_station(station_id="CS001", data_dir=first.config.data_dir)
    await csms.wait_received("BootNotification", count=2)
    await csms.wait_connected("CS001")
    after = await get(
        csms,
        second,
        cv("TxCtrlr", "EVConnectionTimeOut"),
        cv("SampledDataCtrlr", "TxUpdatedMeasurands"),
    )
    assert [r["attributeValue"] for r in after] == ["77", "Voltage,Current.Import"]


def _pair(item: dict[str, Any]) -> tuple[str, str]:
    return json.dumps(item["component"], sort_keys=True), json.dumps(
        item["variable"], sort_keys=True
    )


async def test_full_inventory_report_is_the_device_model(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await online(
        csms,
        make_station,
        evses=TWO_EVSES,
        device_model={"DeviceDataCtrlr.ItemsPerMessage[GetReport]": 25},
    )
    response = await csms.send(
        "CS001", "GetBaseReport", {"requestId": 41, "reportBase": "FullInventory"}
    )
    assert response["status"] == "Accepted"  # B07.FR.01
    await csms.wait_for(
        lambda: any(p["requestId"] == 41 and not p["tbc"] for p in csms.received("NotifyReport"))
    )
    parts = [p for p in csms.received("NotifyReport") if p["requestId"] == 41]
    assert len(parts) > 1
    assert [p["seqNo"] for p in parts] == list(range(len(parts)))  # B07.FR.10
    assert [p["tbc"] for p in parts] == [True] * (len(parts) - 1) + [False]
    assert all(len(p["reportData"]) <= 25 for p in parts)
    reported = [_pair(item) for p in parts for item in p["reportData"]]
    # What a device model of this station's EVSE layout holds (built apart, in memory).
    connection = sqlite3.connect(":memory:", isolation_level=None)
    try:
        model = DeviceModel.open(connection, station.config.evse_map)
        expected = [_pair({"component": c, "variable": v}) for c, v in model.variables()]
        model.close()
    finally:
        connection.close()
    assert len(reported) == len(set(reported))  # nothing twice
    assert set(reported) == set(expected)  # B07.FR.08: the whole device model
    by_pair = {_pair(item): item for p in parts for item in p["reportData"]}
    password = by_pair[_pair(cv("SecurityCtrlr", "BasicAuthPassword"))]
    assert all("value" not in a for a in password["variableAttribute"])  # WriteOnly stays secret
    interval = by_pair[_pair(cv("OCPPCommCtrlr", "HeartbeatInterval"))]
    assert interval["variableAttribute"][0]["value"] == "300"
    assert interval["variableCharacteristics"]["dataType"] == "integer"


async def test_report_while_pending(csms: LocalCSMS, make_station: StationFactory) -> None:
    csms.policy.boot = [("Pending", 60)]
    station = await make_station()
    await csms.wait_for(lambda: station.registration == "Pending")
    response = await csms.send(
        "CS001", "GetBaseReport", {"requestId": 5, "reportBase": "SummaryInventory"}
    )
    assert response["status"] == "Accepted"
    # B02.FR.01/B02.FR.09: the report answers the CSMS, so it is sent while Pending.
    parts = await csms.wait_received("NotifyReport")
    assert parts[0]["requestId"] == 5
    assert csms.received("StatusNotification") == []
    assert csms.received("Heartbeat") == []


async def test_heartbeat_interval_change_reschedules(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    csms.policy.boot = [("Accepted", 600)]
    station = await online(csms, make_station)
    assert csms.received("Heartbeat") == []
    (result,) = await set_(
        csms, station, cv("OCPPCommCtrlr", "HeartbeatInterval", attributeValue="1")
    )
    assert result["attributeStatus"] == "Accepted"
    set_at = next(
        f.t for f in reversed(csms.frames) if f.action == "SetVariables" and f.direction == "out"
    )
    await csms.wait_received("Heartbeat", count=3, timeout=6)
    times = [f.t for f in csms.frames if f.action == "Heartbeat" and f.kind == 2]
    # The next heartbeat comes one new interval after the change, then one every interval.
    assert 0.7 <= times[0] - set_at <= 1.8, times[0] - set_at
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(0.7 <= g <= 1.8 for g in gaps), gaps
    # Back to a long interval: the heartbeats stop at once.
    (result,) = await set_(
        csms, station, cv("OCPPCommCtrlr", "HeartbeatInterval", attributeValue="3600")
    )
    assert result["attributeStatus"] == "Accepted"
    count = len(csms.received("Heartbeat"))
    await asyncio.sleep(1.5)
    assert len(csms.received("Heartbeat")) == count
