"""Availability (use cases G01–G04): connector status, ChangeAvailability, StatusNotification.

The rules live in the pure :class:`ocpp_station.availability.Availability`; this block feeds it the
HAL's plug and fault events, the CSMS's and the control API's ChangeAvailability, and the end of
transactions, and turns each effective status change into exactly one StatusNotification, the
``AvailabilityState`` variables of the ``Connector``/``EVSE`` components, and an enable/disable
command to the HAL.  The operational statuses (and scheduled changes) are persisted so an
Inoperative EVSE stays out after a restart or power loss.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hal.types import FaultChanged, HalEvent, PlugChanged
from ocpp_station.blocks.availability.state import Availability, StatusChange
from ocpp_station.blocks.base import Block
from ocpp_station.rpc.endpoint import CallTimeout, ConnectionLost, Reply
from ocpp_station.rpc.errors import OCPPError

if TYPE_CHECKING:
    from ocpp_station.station import Station

STATE_KEY = "availability"


class AvailabilityBlock(Block):
    def __init__(self, station: Station) -> None:
        super().__init__(station)
        station.rpc.register("ChangeAvailability", self.on_change_availability)
        self.sm: Availability
        self.last_sent: dict[tuple[int, int], str] = {}
        self._enabled: dict[int, bool] = {}
        self._persisted: dict[str, Any] | None = None

    async def start(self) -> None:
        persisted = self.st.queue.load_state(STATE_KEY)
        self.sm = Availability(self.st.config.evse_map, persisted=persisted)
        self._persisted = persisted
        self.last_sent = {}
        self._enabled = {}
        # Flush the restored state to the device model and the HAL (not to the CSMS: the boot's
        # full StatusNotification round does that).
        self.sm.take_changes()
        for change in self.sm.all_statuses():
            self._set_state_variables(change)
        await self._apply_hal()

    # -- CSMS / control API --------------------------------------------------------------------
    async def on_change_availability(self, payload: dict[str, Any]) -> Reply:
        response = await self._decide(payload)
        return Reply(response, then=self.flush)

    async def change(self, payload: dict[str, Any]) -> dict[str, Any]:
        """ChangeAvailability from the local control API (same payload and answer as the CSMS's)."""
        response = await self._decide(payload)
        self.st.spawn(self.flush(), "availability")
        return response

    async def _decide(self, payload: dict[str, Any]) -> dict[str, Any]:
        evse = payload.get("evse")
        evse_id = evse.get("id") if evse else None
        connector_id = evse.get("connectorId") if evse else None
        result = self.sm.change(
            payload["operationalStatus"],
            evse=evse_id,
            connector=connector_id,
            busy_evses=self.busy_evses(),
        )
        self._persist()
        response: dict[str, Any] = {"status": result.status}
        if result.reason:
            info: dict[str, Any] = {"reasonCode": result.reason[:20]}
            if result.info:
                info["additionalInfo"] = result.info[:512]
            response["statusInfo"] = info
        return response

    def busy_evses(self) -> set[int]:
        tx = getattr(self.st.blocks, "transactions", None)
        return set() if tx is None else tx.busy_evses()

    # -- events --------------------------------------------------------------------------------
    async def hal_event(self, event: HalEvent) -> None:
        if isinstance(event, PlugChanged):
            self.sm.plug(event.evse, event.connector, event.plugged)
            if (
                not event.plugged
                and event.evse in self.sm.pending()
                and event.evse in self.busy_evses()
            ):
                # The car leaves an EVSE scheduled to change: its transaction is ending, and
                # transaction_ended() flushes with the change applied, so the CSMS sees
                # Occupied → Unavailable, not an Available in between.
                return
        elif isinstance(event, FaultChanged):
            self.sm.fault(event.evse, event.code, event.active)
        else:
            return
        self._apply_due()
        await self.flush()

    def _apply_due(self) -> None:
        """A change scheduled for an EVSE whose transaction has already ended is due now."""
        busy = self.busy_evses()
        due = [evse for evse in self.sm.pending() if evse not in busy]
        for evse in due:
            self.sm.transaction_ended(evse)
        if due:
            self._persist()

    async def transaction_ended(self, evse: int) -> None:
        """Called by the transactions block: a scheduled change for this EVSE applies now."""
        self.sm.transaction_ended(evse)
        self._persist()
        await self.flush()

    def reserve(self, evse: int, connector: int | None, reserved: bool) -> None:
        self.sm.reserve(evse, connector, reserved)

    # -- output --------------------------------------------------------------------------------
    async def flush(self) -> None:
        """Send one StatusNotification per effective change, update the device model and the HAL."""
        changes = self.sm.take_changes()
        for change in changes:
            self._set_state_variables(change)
        await self._apply_hal()
        if self.st.connected and self.st.registration == "Accepted":
            for change in changes:
                await self.notify(change)

    async def online(self, first: bool) -> None:
        # B01/G01: after an Accepted boot, every connector's status; after a reconnect only the
        # connectors whose status changed while offline.
        for change in self.sm.all_statuses():
            if first or self.last_sent.get((change.evse, change.connector)) != change.status:
                await self.notify(change)

    async def notify(self, change: StatusChange) -> None:
        key = (change.evse, change.connector)
        payload = {
            "timestamp": self.st.timestamp(),
            "connectorStatus": change.status,
            "evseId": change.evse,
            "connectorId": change.connector,
        }
        try:
            await self.st.call("StatusNotification", payload)
        except (CallTimeout, OCPPError, ConnectionLost) as exc:
            self.st.log.warning("StatusNotification %s not delivered: %s", key, exc)
            return
        except Exception as exc:  # NotReady: the reconnect will send it
            self.st.log.info("StatusNotification %s deferred: %s", key, exc)
            return
        self.last_sent[key] = change.status

    def _set_state_variables(self, change: StatusChange) -> None:
        dm = self.st.dm
        dm.set(
            "Connector",
            "AvailabilityState",
            change.status,
            evse=change.evse,
            connector=change.connector,
        )
        statuses = [
            self.sm.status(change.evse, c) for c in self.st.config.evse_map.get(change.evse, [])
        ]
        dm.set("EVSE", "AvailabilityState", _evse_state(statuses), evse=change.evse)

    async def _apply_hal(self) -> None:
        for evse in self.st.config.evse_map:
            usable = self.sm.usable(evse)
            if self._enabled.get(evse) != usable:
                try:
                    await self.st.hal.enable(evse, usable)
                except Exception as exc:
                    self.st.log.warning("HAL enable(%s, %s) failed: %s", evse, usable, exc)
                    continue
                self._enabled[evse] = usable

    def _persist(self) -> None:
        state = self.sm.to_persist()
        if state != self._persisted:  # a durable write (fsync) only when something changed
            self.st.queue.save_state(STATE_KEY, state)
            self._persisted = state

    def describe(self, state: dict[str, Any]) -> None:
        evses = state.setdefault("evses", [])
        by_id = {e["id"]: e for e in evses}
        for evse, connectors in self.st.config.evse_map.items():
            entry = by_id.get(evse)
            if entry is None:
                entry = {"id": evse}
                evses.append(entry)
            entry["operational_status"] = self.sm.operational(evse)
            entry["connectors"] = [
                {
                    "id": c,
                    "status": self.sm.status(evse, c),
                    "operational_status": self.sm.operational(evse, c),
                }
                for c in connectors
            ]
        state["operational_status"] = self.sm.operational()
        state["pending_availability"] = self.sm.pending()


def _evse_state(statuses: Sequence[str]) -> str:
    """The EVSE component's AvailabilityState from its connectors' statuses."""
    if not statuses:
        return "Unavailable"
    if len(set(statuses)) == 1:
        return statuses[0]
    for status in ("Occupied", "Reserved", "Available", "Faulted"):
        if status in statuses:
            return status
    return "Unavailable"
