"""TriggerMessage (use case F06): the CSMS asks the station to send one of its messages now.

``Accepted`` is answered first and the message follows (F06.FR.04).  A BootNotification after an
Accepted registration is ``Rejected`` (F06.FR.17); an unknown EVSE or connector is ``Rejected``;
what the station does not send (certificates, 15118) is ``NotImplemented``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ocpp_station.blocks.base import Block
from ocpp_station.rpc.endpoint import CallTimeout, ConnectionLost, Reply
from ocpp_station.rpc.errors import OCPPError

if TYPE_CHECKING:
    from ocpp_station.station import Station


class TriggerBlock(Block):
    def __init__(self, station: Station) -> None:
        super().__init__(station)
        station.rpc.register("TriggerMessage", self.on_trigger_message)

    async def on_trigger_message(self, payload: dict[str, Any]) -> Reply:
        requested = payload["requestedMessage"]
        evse = payload.get("evse")
        evse_id: int | None = evse.get("id") if evse else None
        connector_id: int | None = evse.get("connectorId") if evse else None
        evse_map = self.st.config.evse_map
        if evse_id is not None and evse_id != 0 and evse_id not in evse_map:
            return _answer("Rejected", "UnknownEvse", f"no EVSE {evse_id}")
        if evse_id and connector_id is not None and connector_id not in evse_map.get(evse_id, []):
            return _answer("Rejected", "UnknownConnector", f"no connector {connector_id}")
        action = self._action(requested, evse_id or None, connector_id)
        if action is None:
            if requested == "BootNotification":
                # F06.FR.17: no BootNotification trigger once the registration is Accepted.
                return _answer("Rejected", "NotPermitted", "registration already Accepted")
            return _answer("NotImplemented", "UnsupportedRequest", f"{requested} not supported")
        return Reply({"status": "Accepted"}, then=action)

    def _action(
        self, requested: str, evse: int | None, connector: int | None
    ) -> Callable[[], Awaitable[None]] | None:
        st = self.st
        if requested == "BootNotification":
            if st.registration == "Accepted":
                return None
            return self._boot
        if requested == "Heartbeat":
            return st.blocks.provisioning.heartbeat
        if requested == "StatusNotification":
            return lambda: self._status(evse, connector)
        tx = getattr(st.blocks, "transactions", None)
        if requested in ("MeterValues", "TransactionEvent") and tx is not None:
            return lambda: tx.trigger(requested, evse)
        if requested in ("FirmwareStatusNotification", "LogStatusNotification"):
            # Nothing is being updated or uploaded: the status is Idle (F06 with L01 / N01).
            return lambda: self._idle(requested)
        return None

    async def _boot(self) -> None:
        try:
            await self.st.blocks.provisioning.send_boot()
        except (CallTimeout, OCPPError, ConnectionLost) as exc:
            self.st.log.warning("triggered BootNotification failed: %s", exc)

    async def _status(self, evse: int | None, connector: int | None) -> None:
        availability = self.st.blocks.availability
        for change in availability.sm.all_statuses():
            if evse is not None and change.evse != evse:
                continue
            if connector is not None and change.connector != connector:
                continue
            await availability.notify(change)

    async def _idle(self, action: str) -> None:
        try:
            await self.st.call(action, {"status": "Idle"})
        except (CallTimeout, OCPPError, ConnectionLost) as exc:
            self.st.log.warning("triggered %s failed: %s", action, exc)


def _answer(status: str, reason: str, info: str) -> Reply:
    return Reply({"status": status, "statusInfo": {"reasonCode": reason, "additionalInfo": info}})
