"""Smart-charging enforcement: each EVSE's HAL current limit follows its composite limit.

Recomputed on each profile change, transaction start or end, and at the next period boundary.
Each time a limit, the installed profiles or the running transactions change, the station
publishes ``charging_schedules``: one composite schedule per EVSE plus EVSE 0 for the station.
A RequestStartTransaction's TxProfile waits here until its transaction starts.

The loop is a supervised station task (restarted with back-off should it ever fail).  An EVSE
whose limit cannot be computed from the installed profiles is held at 0 A (fail safe: an unknown
limit is never taken for "no limit"), with an error in the log, until the profiles change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ocpp_station.blocks.smart_charging.composite import composite_schedule, limit_at
from ocpp_station.clock import Wake, sleep_or_wake
from ocpp_station.context import Context
from ocpp_station.logutil import RateLimitedLog
from ocpp_station.tasks import OnDemand

if TYPE_CHECKING:  # typing only: the block owns its enforcement and passes itself
    from ocpp_station.blocks.smart_charging.block import SmartChargingBlock

PUBLISHED_HORIZON = 86400  # seconds of composite schedule published on charging_schedules


class Enforcement:
    def __init__(self, ctx: Context, block: SmartChargingBlock) -> None:
        self.ctx = ctx
        self._block = block
        self.limits: dict[int, tuple[float, int]] = {}
        self._published_inputs: tuple[Any, ...] | None = None
        self._wake = Wake()
        # The loop runs while a limit changes with time (a schedule's next period) or a TxProfile
        # waits; a station without profiles (most of a fleet) enforces once at start, no task.
        self._looper = OnDemand(ctx.spawn, self._loop, "smart-charging", self._wake)
        self._started = False
        self._errors = RateLimitedLog(ctx.log, ctx.now)

    async def start(self) -> None:
        """The limits of the start, sent to the HAL now; the loop from here when it has to look
        again (or when this failed: the loop is supervised, and retried)."""
        self.limits = {}
        self._published_inputs = None
        self._started = True
        self._wake.clear()
        try:
            again = self._delay(await self.enforce()) is not None
        except Exception:
            self.ctx.log.exception("the smart-charging limits of the start failed")
            again = True
        if again:
            self._looper.wake()

    def stop(self) -> None:
        self._started = False
        self._looper.stop()

    def wake(self) -> None:
        """Look again now (a profile, a transaction or a setting changed)."""
        if self._started:
            self._looper.wake()
        else:
            self._wake.set()

    async def _loop(self) -> None:
        while True:
            self._wake.clear()  # before looking: a wake during enforce() is not lost
            delay = self._delay(await self.enforce())
            if delay is None:
                return  # nothing changes with time: the next wake() starts the loop again
            await sleep_or_wake(self.ctx.clock, delay, self._wake)

    def _delay(self, next_change: float | None) -> float | None:
        """How long the loop may sleep after a look; None: until woken."""
        pending = bool(self._block.pending_tx_profile)
        if next_change is None and not pending:
            return None
        delay = 3600.0 if next_change is None else max(0.05, next_change - self.ctx.now())
        if pending:
            # An authorization can lapse without any TransactionEvent to wake us: look again.
            delay = min(delay, 0.5)
        return min(delay, 3600.0)

    async def enforce(self) -> float | None:
        """Send each EVSE's limit to the HAL if it changed; return when to look again."""
        block = self._block
        self._install_pending()
        profiles = block.store.all()
        now = self.ctx.now()
        soonest: float | None = None
        changed = False
        for evse_cfg in self.ctx.config.evses:
            evse_ctx = block.evse_context(evse_cfg.id)
            try:
                limit, phases, next_change = limit_at(profiles, evse_cfg.id, now, evse_ctx)
            except (ArithmeticError, KeyError, TypeError, ValueError) as exc:
                self._errors.error(
                    f"limit-{evse_cfg.id}",
                    "EVSE %s: no limit can be computed from the installed profiles (%s: %s); "
                    "held at 0 A until they change",
                    evse_cfg.id,
                    type(exc).__name__,
                    exc,
                )
                limit, phases, next_change = 0.0, evse_ctx.phases, None
            amps = evse_cfg.max_current_a if limit is None else min(limit, evse_cfg.max_current_a)
            if self.limits.get(evse_cfg.id) != (amps, phases):
                try:
                    await self.ctx.hal.set_current_limit(evse_cfg.id, amps, phases)
                except Exception as exc:
                    self.ctx.log.warning("HAL set_current_limit(%s) failed: %s", evse_cfg.id, exc)
                else:
                    self.limits[evse_cfg.id] = (amps, phases)
                    changed = True
            if next_change is not None and (soonest is None or next_change < soonest):
                soonest = next_change
        # charging_schedules: on every limit change and whenever what the schedules are made of
        # (the profiles, the running transactions) changed; made only for a listener (a fleet
        # station has none: 80 us less per start), which then gets them at the next look.
        inputs = (
            tuple((p.evse_id, p.source, repr(sorted(p.profile.items()))) for p in profiles),
            tuple(sorted(block.sessions.transactions().items())),
        )
        if (changed or inputs != self._published_inputs) and self.ctx.bus.listening(
            "charging_schedules"
        ):
            self._published_inputs = inputs
            try:
                schedules = self.charging_schedules()
            except (ArithmeticError, KeyError, TypeError, ValueError) as exc:
                self._errors.error("schedules", "charging_schedules not published: %s", exc)
            else:
                await self.ctx.publish("charging_schedules", schedules)
        return soonest

    def _install_pending(self) -> None:
        """A RequestStartTransaction's TxProfile waits until its transaction starts; when the
        authorization ends first (EVConnectionTimeOut, a stop), the profile is dropped so that it
        never reaches another driver's transaction."""
        block = self._block
        transactions = block.sessions.transactions()
        for evse, profile in list(block.pending_tx_profile.items()):
            tx_id = transactions.get(evse)
            if tx_id is None and not block.sessions.authorized(evse):
                del block.pending_tx_profile[evse]
            elif tx_id is not None:
                block.store.add(evse, {**profile, "transactionId": tx_id})
                del block.pending_tx_profile[evse]
                block.profiles_changed()

    def charging_schedules(self) -> list[dict[str, Any]]:
        """One CompositeScheduleType (with its ``evseId``) for EVSE 0 and each EVSE, from now
        over :data:`PUBLISHED_HORIZON`, in amperes."""
        block = self._block
        profiles = block.store.all()
        now = self.ctx.now()
        schedules = []
        for evse in [0, *self.ctx.layout.ids()]:
            evse_ctx = block.evse_context(evse) if evse else block.station_context()
            composite = composite_schedule(profiles, evse, now, PUBLISHED_HORIZON, "A", evse_ctx)
            schedules.append({**composite, "evseId": evse})
        return schedules
