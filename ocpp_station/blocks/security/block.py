"""Security events (use case A04): SecurityEventNotification for critical events.

Notifications go through the persistent queue so an event raised while offline reaches the CSMS
after the reconnect (A04.FR.02/A04.FR.03 ask that critical events be delivered).
"""

from __future__ import annotations

from typing import Any

from ocpp_station.blocks.base import Block


class SecurityBlock(Block):
    async def notify(self, payload: dict[str, Any]) -> None:
        self.st.enqueue("SecurityEventNotification", payload)
