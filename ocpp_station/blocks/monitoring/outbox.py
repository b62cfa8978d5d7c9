"""What the monitoring block sends, in order: NotifyEvent messages for the CSMS and
``event_data`` publications for local listeners, each carried by a loop of its own.  The loops
start with their first message: a station whose monitors never fire starts neither (in a
fleet's boot storm every task a station starts costs its creation and first step)."""

from __future__ import annotations

import asyncio
from typing import Any

from ocpp_station.context import Context
from ocpp_station.tasks import OnDemand


class Outbox:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._notifications: asyncio.Queue[tuple[dict[str, Any], bool]] = asyncio.Queue()
        self._publications: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._sender = OnDemand(ctx.spawn, self._send_loop, "monitoring.notify")
        self._publisher = OnDemand(ctx.spawn, self._publish_loop, "monitoring.publish")

    def notify(self, payload: dict[str, Any], keep: bool) -> None:
        """Queue a NotifyEvent; ``keep``: queued while offline (N07.FR.04 and .15)."""
        self._notifications.put_nowait((payload, keep))
        self._sender.wake()

    def publish(self, data: dict[str, Any]) -> None:
        """Publish ``data`` on the bus (topic ``event_data``), after those before it."""
        self._publications.put_nowait(data)
        self._publisher.wake()

    def stop(self) -> None:
        self._sender.stop()
        self._publisher.stop()

    async def _send_loop(self) -> None:
        while True:
            payload, keep = await self._notifications.get()
            await self._ctx.dispatcher.send("NotifyEvent", payload, keep=keep)  # N07.FR.04

    async def _publish_loop(self) -> None:
        while True:
            await self._ctx.publish("event_data", await self._publications.get())
