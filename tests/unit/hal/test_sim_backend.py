"""The ``sim`` HAL backend (hal/backends/sim.py) on the manual clock."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

import hal
from hal.backends.sim import SimBackend
from hal.sim_model import SimError
from hal.types import (
    ContactorChanged,
    FaultChanged,
    HalError,
    HalEvent,
    IdTokenPresented,
    LockChanged,
    MeterReading,
    PilotState,
    PilotStateChanged,
    PlugChanged,
)
from ocpp_station.clock import ManualClock

V3 = (230.0, 230.0, 230.0)
ZERO = (0.0, 0.0, 0.0)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


class Collector:
    """Consumes ``events()`` in a task, as the station core does."""

    def __init__(self, backend: SimBackend) -> None:
        self.events: list[HalEvent] = []
        self.task = asyncio.create_task(self._consume(backend))

    async def _consume(self, backend: SimBackend) -> None:
        async for event in backend.events():
            self.events.append(event)

    async def take(self) -> list[HalEvent]:
        await settle()
        events, self.events = self.events, []
        return events


async def test_charging_session_event_stream() -> None:
    clock = ManualClock()
    backend = hal.open("sim", clock=clock, tick=0.5)
    assert isinstance(backend, SimBackend)
    await backend.open()
    got = Collector(backend)
    assert await got.take() == [
        PlugChanged(1, 1, False),
        PilotStateChanged(1, PilotState.A),
        ContactorChanged(1, False),
        LockChanged(1, 1, False),
        MeterReading(1, 0.0, 0.0, ZERO, V3),
    ]

    backend.plug_in(1)
    assert await got.take() == [
        PlugChanged(1, 1, True),
        PilotStateChanged(1, PilotState.B),
        MeterReading(1, 0.0, 0.0, ZERO, V3),
    ]
    await clock.advance(3.0)  # no power: no readings
    assert await got.take() == []

    await backend.allow_power(1, True)
    assert await got.take() == [
        PilotStateChanged(1, PilotState.C),
        ContactorChanged(1, True),
        MeterReading(1, 0.0, 22080.0, (32.0, 32.0, 32.0), V3),
    ]
    await backend.set_current_limit(1, 10.0)
    assert await got.take() == [MeterReading(1, 0.0, 6900.0, (10.0, 10.0, 10.0), V3)]

    await clock.advance(2.0)  # ticks every 0.5 s, one reading per meter_interval (1 s)
    assert await got.take() == [
        MeterReading(1, 6900.0 * 1 / 3600, 6900.0, (10.0, 10.0, 10.0), V3),
        MeterReading(1, 6900.0 * 2 / 3600, 6900.0, (10.0, 10.0, 10.0), V3),
    ]

    await clock.advance(0.25)  # between ticks: the unplug still counts energy up to now
    backend.unplug(1)
    events = await got.take()
    assert events[:3] == [
        ContactorChanged(1, False),
        PilotStateChanged(1, PilotState.A),
        PlugChanged(1, 1, False),
    ]
    assert len(events) == 4 and isinstance(events[3], MeterReading)
    assert events[3].energy_wh == pytest.approx(6900.0 * 2.25 / 3600)
    assert (events[3].power_w, events[3].current_a) == (0.0, ZERO)

    await backend.close()
    await asyncio.wait_for(got.task, 1.0)  # close ends events()
    assert got.task.done()


async def test_sim_actions_and_lock() -> None:
    clock = ManualClock()
    backend = SimBackend({1: [1], 2: [1, 2]}, clock=clock)
    await backend.open()
    got = Collector(backend)
    await got.take()  # snapshot
    backend.present_id_token(0, "ABCD", "KeyCode")
    backend.plug_in(2, 2)
    backend.ev_state(2, "F")
    backend.fault(1, "OverVoltage")
    backend.clear_fault(1)
    await backend.lock(2, 2, True)
    events = await got.take()
    assert events == [
        IdTokenPresented(0, "ABCD", "KeyCode"),
        PlugChanged(2, 2, True),
        PilotStateChanged(2, PilotState.B),
        MeterReading(2, 0.0, 0.0, ZERO, V3),
        PilotStateChanged(2, PilotState.F),
        MeterReading(2, 0.0, 0.0, ZERO, V3),
        FaultChanged(1, "OverVoltage", True),
        FaultChanged(1, "OverVoltage", False),
        LockChanged(2, 2, True),
    ]
    status = json.loads(json.dumps(backend.status()))
    assert status["evses"][1]["pilot"] == "F"
    assert status["evses"][1]["locks"] == [
        {"connector": 1, "locked": False},
        {"connector": 2, "locked": True},
    ]
    await backend.close()


async def test_enable_and_reset_commands() -> None:
    clock = ManualClock()
    backend = SimBackend(clock=clock)
    await backend.open()
    got = Collector(backend)
    await got.take()
    backend.plug_in(1)
    await backend.allow_power(1, True)
    await got.take()
    await backend.enable(1, False)
    assert [type(e) for e in await got.take()] == [
        ContactorChanged,
        PilotStateChanged,
        MeterReading,
    ]
    await backend.enable(1, True)
    await got.take()
    await backend.set_current_limit(1, 6.0, 1)
    await backend.reset()
    events = await got.take()
    assert events[1:] == [
        ContactorChanged(1, False),
        PilotStateChanged(1, PilotState.B),
        MeterReading(1, 0.0, 0.0, ZERO, V3),
    ]
    assert backend.model.status()["evses"][0]["limit_a"] == 32.0
    await backend.close()


async def test_actions_before_open_show_in_the_snapshot_only() -> None:
    clock = ManualClock()
    backend = SimBackend(clock=clock, ev_max_current_a=16.0)
    backend.plug_in(1)
    await backend.allow_power(1, True)
    await clock.advance(3600.0)  # no task yet: the model catches up at open
    await backend.open()
    got = Collector(backend)
    events = await got.take()
    assert events == [
        PlugChanged(1, 1, True),
        PilotStateChanged(1, PilotState.C),
        ContactorChanged(1, True),
        LockChanged(1, 1, False),
        MeterReading(1, 11040.0, 11040.0, (16.0, 16.0, 16.0), V3),
    ]
    await backend.close()


async def test_bad_command_raises_hal_error_and_bad_action_sim_error() -> None:
    backend = SimBackend(clock=ManualClock())
    await backend.open()
    with pytest.raises(HalError, match="unknown evse 2"):
        await backend.allow_power(2, True)
    with pytest.raises(HalError, match="limit phases must be 1, 2 or 3"):
        await backend.set_current_limit(1, 10.0, 0)
    with pytest.raises(SimError, match="unknown connector 5 on evse 1"):
        backend.plug_in(1, 5)
    with pytest.raises(SimError, match="EV state must be one of"):
        backend.ev_state(1, "X")
    with pytest.raises(HalError, match="already open"):
        await backend.open()
    await backend.close()
    await backend.close()  # idempotent
    with pytest.raises(HalError, match="closed"):
        await backend.enable(1, True)
    with pytest.raises(HalError, match="closed"):
        await backend.open()


async def test_events_after_close_end_at_once() -> None:
    backend = SimBackend(clock=ManualClock())
    await backend.open()
    await backend.close()
    received = [event async for event in backend.events()]
    assert len(received) == 5  # the snapshot queued before close, then the end


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"bogus": 1}, TypeError, "unknown sim backend option.*'bogus'"),
        ({"tick": 0}, ValueError, "'tick' must be > 0"),
        ({"tick": "fast"}, ValueError, "'tick' must be a finite number"),
        ({"voltage_v": "230"}, ValueError, "voltage_v must be a number"),
        ({"evses": {1: []}}, ValueError, "evse 1 needs distinct connector ids"),
    ],
)
def test_bad_options_are_named(options: dict[str, Any], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        hal.open("sim", **options)


def test_config_options_reach_the_model() -> None:
    backend = hal.open("sim", evses={1: [1]}, voltage_v=120.0, phases=1, tick=1.0)
    assert isinstance(backend, SimBackend)
    assert backend.model.status()["evses"][0]["voltage_v"] == [120.0, 0.0, 0.0]


async def test_many_backends_in_one_process() -> None:
    clock = ManualClock()
    backends = [SimBackend(clock=clock, tick=1.0) for _ in range(1000)]
    for backend in backends:
        await backend.open()
        backend.plug_in(1)
        await backend.allow_power(1, True)
    await clock.advance(5.0)
    for backend in backends:
        await backend.close()
        readings = [e async for e in backend.events() if isinstance(e, MeterReading)]
        assert readings[-1].energy_wh == pytest.approx(22080 * 5 / 3600)


class CountingWheel(ManualClock):
    """A manual clock that also offers ``every`` (as a fleet's timer wheel does) and counts
    the periodic jobs that are running."""

    def __init__(self) -> None:
        super().__init__()
        self.jobs: list[list[bool]] = []

    def every(self, period: float, callback: Any) -> Any:
        job = [True]
        self.jobs.append(job)

        async def run() -> None:
            while job[0]:
                await self.sleep(period)
                if job[0]:
                    callback()

        asyncio.get_running_loop().create_task(run())

        def stop() -> None:
            job[0] = False

        return stop

    def running(self) -> int:
        return sum(1 for job in self.jobs if job[0])


async def test_only_a_model_drawing_power_is_ticked() -> None:
    """An idle model changes by itself in no way: nothing ticks until power flows, and the
    ticks stop when it no longer does; the readings while charging are unchanged."""
    clock = CountingWheel()
    backend = SimBackend(clock=clock, tick=0.5, meter_interval=1.0)
    await backend.open()
    got = Collector(backend)
    await got.take()
    assert clock.running() == 0
    await clock.advance(10.0)
    backend.plug_in(1)
    await backend.allow_power(1, True)
    assert clock.running() == 1  # drawing: ticked
    await got.take()
    await clock.advance(3.0)
    readings = [e for e in await got.take() if isinstance(e, MeterReading)]
    assert len(readings) == 3  # one a second while power flows
    assert readings[-1].energy_wh == pytest.approx(22080.0 * 3 / 3600)
    await backend.allow_power(1, False)
    assert clock.running() == 0  # idle again: no ticks
    await got.take()  # the contactor opening and its reading
    energy = backend.status()["evses"][0]["energy_wh"]
    await clock.advance(10.0)
    assert await got.take() == []  # idle: nothing happens by itself
    assert backend.status()["evses"][0]["energy_wh"] == energy
    await backend.close()


async def test_the_tick_task_of_a_single_station_runs_only_while_drawing() -> None:
    clock = ManualClock()
    backend = SimBackend(clock=clock, tick=0.5)
    await backend.open()
    got = Collector(backend)
    assert backend._task is None  # idle: no task
    backend.plug_in(1)
    await backend.allow_power(1, True)
    await settle()
    assert backend._task is not None
    await clock.advance(2.0)
    assert any(isinstance(e, MeterReading) and e.energy_wh > 0 for e in await got.take())
    backend.unplug(1)
    await clock.advance(1.0)
    await settle()
    assert backend._task is None  # ended after its last sleep
    await backend.close()
