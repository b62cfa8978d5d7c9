"""Transactions, authorization, meter values and remote control end to end (issue 6).

Every test runs a real station (sim HAL) against the ``ocpp``-package CSMS (``LocalCSMS``) and
checks what the CSMS received.  Use cases: E01-E15 (transactions), C01-C12 (authorization),
F01-F05 (remote control), J01-J02 (meter values).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support import StationFactory, everest, installed_profiles, queued, sim, transaction

from ocpp_station import Station
from ocpp_station.control.server import call
from ocpp_station.csms import LocalCSMS

Summary = tuple[str, str, str | None, int]
FAST = {
    "SampledDataCtrlr.TxUpdatedInterval": 0,
    "AlignedDataCtrlr.Interval": 0,
    "OCPPCommCtrlr.RetryBackOffRepeatTimes": 0,
}


def tx_events(csms: LocalCSMS, station: str = "CS001") -> list[dict[str, Any]]:
    return csms.received("TransactionEvent", station)


def last_state(csms: LocalCSMS) -> str | None:
    events = tx_events(csms)
    return events[-1]["transactionInfo"].get("chargingState") if events else None


def last_type(csms: LocalCSMS) -> str | None:
    events = tx_events(csms)
    return str(events[-1]["eventType"]) if events else None


def summary(events: list[dict[str, Any]]) -> list[Summary]:
    return [
        (e["eventType"], e["triggerReason"], e["transactionInfo"].get("chargingState"), e["seqNo"])
        for e in events
    ]


async def wait_events(
    csms: LocalCSMS, count: int, station: str = "CS001", timeout: float = 10.0
) -> list[dict[str, Any]]:
    return await csms.wait_received("TransactionEvent", count, station, timeout)


async def started_station(
    csms: LocalCSMS, make_station: StationFactory, control: Path | None = None, **device_model: Any
) -> Station:
    station = await make_station(device_model={**FAST, **device_model}, control=control)
    await csms.wait_received("StatusNotification", station=station.config.id)
    await csms.wait_for(lambda: station.online)
    return station


def token(hal: Any, value: str = "TOKEN1") -> None:
    hal.present_id_token(1, value, "ISO14443")


# (TxStartPoint, TxStopPoint, steps): each step acts on the sim and names the events it causes,
# as (eventType, triggerReason, chargingState, seqNo).
Step = tuple[Callable[[Any], None], list[Summary]]
COMBOS: dict[str, tuple[str, str, list[Step], str]] = {
    # E02 cable first, default points: the transaction starts when both hold (E01.FR.05)
    "PowerPathClosed/EVConnected,Authorized": (
        "PowerPathClosed",
        "EVConnected,Authorized",
        [
            (lambda h: h.plug_in(1, 1), []),
            (
                token,
                [
                    ("Started", "Authorized", "EVConnected", 0),
                    ("Updated", "ChargingStateChanged", "Charging", 1),
                ],
            ),
            (lambda h: h.unplug(1), [("Ended", "EVCommunicationLost", "Idle", 2)]),
        ],
        "EVDisconnected",
    ),
    # E01.FR.01: EVConnected starts at the plug; the authorization is an Updated event
    "EVConnected/EVConnected": (
        "EVConnected",
        "EVConnected",
        [
            (lambda h: h.plug_in(1, 1), [("Started", "CablePluggedIn", "EVConnected", 0)]),
            (
                token,
                [
                    ("Updated", "Authorized", None, 1),
                    ("Updated", "ChargingStateChanged", "Charging", 2),
                ],
            ),
            (lambda h: h.unplug(1), [("Ended", "EVCommunicationLost", "Idle", 3)]),
        ],
        "EVDisconnected",
    ),
    # E03 token first; E07: the same token again ends it (stoppedReason Local)
    "Authorized/Authorized": (
        "Authorized",
        "Authorized",
        [
            (token, [("Started", "Authorized", "Idle", 0)]),
            (
                lambda h: h.plug_in(1, 1),
                [
                    ("Updated", "CablePluggedIn", "EVConnected", 1),
                    ("Updated", "ChargingStateChanged", "Charging", 2),
                ],
            ),
            (token, [("Ended", "StopAuthorized", "EVConnected", 3)]),
        ],
        "Local",
    ),
    # E01.FR.06 / E06.FR.07: energy flow starts it, the EV stopping the flow ends it
    "EnergyTransfer/EnergyTransfer": (
        "EnergyTransfer",
        "EnergyTransfer",
        [
            (lambda h: h.plug_in(1, 1), []),
            (token, [("Started", "Authorized", "Charging", 0)]),
            (lambda h: h.ev_state(1, "B"), [("Ended", "ChargingStateChanged", "EVConnected", 1)]),
        ],
        "StoppedByEV",
    ),
    # E06.FR.05: PowerPathClosed as stop point ends the transaction with the authorization
    "EVConnected/PowerPathClosed": (
        "EVConnected",
        "PowerPathClosed",
        [
            (lambda h: h.plug_in(1, 1), [("Started", "CablePluggedIn", "EVConnected", 0)]),
            (
                token,
                [
                    ("Updated", "Authorized", None, 1),
                    ("Updated", "ChargingStateChanged", "Charging", 2),
                ],
            ),
            (token, [("Ended", "StopAuthorized", "EVConnected", 3)]),
        ],
        "Local",
    ),
}


@pytest.mark.parametrize("combo", list(COMBOS))
async def test_session_per_start_and_stop_points(
    csms: LocalCSMS, make_station: StationFactory, combo: str
) -> None:
    start, stop, steps, stopped_reason = COMBOS[combo]
    station = await started_station(
        csms, make_station, **{"TxCtrlr.TxStartPoint": start, "TxCtrlr.TxStopPoint": stop}
    )
    expected: list[Summary] = []
    for act, caused in steps:
        act(sim(station))
        expected += caused
        if expected:
            await wait_events(csms, len(expected))
        assert summary(tx_events(csms)) == expected, combo
    await asyncio.sleep(0.2)  # nothing follows the Ended event
    events = tx_events(csms)
    assert summary(events) == expected
    assert len({e["transactionInfo"]["transactionId"] for e in events}) == 1
    assert events[-1]["transactionInfo"]["stoppedReason"] == stopped_reason
    assert events[0]["evse"]["id"] == 1
    # E03.FR.01: the token goes with the first event after the authorization; only once more
    # to name the token that ended it (E07.FR.02)
    with_token = [e["seqNo"] for e in events if "idToken" in e]
    assert with_token[0] == (0 if events[0]["triggerReason"] == "Authorized" else 1)
    assert events[with_token[0]]["idToken"] == {"idToken": "TOKEN1", "type": "ISO14443"}
    assert with_token[1:] == ([events[-1]["seqNo"]] if stopped_reason == "Local" else [])
    # E01.FR.16: the connector is reported once it is known
    assert [e["evse"]["connectorId"] for e in events if "connectorId" in e.get("evse", {})] == [1]
    # E06.FR.11: the Ended event carries the meter at the start and at the end
    contexts = [sv["context"] for mv in events[-1]["meterValue"] for sv in mv["sampledValue"]]
    assert contexts == ["Transaction.Begin", "Transaction.End"]
    assert all("offline" not in e for e in events)
    assert station.status()["evses"][0]["transaction"] is None


async def test_consecutive_sessions_have_own_ids_and_seq_numbers(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await started_station(csms, make_station)
    for n in range(2):
        sim(station).plug_in(1, 1)
        token(sim(station))
        await wait_events(csms, 3 * n + 2)
        sim(station).unplug(1)
        await wait_events(csms, 3 * n + 3)
    events = tx_events(csms)
    ids = [e["transactionInfo"]["transactionId"] for e in events]
    assert ids[0] == ids[1] == ids[2] != ids[3] == ids[4] == ids[5]
    assert [e["seqNo"] for e in events] == [0, 1, 2, 0, 1, 2]  # section 1.3.2.1
    assert [e["eventType"] for e in events] == ["Started", "Updated", "Ended"] * 2


async def test_ev_suspends_and_resumes(csms: LocalCSMS, make_station: StationFactory) -> None:
    station = await started_station(csms, make_station)
    sim(station).plug_in(1, 1)
    token(sim(station))
    await wait_events(csms, 2)
    sim(station).ev_state(1, "B")  # the EV stops asking for energy
    await wait_events(csms, 3)
    assert station.status()["evses"][0]["transaction"]["charging_state"] == "SuspendedEV"
    sim(station).ev_state(1, "C")  # and asks again
    await wait_events(csms, 4)
    sim(station).unplug(1)
    await wait_events(csms, 5)
    assert summary(tx_events(csms)) == [
        ("Started", "Authorized", "EVConnected", 0),
        ("Updated", "ChargingStateChanged", "Charging", 1),
        ("Updated", "ChargingStateChanged", "SuspendedEV", 2),
        ("Updated", "ChargingStateChanged", "Charging", 3),
        ("Ended", "EVCommunicationLost", "Idle", 4),
    ]


async def test_fault_suspends_the_evse_and_clearing_resumes(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await started_station(csms, make_station)
    sim(station).plug_in(1, 1)
    token(sim(station))
    await wait_events(csms, 2)
    sim(station).fault(1, "GroundFailure")
    await wait_events(csms, 3)
    assert summary(tx_events(csms))[2] == ("Updated", "AbnormalCondition", "SuspendedEVSE", 2)
    sim(station).clear_fault(1)
    await csms.wait_for(lambda: last_state(csms) == "Charging")
    resumed = summary(tx_events(csms))[3:]
    assert {s[1] for s in resumed} == {"ChargingStateChanged"}
    assert [s[3] for s in resumed] == list(range(3, 3 + len(resumed)))


# -- authorization (C01-C12) and the TransactionEventResponse (E05) ---------------------------


async def test_token_refused_by_authorize_starts_nothing(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    csms.policy.token_status["BAD"] = "Invalid"
    station = await started_station(
        csms, make_station, **{"AuthCtrlr.OfflineTxForUnknownIdEnabled": True}
    )
    sim(station).plug_in(1, 1)
    token(sim(station), "BAD")
    authorize = await csms.wait_received("Authorize")
    assert authorize[0]["idToken"] == {"idToken": "BAD", "type": "ISO14443"}  # C01.FR.01
    await asyncio.sleep(0.3)
    assert tx_events(csms) == []
    token(sim(station), "GOOD")  # another driver may still charge
    events = await wait_events(csms, 1)
    assert events[0]["idToken"]["idToken"] == "GOOD"
    sim(station).unplug(1)
    await csms.wait_for(lambda: last_type(csms) == "Ended" and queued(station) == 0)
    before = len(tx_events(csms))
    # The cache kept the refusal: offline, where even an unknown token may charge
    # (OfflineTxForUnknownIdEnabled, C15), the cached Invalid still refuses BAD (C12).
    await csms.stop()
    await csms.wait_for(lambda: not station.connected)
    sim(station).plug_in(1, 1)
    token(sim(station), "BAD")
    token(sim(station), "STRANGER")
    await csms.wait_for(lambda: transaction(station) is not None)
    await csms.start()  # back on the same port
    events = await wait_events(csms, before + 1)
    assert events[before]["idToken"]["idToken"] == "STRANGER"  # BAD, presented first, did not
    assert events[before]["offline"] is True
    assert [a["idToken"]["idToken"] for a in csms.received("Authorize")] == ["BAD", "GOOD"]


async def accepted_session_in_cache(csms: LocalCSMS, station: Station, value: str) -> int:
    """Charge once with ``value`` accepted by the CSMS, so the station's authorization cache holds
    it as Accepted (C10.FR.01: every IdTokenInfo updates the cache); returns the number of
    TransactionEvents this took, once all were answered."""
    sim(station).plug_in(1, 1)
    token(sim(station), value)
    await csms.wait_for(lambda: last_state(csms) == "Charging")
    sim(station).unplug(1)
    await csms.wait_for(lambda: last_type(csms) == "Ended" and queued(station) == 0)
    return len(tx_events(csms))


async def test_invalid_token_in_transaction_event_response_stops_the_session(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """C10: a cached Accepted token starts at once (LocalPreAuthorize); the CSMS says Invalid in
    the TransactionEventResponse: E05.FR.09 (StopTxOnInvalidId) ends the transaction."""
    station = await started_station(csms, make_station, **{"AuthCtrlr.LocalPreAuthorize": True})
    before = await accepted_session_in_cache(csms, station, "BAD")
    assert len(csms.received("Authorize")) == 1  # the first time the CSMS was asked
    csms.policy.token_status["BAD"] = "Invalid"
    responses: list[dict[str, Any]] = []
    station.subscribe(
        everest(
            lambda topic, data: (
                responses.append(data) if topic == "ocpp_transaction_event_response" else None
            )
        )
    )
    sim(station).plug_in(1, 1)
    token(sim(station), "BAD")
    await csms.wait_for(lambda: len(tx_events(csms)) > before and last_type(csms) == "Ended")
    events = tx_events(csms)[before:]
    assert len(csms.received("Authorize")) == 1  # pre-authorized from the cache
    assert events[0]["idToken"]["idToken"] == "BAD"
    # the answer to Started may come before or after the EV began to draw
    assert summary(events)[0] == ("Started", "Authorized", "EVConnected", 0)
    assert summary(events)[-1] == ("Ended", "Deauthorized", "EVConnected", len(events) - 1)
    assert {e["triggerReason"] for e in events[1:-1]} <= {"ChargingStateChanged"}
    assert events[-1]["transactionInfo"]["stoppedReason"] == "DeAuthorized"
    await csms.wait_for(lambda: sim(station).status()["evses"][0]["power_allowed"] is False)
    await csms.wait_for(lambda: len(responses) >= 2)
    assert responses[0]["original_transaction_event"]["transaction_event"] == "Started"
    # E05.FR.11: the cable stays locked for its owner, whose token opens it and does nothing else
    token(sim(station), "BAD")
    await csms.wait_for(lambda: not station.status()["evses"][0]["connectors"][0]["locked"])
    assert len(csms.received("Authorize")) == 1
    sim(station).unplug(1)
    # the cache learned the new status (C10.FR.04): the next try asks the CSMS, which refuses
    token(sim(station), "BAD")
    authorize = await csms.wait_received("Authorize", count=2)
    assert authorize[1]["idToken"] == {"idToken": "BAD", "type": "ISO14443"}
    await asyncio.sleep(0.3)
    assert len(tx_events(csms)) == before + len(events)  # and nothing starts


async def test_invalid_token_without_stop_tx_on_invalid_id_suspends(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await started_station(
        csms,
        make_station,
        **{
            "AuthCtrlr.LocalPreAuthorize": True,
            "TxCtrlr.StopTxOnInvalidId": False,
            "TxCtrlr.MaxEnergyOnInvalidId": 0,
        },
    )
    await accepted_session_in_cache(csms, station, "BAD")
    csms.policy.token_status["BAD"] = "Invalid"
    sim(station).plug_in(1, 1)
    token(sim(station), "BAD")
    # E05.FR.02: the EVSE stops the energy offer, the transaction goes on (SuspendedEVSE)
    await csms.wait_for(lambda: last_state(csms) == "SuspendedEVSE")
    await csms.wait_for(lambda: sim(station).status()["evses"][0]["power_allowed"] is False)
    count = len(tx_events(csms))
    sim(station).unplug(1)
    events = await wait_events(csms, count + 1)
    assert events[-1]["eventType"] == "Ended"
    assert events[-1]["transactionInfo"]["stoppedReason"] == "EVDisconnected"


async def test_offline_rules_cache_and_clear_cache(
    csms: LocalCSMS, make_station: StationFactory, short_tmp: Path
) -> None:
    """C12 LocalAuthorizeOffline: a cached Accepted token charges offline; an unknown one only
    with OfflineTxForUnknownIdEnabled (C15); ClearCache (C11) empties the cache.  Each token
    decision shows as a transaction (TxStartPoint/TxStopPoint Authorized: the token starts it,
    the same token again ends it); the settings change through the control socket meanwhile."""
    sock = short_tmp / "c.sock"
    station = await started_station(
        csms,
        make_station,
        control=sock,
        **{"TxCtrlr.TxStartPoint": "Authorized", "TxCtrlr.TxStopPoint": "Authorized"},
    )

    async def setting(component: str, name: str, value: str) -> None:
        item = {
            "component_variable": {"component": {"name": component}, "variable": {"name": name}}
        }
        params = {"source": "test", "requests": [{**item, "value": value}]}
        (result,) = await call(sock, "set_variables", params)
        assert result["status"] == "Accepted", result

    async def charge_once(*tokens: str) -> None:
        """Present ``tokens`` in turn; the last one must start a transaction, which it then
        ends by being presented again."""
        for value in tokens:
            token(sim(station), value)
        await csms.wait_for(lambda: transaction(station) is not None)
        token(sim(station), tokens[-1])
        await csms.wait_for(lambda: transaction(station) is None)

    await charge_once("KNOWN")  # online: asks the CSMS, the answer goes into the cache
    assert [a["idToken"]["idToken"] for a in csms.received("Authorize")] == ["KNOWN"]
    await csms.wait_for(lambda: queued(station) == 0)
    online_events = len(tx_events(csms))

    await csms.stop()  # the CSMS goes away
    await csms.wait_for(lambda: not station.connected)
    await charge_once("KNOWN")  # cached Accepted, LocalAuthorizeOffline: charges
    await charge_once("STRANGER", "KNOWN")  # unknown: refused, then the known one charges
    await setting("AuthCtrlr", "OfflineTxForUnknownIdEnabled", "true")
    await charge_once("STRANGER")  # now an unknown token charges
    await setting("AuthCtrlr", "LocalAuthorizeOffline", "false")
    await charge_once("KNOWN", "STRANGER")  # the cache no longer counts: KNOWN is refused
    await setting("AuthCtrlr", "LocalAuthorizeOffline", "true")
    # a token presented offline starts a transaction from the cache
    token(sim(station), "KNOWN")
    await csms.wait_for(lambda: transaction(station) is not None)
    await csms.start()  # back on the same port
    events = await wait_events(csms, online_events + 9)
    offline = events[online_events:]
    assert all(e["offline"] is True for e in offline)  # E04.FR.03
    started = [e["idToken"]["idToken"] for e in offline if e["eventType"] == "Started"]
    assert started == ["KNOWN", "KNOWN", "STRANGER", "STRANGER", "KNOWN"]
    assert len(csms.received("Authorize")) == 1  # nothing was sent while offline
    await csms.wait_for(lambda: queued(station) == 0)  # the answers updated the cache
    token(sim(station), "KNOWN")  # ends the last one
    await csms.wait_for(lambda: transaction(station) is None)

    # Online with LocalPreAuthorize, the cached token starts without asking the CSMS ...
    await setting("AuthCtrlr", "LocalPreAuthorize", "true")
    await charge_once("KNOWN")
    assert len(csms.received("Authorize")) == 1
    await csms.wait_for(lambda: queued(station) == 0)  # no answer refills the cache later
    # ... until ClearCache empties the cache: then the CSMS is asked again.
    assert await csms.send("CS001", "ClearCache", {}) == {"status": "Accepted"}
    await charge_once("KNOWN")
    assert len(csms.received("Authorize")) == 2
    await setting("AuthCacheCtrlr", "Enabled", "false")
    assert (await csms.send("CS001", "ClearCache", {}))["status"] == "Rejected"  # C11.FR.04


async def test_authorization_disabled_starts_without_authorize(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await started_station(csms, make_station, **{"AuthCtrlr.Enabled": False})
    sim(station).plug_in(1, 1)
    token(sim(station), "ANY")
    await wait_events(csms, 2)
    assert csms.received("Authorize") == []


# -- remote control (F01-F05) ------------------------------------------------------------------


async def test_remote_start_then_plug_then_remote_stop(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await started_station(csms, make_station)
    result = await csms.send(
        "CS001",
        "RequestStartTransaction",
        {"evseId": 1, "remoteStartId": 42, "idToken": {"idToken": "REMOTE", "type": "Central"}},
    )
    assert result == {"status": "Accepted"}
    assert csms.received("Authorize") == []  # AuthorizeRemoteStart false (F01.FR.02)
    sim(station).plug_in(1, 1)
    events = await wait_events(csms, 2)
    assert summary(events) == [
        ("Started", "RemoteStart", "EVConnected", 0),  # F02.FR.21
        ("Updated", "ChargingStateChanged", "Charging", 1),
    ]
    assert events[0]["transactionInfo"]["remoteStartId"] == 42  # F02.FR.01
    assert events[0]["idToken"] == {"idToken": "REMOTE", "type": "Central"}
    tx_id = events[0]["transactionInfo"]["transactionId"]

    # F01.FR.24-like: a second start on the busy EVSE is refused
    again = await csms.send(
        "CS001",
        "RequestStartTransaction",
        {"evseId": 1, "remoteStartId": 43, "idToken": {"idToken": "OTHER", "type": "Central"}},
    )
    assert again["status"] == "Rejected"

    status = await csms.send("CS001", "GetTransactionStatus", {"transactionId": tx_id})
    assert status == {"messagesInQueue": False, "ongoingIndicator": True}  # E14
    unlock = await csms.send("CS001", "UnlockConnector", {"evseId": 1, "connectorId": 1})
    assert unlock["status"] == "OngoingAuthorizedTransaction"  # F05.FR.02

    unknown = await csms.send("CS001", "RequestStopTransaction", {"transactionId": "nope"})
    assert unknown["status"] == "Rejected"  # F03.FR.08
    stop = await csms.send("CS001", "RequestStopTransaction", {"transactionId": tx_id})
    assert stop == {"status": "Accepted"}
    events = await wait_events(csms, 3)
    assert summary(events)[2] == ("Ended", "RemoteStop", "EVConnected", 2)  # F03.FR.02-04
    assert events[2]["transactionInfo"]["stoppedReason"] == "Remote"

    await csms.wait_for(lambda: queued(station) == 0)  # the Ended event was answered
    status = await csms.send("CS001", "GetTransactionStatus", {"transactionId": tx_id})
    assert status == {"messagesInQueue": False, "ongoingIndicator": False}
    unlock = await csms.send("CS001", "UnlockConnector", {"evseId": 1, "connectorId": 1})
    assert unlock["status"] == "Unlocked"  # F05.FR.04
    unlock = await csms.send("CS001", "UnlockConnector", {"evseId": 1, "connectorId": 9})
    assert unlock["status"] == "UnknownConnector"


async def test_remote_start_with_cable_in_and_authorized_start_point(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await started_station(csms, make_station, **{"TxCtrlr.TxStartPoint": "EVConnected"})
    sim(station).plug_in(1, 1)
    events = await wait_events(csms, 1)
    tx_id = events[0]["transactionInfo"]["transactionId"]
    result = await csms.send(
        "CS001",
        "RequestStartTransaction",
        {"remoteStartId": 7, "idToken": {"idToken": "REMOTE", "type": "Central"}},
    )
    # F01: no evseId, the station picks one; the running transaction is named (F02.FR.?)
    assert result == {"status": "Accepted", "transactionId": tx_id}
    events = await wait_events(csms, 3)
    assert summary(events)[1:] == [
        ("Updated", "RemoteStart", None, 1),
        ("Updated", "ChargingStateChanged", "Charging", 2),
    ]
    assert events[1]["transactionInfo"]["remoteStartId"] == 7


async def test_remote_start_authorized_first_when_configured(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    csms.policy.token_status["BAD"] = "Blocked"
    await started_station(csms, make_station, **{"AuthCtrlr.AuthorizeRemoteStart": True})
    result = await csms.send(
        "CS001",
        "RequestStartTransaction",
        {"evseId": 1, "remoteStartId": 1, "idToken": {"idToken": "BAD", "type": "ISO14443"}},
    )
    assert result["status"] == "Rejected"
    assert len(csms.received("Authorize")) == 1  # F01.FR.01
    result = await csms.send(
        "CS001",
        "RequestStartTransaction",
        {"evseId": 9, "remoteStartId": 2, "idToken": {"idToken": "OK", "type": "ISO14443"}},
    )
    assert result["status"] == "Rejected"  # no such EVSE


async def test_remote_start_hands_the_tx_profile_to_smart_charging(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await started_station(csms, make_station)
    profile = {
        "id": 11,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": [
            {
                "id": 1,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0}],
            }
        ],
    }
    result = await csms.send(
        "CS001",
        "RequestStartTransaction",
        {
            "evseId": 1,
            "remoteStartId": 5,
            "idToken": {"idToken": "REMOTE", "type": "Central"},
            "chargingProfile": profile,
        },
    )
    assert result["status"] == "Accepted"
    sim(station).plug_in(1, 1)
    events = await wait_events(csms, 1)
    tx_id = events[0]["transactionInfo"]["transactionId"]
    # K01 / F01.FR.11: the TxProfile belongs to the transaction the remote start began
    await csms.wait_for(lambda: sim(station).status()["evses"][0]["limit_a"] == 10.0)
    assert await installed_profiles(csms, "CS001", request_id=1) == [11]
    (report,) = csms.received("ReportChargingProfiles")
    assert report["chargingProfile"][0]["transactionId"] == tx_id


async def test_bad_remote_start_profile_is_rejected(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    await started_station(csms, make_station)
    result = await csms.send(
        "CS001",
        "RequestStartTransaction",
        {
            "evseId": 1,
            "remoteStartId": 5,
            "idToken": {"idToken": "REMOTE", "type": "Central"},
            "chargingProfile": {
                "id": 12,
                "stackLevel": 0,
                "chargingProfilePurpose": "TxDefaultProfile",  # F01.FR.08: must be TxProfile
                "chargingProfileKind": "Relative",
                "chargingSchedule": [
                    {
                        "id": 1,
                        "chargingRateUnit": "A",
                        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0}],
                    }
                ],
            },
        },
    )
    assert result["status"] == "Rejected"
    assert tx_events(csms) == []


async def test_get_transaction_status_without_id(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    await started_station(csms, make_station)
    status = await csms.send("CS001", "GetTransactionStatus", {})
    assert status == {"messagesInQueue": False}  # E14.FR.06: no ongoingIndicator without an id


async def test_request_with_bad_fields_gets_an_ocpp_error(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    await started_station(csms, make_station)
    link = csms.links["CS001"]
    await csms.send_raw("CS001", '[2,"bad-1","RequestStopTransaction",{"transactionId":12}]')
    reply = await csms.wait_for(
        lambda: [f for f in csms.frames if f.message_id == "bad-1" and f.direction == "in"]
    )
    assert reply[0].kind == 4  # CALLERROR (schema violation), the station goes on
    assert reply[0].payload[0] in ("TypeConstraintViolation", "FormatViolation")
    assert link is csms.links["CS001"]
    assert (await csms.send("CS001", "GetTransactionStatus", {}))["messagesInQueue"] is False


# -- meter values (J01, J02) and publications (seed 004) ---------------------------------------


async def test_sampled_and_clock_aligned_meter_values(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await started_station(
        csms,
        make_station,
        **{"SampledDataCtrlr.TxUpdatedInterval": 1, "AlignedDataCtrlr.Interval": 1},
    )
    await asyncio.sleep(1.2)
    idle = await csms.wait_received("MeterValues")  # J01.FR.14: idle EVSEs too
    assert idle[0]["meterValue"][0]["sampledValue"][0]["context"] == "Sample.Clock"
    sim(station).plug_in(1, 1)
    token(sim(station))
    await csms.wait_for(
        lambda: [e for e in tx_events(csms) if e["triggerReason"] == "MeterValuePeriodic"]
    )
    aligned = await csms.wait_received("MeterValues")
    periodic = next(e for e in tx_events(csms) if e["triggerReason"] == "MeterValuePeriodic")
    samples = periodic["meterValue"][0]["sampledValue"]
    assert {s["context"] for s in samples} == {"Sample.Periodic"}  # J02
    assert [s["measurand"] for s in samples] == [
        "Energy.Active.Import.Register",
        "Power.Active.Import",
    ]
    assert aligned[0]["evseId"] == 1
    clock = aligned[0]["meterValue"][0]["sampledValue"]
    assert clock[0]["context"] == "Sample.Clock"
    assert clock[0]["measurand"] == "Energy.Active.Import.Register"
    # aligned to whole seconds of the interval (J01.FR.01)
    assert aligned[0]["meterValue"][0]["timestamp"].endswith(".000Z")


async def test_publications_of_events_and_responses(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await started_station(csms, make_station)
    seen: list[tuple[str, Any]] = []
    station.subscribe(everest(lambda topic, data: seen.append((topic, data))))
    sim(station).plug_in(1, 1)
    token(sim(station))
    events = await wait_events(csms, 2)
    tx_id = events[0]["transactionInfo"]["transactionId"]
    await csms.wait_for(
        lambda: len([t for t, _ in seen if t == "ocpp_transaction_event_response"]) >= 2
    )
    published = [d for t, d in seen if t == "ocpp_transaction_event"]
    assert published[0] == {
        "transaction_event": "Started",
        "transaction_id": tx_id,
        "session_id": tx_id,
        "evse": {"id": 1, "connector_id": 1},
    }
    response = next(d for t, d in seen if t == "ocpp_transaction_event_response")
    assert response["original_transaction_event"]["transaction_event"] == "Started"
    assert response["original_transaction_event"]["transaction_id"] == tx_id
