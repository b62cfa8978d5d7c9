"""The pure simulated charge controller and EV (hal/sim_model.py)."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from hal.sim_model import SimError, SimulatedController
from hal.types import (
    ContactorChanged,
    FaultChanged,
    HalEvent,
    IdTokenPresented,
    LockChanged,
    MeterReading,
    PilotState,
    PilotStateChanged,
    PlugChanged,
)

T0 = 1_000_000.0
V3 = (230.0, 230.0, 230.0)


def make(**options: Any) -> SimulatedController:
    return SimulatedController({1: [1, 2], 2: [1]}, now=T0, **options)


def kinds(events: list[HalEvent]) -> list[str]:
    """A compact, readable form of an event list (meter readings as power only)."""
    out = []
    for e in events:
        match e:
            case PlugChanged():
                out.append(f"plug{e.evse}.{e.connector}={'in' if e.plugged else 'out'}")
            case PilotStateChanged():
                out.append(f"pilot{e.evse}={e.state}")
            case ContactorChanged():
                out.append(f"contactor{e.evse}={'closed' if e.closed else 'open'}")
            case MeterReading():
                out.append(f"meter{e.evse}={e.power_w:g}W")
            case FaultChanged():
                out.append(f"fault{e.evse}={e.code}:{'on' if e.active else 'off'}")
            case LockChanged():
                out.append(f"lock{e.evse}.{e.connector}={e.locked}")
            case IdTokenPresented():
                out.append(f"token{e.evse}={e.id_token}/{e.type}")
    return out


def charging(sim: SimulatedController, evse: int = 1) -> None:
    sim.plug_in(evse)
    sim.allow_power(evse, True)
    sim.take_events()


def last_meter(events: list[HalEvent]) -> MeterReading:
    readings = [e for e in events if isinstance(e, MeterReading)]
    assert readings, events
    return readings[-1]


def test_initial_state_has_no_events_and_a_full_snapshot() -> None:
    sim = make()
    assert sim.take_events() == []
    assert sim.snapshot() == [
        PlugChanged(1, 1, False),
        PlugChanged(1, 2, False),
        PilotStateChanged(1, PilotState.A),
        ContactorChanged(1, False),
        LockChanged(1, 1, False),
        LockChanged(1, 2, False),
        MeterReading(1, 0.0, 0.0, (0.0, 0.0, 0.0), V3),
        PlugChanged(2, 1, False),
        PilotStateChanged(2, PilotState.A),
        ContactorChanged(2, False),
        LockChanged(2, 1, False),
        MeterReading(2, 0.0, 0.0, (0.0, 0.0, 0.0), V3),
    ]


def test_plug_in_without_power_is_state_b() -> None:
    sim = make()
    sim.plug_in(1, 2)
    assert kinds(sim.take_events()) == ["plug1.2=in", "pilot1=B", "meter1=0W"]
    # plugging the same connector again changes nothing
    sim.plug_in(1, 2)
    assert sim.take_events() == []


def test_allow_power_starts_charging_at_the_lowest_limit() -> None:
    sim = make(ev_max_current_a=16.0)
    sim.plug_in(1)
    sim.take_events()
    sim.allow_power(1, True)
    events = sim.take_events()
    assert kinds(events) == ["pilot1=C", "contactor1=closed", "meter1=11040W"]
    assert last_meter(events) == MeterReading(1, 0.0, 11040.0, (16.0, 16.0, 16.0), V3)


def test_plug_in_with_power_already_allowed_goes_through_b_to_c() -> None:
    sim = make()
    sim.allow_power(1, True)
    assert sim.take_events() == []  # nothing visible without an EV
    sim.plug_in(1)
    assert kinds(sim.take_events()) == [
        "plug1.1=in",
        "pilot1=B",
        "pilot1=C",
        "contactor1=closed",
        "meter1=22080W",
    ]


def test_allow_power_false_stops_current_ev_waits_in_b_and_resumes() -> None:
    sim = make()
    charging(sim)
    sim.allow_power(1, False)
    # contactor opens before the pilot leaves C
    assert kinds(sim.take_events()) == ["contactor1=open", "pilot1=B", "meter1=0W"]
    sim.allow_power(1, True)
    assert kinds(sim.take_events()) == ["pilot1=C", "contactor1=closed", "meter1=22080W"]


def test_ev_suspends_in_b_and_resumes_in_c() -> None:
    sim = make()
    charging(sim)
    sim.ev_state(1, "B")
    assert kinds(sim.take_events()) == ["contactor1=open", "pilot1=B", "meter1=0W"]
    sim.ev_state(1, "C")
    assert kinds(sim.take_events()) == ["pilot1=C", "contactor1=closed", "meter1=22080W"]


def test_ev_asking_for_energy_while_power_not_offered_stays_b() -> None:
    sim = make()
    sim.plug_in(1)
    sim.ev_state(1, "B")
    sim.ev_state(1, "C")  # the EV asks, but PWM is off
    assert kinds(sim.take_events()) == ["plug1.1=in", "pilot1=B", "meter1=0W"]
    assert sim.status()["evses"][0]["ev_request"] == "C"
    sim.allow_power(1, True)
    assert kinds(sim.take_events())[:2] == ["pilot1=C", "contactor1=closed"]


def test_ev_state_d_charges_with_ventilation() -> None:
    sim = make()
    charging(sim)
    sim.ev_state(1, "D")
    events = sim.take_events()
    assert kinds(events) == ["pilot1=D", "meter1=22080W"]  # contactor stays closed
    assert sim.status()["evses"][0]["contactor_closed"] is True


@pytest.mark.parametrize("letter", ["E", "F"])
def test_ev_error_states_stop_power_until_cleared(letter: str) -> None:
    sim = make()
    charging(sim)
    sim.ev_state(1, letter)
    assert kinds(sim.take_events()) == ["contactor1=open", f"pilot1={letter}", "meter1=0W"]
    sim.allow_power(1, True)  # still in error: nothing changes
    assert sim.take_events() == []
    sim.ev_state(1, "C")
    assert kinds(sim.take_events()) == ["pilot1=C", "contactor1=closed", "meter1=22080W"]


def test_limit_changes_are_reflected_in_current_and_phases_at_once() -> None:
    sim = make()
    charging(sim)
    sim.set_current_limit(1, 10.0)
    assert last_meter(sim.take_events()) == MeterReading(1, 0.0, 6900.0, (10.0, 10.0, 10.0), V3)
    sim.set_current_limit(1, 13.5, phases=1)
    assert last_meter(sim.take_events()) == MeterReading(1, 0.0, 3105.0, (13.5, 0.0, 0.0), V3)
    sim.set_current_limit(1, 100.0)  # capped by the EV and the controller (32 A)
    assert last_meter(sim.take_events()).current_a == (32.0, 32.0, 32.0)
    sim.set_current_limit(1, 10.0)
    sim.take_events()
    sim.set_current_limit(1, 10.0)  # same limit: nothing new to report
    assert sim.take_events() == []


def test_limit_is_also_capped_by_max_current_and_station_phases() -> None:
    sim = make(max_current_a=20.0, phases=1, ev_max_current_a=40.0)
    charging(sim)
    reading = next(e for e in sim.snapshot() if isinstance(e, MeterReading))
    assert reading == MeterReading(1, 0.0, 4600.0, (20.0, 0.0, 0.0), (230.0, 0.0, 0.0))


def test_zero_amp_limit_keeps_c_and_contactor_but_draws_nothing() -> None:
    sim = make()
    charging(sim)
    sim.set_current_limit(1, 0)
    assert kinds(sim.take_events()) == ["meter1=0W"]
    status = sim.status()["evses"][0]
    assert (status["pilot"], status["contactor_closed"], status["power_w"]) == ("C", True, 0.0)
    sim.advance(T0 + 100)
    assert sim.take_events() == []  # no power flows: no periodic readings
    assert sim.status()["evses"][0]["energy_wh"] == 0.0
    sim.set_current_limit(1, 6)
    assert kinds(sim.take_events()) == ["meter1=4140W"]


def test_without_voltage_the_current_still_decides_the_readings() -> None:
    """0 V: power is 0 W while current flows; the reading of the opened contactor (no current)
    is still reported, and an idle EVSE then reports nothing, whatever the time or a command."""
    sim = make(voltage_v=0.0)
    sim.plug_in(1)
    sim.allow_power(1, True)
    flowing = last_meter(sim.take_events())
    assert (flowing.power_w, flowing.current_a) == (0.0, (32.0, 32.0, 32.0))
    sim.allow_power(1, False)
    assert last_meter(sim.take_events()).current_a == (0.0, 0.0, 0.0)
    sim.advance(T0 + 100)
    sim.set_current_limit(1, 10)
    assert sim.take_events() == []


def test_meter_integrates_energy_exactly() -> None:
    sim = make(ev_max_current_a=16.0)
    charging(sim)
    sim.advance(T0 + 3600)
    reading = last_meter(sim.take_events())
    assert reading.energy_wh == 11040.0  # 16 A x 3 x 230 V for one hour
    assert reading.power_w == 11040.0


def test_meter_readings_every_interval_while_power_flows() -> None:
    sim = make(meter_interval=10.0)
    charging(sim)
    times = []
    for step in range(1, 41):  # 0.5 s steps over 20 s
        sim.advance(T0 + step * 0.5)
        if sim.take_events():
            times.append(step * 0.5)
    assert times == [10.0, 20.0]
    assert sim.status()["evses"][0]["energy_wh"] == pytest.approx(22080 * 20 / 3600)


def test_energy_is_monotonic_and_survives_unplug_and_replug() -> None:
    sim = make()
    charging(sim)
    sim.advance(T0 + 60)
    sim.unplug(1)
    before = last_meter(sim.take_events()).energy_wh
    assert before == pytest.approx(22080 / 60)
    sim.advance(T0 + 120)
    sim.plug_in(1)
    sim.advance(T0 + 180)
    after = last_meter(sim.take_events()).energy_wh
    assert after == pytest.approx(before * 2)


def test_unplug_during_charge_opens_contactor_then_pilot_a_then_plug() -> None:
    sim = make()
    charging(sim)
    sim.advance(T0 + 30)
    sim.take_events()
    sim.unplug(1)
    events = sim.take_events()
    assert kinds(events) == ["contactor1=open", "pilot1=A", "plug1.1=out", "meter1=0W"]
    assert last_meter(events).energy_wh == pytest.approx(22080 * 30 / 3600)
    sim.unplug(1)  # already out: nothing
    assert sim.take_events() == []


def test_ev_state_a_is_unplug() -> None:
    sim = make()
    charging(sim)
    sim.ev_state(1, "A")
    assert kinds(sim.take_events())[-2:] == ["plug1.1=out", "meter1=0W"]
    assert sim.status()["evses"][0]["plugged_connector"] is None


def test_fault_stops_power_and_clear_resumes() -> None:
    sim = make()
    charging(sim)
    sim.fault(1, "OverCurrent")
    assert kinds(sim.take_events()) == [
        "fault1=OverCurrent:on",
        "contactor1=open",
        "pilot1=B",
        "meter1=0W",
    ]
    sim.fault(1, "OverCurrent")  # already active
    sim.fault(1, "GroundFailure")
    assert kinds(sim.take_events()) == ["fault1=GroundFailure:on"]
    sim.clear_fault(1)
    assert kinds(sim.take_events()) == [
        "fault1=OverCurrent:off",
        "fault1=GroundFailure:off",
        "pilot1=C",
        "contactor1=closed",
        "meter1=22080W",
    ]
    sim.clear_fault(1)  # nothing active
    assert sim.take_events() == []


def test_controller_wide_fault_stops_every_evse() -> None:
    sim = make()
    charging(sim, 1)
    charging(sim, 2)
    sim.fault(0, "CommunicationLost")
    events = sim.take_events()
    assert kinds(events) == [
        "fault0=CommunicationLost:on",
        "contactor1=open",
        "pilot1=B",
        "meter1=0W",
        "contactor2=open",
        "pilot2=B",
        "meter2=0W",
    ]
    assert sim.snapshot()[0] == FaultChanged(0, "CommunicationLost", True)
    sim.clear_fault(0)
    assert kinds(sim.take_events())[0] == "fault0=CommunicationLost:off"
    assert [e["contactor_closed"] for e in sim.status()["evses"]] == [True, True]


def test_disable_stops_power_ev_stays_plugged() -> None:
    sim = make()
    charging(sim)
    sim.enable(1, False)
    assert kinds(sim.take_events()) == ["contactor1=open", "pilot1=B", "meter1=0W"]
    assert sim.status()["evses"][0]["plugged_connector"] == 1
    sim.enable(1, True)
    assert kinds(sim.take_events())[:2] == ["pilot1=C", "contactor1=closed"]


def test_lock_and_unlock_are_reported() -> None:
    sim = make()
    sim.lock(1, 2, True)
    sim.lock(1, 2, True)  # the actuator reports its position each time
    sim.lock(1, 2, False)
    assert sim.take_events() == [
        LockChanged(1, 2, True),
        LockChanged(1, 2, True),
        LockChanged(1, 2, False),
    ]


def test_reset_stops_power_restores_limits_keeps_plugs() -> None:
    sim = make()
    charging(sim)
    sim.set_current_limit(1, 6.0, phases=1)
    sim.lock(1, 1, True)
    sim.take_events()
    sim.reset()
    assert kinds(sim.take_events()) == ["contactor1=open", "pilot1=B", "meter1=0W"]
    status = sim.status()["evses"][0]
    assert status["plugged_connector"] == 1
    assert (status["limit_a"], status["limit_phases"]) == (32.0, 3)
    assert status["power_allowed"] is False
    assert status["locks"][0] == {"connector": 1, "locked": True}
    sim.allow_power(1, True)
    assert last_meter(sim.take_events()).current_a == (32.0, 32.0, 32.0)


def test_present_id_token_on_evse_or_station_reader() -> None:
    sim = make()
    sim.present_id_token(1, "04A2B3C4")
    sim.present_id_token(0, "1234", "KeyCode")
    assert sim.take_events() == [
        IdTokenPresented(1, "04A2B3C4", "ISO14443"),
        IdTokenPresented(0, "1234", "KeyCode"),
    ]


def test_status_is_json_serialisable() -> None:
    sim = make()
    charging(sim)
    sim.fault(2, "X")
    status = json.loads(json.dumps(sim.status()))
    assert status["time"] == T0
    assert status["evses"][0]["current_a"] == [32.0, 32.0, 32.0]
    assert status["evses"][1]["faults"] == ["X"]
    assert status["evses"][1]["ev_request"] is None


def test_clock_stepping_back_moves_no_energy_and_keeps_reading() -> None:
    sim = make(meter_interval=1.0)
    charging(sim)
    sim.advance(T0 + 10)
    energy = last_meter(sim.take_events()).energy_wh
    sim.advance(T0 - 50)  # e.g. a clock corrected backwards
    assert sim.take_events() == []
    sim.advance(T0 - 49)
    assert last_meter(sim.take_events()).energy_wh == pytest.approx(energy + 22080 / 3600)


def test_deterministic() -> None:
    def run() -> list[HalEvent]:
        sim = make()
        sim.plug_in(2)
        sim.allow_power(2, True)
        for step in range(1, 20):
            sim.advance(T0 + step * 0.7)
            if step == 7:
                sim.set_current_limit(2, 7.5)
        sim.unplug(2)
        return sim.take_events()

    assert run() == run()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.plug_in(3), "unknown evse 3"),
        (lambda s: s.plug_in(0), "unknown evse 0"),
        (lambda s: s.plug_in(1, 3), "unknown connector 3 on evse 1"),
        (lambda s: s.plug_in("1"), "evse must be an integer"),
        (lambda s: s.plug_in(True), "evse must be an integer"),
        (lambda s: s.ev_state(1, "G"), "EV state must be one of"),
        (lambda s: s.ev_state(1, "c"), "EV state must be one of"),
        (lambda s: s.ev_state(1, "C"), "no EV on evse 1"),
        (lambda s: s.set_current_limit(1, -1), "current limit (A) must be >= 0"),
        (lambda s: s.set_current_limit(1, math.nan), "must be finite"),
        (lambda s: s.set_current_limit(1, "16"), "current limit (A) must be a number"),
        (lambda s: s.set_current_limit(1, 16, 4), "limit phases must be 1, 2 or 3"),
        (lambda s: s.lock(1, 9, True), "unknown connector 9"),
        (lambda s: s.enable(5, True), "unknown evse 5"),
        (lambda s: s.present_id_token(1, ""), "id_token must be a string of 1 to 36"),
        (lambda s: s.present_id_token(1, "x" * 37), "id_token must be a string"),
        (lambda s: s.present_id_token(1, "abc", "Card"), "unknown id token type 'Card'"),
        (lambda s: s.present_id_token(7, "abc"), "unknown evse 7"),
        (lambda s: s.fault(1, ""), "fault code must be a non-empty string"),
        (lambda s: s.fault(4, "X"), "unknown evse 4"),
        (lambda s: s.clear_fault(-1), "unknown evse -1"),
        (lambda s: s.advance(math.inf), "now must be finite"),
    ],
)
def test_bad_input_raises_sim_error(call: Any, message: str) -> None:
    sim = make()
    with pytest.raises(SimError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call(sim)
    assert sim.take_events() == []


def test_second_cable_on_a_busy_evse_is_refused() -> None:
    sim = make()
    sim.plug_in(1, 1)
    with pytest.raises(SimError, match="already has a cable in connector 1"):
        sim.plug_in(1, 2)


@pytest.mark.parametrize(
    ("evses", "options", "message"),
    [
        ({}, {}, "evses must be a non-empty mapping"),
        ({0: [1]}, {}, "evse id must be >= 1"),
        ({"1": [1]}, {}, "evse id must be an integer"),
        ({1: []}, {}, "evse 1 needs distinct connector ids"),
        ({1: [1, 1]}, {}, "evse 1 needs distinct connector ids"),
        ({1: "1"}, {}, "connectors of evse 1 must be a list"),
        ({1: [1]}, {"phases": 0}, "phases must be 1, 2 or 3"),
        ({1: [1]}, {"voltage_v": -1}, "voltage_v must be >= 0"),
        ({1: [1]}, {"meter_interval": "1"}, "meter_interval must be a number"),
    ],
)
def test_bad_construction_raises_sim_error(
    evses: Any, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(SimError, match=message):
        SimulatedController(evses, now=T0, **options)


def test_unplug_clears_ev_error_and_next_ev_wants_energy() -> None:
    sim = make()
    charging(sim)
    sim.ev_state(1, "E")
    sim.fault(1, "X")
    sim.unplug(1)
    sim.take_events()
    assert FaultChanged(1, "X", True) in sim.snapshot()
    sim.clear_fault(1)
    sim.plug_in(1)
    assert kinds(sim.take_events()) == [
        "fault1=X:off",
        "plug1.1=in",
        "pilot1=B",
        "pilot1=C",
        "contactor1=closed",
        "meter1=22080W",
    ]
