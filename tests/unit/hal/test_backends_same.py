"""The three built-in backends report the same events for the same scenario (issue 10): plug,
charge at a limit with the meter advancing, unplug.  Serial and CAN run the scenario in their own
test modules against SCENARIO_EVENTS; this one holds the `sim` backend to the same list."""

from __future__ import annotations

import pytest
from hal_rig import SCENARIO_EVENTS, run_scenario

import hal
from hal.backends.sim import SimBackend
from hal.types import MeterReading


async def test_sim_backend_matches_the_wire_backends() -> None:
    backend = hal.open("sim", evses={1: [1]}, tick=0.02, meter_interval=0.1)
    assert isinstance(backend, SimBackend)
    try:
        # The sim backend flushes its model's events on its own tick: nothing to pump.
        got = await run_scenario(backend, backend.model, lambda: None)
    finally:
        await backend.close()
    assert [e for e in got if not isinstance(e, MeterReading)] == SCENARIO_EVENTS
    readings = [e for e in got if isinstance(e, MeterReading)]
    assert [r.energy_wh for r in readings] == sorted(r.energy_wh for r in readings)
    assert any(r.power_w == pytest.approx(6900.0) for r in readings)  # 10 A x 3 x 230 V
