"""What a functional block may use: the station context.

Every block gets one :class:`Context` (and, by constructor, the other blocks it needs through
narrow interfaces).  Nothing in it reaches back to the station object: a block cannot go looking
for its neighbours.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from device_model import DeviceModel
from hal.types import ChargeController
from ocpp_station.clock import OffsetClock, iso
from ocpp_station.config import StationConfig
from ocpp_station.dispatch.dispatcher import Dispatcher
from ocpp_station.dispatch.policy import LinkState
from ocpp_station.events import TOPICS, EventBus
from ocpp_station.layout import EvseLayout
from ocpp_station.rpc.endpoint import Handler
from ocpp_station.tasks import Spawn


class StateRecords(Protocol):
    """The blocks' small state records in the station store (JSON objects by key)."""

    def load(self, key: str) -> dict[str, Any] | None: ...

    def save(self, key: str, value: dict[str, Any], *, synced: bool = True) -> None: ...


class Handlers(Protocol):
    """Where a block registers its CSMS→station handlers (the RPC endpoint)."""

    def register(self, action: str, handler: Handler) -> None: ...


@dataclass
class Context:
    config: StationConfig
    layout: EvseLayout
    dm: DeviceModel
    state: StateRecords
    hal: ChargeController
    handlers: Handlers
    dispatcher: Dispatcher
    link: LinkState
    clock: OffsetClock
    log: logging.Logger
    bus: EventBus
    spawn: Spawn

    def now(self) -> float:
        return self.clock.time()

    def timestamp(self) -> str:
        return iso(self.clock.time())

    async def publish(self, topic: str, data: Any) -> None:
        assert topic in TOPICS, topic
        await self.bus.publish(topic, data)
