"""Clock-aligned and triggered MeterValues (J01, F06.FR.06), outside transactions' own events."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_station.blocks.transactions.config import measurands
from ocpp_station.blocks.transactions.meter import meter_value, next_aligned
from ocpp_station.clock import Wake, sleep_or_wake
from ocpp_station.context import Context
from ocpp_station.tasks import OnDemand

if TYPE_CHECKING:  # typing only: the block owns this helper and passes itself
    from ocpp_station.blocks.transactions.block import TransactionsBlock


# While clock-aligned values are off, the loop waits for a change of AlignedDataCtrlr (changed(),
# from the block's device-model subscriber), looking again at most this often.
IDLE_S = 3600.0


class MeterValues:
    def __init__(self, ctx: Context, block: TransactionsBlock) -> None:
        self.ctx = ctx
        self._block = block
        self._wake = Wake()
        # clock-aligned values run once switched on (started by a settings change if off)
        self._aligned = OnDemand(ctx.spawn, self._aligned_loop, "aligned-meter", self._wake)

    def changed(self) -> None:
        """An AlignedDataCtrlr (or other transaction setting) variable changed: the loop looks
        again at once (started now if clock-aligned values were off until now)."""
        self._aligned.wake()

    def start(self) -> None:
        if self._interval() > 0:
            self._aligned.wake()

    def stop(self) -> None:
        self._aligned.stop()

    def _interval(self) -> float:
        """AlignedDataCtrlr.Interval in seconds; 0 when clock-aligned values are off."""
        dm = self.ctx.dm
        interval = dm.get_float("AlignedDataCtrlr", "Interval", default=0)
        return interval if dm.get_bool("AlignedDataCtrlr", "Enabled", default=True) else 0.0

    async def _aligned_loop(self) -> None:
        """Clock-aligned meter values (J01): MeterValues every AlignedDataCtrlr.Interval seconds,
        aligned to midnight, for every EVSE (see :meth:`send` for SendDuringIdle)."""
        dm = self.ctx.dm
        last = 0.0
        while True:
            self._wake.clear()
            interval = self._interval()
            if interval <= 0:
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
