"""Reset (use cases B11–B12), station-wide or per EVSE.

The decision is the pure :class:`~ocpp_station.blocks.reset.planner.ResetPlanner`'s: ``OnIdle``
with a transaction running is ``Scheduled`` and happens when the station (or the EVSE) is idle;
``Immediate`` first ends the running transactions with stoppedReason ``ImmediateReset``.  A reset
of one EVSE is Rejected unless that EVSE's ``AllowReset`` is true (B11.FR.10, B12.FR.09).  A station
reset restarts the station core: everything is closed and opened again from the persisted state,
and the next BootNotification says ``RemoteReset``; the embedding application's ``on_reset`` hook
may then reboot the board.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from ocpp_station import settings
from ocpp_station.blocks.base import Block
from ocpp_station.blocks.interfaces import BootReason, FinishedSessions, Holds
from ocpp_station.context import Context
from ocpp_station.ocpp_types import status_info
from ocpp_station.rpc.endpoint import Reply

if TYPE_CHECKING:
    from ocpp_station.blocks.reset.planner import ResetPlanner


class Sessions(FinishedSessions, Protocol):
    async def stop_transaction(self, evse: int, reason: str, trigger: str) -> None: ...


class QueueDepth(Protocol):
    def __len__(self) -> int: ...


class ResetBlock(Block):
    def __init__(
        self,
        ctx: Context,
        *,
        sessions: Sessions,
        availability: Holds,
        registration: BootReason,
        queue: QueueDepth,
        restart: Callable[[str], None],
    ) -> None:
        super().__init__(ctx)
        self._sessions = sessions
        self._availability = availability
        self._registration = registration
        self._queue = queue
        self._restart = restart
        ctx.handlers.register("Reset", self.on_reset)
        sessions.add_finished_listener(self.transaction_ended)
        self._planner: ResetPlanner | None = None

    @property
    def planner(self) -> ResetPlanner:
        """The pure planner, built (its module loaded) at the first Reset the CSMS asks for."""
        if self._planner is None:
            from ocpp_station.blocks.reset.planner import ResetPlanner  # lazy: the first Reset

            self._planner = ResetPlanner(self.ctx.layout)
        return self._planner

    async def on_reset(self, payload: dict[str, Any]) -> Reply:
        kind = payload["type"]
        evse = payload.get("evseId")
        decision = self.planner.request(
            kind, evse, self._sessions.busy_evses(), evse_reset_supported=self._allow_reset(evse)
        )
        response: dict[str, Any] = {"status": decision.status}
        if decision.reason:
            response["statusInfo"] = status_info(decision.reason)
        if decision.status == "Rejected":
            return Reply(response)
        stop = tuple(decision.stop_transactions)
        if decision.reset_now or stop:
            return Reply(response, then=lambda: self._execute(evse, stop, decision.reset_now))
        return Reply(response, then=self._hold)

    def _allow_reset(self, evse: Any) -> bool:
        """B11.FR.10: an EVSE reset is Rejected unless ``EVSE.AllowReset`` is true for it (an
        unknown EVSE is the planner's to refuse with ``UnknownEvse``)."""
        if not isinstance(evse, int) or isinstance(evse, bool) or evse not in self.ctx.layout.ids():
            return True
        return self.ctx.dm.get_bool("EVSE", "AllowReset", evse=evse, default=False)

    async def transaction_ended(self, evse: int) -> None:
        """A transaction ended: a scheduled OnIdle reset may be due now."""
        if self._planner is None:  # no Reset was ever asked for: none waits
            await self._hold()
            return
        due = self._planner.transaction_ended(evse, self._sessions.busy_evses())
        if due is not None:
            await self._execute(due.evse, (), True)
        else:
            await self._hold()

    async def _drain_queue(self) -> None:
        """B12.FR.02/B12.FR.04: the Ended events of the stopped transactions go out before the
        reset, when the CSMS is reachable; whatever is left stays queued for after the boot."""
        deadline = self.ctx.now() + settings.message_timeout(self.ctx.dm)
        while len(self._queue) and self.ctx.link.online and self.ctx.now() < deadline:
            await self.ctx.clock.sleep(0.05)

    async def _hold(self) -> None:
        """B12: while an OnIdle reset waits, idle EVSEs are set Unavailable so no new session
        starts there."""
        held = self._planner.held_evses() if self._planner is not None else ()
        await self._availability.hold(set(held))

    async def _execute(self, evse: int | None, stop: tuple[int, ...], reset_now: bool) -> None:
        for evse_id in stop:
            await self._sessions.stop_transaction(evse_id, "ImmediateReset", trigger="ResetCommand")
        if not reset_now:
            return
        await self._drain_queue()
        if evse:  # an EVSE reset: its transaction is over; the EVSE is usable again
            await self._hold()
            await self.ctx.hal.enable(evse, True)
            return
        self._registration.set_boot_reason("RemoteReset")
        # The station schedules the restart of its core outside the core's own tasks (the
        # restart cancels those, this one among them).
        self._restart("RemoteReset")
