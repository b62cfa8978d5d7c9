"""Transactions and meter values as OCPP 2.0.1 says, through the CSMS (issue 14): chargingState in
a triggered TransactionEvent (F06.FR.07), numberOfPhasesUsed (E02.FR.18), no transaction on an
Inoperative EVSE (G03), GetTransactionStatus counting only transaction-related messages
(E14.FR.07/08), AlignedDataCtrlr.SendDuringIdle (J01.FR.14/20) and the
SampledDataCtrlr.TxEndedInterval samples of the Ended event (J02)."""

from __future__ import annotations

import asyncio
from typing import Any

from support import StationFactory, set_variable, sim

from ocpp_station import Station
from ocpp_station.csms import LocalCSMS

FAST = {
    "SampledDataCtrlr.TxUpdatedInterval": 0,
    "AlignedDataCtrlr.Interval": 0,
    "OCPPCommCtrlr.RetryBackOffRepeatTimes": 0,
}


async def online(
    csms: LocalCSMS, make_station: StationFactory, hal: dict[str, Any] | None = None, **dm: Any
) -> Station:
    station = await make_station(device_model={**FAST, **dm}, hal=hal)
    await csms.wait_for(lambda: station.online)
    return station


def events(csms: LocalCSMS) -> list[dict[str, Any]]:
    return csms.received("TransactionEvent", "CS001")


async def charging(csms: LocalCSMS, station: Station) -> None:
    sim(station).plug_in(1, 1)
    sim(station).present_id_token(1, "DRIVER")
    await csms.wait_for(
        lambda: any(e["transactionInfo"].get("chargingState") == "Charging" for e in events(csms))
    )


async def test_triggered_transaction_event_carries_the_charging_state_f06_fr_07(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await online(csms, make_station)
    await charging(csms, station)
    for _ in range(2):  # also when the state did not change since the last event
        count = len(events(csms))
        answer = await csms.send(
            "CS001",
            "TriggerMessage",
            {"requestedMessage": "TransactionEvent", "evse": {"id": 1}},
        )
        assert answer["status"] == "Accepted"
        await csms.wait_received("TransactionEvent", count + 1, "CS001")
        triggered = events(csms)[-1]
        assert triggered["triggerReason"] == "Trigger"
        assert triggered["transactionInfo"]["chargingState"] == "Charging"


async def test_number_of_phases_used_from_the_meter_e02_fr_18(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await online(csms, make_station, **{"SampledDataCtrlr.TxUpdatedInterval": 1})
    await charging(csms, station)
    started = events(csms)[0]
    assert "numberOfPhasesUsed" not in started  # no energy measured yet: not invented
    await csms.wait_for(lambda: any("numberOfPhasesUsed" in e for e in events(csms)))
    first = next(e for e in events(csms) if "numberOfPhasesUsed" in e)
    assert first["numberOfPhasesUsed"] == 3


async def test_number_of_phases_used_on_a_single_phase_supply(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await online(
        csms,
        make_station,
        hal={"backend": "sim", "tick": 0.05, "phases": 1},
        **{"SampledDataCtrlr.TxUpdatedInterval": 1},
    )
    await charging(csms, station)
    await csms.wait_for(lambda: any("numberOfPhasesUsed" in e for e in events(csms)))
    assert next(e for e in events(csms) if "numberOfPhasesUsed" in e)["numberOfPhasesUsed"] == 1


async def test_no_transaction_on_an_inoperative_evse_g03(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await online(csms, make_station, **{"TxCtrlr.TxStartPoint": "EVConnected"})
    answer = await csms.send(
        "CS001", "ChangeAvailability", {"operationalStatus": "Inoperative", "evse": {"id": 1}}
    )
    assert answer["status"] == "Accepted"
    await csms.wait_for(lambda: station.status()["evses"][0]["operational_status"] == "Inoperative")
    sim(station).plug_in(1, 1)
    sim(station).present_id_token(1, "DRIVER")
    await csms.wait_received("Authorize", 1, "CS001")
    await asyncio.sleep(0.3)
    assert events(csms) == []
    assert station.status()["evses"][0]["transaction"] is None
    answer = await csms.send(
        "CS001", "ChangeAvailability", {"operationalStatus": "Operative", "evse": {"id": 1}}
    )
    assert answer["status"] == "Accepted"
    sim(station).unplug(1)
    sim(station).plug_in(1, 1)  # a cable plugged in on the Operative EVSE starts one
    await csms.wait_received("TransactionEvent", 1, "CS001")
    assert events(csms)[0]["eventType"] == "Started"


async def test_get_transaction_status_counts_queued_transaction_events_e14_fr_07(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await online(csms, make_station)
    csms.policy.silent.add("TransactionEvent")  # left unanswered: stays queued
    sim(station).plug_in(1, 1)
    sim(station).present_id_token(1, "DRIVER")
    await csms.wait_received("TransactionEvent", 1, "CS001")
    answer = await csms.send("CS001", "GetTransactionStatus", {})
    assert answer == {"messagesInQueue": True}


async def test_get_transaction_status_ignores_other_queued_messages_e14_fr_08(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await online(csms, make_station)
    csms.policy.silent.add("SecurityEventNotification")  # left unanswered: stays queued
    await station.raise_security_event("SettingSystemTime", critical=True)
    await csms.wait_received("SecurityEventNotification", 1, "CS001")
    assert station.status()["queued_messages"] >= 1
    answer = await csms.send("CS001", "GetTransactionStatus", {})
    assert answer == {"messagesInQueue": False}


def clock_values(csms: LocalCSMS) -> list[dict[str, Any]]:
    return csms.received("MeterValues", "CS001")


async def test_clock_aligned_values_idle_and_in_a_transaction_by_default_j01_fr_14(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await online(csms, make_station, **{"AlignedDataCtrlr.Interval": 1})
    idle = await csms.wait_received("MeterValues", 1, "CS001", timeout=5)
    assert idle[0]["evseId"] == 1
    assert idle[0]["meterValue"][0]["sampledValue"][0]["context"] == "Sample.Clock"
    await charging(csms, station)
    count = len(clock_values(csms))
    await csms.wait_received("MeterValues", count + 1, "CS001", timeout=5)  # during it too


async def test_clock_aligned_values_switched_on_by_the_csms_start_at_their_next_instant(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """With AlignedDataCtrlr.Interval 0 the station sends none and does not poll the setting;
    a SetVariables of the interval wakes it at once: the first value comes at the next
    aligned instant (here within a second), not after some polling period."""
    await online(csms, make_station)  # (FAST: Interval 0)
    await asyncio.sleep(1.2)
    assert not clock_values(csms)
    answer = await set_variable(csms, "CS001", "AlignedDataCtrlr", "Interval", "1")
    assert answer["attributeStatus"] == "Accepted"
    await csms.wait_received("MeterValues", 1, "CS001", timeout=1.5)


async def test_send_during_idle_stops_clock_aligned_values_in_a_transaction_j01_fr_20(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await online(
        csms,
        make_station,
        **{"AlignedDataCtrlr.Interval": 1, "AlignedDataCtrlr.SendDuringIdle": True},
    )
    await csms.wait_received("MeterValues", 1, "CS001", timeout=5)  # idle: sent
    await charging(csms, station)
    await asyncio.sleep(0.05)  # a value already on its way when the session started
    count = len(clock_values(csms))
    await asyncio.sleep(2.2)
    assert len(clock_values(csms)) == count  # none while the transaction runs
    sim(station).present_id_token(1, "DRIVER")  # ends it
    await csms.wait_for(lambda: events(csms)[-1]["eventType"] == "Ended")
    await csms.wait_received("MeterValues", count + 1, "CS001", timeout=5)  # idle again


async def test_tx_ended_interval_samples_in_the_ended_event_j02(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await online(csms, make_station, **{"SampledDataCtrlr.TxEndedInterval": 1})
    await charging(csms, station)
    await asyncio.sleep(2.5)
    sim(station).present_id_token(1, "DRIVER")
    await csms.wait_for(lambda: events(csms)[-1]["eventType"] == "Ended")
    ended = events(csms)[-1]
    contexts = [mv["sampledValue"][0]["context"] for mv in ended["meterValue"]]
    assert contexts[0] == "Transaction.Begin" and contexts[-1] == "Transaction.End"
    assert set(contexts[1:-1]) == {"Sample.Periodic"} and len(contexts) >= 4
    energy = [mv["sampledValue"][0]["value"] for mv in ended["meterValue"]]
    assert energy == sorted(energy) and energy[-1] > energy[0]  # J02.FR.16: monotonic
    stamps = [mv["timestamp"] for mv in ended["meterValue"]]
    assert stamps == sorted(stamps)
