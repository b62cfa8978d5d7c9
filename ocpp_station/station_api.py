"""What an embedding application calls on a running station besides its lifecycle: the
publications, ChangeAvailability and security events from the station's own side, and
DataTransfer both ways.  :class:`~ocpp_station.station.StationCore` inherits these."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ocpp_station.blocks.data_transfer.handlers import DataTransferHandler, DataTransferRegistry
from ocpp_station.blocks.monitoring.watch import WatchKey
from ocpp_station.dispatch.dispatcher import NotReady
from ocpp_station.events import EventBus, Listener

if TYPE_CHECKING:  # typing only: the station builds its blocks at start
    from ocpp_station.wiring import Blocks


class StationApi:
    bus: EventBus
    blocks: Blocks
    data_transfers: DataTransferRegistry
    started: bool

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(topic, data)`` for every publication (topics: ``events.TOPICS``);
        returns an unsubscribe function."""
        return self.bus.subscribe(listener)

    async def change_availability(self, payload: dict[str, Any]) -> dict[str, Any]:
        """ChangeAvailability from the station's own side (a ChangeAvailabilityRequest payload;
        the answer a CSMS would get)."""
        return await self.blocks.availability.change(payload)

    async def raise_security_event(
        self,
        kind: str,
        *,
        timestamp: str | None = None,
        tech_info: str | None = None,
        critical: bool | None = None,
    ) -> dict[str, Any]:
        """A security event of the integrator's (A04); returns it as published."""
        return await self.blocks.security.raise_event(
            kind, timestamp=timestamp, tech_info=tech_info, critical=critical
        )

    def watch_variables(self, keys: Iterable[WatchKey]) -> None:
        """From now on publish ``event_data`` (an OCPP EventDataType, trigger ``Delta``) whenever
        the Actual value of one of these variables changes, whoever changed it.  A key is
        ``(component, component instance, evse, connector, variable, variable instance)``;
        ``None`` for the EVSE or connector matches every one."""
        self.blocks.monitoring.watch(keys)

    def register_data_transfer(
        self, vendor_id: str, handler: DataTransferHandler, message_id: str | None = None
    ) -> Callable[[], None]:
        """Answer the CSMS's DataTransfers of ``vendor_id`` (of one ``message_id``, or all when
        None) with ``handler(request) -> response`` (P01; OCPP camelCase payloads, the handler may
        be a coroutine); returns a function that removes the registration."""
        return self.data_transfers.register(vendor_id, handler, message_id)

    async def data_transfer(
        self,
        vendor_id: str,
        message_id: str | None = None,
        data: Any = None,
        *,
        custom_data: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Send a DataTransfer to the CSMS now (P02); its DataTransferResponse payload.  Raises
        ``NotReady`` while offline or not registered, ``ConnectionLost``, ``CallTimeout``, or
        ``OCPPError`` for a CALLERROR answer."""
        if not self.started:
            raise NotReady("DataTransfer: the station is not started")
        return await self.blocks.data_transfer.send(
            vendor_id, message_id, data, custom_data=custom_data
        )
