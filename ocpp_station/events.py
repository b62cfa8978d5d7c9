"""Publications of the station (the topics of EVerest's ``ocpp`` interface, seed 001).

An embedding application subscribes in-process with :meth:`EventBus.subscribe`; the control server
forwards the same publications to socket clients that called ``subscribe``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
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
        # (listener, its topics or None for every topic), in subscription order
        self._listeners: list[tuple[Listener, frozenset[str] | None]] = []
        self.log = logger or logging.getLogger("ocpp_station.events")

    def subscribe(
        self, listener: Listener, topics: Iterable[str] | None = None
    ) -> Callable[[], None]:
        """Call ``listener(topic, data)`` for every publication (of one of ``topics`` only, when
        given); returns an unsubscribe function."""
        entry = (listener, None if topics is None else frozenset(topics))
        self._listeners.append(entry)
        return lambda: self._listeners.remove(entry)

    def listening(self, topic: str) -> bool:
        """Would a publication of ``topic`` reach a listener now?  A publisher whose data costs
        something to make (the charging schedules) makes it only then."""
        return any(topics is None or topic in topics for _, topics in self._listeners)

    async def publish(self, topic: str, data: Any) -> None:
        for listener, topics in list(self._listeners):
            if topics is not None and topic not in topics:
                continue
            try:
                result = listener(topic, data)
                if result is not None:
                    await result
            except Exception:  # a faulty listener must not stop the station
                self.log.exception("listener failed on topic %s", topic)
