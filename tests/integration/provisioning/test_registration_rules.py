"""Registration rules through the CSMS (issue 14; OCPP 2.0.1 B02, F06, Part 2 B 1.1):

- while Pending, RequestStartTransaction / RequestStopTransaction are Rejected (B02.FR.05);
- messages the CSMS triggers are sent while Pending (B02.FR.02 with F06), and a triggered
  BootNotification gives reason ``Triggered`` (F06);
- ``TxCtrlr.TxBeforeAcceptedEnabled`` decides whether a transaction starts before the first
  Accepted BootNotificationResponse.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from support import StationFactory, sim, variable

from ocpp_station import Station
from ocpp_station.csms import LocalCSMS

EV_CONNECTED_START = {"TxCtrlr.TxStartPoint": "EVConnected"}


async def pending(csms: LocalCSMS, make_station: StationFactory, **kwargs: Any) -> Station:
    """A station whose BootNotification the CSMS answered Pending, with no retry soon."""
    csms.policy.boot = [("Pending", 300)]
    station = await make_station(**kwargs)
    await csms.wait_for(lambda: station.registration == "Pending")
    return station


async def accept_by_trigger(csms: LocalCSMS, station: Station) -> None:
    """The CSMS now accepts, and asks for a BootNotification instead of waiting for the retry."""
    csms.policy.boot = [("Accepted", 300)]
    sid = station.config.id
    answer = await csms.send(sid, "TriggerMessage", {"requestedMessage": "BootNotification"})
    assert answer == {"status": "Accepted"}
    await csms.wait_for(lambda: station.registration == "Accepted")


def connector_status(station: Station, evse: int = 1) -> str:
    return str(station.status()["evses"][evse - 1]["connectors"][0]["status"])


async def test_remote_start_and_stop_are_rejected_while_pending_b02_fr_05(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await pending(csms, make_station)
    sid = station.config.id
    start = await csms.send(
        sid,
        "RequestStartTransaction",
        {"idToken": {"idToken": "CARD1", "type": "ISO14443"}, "remoteStartId": 7, "evseId": 1},
    )
    assert start["status"] == "Rejected"
    assert start["statusInfo"]["reasonCode"] == "CSNotAccepted"
    stop = await csms.send(sid, "RequestStopTransaction", {"transactionId": "tx-1"})
    assert stop["status"] == "Rejected"
    assert stop["statusInfo"]["reasonCode"] == "CSNotAccepted"
    assert station.status()["evses"][0]["transaction"] is None
    # Accepted: the same request is served.
    await accept_by_trigger(csms, station)
    start = await csms.send(
        sid,
        "RequestStartTransaction",
        {"idToken": {"idToken": "CARD1", "type": "ISO14443"}, "remoteStartId": 8, "evseId": 1},
    )
    assert start["status"] == "Accepted"


async def test_triggered_messages_are_sent_while_pending_f06(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await pending(csms, make_station)
    sid = station.config.id
    assert csms.received("Heartbeat", sid) == []
    assert csms.received("StatusNotification", sid) == []
    for requested in ("Heartbeat", "StatusNotification"):
        answer = await csms.send(sid, "TriggerMessage", {"requestedMessage": requested})
        assert answer == {"status": "Accepted"}
        await csms.wait_received(requested, station=sid)
    assert station.registration == "Pending"
    assert [s["connectorStatus"] for s in csms.received("StatusNotification", sid)] == ["Available"]


async def test_triggered_boot_notification_gives_reason_triggered_f06(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await pending(csms, make_station)
    sid = station.config.id
    await accept_by_trigger(csms, station)
    boots = csms.received("BootNotification", sid)
    assert [b["reason"] for b in boots] == ["PowerUp", "Triggered"]
    # Accepted now: B01.FR.05, every connector's status follows.
    await csms.wait_received("StatusNotification", station=sid)
    # Once Accepted, a BootNotification is no longer triggered (F06.FR.17).
    answer = await csms.send(sid, "TriggerMessage", {"requestedMessage": "BootNotification"})
    assert answer["status"] == "Rejected"


async def test_no_transaction_before_accepted_by_default(
    csms: LocalCSMS, make_station: StationFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """TxBeforeAcceptedEnabled false (the default): the EV plugged in while Pending starts no
    transaction and no swiped token is taken; once Accepted the transaction starts."""
    caplog.set_level(logging.INFO, logger="ocpp_station")
    station = await pending(csms, make_station, device_model=EV_CONNECTED_START)
    sid = station.config.id
    assert await variable(csms, sid, "TxCtrlr", "TxBeforeAcceptedEnabled") == "false"
    sim(station).plug_in(1, 1)
    await csms.wait_for(lambda: connector_status(station) == "Occupied")
    sim(station).present_id_token(1, "CARD1", "ISO14443")
    await csms.wait_for(lambda: "registration not Accepted yet" in caplog.text)
    assert station.status()["evses"][0]["transaction"] is None
    # nothing queued for the transaction: the one queued message is the start's security event
    # StartupOfTheDevice (critical, queued until Accepted, A04.FR.02)
    assert station.status()["queued_messages"] == 1
    await accept_by_trigger(csms, station)
    events = await csms.wait_received("TransactionEvent", station=sid)
    assert events[0]["eventType"] == "Started"
    frames = [f.action for f in csms.frames if f.direction == "in" and f.kind == 2]
    # The transaction started only after the Accepted (triggered) BootNotification.
    assert frames.index("TransactionEvent") > frames.index("BootNotification", 1)
    startup = await csms.wait_received("SecurityEventNotification", station=sid)
    assert startup[0]["type"] == "StartupOfTheDevice"


async def test_transaction_before_accepted_when_enabled(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """TxBeforeAcceptedEnabled true: the transaction starts while Pending; its events wait in
    the queue (B02.FR.02) and go once Accepted."""
    station = await pending(
        csms,
        make_station,
        device_model={**EV_CONNECTED_START, "TxCtrlr.TxBeforeAcceptedEnabled": True},
    )
    sid = station.config.id
    sim(station).plug_in(1, 1)
    await csms.wait_for(lambda: station.status()["evses"][0]["transaction"] is not None)
    tx_id = station.status()["evses"][0]["transaction"]["id"]
    assert csms.received("TransactionEvent", sid) == []  # Pending: nothing of the station's own
    await accept_by_trigger(csms, station)
    events = await csms.wait_received("TransactionEvent", station=sid)
    assert events[0]["eventType"] == "Started"
    assert events[0]["transactionInfo"]["transactionId"] == tx_id
    assert events[0]["offline"] is True  # it happened before the station was online (E04.FR.03)


async def test_tx_before_accepted_enabled_is_read_at_once(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """SetVariables TxBeforeAcceptedEnabled while Pending takes effect for the next EV."""
    station = await pending(csms, make_station, device_model=EV_CONNECTED_START)
    sid = station.config.id
    answer = await csms.send(
        sid,
        "SetVariables",
        {
            "setVariableData": [
                {
                    "component": {"name": "TxCtrlr"},
                    "variable": {"name": "TxBeforeAcceptedEnabled"},
                    "attributeValue": "true",
                }
            ]
        },
    )
    assert answer["setVariableResult"][0]["attributeStatus"] == "Accepted"
    sim(station).plug_in(1, 1)
    await csms.wait_for(lambda: station.status()["evses"][0]["transaction"] is not None)
