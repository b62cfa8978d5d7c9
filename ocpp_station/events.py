"""Publications of the station (the topics of EVerest's ``ocpp`` interface, seed 001).

An embedding application subscribes in-process with :meth:`EventBus.subscribe`; the control server
forwards the same publications to socket clients that called ``subscribe``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

TOPICS = (
    "ocpp_transaction_event",
    "ocpp_transaction_event_response",
    "charging_schedules",
    "is_connected",
    "security_event",
    "event_data",
    "boot_notification_response",
    "display_messages",
)

Listener = Callable[[str, Any], Awaitable[None] | None]


class EventBus:
    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._listeners: list[Listener] = []
        self.log = logger or logging.getLogger("ocpp_station.events")

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(topic, data)`` for every publication; returns an unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def publish(self, topic: str, data: Any) -> None:
        for listener in list(self._listeners):
            try:
                result = listener(topic, data)
                if result is not None:
                    await result
            except Exception:  # a faulty listener must not stop the station
                self.log.exception("listener failed on topic %s", topic)
