"""The engine's cable lock (E05.FR.11, E06.FR.10, E07.FR.07, E09.FR.02/03, E10.FR.01), the start
gate of an unusable EVSE (G03), numberOfPhasesUsed (E02.FR.18/19), the chargingState of a
triggered event (F06.FR.07) and the TxEndedInterval samples of the Ended event (J02)."""

from __future__ import annotations

import itertools
import json
from typing import Any

from hal.types import MeterReading
from ocpp_station.blocks.transactions.engine import (
    EvseTransaction,
    Output,
    SendTransactionEvent,
    SetLock,
    SetPower,
    TxConfig,
)

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
TOKEN = {"idToken": "ABC123", "type": "ISO14443"}
OTHER = {"idToken": "XYZ999", "type": "ISO14443"}


def cfg(
    start: str = "PowerPathClosed", stop: str = "EVConnected,Authorized", **kw: Any
) -> TxConfig:
    return TxConfig(frozenset(start.split(",")), frozenset(stop.split(",")), **kw)


def reading(energy: float = 1000.0, power: float = 0.0, phases: int = 3) -> MeterReading:
    amps = power / phases / 230 if power else 0.0
    currents = tuple(amps if i < phases else 0.0 for i in range(3))
    return MeterReading(1, energy, power, (currents[0], currents[1], currents[2]), (230.0,) * 3)


def new_evse() -> EvseTransaction:
    counter = itertools.count(1)
    return EvseTransaction(1, new_transaction_id=lambda: f"tx-{next(counter)}")


def locks(outs: list[Output]) -> list[tuple[int, bool]]:
    return [(o.connector, o.locked) for o in outs if isinstance(o, SetLock)]


def events(outs: list[Output]) -> list[dict[str, Any]]:
    return [o.payload for o in outs if isinstance(o, SendTransactionEvent)]


def charging(e: EvseTransaction, c: TxConfig, connector: int = 2) -> list[Output]:
    """Plug into ``connector``, authorize TOKEN, let the EV draw 11 kW on three phases."""
    out = e.plug(connector, True, T0 + 1, c)
    out += e.pilot("B", T0 + 2, c)
    out += e.authorized(TOKEN, T0 + 3, c)
    out += e.pilot("C", T0 + 4, c)
    out += e.contactor(True, T0 + 5, c)
    out += e.meter(reading(1000.0, 11_000.0), T0 + 6, c)
    return out


# -- the cable lock -------------------------------------------------------------------------


def test_cable_locked_with_the_authorization_before_energy_is_offered() -> None:
    c = cfg()
    e = new_evse()
    assert locks(e.plug(2, True, T0, c)) == []  # a cable alone is not locked
    out = e.authorized(TOKEN, T0 + 1, c)
    assert locks(out) == [(2, True)]
    lock_at = next(i for i, o in enumerate(out) if isinstance(o, SetLock))
    power_at = next(i for i, o in enumerate(out) if isinstance(o, SetPower))
    assert lock_at < power_at  # locked first, then energy
    assert e.locked_connector == 2


def test_e07_fr_07_same_token_again_unlocks_after_the_energy_stops() -> None:
    c = cfg()
    e = new_evse()
    charging(e, c)
    out = e.authorized(TOKEN, T0 + 10, c)
    assert [p["eventType"] for p in events(out)] == ["Ended"]
    assert locks(out) == [(2, False)]
    off_at = next(i for i, o in enumerate(out) if isinstance(o, SetPower))
    unlock_at = next(i for i, o in enumerate(out) if isinstance(o, SetLock))
    assert off_at < unlock_at
    assert e.locked_connector is None


def test_e06_fr_10_remote_stop_with_evconnected_stop_point_unlocks_at_once() -> None:
    """The authorization ends (Updated, RemoteStop) while the transaction waits for the unplug:
    the cable is free to be taken (E07 alternative scenario)."""
    c = cfg(stop="EVConnected")
    e = new_evse()
    charging(e, c)
    out = e.remote_stop(T0 + 10, c)
    assert [p["eventType"] for p in events(out)] == ["Updated"]
    assert locks(out) == [(2, False)]


def test_e09_fr_02_ev_side_unplug_unlocks_when_configured() -> None:
    c = cfg(unlock_on_ev_side_disconnect=True)
    e = new_evse()
    charging(e, c)
    out = e.pilot("A", T0 + 10, c)
    assert [p["transactionInfo"].get("stoppedReason") for p in events(out)] == ["EVDisconnected"]
    assert locks(out) == [(2, False)]


def test_e09_fr_03_ev_side_unplug_keeps_the_lock_until_the_drivers_token() -> None:
    c = cfg(unlock_on_ev_side_disconnect=False)
    e = new_evse()
    charging(e, c)
    out = e.pilot("A", T0 + 10, c)
    assert [p["eventType"] for p in events(out)] == ["Ended"]
    assert locks(out) == []
    assert e.locked_connector == 2
    assert e.release_lock(OTHER, c) is None  # another token opens nothing
    assert e.authorized(OTHER, T0 + 11, c) == []  # nor starts a session on the held cable
    assert locks(e.release_lock({"idToken": "abc123", "type": "ISO14443"}, c) or []) == [(2, False)]
    assert e.release_lock(TOKEN, c) is None  # the hold is gone


def test_e10_fr_01_suspended_transaction_keeps_the_lock_until_the_token() -> None:
    c = cfg(stop="Authorized", stop_tx_on_ev_side_disconnect=False,
            unlock_on_ev_side_disconnect=False)  # fmt: skip
    e = new_evse()
    charging(e, c)
    out = e.pilot("A", T0 + 10, c)
    assert [p["eventType"] for p in events(out)] == ["Updated"]
    assert locks(out) == [] and e.locked_connector == 2
    out = e.authorized(TOKEN, T0 + 20, c)  # E07: the driver presents his token
    assert [p["eventType"] for p in events(out)] == ["Ended"]
    assert locks(out) == [(2, False)]


def test_e10_ev_side_unplug_with_unlock_on_ev_side_disconnect_opens_and_relocks() -> None:
    c = cfg(stop="Authorized", stop_tx_on_ev_side_disconnect=False,
            unlock_on_ev_side_disconnect=True)  # fmt: skip
    e = new_evse()
    charging(e, c)
    assert locks(e.pilot("A", T0 + 10, c)) == [(2, False)]
    assert locks(e.pilot("B", T0 + 11, c)) == [(2, True)]  # the EV is back: locked again


def test_e05_fr_11_invalid_id_ends_the_transaction_but_keeps_the_cable_locked() -> None:
    c = cfg()
    e = new_evse()
    charging(e, c)
    out = e.tx_response({"idTokenInfo": {"status": "Invalid"}}, T0 + 7, c, transaction_id="tx-1")
    assert [p["transactionInfo"].get("stoppedReason") for p in events(out)] == ["DeAuthorized"]
    assert locks(out) == [] and e.locked_connector == 2
    assert locks(e.release_lock(TOKEN, c) or []) == [(2, False)]


def test_unplugging_at_the_station_ends_a_hold() -> None:
    c = cfg(unlock_on_ev_side_disconnect=False)
    e = new_evse()
    charging(e, c)
    e.pilot("A", T0 + 10, c)
    assert locks(e.plug(2, False, T0 + 11, c)) == [(2, False)]
    assert e.release_lock(TOKEN, c) is None


def test_unlock_connector_ends_a_hold_and_a_reported_lock_is_taken_over() -> None:
    c = cfg(unlock_on_ev_side_disconnect=False)
    e = new_evse()
    charging(e, c)
    e.pilot("A", T0 + 10, c)
    e.unlock_command(2)  # F05
    assert e.locked_connector is None and e.release_lock(TOKEN, c) is None
    # a lock found closed that nobody wants (e.g. after a restart) is opened once
    assert locks(e.lock_reported(2, True, c)) == [(2, False)]
    assert e.lock_reported(2, False, c) == []  # an open lock is not commanded again


def test_hold_survives_a_restart() -> None:
    c = cfg(unlock_on_ev_side_disconnect=False)
    e = new_evse()
    charging(e, c)
    e.pilot("A", T0 + 10, c)
    record = json.loads(json.dumps(e.to_persist()))
    assert record["lock_owner"] == TOKEN
    restored = EvseTransaction(1, persisted=record)
    # the HAL reports the lock still closed: kept, and opened for the owner
    assert restored.lock_reported(2, True, c) == []
    assert locks(restored.release_lock(TOKEN, c) or []) == [(2, False)]


# -- Inoperative or Faulted EVSE (G03) --------------------------------------------------------


def test_no_transaction_starts_on_an_unusable_evse() -> None:
    c = cfg(start="EVConnected", stop="EVConnected")
    e = new_evse()
    e.usable = False
    assert events(e.plug(1, True, T0, c)) == []
    assert e.authorized(TOKEN, T0 + 1, c) == []  # no session is authorized there
    e.usable = True
    assert events(e.pilot("B", T0 + 2, c)) == []  # EVConnected must drop and hold again
    e.plug(1, False, T0 + 3, c)
    assert [p["eventType"] for p in events(e.plug(1, True, T0 + 4, c))] == ["Started"]


def test_a_running_transaction_is_not_ended_by_an_unusable_evse() -> None:
    c = cfg()
    e = new_evse()
    charging(e, c)
    e.usable = False  # e.g. Faulted: the fault input handles the energy
    assert e.active()
    assert events(e.meter(reading(1100.0, 11_000.0), T0 + 8, c)) == []


# -- numberOfPhasesUsed, triggered chargingState ----------------------------------------------


def test_number_of_phases_used_sent_once_known_and_again_when_it_changes() -> None:
    c = cfg(tx_updated_interval=10.0)
    e = new_evse()
    out = charging(e, c)
    assert all("numberOfPhasesUsed" not in p for p in events(out))  # no flow measured yet
    first = events(e.tick(T0 + 13, c))  # TxUpdatedInterval after the start at T0 + 3
    assert first[0]["numberOfPhasesUsed"] == 3
    assert "numberOfPhasesUsed" not in events(e.tick(T0 + 23, c))[0]
    e.meter(reading(1200.0, 3_600.0, phases=1), T0 + 25, c)
    assert events(e.tick(T0 + 33, c))[0]["numberOfPhasesUsed"] == 1


def test_f06_fr_07_triggered_event_always_carries_the_charging_state() -> None:
    c = cfg()
    e = new_evse()
    charging(e, c)
    first, second = events(e.triggered(T0 + 8, c)), events(e.triggered(T0 + 9, c))
    assert first[0]["triggerReason"] == "Trigger"
    assert first[0]["transactionInfo"]["chargingState"] == "Charging"
    assert second[0]["transactionInfo"]["chargingState"] == "Charging"


# -- TxEndedInterval samples in the Ended event (J02) ----------------------------------------


def ended_contexts(outs: list[Output]) -> list[list[str]]:
    ended = [p for p in events(outs) if p["eventType"] == "Ended"]
    return [[mv["sampledValue"][0]["context"] for mv in ended[0]["meterValue"]]]


def test_tx_ended_interval_samples_between_begin_and_end() -> None:
    c = cfg(tx_ended_interval=60.0, tx_ended_measurands=("Energy.Active.Import.Register",))
    e = new_evse()
    e.meter(reading(1000.0), T0, c)
    charging(e, c)  # the transaction starts at T0 + 3
    assert e.next_deadline() == T0 + 63
    for k, energy in ((1, 1100.0), (2, 1300.0), (3, 1500.0)):
        e.meter(reading(energy, 11_000.0), T0 + 3 + 60 * k - 1, c)
        assert e.tick(T0 + 3 + 60 * k, c) == []  # sampled, nothing sent
    out = e.authorized(TOKEN, T0 + 200, c)
    ended = next(p for p in events(out) if p["eventType"] == "Ended")
    values = [(mv["sampledValue"][0]["context"], mv["sampledValue"][0]["value"])
              for mv in ended["meterValue"]]  # fmt: skip
    assert values == [
        ("Transaction.Begin", 1000),
        ("Sample.Periodic", 1100),
        ("Sample.Periodic", 1300),
        ("Sample.Periodic", 1500),
        ("Transaction.End", 1500),
    ]


def test_tx_ended_samples_survive_a_restart_and_end_in_the_power_loss_event() -> None:
    c = cfg(tx_ended_interval=30.0)
    e = new_evse()
    e.meter(reading(1000.0), T0, c)
    charging(e, c)
    e.tick(T0 + 33, c)
    record = json.loads(json.dumps(e.to_persist()))
    assert len(record["tx"]["ended_samples"]) == 1
    restored = EvseTransaction(1, persisted=record)
    assert ended_contexts(restored.resume_after_power_loss(T0 + 40, c, still_charging=False)) == [
        ["Transaction.Begin", "Sample.Periodic", "Transaction.End"]
    ]


def test_tx_ended_samples_are_thinned_intermediate_first() -> None:
    c = cfg(tx_ended_interval=1.0)
    e = new_evse()
    charging(e, c)
    for k in range(1, 98):  # one over the 96 kept
        e.meter(reading(1000.0 + k, 11_000.0), T0 + 3 + k - 0.5, c)
        e.tick(T0 + 3 + k, c)
    kept = e.to_persist()["tx"]["ended_samples"]
    assert len(kept) == 48
    assert kept[0]["sampledValue"][0]["value"] == 1002  # the 1st, 3rd, 5th... were dropped


def test_clock_aligned_tx_ended_samples() -> None:
    c = cfg(aligned_tx_ended_interval=900.0, aligned_tx_ended_measurands=("Power.Active.Import",))
    e = new_evse()
    charging(e, c)  # starts at 00:00:03
    assert e.next_deadline() == T0 + 900
    e.tick(T0 + 900.2, c)
    out = e.authorized(TOKEN, T0 + 1000, c)
    ended = next(p for p in events(out) if p["eventType"] == "Ended")
    clock = [mv for mv in ended["meterValue"] if mv["sampledValue"][0]["context"] == "Sample.Clock"]
    assert clock == [
        {
            "timestamp": "2026-01-01T00:15:00.000Z",
            "sampledValue": [
                {
                    "value": 11000,
                    "context": "Sample.Clock",
                    "measurand": "Power.Active.Import",
                    "unitOfMeasure": {"unit": "W"},
                }
            ],
        }
    ]
