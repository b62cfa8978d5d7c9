"""The pure transaction engine: sessions per TxStartPoint/TxStopPoint, E05/E07/E09/E10/F01-F03."""

from __future__ import annotations

import dataclasses
import importlib.resources
import itertools
import json
from typing import Any

import jsonschema
import pytest

from hal.types import MeterReading
from ocpp_station.blocks.transactions.engine import (
    EvseTransaction,
    Output,
    SendTransactionEvent,
    SetPower,
    TransactionFinished,
    TxConfig,
    TxStateError,
)

T0 = 1_767_225_600.0
TOKEN = {"idToken": "ABC123", "type": "ISO14443"}
OTHER = {"idToken": "XYZ999", "type": "ISO14443"}
GROUP = {"idToken": "FLEET1", "type": "Central"}

_SCHEMA = json.loads(
    (
        importlib.resources.files("ocpp.v201") / "schemas" / "TransactionEventRequest.json"
    ).read_text()
)
_VALIDATOR = jsonschema.Draft6Validator(_SCHEMA, format_checker=jsonschema.FormatChecker())


def cfg(start: set[str], stop: set[str], **kw: Any) -> TxConfig:
    return TxConfig(frozenset(start), frozenset(stop), **kw)


def reading(energy: float = 1000.0, power: float = 0.0) -> MeterReading:
    amps = power / 3 / 230
    return MeterReading(1, energy, power, (amps, amps, amps), (230.0, 231.0, 229.5))


def events(outs: list[Output]) -> list[dict[str, Any]]:
    """The TransactionEvent payloads of ``outs``, each checked against the official schema."""
    payloads = [o.payload for o in outs if isinstance(o, SendTransactionEvent)]
    for p in payloads:
        _VALIDATOR.validate(p)
    return payloads


def summary(outs: list[Output]) -> list[tuple[str, str, str | None, int]]:
    return [
        (p["eventType"], p["triggerReason"], p["transactionInfo"].get("chargingState"), p["seqNo"])
        for p in events(outs)
    ]


def powers(outs: list[Output]) -> list[bool]:
    return [o.allowed for o in outs if isinstance(o, SetPower)]


def ids() -> Any:
    counter = itertools.count(1)
    return lambda: f"tx-{next(counter)}"


def new_evse() -> EvseTransaction:
    return EvseTransaction(1, new_transaction_id=ids())


# -- sessions per start/stop configuration --------------------------------------------------


def test_evconnected_evconnected_session_with_suspend_and_resume() -> None:
    c = cfg({"EVConnected"}, {"EVConnected"})
    e = new_evse()
    assert e.meter(reading(1000), T0, c) == []  # no transaction, no event
    outs = e.plug(1, True, T0 + 1, c)
    assert summary(outs) == [("Started", "CablePluggedIn", "EVConnected", 0)]
    started = events(outs)[0]
    assert started["evse"] == {"id": 1, "connectorId": 1}  # E01.FR.16
    assert "idToken" not in started  # the driver is not known yet
    sv = started["meterValue"][0]["sampledValue"][0]
    assert (sv["context"], sv["value"]) == ("Transaction.Begin", 1000)  # E02.FR.09
    assert e.pilot("B", T0 + 2, c) == []
    outs = e.authorized(TOKEN, T0 + 3, c)
    assert summary(outs) == [("Updated", "Authorized", None, 1)]  # state unchanged: not repeated
    assert events(outs)[0]["idToken"] == TOKEN and "evse" not in events(outs)[0]
    assert powers(outs) == [True]
    assert e.pilot("C", T0 + 4, c) == []  # contactor about to close
    assert summary(e.contactor(True, T0 + 5, c)) == [
        ("Updated", "ChargingStateChanged", "Charging", 2)
    ]
    assert e.meter(reading(1500, 7000), T0 + 6, c) == []
    # the EV pauses (E01.FR.19) and resumes
    assert summary(e.pilot("B", T0 + 7, c)) == [
        ("Updated", "ChargingStateChanged", "SuspendedEV", 3)
    ]
    assert e.contactor(False, T0 + 8, c) == []
    assert e.pilot("C", T0 + 9, c) == []
    assert summary(e.contactor(True, T0 + 10, c)) == [
        ("Updated", "ChargingStateChanged", "Charging", 4)
    ]
    e.meter(reading(2500, 7000), T0 + 11, c)
    outs = e.plug(1, False, T0 + 12, c)
    assert summary(outs) == [("Ended", "EVCommunicationLost", "Idle", 5)]
    ended = events(outs)[0]
    assert ended["transactionInfo"]["stoppedReason"] == "EVDisconnected"
    contexts = [mv["sampledValue"][0]["context"] for mv in ended["meterValue"]]
    assert contexts == ["Transaction.Begin", "Transaction.End"]  # E06.FR.11
    assert [mv["sampledValue"][0]["value"] for mv in ended["meterValue"]] == [1000, 2500]
    assert powers(outs) == [False]
    assert TransactionFinished("tx-1", "EVDisconnected") in outs
    assert not e.active() and e.transaction_id is None


def test_authorized_authorized_token_first_then_stop_by_same_token() -> None:
    c = cfg({"Authorized"}, {"Authorized"})
    e = new_evse()
    outs = e.authorized(TOKEN, T0, c)
    assert summary(outs) == [("Started", "Authorized", "Idle", 0)]
    assert events(outs)[0]["evse"] == {"id": 1}  # connector not known yet
    assert events(outs)[0]["idToken"] == TOKEN
    assert powers(outs) == []  # no cable: no energy offer
    outs = e.plug(1, True, T0 + 5, c)
    assert summary(outs) == [("Updated", "CablePluggedIn", "EVConnected", 1)]
    assert events(outs)[0]["evse"] == {"id": 1, "connectorId": 1}  # E01.FR.16
    assert "idToken" not in events(outs)[0]  # idToken only once (E03.FR.01)
    assert powers(outs) == [True]
    e.pilot("C", T0 + 6, c)
    assert summary(e.contactor(True, T0 + 7, c))[0][2] == "Charging"
    # the same token presented again, lower case (case-insensitive): StopAuthorized (E07)
    outs = e.authorized({"idToken": "abc123", "type": "ISO14443"}, T0 + 8, c)
    assert summary(outs) == [("Ended", "StopAuthorized", "EVConnected", 3)]
    assert events(outs)[0]["transactionInfo"]["stoppedReason"] == "Local"
    assert events(outs)[0]["idToken"]["idToken"] == "abc123"  # E07.FR.02
    assert outs[0] == SetPower(False)  # energy stops first
    # E07: unplugging after the transaction ended sends no transaction event
    assert events(e.plug(1, False, T0 + 9, c)) == []


def test_authorized_start_with_cable_already_there() -> None:
    c = cfg({"Authorized"}, {"Authorized"})
    e = new_evse()
    assert e.plug(1, True, T0, c) == []
    outs = e.authorized(TOKEN, T0 + 1, c)
    assert summary(outs) == [("Started", "Authorized", "EVConnected", 0)]
    assert events(outs)[0]["evse"] == {"id": 1, "connectorId": 1}
    assert powers(outs) == [True]


def test_power_path_closed_start_ends_on_remote_stop() -> None:
    c = cfg({"PowerPathClosed"}, {"EVConnected", "Authorized"})  # the OCPP 1.6-like setting
    e = new_evse()
    assert e.plug(1, True, T0, c) == []
    e.pilot("B", T0 + 1, c)
    outs = e.authorized(TOKEN, T0 + 2, c)
    assert summary(outs) == [("Started", "Authorized", "EVConnected", 0)]
    assert events(outs)[0]["idToken"] == TOKEN
    assert powers(outs) == [True]
    e.pilot("C", T0 + 3, c)
    assert summary(e.contactor(True, T0 + 4, c)) == [
        ("Updated", "ChargingStateChanged", "Charging", 1)
    ]
    outs = e.remote_stop(T0 + 5, c)
    assert summary(outs) == [("Ended", "RemoteStop", "EVConnected", 2)]  # F03.FR.03
    assert events(outs)[0]["transactionInfo"]["stoppedReason"] == "Remote"
    with pytest.raises(TxStateError):
        e.remote_stop(T0 + 6, c)  # F03.FR.08: nothing to stop


def test_power_path_closed_start_ends_on_unplug() -> None:
    c = cfg({"PowerPathClosed"}, {"EVConnected", "Authorized"})
    e = new_evse()
    e.authorized(TOKEN, T0, c)
    outs = e.plug(1, True, T0 + 1, c)
    assert summary(outs) == [("Started", "Authorized", "EVConnected", 0)]
    outs = e.plug(1, False, T0 + 2, c)
    assert summary(outs) == [("Ended", "EVCommunicationLost", "Idle", 1)]
    assert events(outs)[0]["transactionInfo"]["stoppedReason"] == "EVDisconnected"


def test_energy_transfer_start_and_stop() -> None:
    c = cfg({"EnergyTransfer"}, {"EnergyTransfer"})
    e = new_evse()
    e.plug(1, True, T0, c)
    outs = e.authorized(TOKEN, T0 + 1, c)
    assert events(outs) == [] and powers(outs) == [True]  # energy is offered before the start
    e.pilot("C", T0 + 2, c)
    assert e.contactor(True, T0 + 3, c) == []
    outs = e.meter(reading(1000, 7000), T0 + 4, c)
    assert summary(outs) == [("Started", "Authorized", "Charging", 0)]  # E01.FR.06
    assert events(outs)[0]["idToken"] == TOKEN
    outs = e.pilot("B", T0 + 60, c)  # energy transfer stops (E06.FR.07)
    assert summary(outs) == [("Ended", "ChargingStateChanged", "EVConnected", 1)]
    assert events(outs)[0]["transactionInfo"]["stoppedReason"] == "StoppedByEV"
    assert powers(outs) == [False]


def test_no_new_transaction_while_start_point_still_holds() -> None:
    c = cfg({"EVConnected"}, {"Authorized"})
    e = new_evse()
    assert summary(e.plug(1, True, T0, c))[0][0] == "Started"
    e.authorized(TOKEN, T0 + 1, c)
    assert summary(e.authorized(TOKEN, T0 + 2, c)) == [("Ended", "StopAuthorized", None, 2)]
    assert e.plug(1, False, T0 + 3, c) == []  # nothing is sent for the unplug
    outs = e.plug(1, True, T0 + 4, c)
    assert summary(outs) == [("Started", "CablePluggedIn", "EVConnected", 0)]
    assert events(outs)[0]["transactionInfo"]["transactionId"] == "tx-2"


def test_stop_authorized_with_evconnected_stop_point_keeps_transaction_until_unplug() -> None:
    c = cfg({"EVConnected"}, {"EVConnected"})
    e = new_evse()
    e.plug(1, True, T0, c)
    e.authorized(TOKEN, T0 + 1, c)
    e.pilot("C", T0 + 2, c)
    e.contactor(True, T0 + 3, c)
    outs = e.authorized(TOKEN, T0 + 4, c)
    assert summary(outs) == [("Updated", "StopAuthorized", "EVConnected", 3)]  # E07 alt
    assert powers(outs) == [False]
    outs = e.plug(1, False, T0 + 5, c)
    assert summary(outs) == [("Ended", "EVCommunicationLost", "Idle", 4)]
    assert events(outs)[0]["transactionInfo"]["stoppedReason"] == "Local"  # E07 diagram


def test_group_id_token_stops_authorization() -> None:
    c = cfg({"EVConnected"}, {"EVConnected", "Authorized"})
    e = new_evse()
    e.plug(1, True, T0, c)
    e.authorized(TOKEN, T0 + 1, c, group_id_token=GROUP)
    assert e.authorized({"idToken": "NOPE", "type": "ISO14443"}, T0 + 2, c) == []
    outs = e.authorized(OTHER, T0 + 3, c, group_id_token=GROUP)  # E07.FR.01 (b)
    assert summary(outs) == [("Ended", "StopAuthorized", None, 2)]
    assert events(outs)[0]["idToken"] == OTHER


# -- E05: id not accepted in the TransactionEventResponse -----------------------------------


def charging_session(c: TxConfig) -> EvseTransaction:
    e = new_evse()
    e.meter(reading(1000), T0, c)
    e.plug(1, True, T0, c)
    e.authorized(TOKEN, T0 + 1, c)
    e.pilot("C", T0 + 2, c)
    e.contactor(True, T0 + 3, c)
    return e


def test_invalid_token_ends_transaction_when_authorized_is_a_stop_point() -> None:
    c = cfg({"EVConnected"}, {"EVConnected", "Authorized"})
    e = charging_session(c)
    tid = e.transaction_id
    assert e.tx_response({"idTokenInfo": {"status": "Accepted"}}, T0 + 4, c) == []
    assert e.tx_response({}, T0 + 4, c) == []  # answer without idTokenInfo
    assert (
        e.tx_response({"idTokenInfo": {"status": "Invalid"}}, T0 + 5, c, transaction_id="old") == []
    )
    outs = e.tx_response({"idTokenInfo": {"status": "Invalid"}}, T0 + 5, c, transaction_id=tid)
    assert summary(outs) == [("Ended", "Deauthorized", "EVConnected", 3)]  # E05.FR.10
    assert events(outs)[0]["transactionInfo"]["stoppedReason"] == "DeAuthorized"
    assert powers(outs) == [False]


def test_invalid_token_deauthorizes_when_only_evconnected_is_a_stop_point() -> None:
    c = cfg({"EVConnected"}, {"EVConnected"})
    e = charging_session(c)
    outs = e.tx_response({"idTokenInfo": {"status": "Blocked"}}, T0 + 5, c)
    assert summary(outs) == [("Updated", "Deauthorized", "EVConnected", 3)]  # E05.FR.09
    outs = e.plug(1, False, T0 + 6, c)
    assert events(outs)[0]["transactionInfo"]["stoppedReason"] == "DeAuthorized"


def test_invalid_token_suspends_without_stop_tx_on_invalid_id() -> None:
    c = cfg({"EVConnected"}, {"EVConnected"}, stop_tx_on_invalid_id=False)
    e = charging_session(c)
    outs = e.tx_response({"idTokenInfo": {"status": "Invalid"}}, T0 + 5, c)
    assert summary(outs) == [("Updated", "ChargingStateChanged", "SuspendedEVSE", 3)]  # E05.FR.02
    assert powers(outs) == [False]
    assert e.active()


def test_max_energy_on_invalid_id() -> None:
    c = cfg(
        {"EVConnected"}, {"EVConnected"}, stop_tx_on_invalid_id=False, max_energy_on_invalid_id=500
    )
    e = charging_session(c)
    assert e.tx_response({"idTokenInfo": {"status": "Invalid"}}, T0 + 5, c) == []  # E05.FR.03
    assert events(e.meter(reading(1400, 7000), T0 + 6, c)) == []
    outs = e.meter(reading(1500, 7000), T0 + 7, c)
    assert summary(outs) == [("Updated", "ChargingStateChanged", "SuspendedEVSE", 3)]
    assert powers(outs) == [False]


# -- remote start / stop (F01-F03) -----------------------------------------------------------


def test_remote_start_first_with_evconnected_start_point() -> None:
    c = cfg({"EVConnected"}, {"EVConnected"})
    e = new_evse()
    assert e.remote_start(TOKEN, 42, T0, c) == []  # nothing to report yet
    with pytest.raises(TxStateError):
        e.remote_start(OTHER, 43, T0, c)  # F02.FR.26
    outs = e.plug(1, True, T0 + 1, c)
    assert summary(outs) == [("Started", "RemoteStart", "EVConnected", 0)]  # F02.FR.21
    p = events(outs)[0]
    assert p["transactionInfo"]["remoteStartId"] == 42 and p["idToken"] == TOKEN
    assert powers(outs) == [True]
    outs = e.remote_stop(T0 + 2, c)
    assert summary(outs) == [("Updated", "RemoteStop", None, 1)]  # F03.FR.02
    assert powers(outs) == [False]
    assert "remoteStartId" not in events(outs)[0]["transactionInfo"]
    outs = e.plug(1, False, T0 + 3, c)
    assert events(outs)[0]["transactionInfo"]["stoppedReason"] == "Remote"


def test_remote_start_cable_first() -> None:
    c = cfg({"EVConnected"}, {"EVConnected"})
    e = new_evse()
    e.plug(1, True, T0, c)
    assert e.accepts_remote_start()
    outs = e.remote_start(TOKEN, 7, T0 + 1, c)
    assert summary(outs) == [("Updated", "RemoteStart", None, 1)]  # F01.FR.19
    assert events(outs)[0]["transactionInfo"]["remoteStartId"] == 7  # F01.FR.25
    assert not e.accepts_remote_start()


def test_remote_start_with_authorized_start_point() -> None:
    c = cfg({"Authorized"}, {"Authorized"})
    e = new_evse()
    outs = e.remote_start(TOKEN, 5, T0, c)
    assert summary(outs) == [("Started", "RemoteStart", "Idle", 0)]
    assert events(outs)[0]["transactionInfo"]["remoteStartId"] == 5  # F02.FR.01


# -- timers ----------------------------------------------------------------------------------


def test_periodic_meter_values() -> None:
    c = cfg(
        {"EVConnected"},
        {"EVConnected"},
        tx_updated_interval=60,
        tx_updated_measurands=("Energy.Active.Import.Register", "Current.Import", "SoC"),
    )
    e = charging_session(c)
    assert e.next_deadline() == T0 + 60
    assert e.tick(T0 + 59, c) == []
    e.meter(reading(1600, 7000), T0 + 59.5, c)
    outs = e.tick(T0 + 60, c)
    assert summary(outs) == [("Updated", "MeterValuePeriodic", None, 3)]
    svs = events(outs)[0]["meterValue"][0]["sampledValue"]
    assert {sv["context"] for sv in svs} == {"Sample.Periodic"}
    assert [sv.get("phase") for sv in svs] == [None, "L1", "L2", "L3"]  # SoC is unsupported
    assert e.next_deadline() == T0 + 120
    outs = e.tick(T0 + 250, c)  # missed samples are not sent twice
    assert len(events(outs)) == 1 and e.next_deadline() == T0 + 300
    off = dataclasses.replace(c, tx_updated_measurands=())
    assert e.tick(T0 + 300, off) == []  # no measurands, nothing to send (E02.FR.10)


def test_ev_connection_timeout_ends_transaction() -> None:
    c = cfg({"Authorized"}, {"Authorized"}, ev_connection_timeout=30)
    e = new_evse()
    e.authorized(TOKEN, T0, c)
    assert e.next_deadline() == T0 + 30
    assert e.tick(T0 + 29, c) == []
    outs = e.tick(T0 + 30, c)
    assert summary(outs) == [("Ended", "EVConnectTimeout", None, 1)]  # E03.FR.05 (still Idle)
    assert events(outs)[0]["transactionInfo"]["stoppedReason"] == "Timeout"
    assert e.next_deadline() is None


def test_ev_connection_timeout_without_transaction_drops_authorization() -> None:
    c = cfg({"EVConnected"}, {"EVConnected"}, ev_connection_timeout=30)
    e = new_evse()
    e.authorized(TOKEN, T0, c)
    assert e.tick(T0 + 31, c) == [] and e.id_token is None
    outs = e.plug(1, True, T0 + 40, c)
    assert summary(outs) == [("Started", "CablePluggedIn", "EVConnected", 0)]
    assert "idToken" not in events(outs)[0] and powers(outs) == []


def test_plug_in_time_cancels_the_timeout() -> None:
    c = cfg({"Authorized"}, {"Authorized"}, ev_connection_timeout=30)
    e = new_evse()
    e.authorized(TOKEN, T0, c)
    e.plug(1, True, T0 + 10, c)
    assert e.next_deadline() is None and e.tick(T0 + 100, c) == []


# -- EV-side disconnect (E09 / E10), faults, explicit stops ----------------------------------


def test_ev_side_disconnect_stops_transaction() -> None:
    c = cfg({"Authorized"}, {"Authorized"})
    e = charging_session(c)
    outs = e.pilot("A", T0 + 5, c)  # cable pulled out of the EV, still in the socket
    assert summary(outs) == [("Ended", "EVCommunicationLost", "Idle", 2)]
    assert events(outs)[0]["transactionInfo"]["stoppedReason"] == "EVDisconnected"  # E09


def test_ev_side_disconnect_suspends_without_stop_tx_on_ev_side_disconnect() -> None:
    c = cfg({"Authorized"}, {"Authorized"}, stop_tx_on_ev_side_disconnect=False)
    e = charging_session(c)
    outs = e.pilot("A", T0 + 5, c)
    assert summary(outs) == [("Updated", "EVCommunicationLost", "Idle", 2)]  # E10
    assert powers(outs) == [False]
    outs = e.pilot("B", T0 + 6, c)
    assert summary(outs) == [("Updated", "CablePluggedIn", "EVConnected", 3)]  # E10 A1
    assert powers(outs) == [True]


def test_fault_suspends_and_resumes() -> None:
    c = cfg({"EVConnected"}, {"EVConnected"})
    e = charging_session(c)
    outs = e.fault(True, T0 + 5, c)
    assert summary(outs) == [("Updated", "AbnormalCondition", "SuspendedEVSE", 3)]
    assert powers(outs) == [False]
    assert e.fault(True, T0 + 6, c) == []
    assert e.contactor(False, T0 + 6, c) == []  # the controller opened the power path
    outs = e.fault(False, T0 + 7, c)
    assert powers(outs) == [True]
    assert summary(outs) == [("Updated", "ChargingStateChanged", "EVConnected", 4)]


def test_stop_for_immediate_reset() -> None:
    c = cfg({"EVConnected"}, {"EVConnected"})
    e = charging_session(c)
    outs = e.stop("ImmediateReset", T0 + 5, c)
    assert summary(outs) == [("Ended", "ResetCommand", "EVConnected", 3)]
    assert events(outs)[0]["transactionInfo"]["stoppedReason"] == "ImmediateReset"
    assert powers(outs) == [False]
    assert e.stop("Local", T0 + 6, c) == []  # nothing left to stop


# -- persistence and power loss --------------------------------------------------------------


def test_persist_restore_then_power_loss_ends_without_seq_gap() -> None:
    c = cfg({"EVConnected"}, {"EVConnected"})
    e = charging_session(c)
    e.meter(reading(1800, 7000), T0 + 4, c)
    assert e.seq_no == 3
    saved = json.loads(json.dumps(e.to_persist()))  # JSON-able
    restored = EvseTransaction(1, new_transaction_id=ids(), persisted=saved)
    assert restored.transaction_id == e.transaction_id and restored.seq_no == 3
    outs = restored.resume_after_power_loss(T0 + 100, c, still_charging=False)
    assert summary(outs) == [("Ended", "AbnormalCondition", "Idle", 3)]
    ended = events(outs)[0]
    assert ended["transactionInfo"]["stoppedReason"] == "PowerLoss"
    assert [mv["sampledValue"][0]["value"] for mv in ended["meterValue"]] == [1000, 1800]
    assert not restored.active()


def test_persist_restore_then_resume_continues_seq_no() -> None:
    c = cfg({"EVConnected"}, {"EVConnected"})
    e = charging_session(c)
    restored = EvseTransaction(1, persisted=json.loads(json.dumps(e.to_persist())))
    outs = restored.resume_after_power_loss(T0 + 100, c, still_charging=True)
    assert events(outs) == [] and powers(outs) == [True]
    outs = restored.pilot("B", T0 + 101, c)
    assert summary(outs) == [("Updated", "ChargingStateChanged", "SuspendedEV", 3)]


def test_corrupt_persisted_state_is_reported() -> None:
    with pytest.raises(ValueError, match="persisted state of EVSE 1"):
        EvseTransaction(1, persisted={"version": 1, "evse_id": 1})


# -- bad input -------------------------------------------------------------------------------


def test_bad_input_gets_precise_errors() -> None:
    c = cfg({"EVConnected"}, {"EVConnected"})
    e = new_evse()
    with pytest.raises(ValueError, match="pilot state"):
        e.pilot("X", T0, c)
    with pytest.raises(ValueError, match="connector"):
        e.plug(0, True, T0, c)
    with pytest.raises(ValueError, match="IdTokenEnumType"):
        e.authorized({"idToken": "A", "type": "Bogus"}, T0, c)
    with pytest.raises(ValueError, match="36"):
        e.authorized({"idToken": "A" * 37, "type": "Local"}, T0, c)
    with pytest.raises(ValueError, match="ReasonEnumType"):
        e.stop("Because", T0, c)
    with pytest.raises(ValueError, match="EVSE 2"):
        e.meter(dataclasses.replace(reading(), evse=2), T0, c)
    with pytest.raises(ValueError, match="bad value"):
        e.meter(dataclasses.replace(reading(), power_w=float("nan")), T0, c)
    with pytest.raises(ValueError, match="unknown point"):
        cfg({"Plugged"}, {"EVConnected"})
    with pytest.raises(ValueError, match="at least one"):
        cfg(set(), {"EVConnected"})
    with pytest.raises(ValueError, match=r"idTokenInfo\.status"):
        e.tx_response({"idTokenInfo": {}}, T0, c)
    bad_id = EvseTransaction(1, new_transaction_id=lambda: "x" * 40)
    with pytest.raises(ValueError, match="transaction id"):
        bad_id.plug(1, True, T0, c)


def test_transaction_ids_are_unique_uuids() -> None:
    c = cfg({"EVConnected"}, {"EVConnected"})
    e = EvseTransaction(1)
    seen = set()
    for i in range(5):
        e.plug(1, True, T0 + i, c)
        seen.add(e.transaction_id)
        e.plug(1, False, T0 + i, c)
    assert len(seen) == 5 and all(t and len(t) == 36 for t in seen)
