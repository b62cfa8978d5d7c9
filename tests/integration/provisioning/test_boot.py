"""Boot, registration, heartbeat and reconnect against the independent CSMS (issue 2).

The CSMS is the ``ocpp`` package's ChargePoint on a real loopback websocket.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from ocpp.exceptions import OCPPError as PackageOCPPError
from support import PASSWORD, StationFactory, variable

from ocpp_station.csms import LocalCSMS


async def test_boot_accepted_then_status_and_heartbeats(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    csms.policy.boot = [("Accepted", 1)]
    station = await make_station(evses=[{"id": 1, "connectors": [1]}, {"id": 2, "connectors": [1]}])
    boot = (await csms.wait_received("BootNotification"))[0]
    assert boot["reason"] == "PowerUp"
    assert boot["chargingStation"] == {
        "model": "TestModel",
        "vendorName": "TestVendor",
        "serialNumber": "SN-1",
        "firmwareVersion": "1.0.0",
    }
    statuses = await csms.wait_received("StatusNotification", count=2)
    assert sorted((s["evseId"], s["connectorId"], s["connectorStatus"]) for s in statuses) == [
        (1, 1, "Available"),
        (2, 1, "Available"),
    ]
    # B01.FR.04: the interval of the response is the heartbeat interval.
    assert await variable(csms, "CS001", "OCPPCommCtrlr", "HeartbeatInterval") == "1"
    await csms.wait_received("Heartbeat", count=2, timeout=5)
    assert station.registration == "Accepted"


async def test_heartbeat_cadence(csms: LocalCSMS, make_station: StationFactory) -> None:
    csms.policy.boot = [("Accepted", 1)]
    await make_station()
    await csms.wait_received("Heartbeat", count=1, timeout=5)
    t0 = time.monotonic()
    await csms.wait_received("Heartbeat", count=4, timeout=8)
    elapsed = time.monotonic() - t0
    assert 2.5 <= elapsed <= 4.5, elapsed  # three more heartbeats one second apart


async def test_pending_then_accepted(csms: LocalCSMS, make_station: StationFactory) -> None:
    csms.policy.boot = [("Pending", 3), ("Accepted", 60)]
    station = await make_station()
    await csms.wait_received("BootNotification", count=1)
    await csms.wait_for(lambda: station.registration == "Pending")
    # B02.FR.02: while Pending the CSMS's calls are served...
    result = await csms.send(
        station.config.id,
        "GetVariables",
        {
            "getVariableData": [
                {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
            ]
        },
    )
    assert result["getVariableResult"][0]["attributeStatus"] == "Accepted"
    # ...but nothing of the station's own is sent before the next boot.
    assert csms.received("StatusNotification") == []
    assert csms.received("Heartbeat") == []
    await csms.wait_received("BootNotification", count=2, timeout=6)
    await csms.wait_received("StatusNotification")
    assert station.registration == "Accepted"


async def test_rejected_answers_security_error_then_retries(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    csms.policy.boot = [("Rejected", 2), ("Accepted", 60)]
    station = await make_station()
    await csms.wait_for(lambda: station.registration == "Rejected")
    # B03.FR.02: while Rejected every CSMS call is answered with CALLERROR SecurityError.
    with pytest.raises(PackageOCPPError) as info:
        await csms.send(station.config.id, "ClearCache", {})
    assert type(info.value).__name__ == "SecurityError"
    assert csms.received("StatusNotification") == []
    await csms.wait_received("BootNotification", count=2, timeout=6)
    await csms.wait_received("StatusNotification")


async def test_reconnect_after_drop(csms: LocalCSMS, make_station: StationFactory) -> None:
    csms.policy.boot = [("Accepted", 1)]
    station = await make_station()
    await csms.wait_received("StatusNotification")
    await csms.drop(station.config.id)
    await csms.wait_for(lambda: csms.connections >= 2, timeout=10)
    await csms.wait_connected(station.config.id)
    beats = len(csms.received("Heartbeat"))
    await csms.wait_received("Heartbeat", count=beats + 1, timeout=5)
    # Already registered: a reconnect is no new boot.
    assert len(csms.received("BootNotification")) == 1


async def test_basic_auth_checked_by_csms(csms: LocalCSMS, make_station: StationFactory) -> None:
    csms.policy.passwords = {"CS001": PASSWORD, "CS002": "another-password-0000"}
    good = await make_station(station_id="CS001")
    bad = await make_station(station_id="CS002")
    await csms.wait_received("BootNotification", station="CS001")
    assert good.connected
    assert csms.auth_headers["CS001"] is not None
    assert csms.auth_headers["CS001"].startswith("Basic ")
    await asyncio.sleep(1.0)
    assert not bad.connected
    assert csms.received("BootNotification", station="CS002") == []
