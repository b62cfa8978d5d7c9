"""The transaction engine of one EVSE: a pure state machine (no I/O, time passed in).

Inputs are the HAL events (plug, control pilot, contactor, meter, fault), authorization results,
remote start/stop, the CSMS answers to TransactionEventRequests and a periodic :meth:`tick`.  Every
input returns a list of outputs for the caller to carry out, in order:

* :class:`SendTransactionEvent` - a complete TransactionEventRequest payload (to be queued),
* :class:`SetPower` - offer energy to the EV, or stop offering it,
* :class:`SetLock` - lock or unlock the cable of a connector (rules in
  :mod:`~ocpp_station.blocks.transactions.locks`),
* :class:`TransactionFinished` - the transaction ended (availability / reset scheduling).

Rules (part 2, E01-E14, F01-F03): each input updates the EVSE's state (``state.py``, which also
derives chargingState and the energy offer), then ``lifecycle.step`` starts or ends the
transaction per TxStartPoint/TxStopPoint; payloads come from ``events.py``, the record kept over
a restart from ``persist.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hal.types import MeterReading
from ocpp_station.blocks.transactions import locks, timers
from ocpp_station.blocks.transactions.events import meter_values, transaction_event
from ocpp_station.blocks.transactions.lifecycle import (
    INVALID_ID_END_POINTS,
    clear_auth,
    end_authorization,
    ev_side_disconnect,
    resume,
    step,
)
from ocpp_station.blocks.transactions.meter import check_reading
from ocpp_station.blocks.transactions.persist import from_record, to_record
from ocpp_station.blocks.transactions.state import EvseState
from ocpp_station.blocks.transactions.types import (
    PILOT_STATES,
    POWER_THRESHOLD_W,
    STOP_TRIGGERS,
    TX_POINTS,
    Output,
    SendTransactionEvent,
    SetLock,
    SetPower,
    TransactionFinished,
    TxConfig,
    TxStateError,
    check_id_token,
    check_optional_int,
    check_reason,
    check_trigger,
    new_transaction_id,
)

__all__ = [
    "POWER_THRESHOLD_W",
    "EvseTransaction",
    "Output",
    "SendTransactionEvent",
    "SetLock",
    "SetPower",
    "TransactionFinished",
    "TxConfig",
    "TxStateError",
]


class EvseTransaction:
    """Transaction handling of one EVSE.  See the module docstring for the rules."""

    def __init__(
        self,
        evse_id: int,
        *,
        new_transaction_id: Callable[[], str] = new_transaction_id,
        persisted: Mapping[str, Any] | None = None,
    ) -> None:
        if isinstance(evse_id, bool) or not isinstance(evse_id, int) or evse_id < 1:
            raise ValueError(f"evse_id must be an integer >= 1, not {evse_id!r}")
        self.evse_id = evse_id
        self._new_id = new_transaction_id
        self._cfg: TxConfig | None = None
        self._s = EvseState(evse_id) if persisted is None else from_record(evse_id, persisted)

    # -- state --------------------------------------------------------------------------------

    @property
    def transaction_id(self) -> str | None:
        return self._s.tx.transaction_id if self._s.tx else None

    @property
    def id_token(self) -> dict[str, Any] | None:
        """The token of the current authorization, if any."""
        return dict(self._s.id_token) if self._s.id_token else None

    @property
    def connector(self) -> int | None:
        return self._s.connector

    @property
    def seq_no(self) -> int:
        """The seqNo of the next TransactionEventRequest."""
        return self._s.seq_no

    @property
    def charging_state(self) -> str | None:
        """The chargingState last reported in the running transaction."""
        return self._s.charging_state

    @property
    def started_at(self) -> float | None:
        """When the running transaction started (anchor of Relative charging profiles)."""
        return self._s.tx.started_at if self._s.tx else None

    @property
    def usable(self) -> bool:
        """May a transaction start here?  The caller keeps it equal to the EVSE's availability
        (not Inoperative, not Faulted); it takes effect from the next input."""
        return self._s.usable

    @usable.setter
    def usable(self, value: bool) -> None:
        self._s.usable = bool(value)

    @property
    def locked_connector(self) -> int | None:
        """The connector whose cable lock the engine has closed, if any."""
        return self._s.locked_connector

    def active(self) -> bool:
        return self._s.tx is not None

    def accepts_remote_start(self) -> bool:
        """False when a session is already authorized here (F01.FR.24 / F02.FR.26: Rejected)."""
        return self._s.id_token is None

    def next_deadline(self) -> float | None:
        """When :meth:`tick` must run next (None: nothing timed is pending)."""
        return self._s.next_deadline(self._cfg)

    def to_persist(self) -> dict[str, Any]:
        """The record to store; pass it as ``persisted`` after a restart."""
        return to_record(self._s)

    # -- hardware inputs ----------------------------------------------------------------------

    def plug(self, connector: int, plugged: bool, now: float, cfg: TxConfig) -> list[Output]:
        if isinstance(connector, bool) or not isinstance(connector, int) or connector < 1:
            raise ValueError(f"connector must be an integer >= 1, not {connector!r}")
        self._cfg, s = cfg, self._s
        if plugged:
            if s.connector is not None:  # one connector per EVSE at a time (E01.FR.14)
                return []
            s.connector = connector
            s.ev_side_lost = False
            s.ev_seen = s.pilot in "BCD"
            s.auth_deadline = None
            return self._step(now, cfg, "CablePluggedIn", force=s.tx is not None)
        if s.connector != connector:
            return []
        s.connector = None
        s.flowing = s.ev_seen = s.ev_side_lost = False
        s.lock_owner = None  # the cable is out: nothing left to hold
        return self._step(now, cfg, "EVCommunicationLost", force=s.tx is not None)

    def pilot(self, state: str, now: float, cfg: TxConfig) -> list[Output]:
        if not isinstance(state, str) or state not in PILOT_STATES:
            raise ValueError(f"pilot state must be one of A-F, not {state!r}")
        self._cfg, s = cfg, self._s
        s.pilot = state
        if state not in "CD":  # the EV no longer asks: no energy flows (IEC 61851-1)
            s.flowing = False
        if s.connector is not None:
            if state in "BCD":
                s.ev_seen = True
                if state in "CD" and s.power_allowed(cfg):
                    s.ev_requested = True
                if s.ev_side_lost:  # EV reconnected on its side (E10 A1)
                    s.ev_side_lost = False
                    return self._step(now, cfg, "CablePluggedIn", force=s.tx is not None)
            elif state == "A" and s.ev_seen and not s.ev_side_lost:
                return ev_side_disconnect(s, cfg, now, self._new_id)
        return self._step(now, cfg, "ChargingStateChanged")

    def contactor(self, closed: bool, now: float, cfg: TxConfig) -> list[Output]:
        self._cfg, s = cfg, self._s
        s.contactor = bool(closed)
        if closed:
            s.reading_since_close = False
        else:
            s.flowing = False
        return self._step(now, cfg, "ChargingStateChanged")

    def meter(self, reading: MeterReading, now: float, cfg: TxConfig) -> list[Output]:
        if not isinstance(reading, MeterReading):
            raise ValueError(f"meter() takes a MeterReading, not {type(reading).__name__}")
        if reading.evse != self.evse_id:
            raise ValueError(f"meter reading of EVSE {reading.evse} given to EVSE {self.evse_id}")
        check_reading(reading)
        self._cfg, s = cfg, self._s
        s.reading = reading
        s.flowing = reading.power_w > POWER_THRESHOLD_W and s.connector is not None
        if s.contactor:
            s.reading_since_close = True
        if s.flowing and s.power_allowed(cfg):
            s.ev_requested = True
        limit = s.invalid_energy_limit
        if limit is not None and s.delivered_wh() >= limit:  # E05.FR.03 limit reached
            s.invalid_energy_limit = None
            s.invalid_suspended = True
            return self._step(now, cfg, "ChargingStateChanged", force=s.tx is not None)
        return self._step(now, cfg, "ChargingStateChanged")

    def fault(self, active: bool, now: float, cfg: TxConfig) -> list[Output]:
        """A fault stops the energy offer (Updated, AbnormalCondition, SuspendedEVSE); clearing it
        resumes.  To end the transaction for a fault, call :meth:`stop` (E06.FR.16)."""
        self._cfg, s = cfg, self._s
        if bool(active) == s.faulted:
            return []
        s.faulted = bool(active)
        if active:
            return self._step(now, cfg, "AbnormalCondition", force=s.tx is not None)
        return self._step(now, cfg, "ChargingStateChanged")

    # -- authorization and remote control -----------------------------------------------------

    def authorized(
        self,
        id_token: Mapping[str, Any],
        now: float,
        cfg: TxConfig,
        *,
        remote_start_id: int | None = None,
        group_id_token: Mapping[str, Any] | None = None,
        reservation_id: int | None = None,
    ) -> list[Output]:
        """A token was accepted (local list/cache/AuthorizeResponse, or a remote start).

        The same token again, or one with the same group id (E07.FR.01), while authorized ends
        the authorization (StopAuthorized, stoppedReason Local).  Another token is ignored.  The
        next event carries ``reservation_id``, the reservation the token uses (H01.FR.15)."""
        token = check_id_token(id_token)
        group = check_id_token(group_id_token, "group_id_token") if group_id_token else None
        check_optional_int(remote_start_id, "remote_start_id")
        check_optional_int(reservation_id, "reservation_id")
        self._cfg, s = cfg, self._s
        if s.id_token is not None:
            if s.same_token(token, group):
                return end_authorization(
                    s, cfg, now, "StopAuthorized", "Local", self._new_id, token
                )
            return []
        if s.tx is None and (not s.usable or s.lock_owner is not None):
            return []  # an Inoperative or Faulted EVSE, or a cable held for its owner
        s.id_token, s.group = token, group
        s.token_reported = False
        s.invalid_suspended, s.invalid_energy_limit = False, None
        s.pending_reservation_id = reservation_id
        trigger = "Authorized"
        if remote_start_id is not None:
            trigger = "RemoteStart"  # F01.FR.19 / F02.FR.21
            s.pending_remote_id = remote_start_id  # F01.FR.25 / F02.FR.01
        if s.tx is None:
            s.armed = set(TX_POINTS)  # a new authorization begins a new session
            s.pending_trigger = trigger
        else:
            s.tx.pending_stop = None
        if s.connector is None:
            s.auth_deadline = now + cfg.ev_connection_timeout
        return self._step(now, cfg, trigger, force=True)

    def remote_start(
        self, id_token: Mapping[str, Any], remote_start_id: int, now: float, cfg: TxConfig,
        reservation_id: int | None = None) -> list[Output]:  # fmt: skip
        """RequestStartTransaction accepted without a further authorization check (F02.FR.10)
        or after it (F02.FR.09).  Raises :class:`TxStateError` if a session is authorized."""
        if self._s.id_token is not None:
            raise TxStateError(f"EVSE {self.evse_id} already has an authorized session")
        return self.authorized(
            id_token, now, cfg, remote_start_id=remote_start_id, reservation_id=reservation_id
        )

    def remote_stop(self, now: float, cfg: TxConfig) -> list[Output]:
        """RequestStopTransaction (F03).  Raises :class:`TxStateError` without a transaction."""
        if self._s.tx is None:
            raise TxStateError(f"no transaction is ongoing on EVSE {self.evse_id}")
        self._cfg = cfg
        return end_authorization(self._s, cfg, now, "RemoteStop", "Remote", self._new_id)

    def tx_response(
        self, payload: Mapping[str, Any], now: float, cfg: TxConfig, *,
        transaction_id: str | None = None,
    ) -> list[Output]:  # fmt: skip
        """A TransactionEventResponse.  ``transaction_id`` (of the request) guards against an
        answer for an older transaction."""
        if not isinstance(payload, Mapping):
            raise ValueError(f"TransactionEventResponse must be an object, not {payload!r}")
        self._cfg, s = cfg, self._s
        if transaction_id is not None and transaction_id != self.transaction_id:
            return []
        info = payload.get("idTokenInfo")
        if info is None:
            return []
        if not isinstance(info, Mapping) or not isinstance(info.get("status"), str):
            raise ValueError("TransactionEventResponse.idTokenInfo.status is missing")
        if s.tx is None or s.id_token is None:
            return []
        if info["status"] == "Accepted":
            group = info.get("groupIdToken")
            if isinstance(group, Mapping):
                s.group = check_id_token(group, "idTokenInfo.groupIdToken")
            return []
        if cfg.stop_tx_on_invalid_id:  # E05.FR.09 / E05.FR.10 / E06.FR.04
            locks.hold_for_owner(s)  # E05.FR.11: locked until the owner presents his id
            return end_authorization(
                s, cfg, now, "Deauthorized", "DeAuthorized", self._new_id,
                end_points=INVALID_ID_END_POINTS,
            )  # fmt: skip
        limit = cfg.max_energy_on_invalid_id
        if limit is not None and s.delivered_wh() < limit:  # E05.FR.03
            s.invalid_energy_limit = float(limit)
            return []
        s.invalid_suspended = True  # E05.FR.02
        return self._step(now, cfg, "ChargingStateChanged", force=True)

    def stop(
        self, reason: str, now: float, cfg: TxConfig, trigger: str | None = None,
        id_token: Mapping[str, Any] | None = None,
    ) -> list[Output]:  # fmt: skip
        """End the transaction now (reset, power loss, Master Pass...).  ``trigger`` defaults
        from ``reason`` (see STOP_TRIGGERS, else AbnormalCondition, E06.FR.16); ``id_token``,
        the one that stopped it (E07.FR.02), goes into the Ended event."""
        check_reason(reason)
        trigger = trigger or STOP_TRIGGERS.get(reason, "AbnormalCondition")
        check_trigger(trigger)
        token = check_id_token(id_token) if id_token is not None else None
        self._cfg, s = cfg, self._s
        had_tx = s.tx is not None
        clear_auth(s)
        return step(
            s, cfg, now, trigger, self._new_id, stopped_reason=reason, id_token=token,
            end_now=had_tx,
        )  # fmt: skip

    # -- time, trigger and restart ------------------------------------------------------------

    def tick(self, now: float, cfg: TxConfig) -> list[Output]:
        """Timers: EVConnectionTimeOut, TxUpdatedInterval and the TxEndedInterval samples."""
        self._cfg = cfg
        return timers.tick(self._s, cfg, now, self._new_id)

    def triggered(self, now: float, cfg: TxConfig) -> list[Output]:
        """TriggerMessage TransactionEvent (F06.FR.07): an Updated event, triggerReason Trigger,
        with the TxUpdated measurands; nothing without a running transaction."""
        self._cfg = cfg
        if self._s.tx is None:
            return []
        values = meter_values(self._s, cfg.tx_updated_measurands, "Trigger", now, cfg)
        return [transaction_event(self._s, cfg, "Updated", "Trigger", now, meter=values)]

    # -- the cable lock -------------------------------------------------------------------------

    def release_lock(self, id_token: Mapping[str, Any], cfg: TxConfig) -> list[Output] | None:
        """A token was presented: if the cable is held locked for it (E05.FR.11, E09.FR.03), the
        hold ends and the lock commands are returned; None when the token is not the owner."""
        self._cfg = cfg
        if not locks.is_owner(self._s, check_id_token(id_token)):
            return None
        return locks.release(self._s, cfg)

    def unlock_command(self, connector: int) -> None:
        """UnlockConnector (F05) opened the lock of ``connector`` through the HAL."""
        locks.unlock_command(self._s, connector)

    def lock_reported(self, connector: int, locked: bool, cfg: TxConfig) -> list[Output]:
        """The HAL reported the position of a connector's lock."""
        self._cfg = cfg
        return locks.lock_reported(self._s, connector, locked, cfg)

    def resume_after_power_loss(
        self, now: float, cfg: TxConfig, still_charging: bool
    ) -> list[Output]:
        """After a restart from persisted state: end the interrupted transaction (Ended,
        triggerReason AbnormalCondition, stoppedReason PowerLoss) or, when the hardware shows the
        EV still plugged and charging, continue it with the next seqNo (no gap)."""
        self._cfg = cfg
        return resume(self._s, cfg, now, self._new_id, still_charging)

    # -- internals ----------------------------------------------------------------------------

    def _step(
        self, now: float, cfg: TxConfig, trigger: str, *, force: bool = False,
        stopped_reason: str | None = None, end_now: bool = False,
    ) -> list[Output]:  # fmt: skip
        return step(
            self._s, cfg, now, trigger, self._new_id, force=force, stopped_reason=stopped_reason,
            end_now=end_now,
        )  # fmt: skip
