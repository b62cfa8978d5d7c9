"""ReadWrite variables a CSMS sets, and the behaviour that follows, through the CSMS and the
simulated controller (issue 14: no inert variable).  The table of
``tests/unit/device_model/test_no_inert_variable.py`` points here for the variables no other
test exercised: the meter-value settings (J01, J02), ``AuthCtrlr.DisableRemoteAuthorization``,
``SmartChargingCtrlr.Enabled``, ``OCPPCommCtrlr.QueueAllMessages``,
``ClockCtrlr.TimeAdjustmentReportingThreshold``; and the values made ReadOnly because the station
has no behaviour for them (``EVSE.AllowReset``, B11.FR.10)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from support import StationFactory, sim

from ocpp_station import Station
from ocpp_station.clock import iso, parse_iso
from ocpp_station.csms import LocalCSMS

FAST = {"SampledDataCtrlr.TxUpdatedInterval": 0, "AlignedDataCtrlr.Interval": 0}


async def online(csms: LocalCSMS, make_station: StationFactory, **kwargs: Any) -> Station:
    device_model = {**FAST, **kwargs.pop("device_model", {})}
    station = await make_station(device_model=device_model, **kwargs)
    await csms.wait_for(lambda: station.online)
    return station


async def set_var(
    csms: LocalCSMS, component: str, name: str, value: Any, evse: int | None = None
) -> dict[str, Any]:
    comp: dict[str, Any] = {"name": component}
    if evse is not None:
        comp["evse"] = {"id": evse}
    item = {"component": comp, "variable": {"name": name}, "attributeValue": str(value)}
    result = await csms.send("CS001", "SetVariables", {"setVariableData": [item]})
    answer: dict[str, Any] = result["setVariableResult"][0]
    return answer


async def accepted(csms: LocalCSMS, component: str, name: str, value: Any) -> None:
    answer = await set_var(csms, component, name, value)
    assert answer["attributeStatus"] == "Accepted", answer


def tx_events(csms: LocalCSMS, kind: str | None = None) -> list[dict[str, Any]]:
    events = csms.received("TransactionEvent", "CS001")
    return [e for e in events if kind is None or e["eventType"] == kind]


async def session(csms: LocalCSMS, station: Station, hold: float = 0.0) -> dict[str, Any]:
    """Plug in, swipe, charge ``hold`` seconds, swipe again; the Ended event."""
    sim(station).plug_in(1, 1)
    sim(station).present_id_token(1, "DRIVER")
    await csms.wait_for(lambda: tx_events(csms, "Started"))
    await asyncio.sleep(hold)
    sim(station).present_id_token(1, "DRIVER")
    await csms.wait_for(lambda: tx_events(csms, "Ended"))
    return tx_events(csms, "Ended")[-1]


def measurands(meter_values: list[dict[str, Any]], context: str) -> set[str]:
    return {
        sv.get("measurand", "Energy.Active.Import.Register")
        for mv in meter_values
        for sv in mv["sampledValue"]
        if sv["context"] == context
    }


async def test_sampled_measurands_of_the_started_and_ended_events_j02(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """SampledDataCtrlr.TxStartedMeasurands / TxUpdatedMeasurands / TxEndedMeasurands decide
    the values of the Started, Updated and Ended events (J02.FR.10/11)."""
    station = await online(csms, make_station)
    await accepted(csms, "SampledDataCtrlr", "TxStartedMeasurands", "Power.Active.Import")
    await accepted(csms, "SampledDataCtrlr", "TxUpdatedMeasurands", "Current.Import")
    await accepted(csms, "SampledDataCtrlr", "TxUpdatedInterval", 1)
    await accepted(csms, "SampledDataCtrlr", "TxEndedMeasurands", "Voltage")
    ended = await session(csms, station, hold=1.5)
    started = tx_events(csms, "Started")[0]
    assert measurands(started["meterValue"], "Transaction.Begin") == {"Power.Active.Import"}
    updated = [mv for e in tx_events(csms, "Updated") for mv in e.get("meterValue", [])]
    assert measurands(updated, "Sample.Periodic") == {"Current.Import"}
    assert measurands(ended["meterValue"], "Transaction.End") == {"Voltage"}


async def test_ev_connection_timeout_ends_an_authorization_e03_fr_05(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """TxCtrlr.EVConnectionTimeOut: a token presented without a cable counts that long; a cable
    plugged in later starts no transaction (TxStartPoint PowerPathClosed needs both)."""
    station = await online(csms, make_station)
    await accepted(csms, "TxCtrlr", "EVConnectionTimeOut", 1)
    sim(station).present_id_token(1, "DRIVER")
    await csms.wait_received("Authorize")
    await asyncio.sleep(2.0)
    sim(station).plug_in(1, 1)
    await asyncio.sleep(1.0)
    assert tx_events(csms, "Started") == []


async def test_sampled_data_disabled_sends_no_transaction_meter_values(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """SampledDataCtrlr.Enabled false: no sampled values in any TransactionEvent, not even
    with a TxUpdatedInterval."""
    station = await online(csms, make_station)
    await accepted(csms, "SampledDataCtrlr", "TxUpdatedInterval", 1)
    await accepted(csms, "SampledDataCtrlr", "Enabled", "false")
    await session(csms, station, hold=2.5)
    assert [e for e in tx_events(csms) if e.get("meterValue")] == []


async def test_aligned_measurands_and_enabled_j01(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """AlignedDataCtrlr.Measurands decides what the clock-aligned MeterValues carry;
    AlignedDataCtrlr.Enabled false stops them."""
    await online(csms, make_station, device_model={"AlignedDataCtrlr.Interval": 1})
    await accepted(csms, "AlignedDataCtrlr", "Measurands", "Voltage")
    count = len(csms.received("MeterValues"))
    await csms.wait_received("MeterValues", count + 2, "CS001", timeout=5)
    latest = csms.received("MeterValues")[-1]
    assert measurands(latest["meterValue"], "Sample.Clock") == {"Voltage"}
    await accepted(csms, "AlignedDataCtrlr", "Enabled", "false")
    await asyncio.sleep(0.2)  # a value already on its way
    count = len(csms.received("MeterValues"))
    await asyncio.sleep(2.5)
    assert len(csms.received("MeterValues")) == count


async def test_aligned_tx_ended_values_in_the_ended_event_j02(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """AlignedDataCtrlr.TxEndedInterval / TxEndedMeasurands: clock-aligned samples of the
    transaction in its Ended event (context Sample.Clock)."""
    station = await online(csms, make_station)
    await accepted(csms, "AlignedDataCtrlr", "TxEndedInterval", 1)
    await accepted(csms, "AlignedDataCtrlr", "TxEndedMeasurands", "Power.Active.Import")
    ended = await session(csms, station, hold=2.5)
    clock = [mv for mv in ended["meterValue"] if mv["sampledValue"][0]["context"] == "Sample.Clock"]
    assert len(clock) >= 2
    assert measurands(clock, "Sample.Clock") == {"Power.Active.Import"}
    assert all(mv["timestamp"].endswith(".000Z") for mv in clock)  # aligned to whole seconds


async def test_disable_remote_authorization_never_asks_the_csms(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """AuthCtrlr.DisableRemoteAuthorization true: an unknown token is refused without an
    AuthorizeRequest (only the cache and the local list count); false: the CSMS is asked."""
    station = await online(csms, make_station)
    await accepted(csms, "AuthCtrlr", "DisableRemoteAuthorization", "true")
    sim(station).plug_in(1, 1)
    sim(station).present_id_token(1, "STRANGER")
    await asyncio.sleep(1.5)
    assert csms.received("Authorize") == [] and tx_events(csms, "Started") == []
    await accepted(csms, "AuthCtrlr", "DisableRemoteAuthorization", "false")
    sim(station).present_id_token(1, "STRANGER")
    await csms.wait_for(lambda: tx_events(csms, "Started"))
    assert len(csms.received("Authorize")) == 1


async def test_smart_charging_disabled_rejects_profiles(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """SmartChargingCtrlr.Enabled false: SetChargingProfile is Rejected (NotEnabled)."""
    await online(csms, make_station)
    profile = {
        "id": 5,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [
            {
                "id": 1,
                "chargingRateUnit": "A",
                "startSchedule": iso(time.time()),
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0}],
            }
        ],
    }
    request = {"evseId": 1, "chargingProfile": profile}
    await accepted(csms, "SmartChargingCtrlr", "Enabled", "false")
    refused = await csms.send("CS001", "SetChargingProfile", request)
    assert refused["status"] == "Rejected"
    assert refused["statusInfo"]["reasonCode"] == "NotEnabled"
    await accepted(csms, "SmartChargingCtrlr", "Enabled", "true")
    assert (await csms.send("CS001", "SetChargingProfile", request))["status"] == "Accepted"


async def test_queue_all_messages_keeps_what_happened_offline(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """OCPPCommCtrlr.QueueAllMessages: false (default), clock-aligned MeterValues of an outage
    are lost; true, they are queued and delivered after the reconnect."""
    station = await online(csms, make_station, device_model={"AlignedDataCtrlr.Interval": 1})

    async def outage() -> tuple[float, float]:
        await csms.stop()
        await csms.wait_for(lambda: not station.connected)
        begin = time.time()
        await asyncio.sleep(2.5)
        end = time.time()
        await csms.start()
        await csms.wait_for(lambda: station.online)
        await asyncio.sleep(0.5)  # the queue drains
        return begin, end

    def stamped_within(window: tuple[float, float]) -> int:
        begin, end = window
        return sum(
            begin + 0.2 < parse_iso(mv["meterValue"][0]["timestamp"]) < end - 0.2
            for mv in csms.received("MeterValues")
        )

    assert stamped_within(await outage()) == 0
    await accepted(csms, "OCPPCommCtrlr", "QueueAllMessages", "true")
    window = await outage()
    await csms.wait_for(lambda: stamped_within(window) >= 1)


async def test_time_adjustment_reporting_threshold(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """ClockCtrlr.TimeAdjustmentReportingThreshold: a clock set by more than it is a security
    event SettingSystemTime (sent, critical); a smaller adjustment is not.  TimeSource is
    ReadOnly Heartbeat: the CSMS time is the station's only time source."""
    csms.policy.boot_time = iso(time.time() + 100)  # the boot moves the clock 100 s ahead
    await online(
        csms, make_station, device_model={"ClockCtrlr.TimeAdjustmentReportingThreshold": 1000}
    )

    def clock_events() -> list[dict[str, Any]]:
        sent = csms.received("SecurityEventNotification")
        return [e for e in sent if e["type"] == "SettingSystemTime"]

    # the start's StartupOfTheDevice goes first (queued before the boot): after it, nothing
    await csms.wait_received("SecurityEventNotification")
    assert clock_events() == []  # 100 s < 1000 s
    await accepted(csms, "ClockCtrlr", "TimeAdjustmentReportingThreshold", 20)
    trigger = {"requestedMessage": "Heartbeat"}
    assert (await csms.send("CS001", "TriggerMessage", trigger))["status"] == "Accepted"
    events = await csms.wait_for(clock_events)  # back by 100 s > 20 s
    assert events[0]["type"] == "SettingSystemTime"
    answer = await set_var(csms, "ClockCtrlr", "TimeSource", "NTP,Heartbeat")
    assert answer["attributeStatus"] == "Rejected"


async def test_evse_reset_follows_allow_reset_b11_fr_10(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """EVSE.AllowReset (ReadOnly, seeded by the integrator): an EVSE reset is Rejected where it
    is false (B11.FR.10, default) and Accepted where it is true."""
    await online(
        csms,
        make_station,
        evses=[{"id": 1, "connectors": [1]}, {"id": 2, "connectors": [1]}],
        device_model={"EVSE[2].AllowReset": True},
    )
    refused = await csms.send("CS001", "Reset", {"type": "Immediate", "evseId": 1})
    assert refused["status"] == "Rejected" and refused["statusInfo"]["reasonCode"]
    answer = await set_var(csms, "EVSE", "AllowReset", "true", evse=1)
    assert answer["attributeStatus"] == "Rejected"  # ReadOnly: what the hardware can do
    reset = await csms.send("CS001", "Reset", {"type": "Immediate", "evseId": 2})
    assert reset["status"] == "Accepted"
