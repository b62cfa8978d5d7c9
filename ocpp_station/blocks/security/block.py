"""Security events (use case A04): SecurityEventNotification for critical events.

Every event is published (``security_event``); critical ones go to the CSMS through the
persistent queue, so an event raised while offline arrives after the reconnect (A04.FR.02:
critical events are delivered).
"""

from __future__ import annotations

from typing import Any

from ocpp_station.blocks.base import Block
from ocpp_station.blocks.security.events import is_critical, notification


class SecurityBlock(Block):
    async def raise_event(
        self,
        kind: str,
        *,
        timestamp: str | None = None,
        tech_info: str | None = None,
        critical: bool | None = None,
    ) -> dict[str, Any]:
        """Raise a security event; returns it as published (``critical`` decided)."""
        when = timestamp or self.ctx.timestamp()
        event: dict[str, Any] = {
            "type": kind,
            "timestamp": when,
            "critical": is_critical(kind, critical),
        }
        if tech_info is not None:
            event["techInfo"] = tech_info
        # The security log: every event, published and logged (never key material, A01.FR.12).
        self.ctx.log.info("security event %s%s", kind, f" ({tech_info})" if tech_info else "")
        await self.ctx.publish("security_event", event)
        if event["critical"]:
            self.ctx.dispatcher.enqueue(
                "SecurityEventNotification", notification(kind, when, tech_info)
            )
        return event
