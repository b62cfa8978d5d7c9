"""Reset (use cases B11–B12), station-wide or per EVSE.

The decision is the pure :class:`ocpp_station.reset.ResetPlanner`'s: ``OnIdle`` with a transaction
running is ``Scheduled`` and happens when the station (or the EVSE) is idle; ``Immediate`` first
ends the running transactions with stoppedReason ``ImmediateReset``.  A station reset restarts the
station core: everything is closed and opened again from the persisted state, and the next
BootNotification says ``RemoteReset``; the embedding application's ``on_reset`` hook may then reboot
the board.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from ocpp_station.blocks.base import Block
from ocpp_station.blocks.provisioning.block import BOOT_STATE_KEY
from ocpp_station.blocks.reset.planner import ResetPlanner
from ocpp_station.rpc.endpoint import Reply

if TYPE_CHECKING:
    from ocpp_station.station import Station


class ResetBlock(Block):
    def __init__(self, station: Station) -> None:
        super().__init__(station)
        station.rpc.register("Reset", self.on_reset)
        self.planner = ResetPlanner(list(station.config.evse_map))
        self._reset_task: asyncio.Task[Any] | None = None

    def _busy(self) -> set[int]:
        return self.st.blocks.availability.busy_evses()

    async def on_reset(self, payload: dict[str, Any]) -> Reply:
        kind = payload["type"]
        evse = payload.get("evseId")
        decision = self.planner.request(kind, evse, self._busy())
        response: dict[str, Any] = {"status": decision.status}
        if decision.reason:
            response["statusInfo"] = {"reasonCode": decision.reason[:20]}
        if decision.status == "Rejected":
            return Reply(response)
        stop = tuple(decision.stop_transactions)
        if decision.reset_now or stop:
            return Reply(response, then=lambda: self._execute(evse, stop, decision.reset_now))
        return Reply(response, then=self._hold)

    async def transaction_ended(self, evse: int) -> None:
        """Called by the transactions block: a scheduled OnIdle reset may be due now."""
        due = self.planner.transaction_ended(evse, self._busy())
        if due is not None:
            await self._execute(due.evse, (), True)
        else:
            await self._hold()

    async def _drain_queue(self) -> None:
        """B12.FR.02/B12.FR.04: the Ended events of the stopped transactions go out before the
        reset, when the CSMS is reachable; whatever is left stays queued for after the boot."""
        deadline = self.st.now() + self.st.dm.get_float(
            "OCPPCommCtrlr", "MessageTimeout", variable_instance="Default", default=30.0
        )
        while len(self.st.queue) and self.st.online and self.st.now() < deadline:
            await self.st.clock.sleep(0.05)

    async def _hold(self) -> None:
        """B12: while an OnIdle reset waits, idle EVSEs are set Unavailable so no new session
        starts there."""
        availability = self.st.blocks.availability
        held = set(self.planner.held_evses())
        for evse in self.st.config.evse_map:
            availability.sm.hold(evse, evse in held)
        await availability.flush()

    async def _execute(self, evse: int | None, stop: tuple[int, ...], reset_now: bool) -> None:
        tx = getattr(self.st.blocks, "transactions", None)
        if tx is not None and stop:
            for evse_id in stop:
                await tx.stop_transaction(evse_id, "ImmediateReset", trigger="ResetCommand")
        if not reset_now:
            return
        await self._drain_queue()
        if evse:  # an EVSE reset: its transaction is over; the EVSE is usable again
            await self._hold()
            await self.st.hal.enable(evse, True)
            return
        self.st.queue.save_state(BOOT_STATE_KEY, {"reason": "RemoteReset"})
        # Outside the station's own tasks: restarting the core cancels all of those.
        self._reset_task = asyncio.get_running_loop().create_task(
            self.st.restart_core("RemoteReset")
        )
