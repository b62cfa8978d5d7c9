"""Availability (use cases G01–G04): connector status, ChangeAvailability, StatusNotification.

The rules live in the pure :class:`~ocpp_station.blocks.availability.state.Availability`; this
block feeds it the HAL's plug and fault events, the CSMS's and the control API's
ChangeAvailability, and the end of transactions, and turns each effective status change into
exactly one StatusNotification, the ``AvailabilityState`` variables of the ``Connector``/``EVSE``
components, and an enable/disable command to the HAL.  The operational statuses (and scheduled
changes) are persisted so an Inoperative EVSE stays out after a restart or power loss.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from hal.types import FaultChanged, HalEvent, PlugChanged
from ocpp_station import settings
from ocpp_station.blocks.availability.state import Availability, StatusChange
from ocpp_station.blocks.base import Block
from ocpp_station.context import Context
from ocpp_station.ocpp_types import status_info
from ocpp_station.rpc.endpoint import Reply

STATE_KEY = "availability"
StatusListener = Callable[[list[StatusChange]], Awaitable[None]]


class BusyEvses(Protocol):
    """Which EVSEs have a transaction (the transactions block's sessions)."""

    def busy_evses(self) -> set[int]: ...


class AvailabilityBlock(Block):
    def __init__(self, ctx: Context, sessions: BusyEvses) -> None:
        super().__init__(ctx)
        self._sessions = sessions
        ctx.handlers.register("ChangeAvailability", self.on_change_availability)
        self.sm: Availability
        self._enabled: dict[int, bool] = {}
        self._persisted: dict[str, Any] | None = None
        self._listeners: list[StatusListener] = []

    async def start(self) -> None:
        persisted = self.ctx.state.load(STATE_KEY)
        self.sm = Availability(self.ctx.layout, persisted=persisted)
        self._persisted = persisted
        self._enabled = {}
        # Flush the restored state to the device model and the HAL (not to the CSMS: the boot's
        # full StatusNotification round does that).
        self.sm.take_changes()
        self._set_state_variables(self.sm.all_statuses())
        await self._apply_hal()

    # -- queries for other blocks --------------------------------------------------------------
    def usable(self, evse: int) -> bool:
        """May a session start on this EVSE (not faulted, not Inoperative)?"""
        return self.sm.usable(evse)

    def plugged(self, evse: int) -> bool:
        """Is a cable plugged into one of this EVSE's connectors?"""
        return any(self.sm.is_plugged(evse, c) for c in self.ctx.layout.connectors(evse))

    def evse_condition(self, evse: int) -> str:
        """Available, Occupied, Faulted or Unavailable, a reservation left aside (ReserveNow)."""
        return self.sm.evse_condition(evse, evse in self._sessions.busy_evses())

    async def reserve(self, reserved: set[int]) -> None:
        """The reservation block's Reserved flags: ``reserved`` EVSEs report Reserved (H01.FR.20/
        23), the others no longer; one StatusNotification per connector that changed."""
        for evse in self.ctx.layout.ids():
            self.sm.reserve(evse, evse in reserved)
        await self.flush()

    def add_status_listener(self, listener: StatusListener) -> None:
        """``listener`` hears every batch of effective status changes (after they were sent)."""
        self._listeners.append(listener)

    # -- CSMS / control API --------------------------------------------------------------------
    async def on_change_availability(self, payload: dict[str, Any]) -> Reply:
        response = self._decide(payload)
        return Reply(response, then=self.flush)

    async def change(self, payload: dict[str, Any]) -> dict[str, Any]:
        """ChangeAvailability from the local control API (same payload and answer as the CSMS's)."""
        response = self._decide(payload)
        self.ctx.spawn(self.flush(), "availability")
        return response

    def _decide(self, payload: dict[str, Any]) -> dict[str, Any]:
        evse = payload.get("evse")
        result = self.sm.change(
            payload["operationalStatus"],
            evse=evse.get("id") if evse else None,
            connector=evse.get("connectorId") if evse else None,
            busy_evses=self._sessions.busy_evses(),
        )
        self._persist()
        response: dict[str, Any] = {"status": result.status}
        if result.reason:
            response["statusInfo"] = status_info(result.reason, result.info)
        return response

    # -- events --------------------------------------------------------------------------------
    def hal_input(self, event: HalEvent) -> Awaitable[None] | None:
        """Only a plug or a fault changes a status (the rest: nothing to do, no coroutine)."""
        return self.hal_event(event) if isinstance(event, (PlugChanged, FaultChanged)) else None

    async def hal_event(self, event: HalEvent) -> None:
        if isinstance(event, PlugChanged):
            self.sm.plug(event.evse, event.connector, event.plugged)
            if not event.plugged and self.sm.defer_unplug(event.evse, self._sessions.busy_evses()):
                return  # transaction_ended() flushes with the change applied
        elif isinstance(event, FaultChanged):
            self.sm.fault(event.evse, event.code, event.active)
        else:
            return
        if self.sm.apply_due(self._sessions.busy_evses()):
            self._persist()
        await self.flush()

    async def transaction_ended(self, evse: int) -> None:
        """The transaction on ``evse`` ended: a scheduled change for this EVSE applies now."""
        self.sm.transaction_ended(evse)
        self._persist()
        await self.flush()

    async def hold(self, held: set[int]) -> None:
        """The station's own Unavailable (a pending OnIdle reset, B12): ``held`` EVSEs report
        Unavailable when idle, the others are released."""
        for evse in self.ctx.layout.ids():
            self.sm.hold(evse, evse in held)
        await self.flush()

    # -- output --------------------------------------------------------------------------------
    async def flush(self) -> None:
        """Send one StatusNotification per effective change, update the device model and the HAL."""
        changes = self.sm.take_changes()
        self._set_state_variables(changes)
        await self._apply_hal()
        if self.ctx.link.online:
            for change in changes:
                await self.notify(change)
        if changes:
            for listener in self._listeners:
                await listener(changes)

    async def online(self, first: bool) -> None:
        # B01.FR.05: after an Accepted boot, every connector's status.  After a reconnect (B04):
        # every connector's when the outage lasted longer than OCPPCommCtrlr.OfflineThreshold
        # (B04.FR.01), else only those whose status changed while offline (B04.FR.02).
        everything = first or self.ctx.link.last_outage > settings.offline_threshold(self.ctx.dm)
        for change in self.sm.all_statuses() if everything else self.sm.undelivered():
            await self.notify(change)

    async def report(
        self, evse: int | None, connector: int | None, *, triggered: bool = False
    ) -> None:
        """StatusNotification for the given connectors (all when None), e.g. on TriggerMessage."""
        for change in self.sm.all_statuses():
            if evse is not None and change.evse != evse:
                continue
            if connector is not None and change.connector != connector:
                continue
            await self.notify(change, triggered=triggered)

    async def notify(self, change: StatusChange, *, triggered: bool = False) -> None:
        payload = {
            "timestamp": self.ctx.timestamp(),
            "connectorStatus": change.status,
            "evseId": change.evse,
            "connectorId": change.connector,
        }
        answer = await self.ctx.dispatcher.send("StatusNotification", payload, triggered=triggered)
        if answer is not None:
            self.sm.delivered(change)

    def _set_state_variables(self, changes: Sequence[StatusChange]) -> None:
        """The AvailabilityState variables after ``changes``: each changed connector's, then
        the EVSE's of each (once per EVSE) and the station's (once)."""
        if not changes:
            return
        dm, layout = self.ctx.dm, self.ctx.layout
        for change in changes:
            dm.set(
                "Connector",
                "AvailabilityState",
                change.status,
                evse=change.evse,
                connector=change.connector,
            )
        for evse in dict.fromkeys(change.evse for change in changes):
            statuses = [self.sm.status(evse, c) for c in layout.connectors(evse)]
            dm.set("EVSE", "AvailabilityState", _evse_state(statuses), evse=evse)
        everything = [self.sm.status(e, c) for e in layout.ids() for c in layout.connectors(e)]
        dm.set("ChargingStation", "AvailabilityState", _evse_state(everything))

    async def _apply_hal(self) -> None:
        for evse in self.ctx.layout.ids():
            usable = self.sm.usable(evse)
            if self._enabled.get(evse) != usable:
                try:
                    await self.ctx.hal.enable(evse, usable)
                except Exception as exc:
                    self.ctx.log.warning("HAL enable(%s, %s) failed: %s", evse, usable, exc)
                    continue
                self._enabled[evse] = usable

    def _persist(self) -> None:
        state = self.sm.to_persist()
        if state != self._persisted:  # a durable write (fsync) only when something changed
            self.ctx.state.save(STATE_KEY, state)
            self._persisted = state

    def describe(self, state: dict[str, Any]) -> None:
        evses = state.setdefault("evses", [])
        by_id = {e["id"]: e for e in evses}
        for evse in self.ctx.layout.ids():
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
                for c in self.ctx.layout.connectors(evse)
            ]
        state["operational_status"] = self.sm.operational()
        state["pending_availability"] = self.sm.pending()


def _evse_state(statuses: Sequence[str]) -> str:
    """The EVSE component's AvailabilityState from its connectors' statuses (and the
    ChargingStation's from every connector's)."""
    if not statuses:
        return "Unavailable"
    if len(set(statuses)) == 1:
        return statuses[0]
    for status in ("Occupied", "Reserved", "Available", "Faulted"):
        if status in statuses:
            return status
    return "Unavailable"
