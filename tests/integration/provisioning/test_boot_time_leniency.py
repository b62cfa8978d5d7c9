"""A BootNotificationResponse whose ``currentTime`` has no UTC offset still registers the station
(issue 14: several CSMSs send local time that way): status and interval are taken, the time is
read as UTC, a warning is logged.  Other answers stay strictly validated."""

from __future__ import annotations

import logging
import time

import pytest
from support import StationFactory, variable

from ocpp_station.clock import parse_iso
from ocpp_station.csms import LocalCSMS


async def station_time(csms: LocalCSMS, sid: str) -> float:
    """The station's clock as the CSMS sees it: the timestamp of a StatusNotification it asks
    for (TriggerMessage, F06)."""
    count = len(csms.received("StatusNotification", sid))
    answer = await csms.send(
        sid,
        "TriggerMessage",
        {"requestedMessage": "StatusNotification", "evse": {"id": 1, "connectorId": 1}},
    )
    assert answer == {"status": "Accepted"}
    notes = await csms.wait_received("StatusNotification", count + 1, station=sid)
    return parse_iso(notes[-1]["timestamp"])


async def test_boot_time_without_offset_registers_the_station(
    csms: LocalCSMS, make_station: StationFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="ocpp_station")
    csms.policy.boot = [("Accepted", 77)]
    csms.policy.boot_time = "2030-06-01T12:00:00"
    station = await make_station()
    sid = station.config.id
    await csms.wait_for(lambda: station.registration == "Accepted")
    assert len(csms.received("BootNotification", sid)) == 1  # not discarded and retried
    assert await variable(csms, sid, "OCPPCommCtrlr", "HeartbeatInterval") == "77"
    assert any("no UTC offset" in r.getMessage() for r in caplog.records)
    await csms.wait_received("StatusNotification", station=sid)  # B01.FR.05: online
    # read as UTC: the station's clock now runs from 2030-06-01T12:00:00Z
    assert abs(await station_time(csms, sid) - parse_iso("2030-06-01T12:00:00Z")) < 60


async def test_other_date_times_without_offset_are_still_refused(
    csms: LocalCSMS, make_station: StationFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """A Heartbeat answer with a time without offset is invalid (TypeConstraintViolation): the
    clock does not follow it."""
    caplog.set_level(logging.WARNING, logger="ocpp_station")
    station = await make_station()
    sid = station.config.id
    await csms.wait_for(lambda: station.online)
    # answer the next Heartbeat with a naive time through the CSMS's raw frame path
    csms.policy.silent.add("Heartbeat")
    answer = await csms.send(sid, "TriggerMessage", {"requestedMessage": "Heartbeat"})
    assert answer == {"status": "Accepted"}
    heartbeat = await csms.wait_for(
        lambda: [f for f in csms.frames if f.direction == "in" and f.action == "Heartbeat"]
    )
    await csms.send_raw(
        sid, f'[3,"{heartbeat[0].message_id}",{{"currentTime":"2040-01-01T00:00:00"}}]'
    )
    await csms.wait_for(
        lambda: any("Heartbeat not delivered" in r.getMessage() for r in caplog.records)
    )
    # the station's clock still runs from the BootNotificationResponse's time (now), not 2040
    assert abs(await station_time(csms, sid) - time.time()) < 60
