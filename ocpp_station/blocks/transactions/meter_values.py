"""Clock-aligned and triggered MeterValues (J01, F06.FR.06), outside transactions' own events."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from ocpp_station.blocks.transactions.config import measurands
from ocpp_station.blocks.transactions.meter import meter_value, next_aligned
from ocpp_station.clock import Wake, sleep_or_wake
from ocpp_station.context import Context

if TYPE_CHECKING:  # typing only: the block owns this helper and passes itself
    from ocpp_station.blocks.transactions.block import TransactionsBlock


# While clock-aligned values are off, the loop waits for a change of AlignedDataCtrlr (changed(),
# from the block's device-model subscriber), looking again at most this often.
IDLE_S = 3600.0


class MeterValues:
    def __init__(self, ctx: Context, block: TransactionsBlock) -> None:
        self.ctx = ctx
        self._block = block
        self._task: asyncio.Task[Any] | None = None
        self._wake = Wake()

    def changed(self) -> None:
        """An AlignedDataCtrlr (or other transaction setting) variable changed: a loop waiting
        while clock-aligned values are off looks again at once."""
        self._wake.set()

    def start(self) -> None:
        self._task = self.ctx.spawn(
            self._aligned_loop(), "aligned-meter", restart=self._aligned_loop
        )

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _aligned_loop(self) -> None:
        """Clock-aligned meter values (J01): MeterValues every AlignedDataCtrlr.Interval seconds,
        aligned to midnight, for every EVSE (see :meth:`send` for SendDuringIdle)."""
        dm = self.ctx.dm
        last = 0.0
        while True:
            self._wake.clear()
            interval = dm.get_float("AlignedDataCtrlr", "Interval", default=0)
            if interval <= 0 or not dm.get_bool("AlignedDataCtrlr", "Enabled", default=True):
                # (no polling: 10,000 fleet stations looking every 5 s made 2,000 wake-ups/s)
                await sleep_or_wake(self.ctx.clock, IDLE_S, self._wake)
                continue
            now = self.ctx.now()
            instant = next_aligned(max(now, last), interval)  # a timer may fire a hair early
            last = instant
            await self.ctx.clock.sleep(max(0.0, instant - now))
            if not dm.get_bool("AlignedDataCtrlr", "Enabled", default=True):
                continue  # switched off while waiting: not one value more
            # J01: stamped with the aligned instant itself, not the moment the timer fired
            await self.send("Sample.Clock", at=instant)

    async def send(
        self,
        context: str,
        evse: int | None = None,
        *,
        at: float | None = None,
        triggered: bool = False,
    ) -> None:
        """MeterValues with the AlignedDataCtrlr.Measurands of each EVSE (of ``evse`` only when
        given).  Clock-aligned ones go to every EVSE, idle or in a transaction (J01.FR.14,
        J01.FR.22 allows a MeterValuesRequest for the latter), except that with
        AlignedDataCtrlr.SendDuringIdle true none are sent while any transaction is ongoing
        (J01.FR.20: the station-wide variable)."""
        dm = self.ctx.dm
        wanted = measurands(dm, "AlignedDataCtrlr", "Measurands")
        if context == "Sample.Clock" and self._idle_only() and self._block.sessions.busy_evses():
            return
        for evse_id, reading in sorted(self._block.readings.items()):
            if evse is not None and evse_id != evse:
                continue
            value = meter_value(reading, wanted, context, self.ctx.now() if at is None else at)
            if value is None:
                continue  # no supported measurand configured
            payload = {"evseId": evse_id, "meterValue": [value]}
            await self.ctx.dispatcher.send("MeterValues", payload, triggered=triggered)

    def _idle_only(self) -> bool:
        return self.ctx.dm.get_bool("AlignedDataCtrlr", "SendDuringIdle", default=False)
