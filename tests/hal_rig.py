"""What the HAL tests over every backend share: quick link options, the charging scenario and
the events it must produce (the same for sim, serial and CAN), and a background event collector."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import hal
from hal.sim_model import SimulatedController
from hal.types import (
    ContactorChanged,
    HalEvent,
    MeterReading,
    PilotState,
    PilotStateChanged,
    PlugChanged,
)

# Short timeouts keep the tests quick; liveness is generous so that a loaded machine does not
# report a spurious CommunicationLost (the liveness tests set their own).
FAST: dict[str, Any] = {"ack_timeout": 0.1, "ping_interval": 0.2, "liveness_timeout": 2.0}

# What the station sees of plug -> allow power -> 10 A -> unplug (meter readings left out);
# the serial, CAN and sim backends must all report exactly these.
SCENARIO_EVENTS: list[HalEvent] = [
    PlugChanged(1, 1, True),
    PilotStateChanged(1, PilotState.B),
    PilotStateChanged(1, PilotState.C),
    ContactorChanged(1, True),
    ContactorChanged(1, False),
    PilotStateChanged(1, PilotState.A),
    PlugChanged(1, 1, False),
]


class Collector:
    """Reads a controller's events in the background; tests wait for conditions on them."""

    def __init__(self, controller: hal.ChargeController) -> None:
        self.events: list[HalEvent] = []
        self._changed = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run(controller.events()))

    async def _run(self, events: AsyncIterator[HalEvent]) -> None:
        async for event in events:
            self.events.append(event)
            self._changed.set()

    async def wait_for(self, pred: Callable[[list[HalEvent]], bool], timeout: float = 5.0) -> None:
        async def loop() -> None:
            while not pred(self.events):
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(loop(), timeout)

    def mark(self) -> int:
        return len(self.events)

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


async def run_scenario(
    backend: hal.ChargeController, model: SimulatedController, pump: Callable[[], None]
) -> list[HalEvent]:
    """plug -> allow power -> limit 10 A -> meter advancing -> unplug; returns the events after
    the initial state report."""
    await backend.open()
    events = Collector(backend)
    try:
        await events.wait_for(lambda ev: any(isinstance(e, MeterReading) for e in ev))
        start = events.mark()
        model.plug_in(1)
        pump()
        await backend.allow_power(1, True)
        await backend.set_current_limit(1, 10.0)

        def charging(ev: list[HalEvent]) -> bool:
            readings = [
                e for e in ev[start:] if isinstance(e, MeterReading) and e.current_a[0] == 10.0
            ]
            return len(readings) >= 2 and readings[-1].energy_wh > readings[0].energy_wh

        await events.wait_for(charging)
        model.unplug(1)
        pump()
        await events.wait_for(lambda ev: PlugChanged(1, 1, False) in ev[start:])
        return events.events[start:]
    finally:
        await events.close()
