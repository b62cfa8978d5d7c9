"""The station's end of ``hal/PROTOCOL.md``: the :class:`~hal.types.ChargeController` that the
``serial`` and ``can`` backends share, on top of a :class:`hal.link.Link`.

Commands become reliable requests; the MCU's events are acknowledged and queued for
:meth:`~hal.types.ChargeController.events`.  On open and after every CommunicationLost the
controller sends STATE_REQUEST and waits for the state report to end (STATE_END).  When the link's
liveness declares the MCU silent it reports ``FaultChanged(0, CommunicationLost, active=True)``,
and the fault cleared when the MCU answers again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

from hal.clock import wait_for_future
from hal.link import Link, LinkOptions, Refuse, Transport
from hal.messages import (
    AllowPower,
    Enable,
    Lock,
    Message,
    NackCode,
    Reset,
    SetCurrentLimit,
    StateEnd,
    StateRequest,
)
from hal.types import (
    COMMUNICATION_LOST,
    ChargeController,
    ContactorChanged,
    FaultChanged,
    HalError,
    HalEvent,
    IdTokenPresented,
    LockChanged,
    MeterReading,
    PilotStateChanged,
    PlugChanged,
)

log = logging.getLogger("hal.wire")

HAL_EVENTS = (
    PilotStateChanged,
    PlugChanged,
    IdTokenPresented,
    MeterReading,
    ContactorChanged,
    FaultChanged,
    LockChanged,
)


def normalize_evses(evses: Any) -> dict[int, tuple[int, ...]] | None:
    """``None``, a mapping ``{evse: [connectors]}``, a count N (EVSEs 1..N with connector 1) or
    a list of ``{"id", "connectors"}`` tables (the station config's ``[[evse]]``)."""
    if evses is None:
        return None
    if isinstance(evses, int) and not isinstance(evses, bool):
        if evses < 1:
            raise ValueError(f"evses must be >= 1, got {evses}")
        return {i: (1,) for i in range(1, evses + 1)}
    if isinstance(evses, Mapping):
        items = list(evses.items())
    elif isinstance(evses, list | tuple) and all(isinstance(e, Mapping) for e in evses):
        items = [(e.get("id"), e.get("connectors", [1])) for e in evses]
    else:
        raise ValueError(f"evses must be a mapping of evse id to connector ids, got {evses!r}")
    result: dict[int, tuple[int, ...]] = {}
    for evse, connectors in items:
        if isinstance(evse, bool) or not isinstance(evse, int) or not 1 <= evse <= 255:
            raise ValueError(f"evse id must be an integer 1..255, got {evse!r}")
        if not isinstance(connectors, list | tuple) or not all(
            isinstance(c, int) and not isinstance(c, bool) and 1 <= c <= 255 for c in connectors
        ):
            raise ValueError(f"connectors of evse {evse} must be integers 1..255: {connectors!r}")
        result[evse] = tuple(connectors)
    return result


class WireController(ChargeController):
    """A :class:`ChargeController` talking ``hal/PROTOCOL.md`` over a :class:`Transport`."""

    name = "wire"

    def __init__(self, evses: Any, options: LinkOptions) -> None:
        self.evses = normalize_evses(evses)
        self.options = options
        self.link: Link | None = None
        self._queue: asyncio.Queue[HalEvent | None] = asyncio.Queue()
        self._state_end: asyncio.Future[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    def _connect(self) -> Transport:
        """Open the port or bus (raise :class:`HalError` when that fails)."""
        raise NotImplementedError

    @property
    def stats(self) -> dict[str, int]:
        return self.link.all_stats() if self.link is not None else {}

    @property
    def connected(self) -> bool:
        return self.link is not None and self.link.liveness.alive

    async def open(self) -> None:
        if self.link is not None or self._closed:
            raise HalError(f"the {self.name} controller is already open or closed")
        self.link = Link(
            self._connect(),
            self._on_message,
            self.options,
            ping=True,
            on_lost=self._lost,
            on_restored=self._restored,
        )
        self.link.start()
        if not await self._resync():
            self.link.liveness.declare_lost()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        if self.link is not None:
            await self.link.close()
        self._queue.put_nowait(None)

    async def events(self) -> AsyncIterator[HalEvent]:
        while True:
            event = await self._queue.get()
            if event is None:
                return
            yield event

    async def enable(self, evse: int, enabled: bool) -> None:
        self._check(evse)
        await self._command(Enable(evse, bool(enabled)))

    async def allow_power(self, evse: int, allowed: bool) -> None:
        self._check(evse)
        await self._command(AllowPower(evse, bool(allowed)))

    async def set_current_limit(self, evse: int, amps: float, phases: int = 3) -> None:
        self._check(evse)
        if isinstance(amps, bool) or not isinstance(amps, int | float) or not amps >= 0:
            raise HalError(f"current limit must be a number >= 0 A, got {amps!r}")
        if phases not in (1, 2, 3):
            raise HalError(f"phases must be 1, 2 or 3, got {phases!r}")
        await self._command(SetCurrentLimit(evse, float(amps), phases))

    async def lock(self, evse: int, connector: int, locked: bool) -> None:
        self._check(evse, connector)
        await self._command(Lock(evse, connector, bool(locked)))

    async def reset(self) -> None:
        await self._command(Reset())

    # -- internals --------------------------------------------------------------------------

    def _check(self, evse: int, connector: int | None = None) -> None:
        if self.evses is None:
            return
        if evse not in self.evses:
            raise HalError(f"unknown evse {evse!r}; this controller has {sorted(self.evses)}")
        if connector is not None and connector not in self.evses[evse]:
            raise HalError(
                f"unknown connector {connector!r} on evse {evse}; it has {list(self.evses[evse])}"
            )

    async def _command(self, msg: Message) -> None:
        if self.link is None or self._closed:
            raise HalError(f"the {self.name} controller is not open")
        await self.link.request(msg)

    def _on_message(self, msg: Message) -> None:
        if isinstance(msg, StateEnd):
            if self._state_end is not None and not self._state_end.done():
                self._state_end.set_result(None)
            return
        if not isinstance(msg, HAL_EVENTS):
            raise Refuse(NackCode.UNEXPECTED, f"the station takes events only, not {msg!r}")
        self._queue.put_nowait(msg)

    async def _resync(self) -> bool:
        """STATE_REQUEST, then wait for the state report to end; False if not acknowledged."""
        assert self.link is not None
        self._state_end = asyncio.get_running_loop().create_future()
        try:
            await self.link.request(StateRequest())
        except HalError as exc:
            log.warning("%s controller: state request failed: %s", self.name, exc)
            return False
        if not await wait_for_future(
            self._state_end, self.options.clock, self.options.open_timeout
        ):
            log.warning("%s controller: state report incomplete after state request", self.name)
        return True

    def _lost(self) -> None:
        log.warning("%s controller stopped answering", self.name)
        self._queue.put_nowait(FaultChanged(0, COMMUNICATION_LOST, True))

    def _restored(self) -> None:
        log.info("%s controller answers again; re-reading its state", self.name)
        self._queue.put_nowait(FaultChanged(0, COMMUNICATION_LOST, False))
        task = asyncio.get_running_loop().create_task(self._resync())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
