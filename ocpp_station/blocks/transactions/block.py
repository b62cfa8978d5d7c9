"""Transactions (E01–E14), with remote control (F01–F03, F05, ``remote.py``) and meter values
(J01–J02, ``meter_values.py``).

One pure :class:`~ocpp_station.blocks.transactions.engine.EvseTransaction` per EVSE decides every
TransactionEvent from the HAL's events, the authorization results and the CSMS's requests; this
block reads the ``TxCtrlr``/``SampledDataCtrlr`` variables into its config, carries out its outputs
and persists its state.  Each TransactionEvent is written to the persistent queue *together with*
the engine state that produced it (one SQLite transaction), so neither a lost connection nor a power
loss can lose a message or leave a gap in ``seqNo``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from device_model import VariableChange
from hal.types import (
    ContactorChanged,
    FaultChanged,
    HalEvent,
    IdTokenPresented,
    LockChanged,
    MeterReading,
    PilotStateChanged,
    PlugChanged,
)
from ocpp_station.blocks.base import Block
from ocpp_station.blocks.transactions.config import TxSettings
from ocpp_station.blocks.transactions.engine import (
    EvseTransaction,
    SendTransactionEvent,
    SetLock,
    SetPower,
    TransactionFinished,
    TxConfig,
)
from ocpp_station.blocks.transactions.meter_values import MeterValues
from ocpp_station.blocks.transactions.ports import Authorizer, EvseAvailability, QueueDepth
from ocpp_station.blocks.transactions.remote import RemoteControl, SmartChargingHooks
from ocpp_station.blocks.transactions.sessions import FinishedListener, Sessions
from ocpp_station.blocks.transactions.tokens import NoReservations, Reservations, Tokens
from ocpp_station.blocks.transactions.unsaved import Unsaved, powers_off
from ocpp_station.clock import Wake, sleep_or_wake
from ocpp_station.context import Context
from ocpp_station.storage import StorageUnavailable
from ocpp_station.tasks import OnDemand

READING_SAVE_INTERVAL = 10.0  # seconds
UNSAVED_RETRY = 1.0  # seconds between tries to record what a full disk kept back
IDLE_POLL = 60.0  # seconds: the timer loop's longest sleep (a far deadline is looked at again)


def state_key(evse: int) -> str:
    return f"tx.{evse}"


class TransactionsBlock(Block):
    def __init__(
        self,
        ctx: Context,
        sessions: Sessions,
        *,
        authorization: Authorizer,
        availability: EvseAvailability,
        smart_charging: SmartChargingHooks,
        queue: QueueDepth,
        reservations: Reservations | None = None,
    ) -> None:
        super().__init__(ctx)
        held = reservations if reservations is not None else NoReservations()
        self.sessions = sessions
        self._auth = authorization
        self._availability = availability
        self._smart = smart_charging
        self._queue = queue
        self.readings: dict[int, MeterReading] = {}
        self.locks: dict[tuple[int, int], bool] = {}  # (evse, connector): as the HAL reports
        self.remote = RemoteControl(
            ctx, self, authorization, availability, smart_charging, queue, held
        )
        self.meter_values = MeterValues(ctx, self)
        self.tokens = Tokens(ctx, self, authorization, availability, held)
        self._wake = Wake()
        # The timer loop runs while an engine has a deadline (or a full disk kept something back)
        self._tick = OnDemand(ctx.spawn, self._tick_loop, "tx-tick", self._wake)
        self._sleeping_until: float | None = None  # the timer loop's wake-up while it sleeps
        self._saved: dict[int, tuple[dict[str, Any], float]] = {}  # last state written per EVSE
        self._settings = TxSettings(ctx.dm, lambda: ctx.link.registration)
        self._unsubscribe: Callable[[], None] = lambda: None
        self._unsaved = Unsaved()  # what a full disk kept from being recorded, per EVSE

    @property
    def engines(self) -> dict[int, EvseTransaction]:
        return self.sessions.engines

    # -- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        self._settings.drop()
        self._unsubscribe = self.ctx.dm.subscribe(self._config_changed)
        now, cfg = self.ctx.now(), self.config()
        self.engines.clear()
        for evse in self.ctx.layout.ids():
            persisted = self.ctx.state.load(state_key(evse))
            try:
                engine = EvseTransaction(evse, persisted=persisted)
            except ValueError as exc:  # a damaged record must not keep the station down
                self.ctx.log.error("EVSE %s: %s; starting without it", evse, exc)
                engine = EvseTransaction(evse)
            self.engines[evse] = engine
            if persisted is None or persisted == engine.to_persist():  # on disk, or rebuilt
                self._saved[evse] = (engine.to_persist(), now)  # as is: no write until a change
            if engine.active():
                # The station lost power (or was killed) mid-transaction: end it with
                # stoppedReason PowerLoss, continuing its seqNo without a gap.  A car still
                # plugged in starts a fresh transaction from the HAL's state events.
                self._apply(evse, engine.resume_after_power_loss(now, cfg, still_charging=False))
        if any(engine.next_deadline() is not None for engine in self.engines.values()):
            self._tick.wake()
        self.meter_values.start()

    async def stop(self) -> None:
        self._unsubscribe()
        self.meter_values.stop()
        self._tick.stop()

    def config(self) -> TxConfig:
        """TxCtrlr/SampledDataCtrlr settings, read once and kept until one of them changes."""
        return self._settings.config()

    def _config_changed(self, change: VariableChange) -> None:
        if self._settings.changed(change):
            self._tick.wake()  # the deadlines follow the settings (TxUpdatedInterval, ...)
            self.meter_values.changed()  # (AlignedDataCtrlr is among them)

    def may_start(self) -> bool:
        """May a transaction start now?  Not before the registration was Accepted, unless
        TxCtrlr.TxBeforeAcceptedEnabled (Part 2, B 1.1).  Accepted stays Accepted over an outage:
        offline transactions after it are allowed (E04)."""
        return self._settings.may_start()

    def _input_config(self) -> TxConfig:
        return self._settings.for_input()

    async def online(self, first: bool) -> None:
        if not first:
            return
        # The first Accepted: a start point held back until now (TxBeforeAcceptedEnabled false)
        # may start a transaction.  The engine re-evaluates with the EVSE's last meter reading.
        now, cfg = self.ctx.now(), self._input_config()
        for evse, reading in self.readings.items():
            engine = self.engines.get(evse)
            if engine is not None and not engine.active():
                self._apply(evse, engine.meter(reading, now, cfg))

    # -- the view other blocks use --------------------------------------------------------------
    def busy_evses(self) -> set[int]:
        return self.sessions.busy_evses()

    def add_finished_listener(self, listener: FinishedListener) -> None:
        self.sessions.add_finished_listener(listener)

    # -- applying engine outputs ---------------------------------------------------------------
    def apply(self, evse: int, outputs: list[Any]) -> None:
        """Carry out an engine's outputs: queue events with the state, switch power, report ends."""
        self._apply(evse, outputs)

    def _apply(self, evse: int, outputs: list[Any]) -> None:
        engine = self.engines[evse]
        events = []
        for out in outputs:
            if isinstance(out, SendTransactionEvent):
                payload = dict(out.payload)
                if self.ctx.link.offline:
                    payload["offline"] = True  # E04.FR.03: the event happened while offline
                events.append(("TransactionEvent", payload))
        events, outputs = self._unsaved.take(evse, events, outputs)
        # All events of one input and the engine state that produced them in ONE SQLite
        # transaction: a power loss can neither lose one nor leave a seqNo gap.
        state = engine.to_persist()
        if events or self._must_save(evse, state):
            try:
                self.ctx.dispatcher.commit(events, state_key=state_key(evse), state=state)
            except StorageUnavailable:
                # Not recorded (the store logged why; ``status`` shows it): nothing is sent
                # and energy stays off until it is; retried on the next input and by the timer.
                self._unsaved.keep(evse, events, outputs)
                if any(powers_off(out) for out in outputs):
                    self.ctx.spawn(self._allow_power(evse, False), "allow-power")
                self._tick.wake()
                return
            self._saved[evse] = (state, self.ctx.now())
        if events:
            self._smart.wake()  # a transaction start or end changes the limits
        for _, payload in events:
            self.ctx.spawn(self.ctx.publish("ocpp_transaction_event", payload), "pub")
        for out in outputs:
            if isinstance(out, SetPower):
                self.ctx.spawn(self._allow_power(evse, out.allowed), "allow-power")
            elif isinstance(out, SetLock):
                self.ctx.spawn(self._lock(evse, out.connector, out.locked), "lock")
            elif isinstance(out, TransactionFinished):
                self.ctx.spawn(self._finished(evse, out.transaction_id), "tx-finished")
        # The timer loop looks at every engine before it sleeps: wake (or start) it only when
        # this input brought a deadline before its own wake-up (most inputs bring none).
        deadline = engine.next_deadline()
        if deadline is not None:
            until = self._sleeping_until
            if not self._tick.running or (until is not None and deadline < until):
                self._tick.wake()

    def _must_save(self, evse: int, state: dict[str, Any]) -> bool:
        """An input without events changed the engine state: save it, except a new meter
        reading alone, which is saved at most every READING_SAVE_INTERVAL seconds (a synced
        SQLite write per reading would wear the flash; after a power loss the Ended event then
        reports a reading up to that old)."""
        saved = self._saved.get(evse)
        if saved is None:
            return True
        old, when = saved
        if old == state:
            return False
        if {**old, "reading": None} != {**state, "reading": None}:
            return True
        return self.ctx.now() - when >= READING_SAVE_INTERVAL

    async def _allow_power(self, evse: int, allowed: bool) -> None:
        try:
            await self.ctx.hal.allow_power(evse, allowed)
        except Exception as exc:
            self.ctx.log.warning("HAL allow_power(%s, %s) failed: %s", evse, allowed, exc)

    async def _lock(self, evse: int, connector: int, locked: bool) -> None:
        try:
            await self.ctx.hal.lock(evse, connector, locked)
        except Exception as exc:
            self.ctx.log.warning("HAL lock(%s, %s, %s) failed: %s", evse, connector, locked, exc)

    def sync_usable(self, evse: int = 0) -> None:
        """Tell the engine of ``evse`` (0: every engine) whether a transaction may start on its
        EVSE (not when Inoperative or Faulted); read before every input to it, so a
        ChangeAvailability applies at once."""
        if evse:  # (one engine: the common case, an event of one EVSE)
            if (engine := self.engines.get(evse)) is not None:
                engine.usable = self._availability.usable(evse)
            return
        for evse_id, engine in self.engines.items():
            engine.usable = self._availability.usable(evse_id)

    async def _finished(self, evse: int, transaction_id: str) -> None:
        await self._smart.transaction_ended(evse, transaction_id)
        await self._availability.transaction_ended(evse)
        await self.sessions.notify_finished(evse)

    async def on_queue_response(
        self, action: str, payload: dict[str, Any], response: dict[str, Any]
    ) -> None:
        """A queued TransactionEvent was answered: honour the idTokenInfo (E05/E06, C03)."""
        if action != "TransactionEvent":
            return
        info = response.get("idTokenInfo")
        if info is not None and "idToken" in payload:
            self._auth.remember(payload["idToken"], info)
        await self.ctx.publish(
            "ocpp_transaction_event_response", {"request": payload, "response": response}
        )
        tx_id = payload["transactionInfo"]["transactionId"]
        for evse_id, engine in self.engines.items():
            if engine.transaction_id == tx_id:  # an answer for an ended one changes nothing
                outputs = engine.tx_response(
                    response, self.ctx.now(), self.config(), transaction_id=tx_id
                )
                self._apply(evse_id, outputs)
                break

    # -- HAL events ----------------------------------------------------------------------------
    async def hal_event(self, event: HalEvent) -> None:
        if (pending := self.hal_input(event)) is not None:
            await pending

    def hal_input(self, event: HalEvent) -> Awaitable[None] | None:
        """Only a token waits (its authorization); every other event is done on return."""
        if isinstance(event, IdTokenPresented):  # (a token may start one on any engine)
            self.sync_usable()
            if self.tokens.release_lock(event, self._input_config()):
                return None
            return self.tokens.presented(event)
        evse: int = getattr(event, "evse", 0)
        self.sync_usable(evse)  # only the event's engine takes an input
        now, cfg = self.ctx.now(), self._input_config()
        if isinstance(event, MeterReading):
            self.readings[evse] = event
            if evse in self.engines:
                self._apply(evse, self.engines[evse].meter(event, now, cfg))
        elif isinstance(event, LockChanged):
            self.locks[(evse, event.connector)] = event.locked
            held = self.engines.get(evse)
            if held is not None:
                self._apply(evse, held.lock_reported(event.connector, event.locked, cfg))
        else:
            for evse_id in list(self.engines) if evse == 0 else [evse]:
                engine = self.engines.get(evse_id)
                if engine is None:
                    continue
                if isinstance(event, PlugChanged):
                    self._apply(evse_id, engine.plug(event.connector, event.plugged, now, cfg))
                    if event.plugged:
                        self.tokens.without_authorization(evse_id)
                elif isinstance(event, PilotStateChanged):
                    self._apply(evse_id, engine.pilot(str(event.state), now, cfg))
                elif isinstance(event, ContactorChanged):
                    self._apply(evse_id, engine.contactor(event.closed, now, cfg))
                elif isinstance(event, FaultChanged):
                    self._apply(evse_id, engine.fault(event.active, now, cfg))
        return None

    async def stop_transaction(self, evse: int, reason: str, trigger: str) -> None:
        engine = self.engines.get(evse)
        if engine is not None and engine.active():
            self._apply(evse, engine.stop(reason, self.ctx.now(), self.config(), trigger=trigger))

    async def trigger(self, requested: str, evse: int | None) -> None:
        """TriggerMessage MeterValues / TransactionEvent (F06.FR.06/F06.FR.07)."""
        if requested == "MeterValues":
            await self.meter_values.send("Trigger", evse, triggered=True)
            return
        now, cfg = self.ctx.now(), self._input_config()
        self.sync_usable()
        for evse_id, engine in self.engines.items():
            if (evse is None or evse_id == evse) and engine.active():
                self._apply(evse_id, engine.triggered(now, cfg))

    # -- timers --------------------------------------------------------------------------------
    async def _tick_loop(self) -> None:
        while True:
            now = self.ctx.now()
            cfg = self._input_config()
            self.sync_usable()
            deadlines = []
            for evse, engine in self.engines.items():
                outputs = engine.tick(now, cfg)
                if outputs or self._unsaved.has(evse):
                    self._apply(evse, outputs)
                deadline = engine.next_deadline()
                if deadline is not None:
                    deadlines.append(deadline)
            # every timer has its deadline, and an input or a settings change that moves one
            # wakes (or starts) the loop: with none, it ends
            unsaved = self._unsaved.evses()
            if not deadlines and not unsaved:
                return
            poll = UNSAVED_RETRY if unsaved else IDLE_POLL
            delay = max(0.05, min([*(d - now for d in deadlines), poll]))
            self._wake.clear()
            self._sleeping_until = now + delay
            try:
                await sleep_or_wake(self.ctx.clock, delay, self._wake)
            finally:
                self._sleeping_until = None

    def describe(self, state: dict[str, Any]) -> None:
        evses = state.setdefault("evses", [])
        by_id = {e["id"]: e for e in evses}
        for evse, engine in self.engines.items():
            entry = by_id.setdefault(evse, {"id": evse})
            if entry not in evses:
                evses.append(entry)
            entry["transaction"] = (
                {
                    "id": engine.transaction_id,
                    "charging_state": engine.charging_state,
                    "seq_no": engine.seq_no,
                }
                if engine.active()
                else None
            )
            connectors = entry.setdefault("connectors", [])
            by_connector = {c["id"]: c for c in connectors}
            for connector in self.ctx.layout.connectors(evse):
                item = by_connector.get(connector)
                if item is None:
                    item = {"id": connector}
                    connectors.append(item)
                item["locked"] = self.locks.get((evse, connector), False)
            reading = self.readings.get(evse)
            if reading is not None:
                entry["meter"] = {"energy_wh": reading.energy_wh, "power_w": reading.power_w}
        state["queued_messages"] = len(self._queue)
