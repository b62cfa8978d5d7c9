"""The MCU side of ``hal/PROTOCOL.md``: a :class:`~hal.sim_model.SimulatedController` behind a
link endpoint (a serial fd or a CAN bus), as a charge-controller firmware would behave.

It decodes commands, applies them to the model, acknowledges them (NACK with a code for invalid
arguments), sends the model's events reliably and in order, answers PING and STATE_REQUEST (the
full state, closed by STATE_END), and ticks the model with a clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Any

from hal.codec import CodecError, encode
from hal.link import CommandRejected, Link, LinkOptions, NoAcknowledge, Refuse, Transport
from hal.messages import (
    AllowPower,
    Command,
    Enable,
    Lock,
    Message,
    NackCode,
    Reset,
    SetCurrentLimit,
    StateEnd,
    StateRequest,
)
from hal.sim_model import SimError, SimulatedController
from hal.types import HalEvent, IdTokenPresented

log = logging.getLogger("hal.mcu")

Outgoing = HalEvent | StateEnd


class McuSimulator:
    """Serves ``model`` on ``transport`` (built with ``tx_direction=TO_STATION``)."""

    def __init__(
        self,
        model: SimulatedController,
        transport: Transport,
        *,
        tick_interval: float = 0.05,
        max_backlog: int = 1000,
        **link_options: Any,
    ) -> None:
        self.model = model
        self.options = LinkOptions.parse(link_options, who="the MCU simulator")
        self.clock = self.options.clock
        self.link = Link(transport, self._on_message, self.options, ping=False)
        self.tick_interval = tick_interval
        self.max_backlog = max_backlog
        self.executed: deque[Command] = deque(maxlen=10_000)  # applied commands, oldest first
        self.stats: dict[str, int] = {
            "commands": 0,
            "events_sent": 0,
            "events_rejected": 0,
            "events_dropped": 0,
            "events_unencodable": 0,
        }
        self._outbox: deque[Outgoing] = deque()
        self._wake: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def silent(self) -> bool:
        """While True the MCU neither receives nor sends (a hung controller); the model runs on."""
        return self.link.muted

    @silent.setter
    def silent(self, value: bool) -> None:
        self.link.muted = value

    async def start(self) -> None:
        self._wake = asyncio.Event()
        self.link.start()
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._tick_loop()), loop.create_task(self._send_loop())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self.link.close()

    def status(self) -> dict[str, Any]:
        """The model's JSON-able state and the link's counters (``"link"``)."""
        return {**self.model.status(), "link": self.link.all_stats()}

    def pump(self) -> None:
        """Move the model to now and queue the events it produced."""
        self.model.advance(max(self.clock.time(), self.model.now))
        for event in self.model.take_events():
            self._queue(event)

    # -- internals ------------------------------------------------------------------------------

    def _queue(self, item: Outgoing) -> None:
        try:
            encode(item)
        except CodecError as exc:
            self.stats["events_unencodable"] += 1
            log.warning("cannot send %r: %s", item, exc)
            return
        self._outbox.append(item)
        while len(self._outbox) > self.max_backlog:
            del self._outbox[1]  # keep the one in flight, drop the oldest waiting
            self.stats["events_dropped"] += 1
        if self._wake is not None:
            self._wake.set()

    def _on_message(self, msg: Message) -> None:
        self.pump()
        try:
            self._apply(msg)
        except SimError as exc:
            text = str(exc)
            code = (
                NackCode.UNKNOWN_EVSE if text.startswith("unknown") else NackCode.INVALID_ARGUMENT
            )
            raise Refuse(code, text) from None
        self.stats["commands"] += 1
        self.pump()

    def _apply(self, msg: Message) -> None:
        model = self.model
        if isinstance(msg, Enable):
            model.enable(msg.evse, msg.enabled)
        elif isinstance(msg, AllowPower):
            model.allow_power(msg.evse, msg.allowed)
        elif isinstance(msg, SetCurrentLimit):
            model.set_current_limit(msg.evse, msg.amps, msg.phases)
        elif isinstance(msg, Lock):
            model.lock(msg.evse, msg.connector, msg.locked)
        elif isinstance(msg, Reset):
            model.reset()
        elif isinstance(msg, StateRequest):
            self._report_state()
        else:
            raise Refuse(NackCode.UNEXPECTED, f"the MCU takes commands only, not {msg!r}")
        self.executed.append(msg)

    def _report_state(self) -> None:
        # The state report supersedes every queued state change; id tokens are not state.
        self.pump()
        head = [self._outbox[0]] if self._outbox else []  # possibly in flight: keep it first
        tokens = [e for e in list(self._outbox)[1:] if isinstance(e, IdTokenPresented)]
        self._outbox = deque([*head, *tokens])
        for event in self.model.snapshot():
            self._queue(event)
        self._queue(StateEnd())

    async def _tick_loop(self) -> None:
        while True:
            await self.clock.sleep(self.tick_interval)
            self.pump()

    async def _send_loop(self) -> None:
        assert self._wake is not None
        while True:
            while not self._outbox:
                self._wake.clear()
                await self._wake.wait()
            item = self._outbox[0]
            try:
                await self.link.request(item)
            except CommandRejected as exc:
                self.stats["events_rejected"] += 1
                log.warning("station rejected %r: %s", item, exc)
            except NoAcknowledge:
                await self.clock.sleep(self.options.ack_timeout)
                continue
            else:
                self.stats["events_sent"] += 1
            if self._outbox and self._outbox[0] is item:
                self._outbox.popleft()
