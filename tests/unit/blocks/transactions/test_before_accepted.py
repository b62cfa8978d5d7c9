"""TxCtrlr.TxBeforeAcceptedEnabled false: the transactions block gives the engine start points that
cannot hold on this station until the registration is Accepted (Part 2, B 1.1).  Pinned here: with
them no input starts a transaction or offers energy, and the engine still follows the EVSE, so
the real start points start one afterwards."""

from __future__ import annotations

import dataclasses
import sqlite3

from device_model import DeviceModel
from hal.types import MeterReading
from ocpp_station.blocks.transactions.config import NO_START_BEFORE_ACCEPTED, TxSettings
from ocpp_station.blocks.transactions.engine import (
    EvseTransaction,
    SendTransactionEvent,
    SetPower,
    TxConfig,
)

T0 = 1_767_225_600.0
TOKEN = {"idToken": "ABC123", "type": "ISO14443"}


def reading(power_w: float) -> MeterReading:
    amps = power_w / 3 / 230
    return MeterReading(1, 1000.0, power_w, (amps, amps, amps), (230.0, 230.0, 230.0))


def started(outputs: list[object]) -> list[dict[str, object]]:
    return [
        o.payload
        for o in outputs
        if isinstance(o, SendTransactionEvent) and o.payload["eventType"] == "Started"
    ]


def test_no_start_point_holds_before_accepted() -> None:
    points = frozenset({"EVConnected", "Authorized", "EnergyTransfer"})
    real = TxConfig(points, frozenset({"EVConnected"}))
    held_back = dataclasses.replace(real, start_points=NO_START_BEFORE_ACCEPTED)
    engine = EvseTransaction(1)
    out = engine.plug(1, True, T0, held_back)
    out += engine.authorized(TOKEN, T0 + 1, held_back)
    out += engine.pilot("C", T0 + 2, held_back)
    out += engine.meter(reading(7000.0), T0 + 3, held_back)
    out += engine.tick(T0 + 4, held_back)
    assert not started(out)
    assert not any(isinstance(o, SetPower) and o.allowed for o in out)
    assert not engine.active()
    # Accepted: the next input sees the real start points, and the EV that is there starts one.
    out = engine.meter(reading(0.0), T0 + 5, real)
    assert len(started(out)) == 1 and engine.active()


def test_settings_are_read_once_and_dropped_only_by_what_they_read() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    dm = DeviceModel.open(conn, {1: [1]}, {"TxCtrlr.TxStartPoint": "EVConnected"})
    registration = ["Pending"]
    settings = TxSettings(dm, lambda: registration[0])
    dm.subscribe(settings.changed)
    cfg = settings.config()
    held = settings.for_input()
    assert held.start_points == NO_START_BEFORE_ACCEPTED and settings.for_input() is held
    assert not settings.may_start()
    dm.set("OCPPCommCtrlr", "HeartbeatInterval", 60)  # not read: nothing is dropped
    dm.set("ChargingStation", "AvailabilityState", "Unavailable")
    assert settings.config() is cfg and settings.for_input() is held
    dm.set("TxCtrlr", "TxBeforeAcceptedEnabled", True)  # TxCtrlr: read again
    assert settings.may_start() and settings.for_input() is not held
    assert settings.config() == cfg  # read again (the same values: the same config object)
    dm.set("OCPPCommCtrlr", "UnlockOnEVSideDisconnect", False)  # read by the config
    assert settings.config().unlock_on_ev_side_disconnect is False
    registration[0] = "Accepted"
    dm.set("TxCtrlr", "TxBeforeAcceptedEnabled", False)
    assert settings.may_start() and settings.for_input() is settings.config()
