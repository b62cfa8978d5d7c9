"""The shape of a functional block: handlers for CSMS calls plus hooks the station calls."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from hal.types import HalEvent
from ocpp_station.context import Context


class Block:
    """A functional block of OCPP 2.0.1.  Subclasses register their CSMS→station handlers on
    ``ctx.handlers`` in ``__init__`` and override the hooks they need."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def start(self) -> None:
        """The stores, the HAL and the RPC endpoint are open; nothing is connected yet."""

    async def stop(self) -> None:
        """The station is stopping; cancel timers."""

    async def connected(self) -> None:
        """The websocket is up (registration may still be pending)."""

    def disconnected(self) -> None:
        """The websocket went down."""

    async def online(self, first: bool) -> None:
        """The station may send its own messages: the first BootNotification was Accepted
        (``first``) or the connection came back after an Accepted registration."""

    async def hal_event(self, event: HalEvent) -> None:
        """An event from the charge controller."""

    def hal_input(self, event: HalEvent) -> Awaitable[None] | None:
        """:meth:`hal_event` as the station calls it: a block that is done with ``event`` on
        return gives None, else what to await (the default: :meth:`hal_event`).  A block that
        overrides it makes no coroutine for such an event: the HAL's snapshot at every start
        sends a dozen events through three blocks."""
        return self.hal_event(event)

    def describe(self, state: dict[str, Any]) -> None:
        """Add this block's live state to the control API's ``status`` result."""
