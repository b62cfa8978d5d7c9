"""The simulated controller's cable unplugged at the EV side only (E09/E10 test rigs)."""

from __future__ import annotations

import pytest

from hal.sim_model import SimError, SimulatedController
from hal.types import ContactorChanged, PilotState, PilotStateChanged, PlugChanged

T0 = 1_000_000.0


def test_unplug_ev_drops_the_pilot_to_a_and_keeps_the_cable_in() -> None:
    sim = SimulatedController({1: [1]}, now=T0)
    sim.plug_in(1)
    sim.allow_power(1, True)
    sim.take_events()
    sim.unplug_ev(1)
    events = sim.take_events()
    assert ContactorChanged(1, False) in events
    assert PilotStateChanged(1, PilotState.A) in events
    assert not any(isinstance(e, PlugChanged) for e in events)
    status = sim.status()["evses"][0]
    assert status["plugged_connector"] == 1 and status["ev_request"] is None
    sim.ev_state(1, "C")  # the EV is back and asks again
    back = sim.take_events()
    assert PilotStateChanged(1, PilotState.C) in back and ContactorChanged(1, True) in back


def test_unplug_ev_needs_a_cable() -> None:
    sim = SimulatedController({1: [1]}, now=T0)
    with pytest.raises(SimError, match="no cable"):
        sim.unplug_ev(1)
