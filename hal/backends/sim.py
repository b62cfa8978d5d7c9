"""The ``sim`` HAL backend: :class:`hal.sim_model.SimulatedController` in-process, on asyncio.

``hal.open("sim", evses={1: [1]}, clock=clock, tick=0.5, voltage_v=230.0, ...)``.  While an EVSE
draws power, one task per backend advances the model every ``tick`` seconds of the injected clock
and queues its events; every command and ``sim.*`` action first advances the model to
``clock.time()`` so the energy integrates exactly up to the moment of the change.  A clock that
offers ``every(period, callback) -> stop`` (a fleet's shared timer wheel,
``ocpp_station.wheel.WheelClock``) runs the tick instead, with no task per backend.  It is kept
light (one task or wheel job, one queue) so a fleet can run thousands of them in one process.

No EVSE drawing power, nothing ticks: time alone changes nothing in an idle model
(:meth:`~hal.sim_model.SimulatedController.drawing`), and the next command, action or
:meth:`SimBackend.status` advances it anyway.  Most stations of a rig are idle most of the time.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

from hal.clock import Clock, SystemClock
from hal.sim_model import SimError, SimulatedController
from hal.types import ChargeController, HalError, HalEvent

# The model's keyword options a config file may set (besides ``tick``).
MODEL_OPTIONS = ("voltage_v", "phases", "max_current_a", "ev_max_current_a", "meter_interval")


class SimDisplay:
    """The simulated station's display: keeps the lines the station shows (the ``display``
    capability, see ``ocpp_station.blocks.display.interface``)."""

    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []

    def show(self, lines: list[dict[str, Any]]) -> None:
        self.lines = [dict(line) for line in lines]


class SimBackend(ChargeController):
    """A simulated charge controller and EVs; the test rig acts through the ``sim.*`` methods
    (``plug_in``, ``unplug``, ``unplug_ev``, ``present_id_token``, ``ev_state``, ``fault``,
    ``clear_fault``),
    and reads what the station shows on :attr:`display` (also under ``display`` in
    :meth:`status`),
    which raise :class:`~hal.sim_model.SimError` (a ``ValueError``) on bad input.  The
    ChargeController commands raise :class:`~hal.types.HalError` instead."""

    def __init__(
        self,
        evses: Mapping[int, Sequence[int]] | None = None,
        *,
        clock: Clock | None = None,
        tick: float = 0.5,
        **model_options: Any,
    ) -> None:
        unknown = sorted(set(model_options) - set(MODEL_OPTIONS))
        if unknown:
            raise TypeError(
                f"unknown sim backend option(s) {', '.join(map(repr, unknown))}; "
                f"known: tick, {', '.join(MODEL_OPTIONS)}"
            )
        if isinstance(tick, bool) or not isinstance(tick, int | float) or not math.isfinite(tick):
            raise ValueError(f"sim backend option 'tick' must be a finite number, got {tick!r}")
        if tick <= 0:
            raise ValueError(f"sim backend option 'tick' must be > 0 seconds, got {tick!r}")
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._tick = float(tick)
        self.model = SimulatedController(
            {1: [1]} if evses is None else evses, now=self._clock.time(), **model_options
        )
        self._queue: asyncio.Queue[HalEvent | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._stop_ticks: Callable[[], None] | None = None
        self._ticking = False  # whether the model is advanced every tick (see _ticks)
        self._opened = False
        self._closed = False
        self.display = SimDisplay()

    # -- lifecycle ----------------------------------------------------------------------------

    async def open(self) -> None:
        if self._closed:
            raise HalError("sim backend is closed; create a new one")
        if self._opened:
            raise HalError("sim backend is already open")
        self._opened = True
        self.model.advance(self._clock.time())
        self.model.take_events()  # the snapshot below reports the resulting state
        for event in self.model.snapshot():
            self._queue.put_nowait(event)
        self._ticks()
        if self._task is not None:
            await asyncio.sleep(0)  # let the tick task arm its first tick before open() returns

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._ticking = False
        if self._stop_ticks is not None:
            self._stop_ticks()
            self._stop_ticks = None
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._queue.put_nowait(None)  # ends events()

    async def events(self) -> AsyncIterator[HalEvent]:
        while True:
            event = await self._queue.get()
            if event is None:
                return
            yield event

    def _ticks(self) -> None:
        """Tick while an EVSE draws power, and only then (after open and after every change)."""
        wanted = self._opened and not self._closed and self.model.drawing()
        if wanted == self._ticking:
            return
        self._ticking = wanted
        every = getattr(self._clock, "every", None)
        if every is not None:  # a clock shared by many stations ticks them all (a fleet)
            if wanted:
                self._stop_ticks = every(self._tick, self._sync)
            elif self._stop_ticks is not None:
                self._stop_ticks()
                self._stop_ticks = None
        elif wanted and self._task is None:  # (a task told to stop ends after its sleep)
            due = self._clock.time() + self._tick  # from now, not from when the task first runs
            self._task = asyncio.get_running_loop().create_task(self._run(due))

    async def _run(self, due: float) -> None:
        try:
            while self._ticking:
                await self._clock.sleep(max(0.0, due - self._clock.time()))
                self._sync()
                due = self._clock.time() + self._tick
        finally:
            self._task = None

    def _sync(self) -> None:
        """Advance the model to now and queue what it produced (dropped before open/after
        close: ``open`` reports a snapshot instead)."""
        self.model.advance(self._clock.time())
        self._flush()

    def _flush(self) -> None:
        events = self.model.take_events()
        if self._opened and not self._closed:
            for event in events:
                self._queue.put_nowait(event)
        self._ticks()

    def _act(self, action: Callable[[], None]) -> None:
        self.model.advance(self._clock.time())
        try:
            action()
        finally:
            self._flush()

    def _command(self, action: Callable[[], None]) -> None:
        if self._closed:
            raise HalError("sim backend is closed")
        try:
            self._act(action)
        except SimError as exc:
            raise HalError(str(exc)) from exc

    # -- ChargeController commands ------------------------------------------------------------

    async def enable(self, evse: int, enabled: bool) -> None:
        self._command(lambda: self.model.enable(evse, enabled))

    async def allow_power(self, evse: int, allowed: bool) -> None:
        self._command(lambda: self.model.allow_power(evse, allowed))

    async def set_current_limit(self, evse: int, amps: float, phases: int = 3) -> None:
        self._command(lambda: self.model.set_current_limit(evse, amps, phases))

    async def lock(self, evse: int, connector: int, locked: bool) -> None:
        self._command(lambda: self.model.lock(evse, connector, locked))

    async def reset(self) -> None:
        self._command(self.model.reset)

    # -- sim.* actions of the test rig (synchronous) ------------------------------------------

    def plug_in(self, evse: int, connector: int = 1) -> None:
        self._act(lambda: self.model.plug_in(evse, connector))

    def unplug(self, evse: int) -> None:
        self._act(lambda: self.model.unplug(evse))

    def unplug_ev(self, evse: int) -> None:
        self._act(lambda: self.model.unplug_ev(evse))

    def present_id_token(self, evse: int, id_token: str, type: str = "ISO14443") -> None:
        self._act(lambda: self.model.present_id_token(evse, id_token, type))

    def ev_state(self, evse: int, state: str) -> None:
        self._act(lambda: self.model.ev_state(evse, state))

    def fault(self, evse: int, code: str) -> None:
        self._act(lambda: self.model.fault(evse, code))

    def clear_fault(self, evse: int) -> None:
        self._act(lambda: self.model.clear_fault(evse))

    def status(self) -> dict[str, Any]:
        """The model's JSON-able state, brought up to ``clock.time()`` first, with the lines on
        the display under ``display``."""
        self._sync()
        return {**self.model.status(), "display": [dict(line) for line in self.display.lines]}
