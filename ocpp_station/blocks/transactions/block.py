"""Transactions (E01–E15), remote control (F01–F05) and meter values (J01–J03).

One pure :class:`~ocpp_station.blocks.transactions.engine.EvseTransaction` per EVSE decides every
TransactionEvent from the HAL's events, the authorization results and the CSMS's requests; this
block reads the ``TxCtrlr``/``SampledDataCtrlr`` variables into its config, carries out its outputs
and persists its state.  Each TransactionEvent is written to the persistent queue *together with*
the engine state that produced it (one SQLite transaction), so neither a lost connection nor a power
loss can lose a message or leave a gap in ``seqNo``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from device_model import VariableChange
from hal.types import (
    ContactorChanged,
    FaultChanged,
    HalEvent,
    IdTokenPresented,
    MeterReading,
    PilotStateChanged,
    PlugChanged,
)
from ocpp_station.blocks.base import Block
from ocpp_station.blocks.transactions.engine import (
    EvseTransaction,
    SendTransactionEvent,
    SetPower,
    TransactionFinished,
    TxConfig,
    TxStateError,
)
from ocpp_station.blocks.transactions.meter import meter_value, next_aligned, parse_measurands
from ocpp_station.clock import sleep_or_wake
from ocpp_station.queue import QueuedMessage
from ocpp_station.rpc.endpoint import CallTimeout, ConnectionLost
from ocpp_station.rpc.errors import OCPPError

if TYPE_CHECKING:
    from ocpp_station.station import Station


READING_SAVE_INTERVAL = 10.0  # seconds


def _state_key(evse: int) -> str:
    return f"tx.{evse}"


class TransactionsBlock(Block):
    def __init__(self, station: Station) -> None:
        super().__init__(station)
        rpc = station.rpc
        rpc.register("RequestStartTransaction", self.on_request_start)
        rpc.register("RequestStopTransaction", self.on_request_stop)
        rpc.register("UnlockConnector", self.on_unlock_connector)
        rpc.register("GetTransactionStatus", self.on_get_transaction_status)
        self.engines: dict[int, EvseTransaction] = {}
        self.readings: dict[int, MeterReading] = {}
        self.plugged: dict[int, set[int]] = {}
        self._tick_task: asyncio.Task[Any] | None = None
        self._aligned_task: asyncio.Task[Any] | None = None
        self._wake = asyncio.Event()
        self._saved: dict[int, tuple[dict[str, Any], float]] = {}  # last state written per EVSE
        self._config: TxConfig | None = None  # read from the device model, dropped on a change

    # -- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        self._config = None
        self._unsubscribe = self.st.dm.subscribe(self._drop_config)
        now, cfg = self.st.now(), self.config()
        self.engines = {}
        for evse in self.st.config.evse_map:
            persisted = self.st.queue.load_state(_state_key(evse))
            try:
                engine = EvseTransaction(evse, persisted=persisted)
            except ValueError as exc:  # a damaged record must not keep the station down
                self.st.log.error("EVSE %s: %s; starting without it", evse, exc)
                engine = EvseTransaction(evse)
            self.engines[evse] = engine
            self.plugged[evse] = set()
            if engine.active():
                # The station lost power (or was killed) mid-transaction: end it with
                # stoppedReason PowerLoss, continuing its seqNo without a gap.  A car still
                # plugged in starts a fresh transaction from the HAL's state events.
                self._apply(evse, engine.resume_after_power_loss(now, cfg, still_charging=False))
        self._tick_task = self.st.spawn(self._tick_loop(), "tx-tick")
        self._aligned_task = self.st.spawn(self._aligned_loop(), "aligned-meter")

    async def stop(self) -> None:
        self._unsubscribe()
        for task in (self._tick_task, self._aligned_task):
            if task is not None:
                task.cancel()

    def _drop_config(self, change: VariableChange) -> None:
        if change.component.get("name") in ("TxCtrlr", "SampledDataCtrlr"):
            self._config = None  # a CSMS or local change applies from the next input on

    def config(self) -> TxConfig:
        """TxCtrlr/SampledDataCtrlr settings, read once and kept until one of them changes."""
        if self._config is None:
            self._config = self._read_config()
        return self._config

    def _read_config(self) -> TxConfig:
        dm = self.st.dm
        max_energy = dm.get_int("TxCtrlr", "MaxEnergyOnInvalidId", default=-1)
        return TxConfig(
            start_points=frozenset(dm.get_list("TxCtrlr", "TxStartPoint")),
            stop_points=frozenset(dm.get_list("TxCtrlr", "TxStopPoint")),
            stop_tx_on_ev_side_disconnect=dm.get_bool(
                "TxCtrlr", "StopTxOnEVSideDisconnect", default=True
            ),
            stop_tx_on_invalid_id=dm.get_bool("TxCtrlr", "StopTxOnInvalidId", default=True),
            max_energy_on_invalid_id=None if max_energy < 0 else max_energy,
            ev_connection_timeout=dm.get_float("TxCtrlr", "EVConnectionTimeOut", default=60.0),
            tx_updated_interval=dm.get_float("SampledDataCtrlr", "TxUpdatedInterval", default=0),
            tx_started_measurands=self._measurands("TxStartedMeasurands"),
            tx_updated_measurands=self._measurands("TxUpdatedMeasurands"),
            tx_ended_measurands=self._measurands("TxEndedMeasurands"),
            sampled_data_enabled=dm.get_bool("SampledDataCtrlr", "Enabled", default=True),
        )

    def _measurands(self, variable: str, component: str = "SampledDataCtrlr") -> tuple[str, ...]:
        return parse_measurands(",".join(self.st.dm.get_list(component, variable)))

    def busy_evses(self) -> set[int]:
        return {evse for evse, engine in self.engines.items() if engine.active()}

    # -- applying engine outputs ---------------------------------------------------------------
    def _apply(self, evse: int, outputs: list[Any]) -> None:
        engine = self.engines[evse]
        events = []
        for out in outputs:
            if isinstance(out, SendTransactionEvent):
                payload = dict(out.payload)
                if not self.st.online:
                    payload["offline"] = True  # E04.FR.03: the event happened while offline
                events.append(("TransactionEvent", payload))
        # All events of one input and the engine state that produced them in ONE SQLite
        # transaction: a power loss can neither lose one nor leave a seqNo gap.
        state = engine.to_persist()
        if events or self._must_save(evse, state):
            self.st.queue.push_batch(events, self.st.now(), state_key=_state_key(evse), state=state)
            self._saved[evse] = (state, self.st.now())
        if events:
            self.st.sender.wake()
            smart = getattr(self.st.blocks, "smart_charging", None)
            if smart is not None:
                smart.wake()  # a transaction start or end changes the limits
        for _, payload in events:
            self.st.spawn(self.st.publish("ocpp_transaction_event", _event(payload)), "pub")
        for out in outputs:
            if isinstance(out, SetPower):
                self.st.spawn(self._allow_power(evse, out.allowed), "allow-power")
            elif isinstance(out, TransactionFinished):
                self.st.spawn(self._finished(evse, out.transaction_id), "tx-finished")
        self._wake.set()

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
        return self.st.now() - when >= READING_SAVE_INTERVAL

    async def _allow_power(self, evse: int, allowed: bool) -> None:
        try:
            await self.st.hal.allow_power(evse, allowed)
        except Exception as exc:
            self.st.log.warning("HAL allow_power(%s, %s) failed: %s", evse, allowed, exc)

    async def _finished(self, evse: int, transaction_id: str) -> None:
        blocks = self.st.blocks
        smart = getattr(blocks, "smart_charging", None)
        if smart is not None:
            await smart.transaction_ended(evse, transaction_id)
        await blocks.availability.transaction_ended(evse)
        reset = getattr(blocks, "reset", None)
        if reset is not None:
            await reset.transaction_ended(evse)

    async def on_queue_response(self, message: QueuedMessage, response: dict[str, Any]) -> None:
        """A queued TransactionEvent was answered: honour the idTokenInfo (E05/E06, C03)."""
        if message.action != "TransactionEvent":
            return
        payload = message.payload
        info = response.get("idTokenInfo")
        if info is not None and "idToken" in payload:
            self.st.blocks.authorization.remember(payload["idToken"], info)
        await self.st.publish(
            "ocpp_transaction_event_response",
            {
                "original_transaction_event": _event(payload),
                **({"total_cost": response["totalCost"]} if "totalCost" in response else {}),
                **(
                    {"charging_priority": response["chargingPriority"]}
                    if "chargingPriority" in response
                    else {}
                ),
                **(
                    {"personal_message": _message(response["updatedPersonalMessage"])}
                    if "updatedPersonalMessage" in response
                    else {}
                ),
            },
        )
        tx_id = payload["transactionInfo"]["transactionId"]
        for evse_id, engine in self.engines.items():
            if engine.transaction_id == tx_id:  # an answer for an ended one changes nothing
                outputs = engine.tx_response(
                    response, self.st.now(), self.config(), transaction_id=tx_id
                )
                self._apply(evse_id, outputs)
                break

    # -- HAL events ----------------------------------------------------------------------------
    async def hal_event(self, event: HalEvent) -> None:
        now, cfg = self.st.now(), self.config()
        if isinstance(event, MeterReading):
            self.readings[event.evse] = event
            if event.evse in self.engines:
                self._apply(event.evse, self.engines[event.evse].meter(event, now, cfg))
            return
        if isinstance(event, IdTokenPresented):
            await self._token_presented(event)
            return
        evse = getattr(event, "evse", 0)
        targets = list(self.engines) if evse == 0 else [evse]
        for evse_id in targets:
            engine = self.engines.get(evse_id)
            if engine is None:
                continue
            if isinstance(event, PlugChanged):
                (self.plugged[evse_id].add if event.plugged else self.plugged[evse_id].discard)(
                    event.connector
                )
                self._apply(evse_id, engine.plug(event.connector, event.plugged, now, cfg))
            elif isinstance(event, PilotStateChanged):
                self._apply(evse_id, engine.pilot(str(event.state), now, cfg))
            elif isinstance(event, ContactorChanged):
                self._apply(evse_id, engine.contactor(event.closed, now, cfg))
            elif isinstance(event, FaultChanged):
                self._apply(evse_id, engine.fault(event.active, now, cfg))

    async def _token_presented(self, event: IdTokenPresented) -> None:
        id_token = {"idToken": event.id_token, "type": event.type}
        evse = event.evse or self._evse_for_token(id_token)
        engine = self.engines.get(evse)
        if engine is None:
            self.st.log.warning("token presented on unknown EVSE %s", event.evse)
            return
        current = engine.id_token
        if current is not None and current["idToken"].lower() == event.id_token.lower():
            # E07: the same token again ends the authorization, without asking anyone.
            self._apply(evse, engine.authorized(id_token, self.st.now(), self.config()))
            return
        auth = self.st.blocks.authorization
        info = await auth.authorize(id_token)
        if info.get("status") != "Accepted":
            self.st.log.info("token %s not accepted: %s", event.id_token, info.get("status"))
            return
        if current is not None and info.get("groupIdToken") is None:
            return  # another driver's token: only one of the same group may stop (E07.FR.01)
        self._apply(
            evse,
            engine.authorized(
                id_token,
                self.st.now(),
                self.config(),
                group_id_token=info.get("groupIdToken"),
            ),
        )

    def _evse_for_token(self, id_token: dict[str, Any]) -> int:
        """A station-wide reader: the EVSE whose transaction the token owns, else a plugged idle
        EVSE, else the first idle one."""
        for evse, engine in self.engines.items():
            if (
                engine.active()
                and engine.id_token
                and engine.id_token.get("idToken") == id_token["idToken"]
            ):
                return evse
        for evse, engine in self.engines.items():
            if self.plugged.get(evse) and not engine.active():
                return evse
        for evse, engine in self.engines.items():
            if not engine.active():
                return evse
        return next(iter(self.engines))

    # -- timers --------------------------------------------------------------------------------
    async def _tick_loop(self) -> None:
        while True:
            now = self.st.now()
            cfg = self.config()
            deadlines = []
            for evse, engine in self.engines.items():
                self._apply_quiet(evse, engine.tick(now, cfg))
                deadline = engine.next_deadline()
                if deadline is not None:
                    deadlines.append(deadline)
            delay = min([*(d - now for d in deadlines), 5.0])
            self._wake.clear()
            await sleep_or_wake(self.st.clock, max(0.05, delay), self._wake)

    def _apply_quiet(self, evse: int, outputs: list[Any]) -> None:
        if outputs:
            self._apply(evse, outputs)

    async def _aligned_loop(self) -> None:
        """Clock-aligned meter values (J01): MeterValues every AlignedDataCtrlr.Interval seconds,
        aligned to midnight, per EVSE (during transactions unless SendDuringIdle)."""
        last = 0.0
        while True:
            interval = self.st.dm.get_float("AlignedDataCtrlr", "Interval", default=0)
            if interval <= 0 or not self.st.dm.get_bool(
                "AlignedDataCtrlr", "Enabled", default=True
            ):
                await self.st.clock.sleep(5.0)
                continue
            now = self.st.now()
            instant = next_aligned(max(now, last), interval)  # a timer may fire a hair early
            last = instant
            await self.st.clock.sleep(max(0.0, instant - now))
            # J01: stamped with the aligned instant itself, not the moment the timer fired
            await self.send_meter_values("Sample.Clock", at=instant)

    async def send_meter_values(
        self, context: str, evse: int | None = None, *, at: float | None = None
    ) -> None:
        measurands = self._measurands("Measurands", component="AlignedDataCtrlr")
        idle_too = self.st.dm.get_bool("AlignedDataCtrlr", "SendDuringIdle", default=False)
        queue_all = self.st.dm.get_bool("OCPPCommCtrlr", "QueueAllMessages", default=False)
        for evse_id, reading in sorted(self.readings.items()):
            if evse is not None and evse_id != evse:
                continue
            engine = self.engines.get(evse_id)
            if context == "Sample.Clock" and not idle_too and not (engine and engine.active()):
                continue
            value = meter_value(reading, measurands, context, self.st.now() if at is None else at)
            if value is None:
                continue  # no supported measurand configured
            payload = {"evseId": evse_id, "meterValue": [value]}
            if queue_all:
                self.st.enqueue("MeterValues", payload)
                continue
            try:
                await self.st.call("MeterValues", payload)
            except (CallTimeout, OCPPError, ConnectionLost) as exc:
                self.st.log.warning("MeterValues for EVSE %s not delivered: %s", evse_id, exc)
            except Exception as exc:  # NotReady: offline and not queued (QueueAllMessages false)
                self.st.log.info("MeterValues for EVSE %s dropped: %s", evse_id, exc)

    async def trigger(self, requested: str, evse: int | None) -> None:
        """TriggerMessage MeterValues / TransactionEvent (F06.FR.06/F06.FR.07)."""
        if requested == "MeterValues":
            await self.send_meter_values("Trigger", evse)
            return
        now, cfg = self.st.now(), self.config()
        for evse_id, engine in self.engines.items():
            if (evse is None or evse_id == evse) and engine.active():
                self._apply(evse_id, engine.triggered(now, cfg))

    async def stop_transaction(self, evse: int, reason: str, trigger: str) -> None:
        engine = self.engines.get(evse)
        if engine is not None and engine.active():
            self._apply(evse, engine.stop(reason, self.st.now(), self.config(), trigger=trigger))

    # -- CSMS requests -------------------------------------------------------------------------
    async def on_request_start(self, payload: dict[str, Any]) -> dict[str, Any]:
        id_token = payload["idToken"]
        evse = payload.get("evseId")
        if evse is None:
            evse = self._evse_for_remote_start()
            if evse is None:
                return {"status": "Rejected", "statusInfo": _info("NoFreeEvse", "every EVSE busy")}
        engine = self.engines.get(evse)
        if engine is None:
            return {"status": "Rejected", "statusInfo": _info("UnknownEvse", f"no EVSE {evse}")}
        if engine.active() and engine.id_token is not None:
            # F01/F02: an EVSE already in an authorized transaction refuses a second start.
            return {
                "status": "Rejected",
                "statusInfo": {"reasonCode": "TxInProgress"},
            }
        availability = self.st.blocks.availability
        if not availability.sm.usable(evse):
            return {"status": "Rejected", "statusInfo": {"reasonCode": "Unavailable"}}
        profile = payload.get("chargingProfile")
        if profile is not None:
            smart = getattr(self.st.blocks, "smart_charging", None)
            problem = None if smart is None else smart.check_remote_start_profile(evse, profile)
            if problem is not None:
                return {"status": "Rejected", "statusInfo": problem}
        if self.st.dm.get_bool("AuthCtrlr", "AuthorizeRemoteStart", default=False):
            # F02 (TC_F_02_CS): AuthorizeRemoteStart true: Authorize first, like a local swipe.
            info = await self.st.blocks.authorization.authorize(id_token)
            if info.get("status") != "Accepted":
                return {"status": "Rejected", "statusInfo": {"reasonCode": "InvalidIdToken"}}
        tx_before = engine.transaction_id
        try:
            outputs = engine.remote_start(
                id_token, payload["remoteStartId"], self.st.now(), self.config()
            )
        except TxStateError as exc:
            return {"status": "Rejected", "statusInfo": _info("TxInProgress", str(exc))}
        self._apply(evse, outputs)
        if profile is not None and engine.transaction_id is not None:
            smart = getattr(self.st.blocks, "smart_charging", None)
            if smart is not None:
                await smart.install_tx_profile(evse, engine.transaction_id, profile)
        elif profile is not None:
            smart = getattr(self.st.blocks, "smart_charging", None)
            if smart is not None:
                smart.pending_tx_profile[evse] = profile
        response: dict[str, Any] = {"status": "Accepted"}
        if tx_before is not None:
            # F01 (cable first): a transaction already running (EVConnected start) is named.
            response["transactionId"] = tx_before
        return response

    def _evse_for_remote_start(self) -> int | None:
        """Without an evseId the station picks (F01): an EVSE whose cable is in or whose
        transaction waits for an authorization first, else a free one; None if all are busy."""
        usable = self.st.blocks.availability.sm.usable
        free = [e for e, eng in self.engines.items() if eng.accepts_remote_start() and usable(e)]
        waiting = [e for e in free if self.engines[e].active() or self.plugged.get(e)]
        return next(iter(waiting or free), None)

    async def on_request_stop(self, payload: dict[str, Any]) -> dict[str, Any]:
        tx_id = payload["transactionId"]
        for evse, engine in self.engines.items():
            if engine.active() and engine.transaction_id == tx_id:
                try:
                    outputs = engine.remote_stop(self.st.now(), self.config())
                except TxStateError as exc:
                    return {"status": "Rejected", "statusInfo": _info("TxNotFound", str(exc))}
                self._apply(evse, outputs)
                return {"status": "Accepted"}
        return {"status": "Rejected", "statusInfo": {"reasonCode": "TxNotFound"}}

    async def on_unlock_connector(self, payload: dict[str, Any]) -> dict[str, Any]:
        evse, connector = payload["evseId"], payload["connectorId"]
        if connector not in self.st.config.evse_map.get(evse, []):
            return {"status": "UnknownConnector"}
        engine = self.engines[evse]
        if engine.active() and engine.id_token is not None:
            # F05.FR.02: an authorized transaction keeps its cable locked.
            return {"status": "OngoingAuthorizedTransaction"}
        try:
            await self.st.hal.lock(evse, connector, False)
        except Exception as exc:
            return {"status": "UnlockFailed", "statusInfo": {"reasonCode": str(exc)[:20]}}
        return {"status": "Unlocked"}

    async def on_get_transaction_status(self, payload: dict[str, Any]) -> dict[str, Any]:
        tx_id = payload.get("transactionId")
        queued = len(self.st.queue) > 0 if tx_id is None else self.st.queue.has_messages_for(tx_id)
        response: dict[str, Any] = {"messagesInQueue": queued}
        if tx_id is not None:
            response["ongoingIndicator"] = any(
                e.active() and e.transaction_id == tx_id for e in self.engines.values()
            )
        return response

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
            reading = self.readings.get(evse)
            if reading is not None:
                entry["meter"] = {"energy_wh": reading.energy_wh, "power_w": reading.power_w}
        state["queued_messages"] = len(self.st.queue)


def _info(reason: str, text: str) -> dict[str, str]:
    return {"reasonCode": reason, "additionalInfo": text[:512]}


def _message(message: dict[str, Any]) -> dict[str, Any]:
    """MessageContentType as EVerest's MessageContent (seed 004: format, language, content)."""
    return {k: message[k] for k in ("format", "language", "content") if k in message}


def _event(payload: dict[str, Any]) -> dict[str, Any]:
    """A TransactionEvent as EVerest's OcppTransactionEvent (seed 004)."""
    out: dict[str, Any] = {
        "transaction_event": payload["eventType"],
        "transaction_id": payload["transactionInfo"]["transactionId"],
        "session_id": payload["transactionInfo"]["transactionId"],
    }
    if "evse" in payload:
        evse = payload["evse"]
        out["evse"] = {"id": evse["id"]}
        if "connectorId" in evse:
            out["evse"]["connector_id"] = evse["connectorId"]
    return out
