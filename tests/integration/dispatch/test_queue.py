"""The persistent queue end to end: a CSMS that is away, refuses or stays silent (E11-E13).

Against the ``ocpp``-package CSMS: messages are written before they are sent, delivered strictly
in order after a reconnect with ``offline`` set on those the station could not deliver while
online (E11.FR.07, E12), and a message the CSMS does not accept is retried
``MessageAttempts`` times, ``MessageAttemptInterval`` apart and growing, then dropped (E13).
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from support import StationFactory, queued, sim

from ocpp_station import Station
from ocpp_station.csms import Frame, LocalCSMS

FAST = {
    "SampledDataCtrlr.TxUpdatedInterval": 0,
    "AlignedDataCtrlr.Interval": 0,
    "OCPPCommCtrlr.RetryBackOffRepeatTimes": 0,  # reconnect every second
}


def tx_calls(frames: list[Frame]) -> list[tuple[float, dict[str, Any]]]:
    """(receive time, payload) of every TransactionEvent CALL the CSMS got."""
    return [
        (f.t, f.payload)
        for f in frames
        if f.direction == "in" and f.kind == 2 and f.action == "TransactionEvent"
    ]


async def start_session(csms: LocalCSMS, station: Station) -> None:
    await csms.wait_for(lambda: station.online)
    sim(station).plug_in(1, 1)
    sim(station).present_id_token(1, "TOKEN1", "ISO14443")


async def test_csms_away_for_part_of_a_session(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await make_station(device_model=FAST)
    await start_session(csms, station)
    await csms.wait_received("TransactionEvent", 2)  # Started, Charging: delivered online
    await csms.wait_for(lambda: queued(station) == 0)

    port = csms.port
    await csms.stop()  # the CSMS goes away
    await csms.wait_for(lambda: not station.connected)
    sim(station).ev_state(1, "B")
    await csms.wait_for(lambda: queued(station) == 1)
    sim(station).ev_state(1, "C")
    await csms.wait_for(lambda: queued(station) == 2)
    sim(station).unplug(1)
    await csms.wait_for(lambda: queued(station) == 3)  # written before any sending

    # A new CSMS on the same port: the station reconnects and delivers the rest in order.
    second = await LocalCSMS(port=port).start()
    try:
        await second.wait_for(lambda: len(tx_calls(second.frames)) >= 3 and queued(station) == 0)
        late = [p for _, p in tx_calls(second.frames)]
    finally:
        await second.stop()
    early = csms.received("TransactionEvent")
    events = early + late
    assert [e["seqNo"] for e in events] == [0, 1, 2, 3, 4]  # no gap, no repeat
    assert [e.get("offline", False) for e in events] == [False, False, True, True, True]
    assert [(e["eventType"], e["transactionInfo"].get("chargingState")) for e in events] == [
        ("Started", "EVConnected"),
        ("Updated", "Charging"),
        ("Updated", "SuspendedEV"),
        ("Updated", "Charging"),
        ("Ended", "Idle"),
    ]
    assert len({e["transactionInfo"]["transactionId"] for e in events}) == 1
    # B01: a reconnect of a registered station is no new boot; the queue waits for nothing else
    assert second.received("BootNotification") == []


async def test_events_queued_online_become_offline_when_the_connection_drops(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """E11.FR.07: a message still queued when the connection is lost is sent as offline."""
    csms.policy.silent.add("TransactionEvent")  # the Started event stays unanswered...
    station = await make_station(device_model={**FAST, "OCPPCommCtrlr.MessageTimeout[Default]": 30})
    await start_session(csms, station)
    await csms.wait_received("TransactionEvent", 1)
    assert "offline" not in csms.received("TransactionEvent")[0]
    csms.policy.silent.clear()
    await csms.drop("CS001")  # ...and the connection drops under it
    await csms.wait_for(
        lambda: len(csms.received("TransactionEvent")) >= 3 and queued(station) == 0
    )
    events = csms.received("TransactionEvent")
    # the Started again (its answer was lost with the connection), now offline, then the rest
    assert [e["seqNo"] for e in events] == [0, 0, 1]
    assert events[1]["offline"] is True
    assert events[2]["offline"] is True  # generated while its predecessor waited in the queue


async def test_callerror_is_retried_growing_then_dropped(
    csms: LocalCSMS, make_station: StationFactory, caplog: pytest.LogCaptureFixture
) -> None:
    csms.policy.errors["TransactionEvent"] = "InternalError"
    station = await make_station(
        device_model={
            **FAST,
            "OCPPCommCtrlr.MessageAttempts[TransactionEvent]": 3,
            "OCPPCommCtrlr.MessageAttemptInterval[TransactionEvent]": 1,
        }
    )
    caplog.set_level(logging.INFO)
    await start_session(csms, station)
    await csms.wait_received("TransactionEvent", 3, timeout=10)
    csms.policy.errors.clear()  # the third CALLERROR is already on its way
    await csms.wait_for(lambda: queued(station) == 0)
    calls = tx_calls(csms.frames)
    seq_nos = [p["seqNo"] for _, p in calls]
    # E13.FR.02, then strictly in order.  seqNo 1 goes out as soon as 0 is dropped, and may
    # still meet the error policy before the test clears it: then it is retried, in order.
    assert seq_nos[:3] == [0, 0, 0] and seq_nos[3:] and set(seq_nos[3:]) == {1}, seq_nos
    (t0, _), (t1, _), (t2, _) = calls[:3]
    # E13.FR.03: wait MessageAttemptInterval x preceding transmissions: 1 s, then 2 s
    assert 0.9 <= t1 - t0 < 1.8, t1 - t0
    assert 1.9 <= t2 - t1 < 2.8, t2 - t1
    assert "dropped queued TransactionEvent" in caplog.text  # E13.FR.04, with a log line
    assert "CALLERROR" in caplog.text


async def test_unanswered_message_is_retried_then_dropped(
    csms: LocalCSMS, make_station: StationFactory, caplog: pytest.LogCaptureFixture
) -> None:
    csms.policy.silent.add("TransactionEvent")
    station = await make_station(
        device_model={
            **FAST,
            "OCPPCommCtrlr.MessageTimeout[Default]": 1,
            "OCPPCommCtrlr.MessageAttempts[TransactionEvent]": 2,
            "OCPPCommCtrlr.MessageAttemptInterval[TransactionEvent]": 1,
        }
    )
    await start_session(csms, station)
    await csms.wait_received("TransactionEvent", 2, timeout=10)
    tx_id = csms.received("TransactionEvent")[0]["transactionInfo"]["transactionId"]
    # E14.FR.04: the station says it still holds messages of this transaction
    status = await csms.send("CS001", "GetTransactionStatus", {"transactionId": tx_id})
    assert status == {"messagesInQueue": True, "ongoingIndicator": True}
    csms.policy.silent.clear()
    await csms.wait_for(lambda: queued(station) == 0)
    assert [p["seqNo"] for _, p in tx_calls(csms.frames)] == [0, 0, 1]
    assert station.connected  # a silent CSMS is no lost connection
    assert "CallTimeout" in caplog.text
    assert "dropped queued TransactionEvent" in caplog.text
