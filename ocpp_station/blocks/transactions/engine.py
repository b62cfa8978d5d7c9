"""The transaction engine of one EVSE: a pure state machine (no I/O, time passed in).

Inputs are the HAL events (plug, control pilot, contactor, meter, fault), authorization results,
remote start/stop, the CSMS answers to TransactionEventRequests and a periodic :meth:`tick`.  Every
input returns a list of outputs for the caller to carry out, in order:

* :class:`SendTransactionEvent` - a complete TransactionEventRequest payload (to be queued),
* :class:`SetPower` - offer energy to the EV, or stop offering it,
* :class:`TransactionFinished` - the transaction ended (availability / reset scheduling).

Rules (OCPP 2.0.1 part 2, use cases E01-E15, F01-F03):

* A transaction starts when a configured TxStartPoint is reached (E01.FR.01-06): EVConnected =
  cable plugged, Authorized = a token accepted, PowerPathClosed = authorized AND connected
  (E01.FR.05), EnergyTransfer = the meter shows power flowing.  ParkingBayOccupancy and DataSigned
  have no source in the HAL and are never reached.  After a transaction ended, a start point that
  still holds must first drop (or a new authorization arrive) before it starts another one.
* It ends when a TxStopPoint that held during the transaction stops holding (E06.FR.02-07), or
  when authorization ends and the stop points contain Authorized/PowerPathClosed (E07, F03.FR.03,
  E05.FR.10).  Otherwise the end of authorization is reported as an Updated event and the reason
  (Local, Remote, DeAuthorized) is kept for the later Ended event (E07 diagram, F03.FR.02).
* Energy is offered while authorized, connected, not faulted, not suspended for an invalid id,
  and a transaction runs (or EnergyTransfer is a start point, which needs energy first).
* chargingState: Idle (no EV), EVConnected (EV, no energy offered, not authorized), SuspendedEVSE
  (authorized but the EVSE withholds energy: invalid id E05.FR.02, fault), Charging (energy flows,
  or the EV asks (pilot C/D) with the contactor closed and no meter reading since), SuspendedEV
  (energy offered, the EV asked for it before but takes none now), else EVConnected.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hal.types import MeterReading
from ocpp_station.blocks.transactions.meter import check_reading, meter_value
from ocpp_station.clock import iso

TX_POINTS = frozenset(
    {"ParkingBayOccupancy", "EVConnected", "Authorized", "DataSigned", "PowerPathClosed",
     "EnergyTransfer"}
)  # fmt: skip
TRIGGER_REASONS = frozenset(
    {"Authorized", "CablePluggedIn", "ChargingRateChanged", "ChargingStateChanged", "Deauthorized",
     "EnergyLimitReached", "EVCommunicationLost", "EVConnectTimeout", "MeterValueClock",
     "MeterValuePeriodic", "TimeLimitReached", "Trigger", "UnlockCommand", "StopAuthorized",
     "EVDeparted", "EVDetected", "RemoteStop", "RemoteStart", "AbnormalCondition",
     "SignedDataReceived", "ResetCommand"}
)  # fmt: skip
STOP_REASONS = frozenset(
    {"DeAuthorized", "EmergencyStop", "EnergyLimitReached", "EVDisconnected", "GroundFault",
     "ImmediateReset", "Local", "LocalOutOfCredit", "MasterPass", "Other", "OvercurrentFault",
     "PowerLoss", "PowerQuality", "Reboot", "Remote", "SOCLimitReached", "StoppedByEV",
     "TimeLimitReached", "Timeout"}
)  # fmt: skip
ID_TOKEN_TYPES = frozenset(
    {"Central", "eMAID", "ISO14443", "ISO15693", "KeyCode", "Local", "MacAddress",
     "NoAuthorization"}
)  # fmt: skip
PILOT_STATES = frozenset("ABCDEF")
POWER_THRESHOLD_W = 50.0  # above this the meter shows energy transfer

# The trigger used by stop() when the caller gives none.
_STOP_TRIGGER = {
    "ImmediateReset": "ResetCommand",
    "Local": "StopAuthorized",
    "Remote": "RemoteStop",
    "DeAuthorized": "Deauthorized",
    "EVDisconnected": "EVCommunicationLost",
    "EnergyLimitReached": "EnergyLimitReached",
    "TimeLimitReached": "TimeLimitReached",
    "Timeout": "EVConnectTimeout",
}
_AUTH_END_POINTS = frozenset({"Authorized", "PowerPathClosed"})
_INVALID_ID_END_POINTS = frozenset({"Authorized", "PowerPathClosed", "EnergyTransfer"})


class TxStateError(ValueError):
    """The input does not fit the EVSE's state (e.g. remote stop without a transaction)."""


@dataclass(frozen=True)
class TxConfig:
    """The device-model values the engine obeys; read by the caller, passed on every input."""

    start_points: frozenset[str]  # TxCtrlr.TxStartPoint
    stop_points: frozenset[str]  # TxCtrlr.TxStopPoint
    stop_tx_on_ev_side_disconnect: bool = True  # TxCtrlr.StopTxOnEVSideDisconnect
    stop_tx_on_invalid_id: bool = True  # TxCtrlr.StopTxOnInvalidId
    max_energy_on_invalid_id: int | None = None  # TxCtrlr.MaxEnergyOnInvalidId (Wh)
    ev_connection_timeout: float = 60.0  # TxCtrlr.EVConnectionTimeOut (s)
    tx_updated_interval: float = 0.0  # SampledDataCtrlr.TxUpdatedInterval (s, 0 = off)
    tx_started_measurands: tuple[str, ...] = ("Energy.Active.Import.Register",)
    tx_updated_measurands: tuple[str, ...] = ("Energy.Active.Import.Register",)
    tx_ended_measurands: tuple[str, ...] = ("Energy.Active.Import.Register",)
    sampled_data_enabled: bool = True  # SampledDataCtrlr.Enabled

    def __post_init__(self) -> None:
        for name in ("start_points", "stop_points"):
            points = getattr(self, name)
            if not points:
                raise ValueError(f"TxConfig.{name} must name at least one point")
            unknown = sorted(set(points) - TX_POINTS)
            if unknown:
                raise ValueError(f"TxConfig.{name}: unknown point(s) {', '.join(unknown)}")
        for name in ("ev_connection_timeout", "tx_updated_interval"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"TxConfig.{name} must be >= 0, not {value!r}")
        if self.max_energy_on_invalid_id is not None and self.max_energy_on_invalid_id < 0:
            raise ValueError("TxConfig.max_energy_on_invalid_id must be >= 0")


@dataclass(frozen=True)
class SendTransactionEvent:
    payload: dict[str, Any]


@dataclass(frozen=True)
class SetPower:
    allowed: bool


@dataclass(frozen=True)
class TransactionFinished:
    transaction_id: str
    stopped_reason: str


Output = SendTransactionEvent | SetPower | TransactionFinished


def _new_uuid() -> str:
    return str(uuid.uuid4())


def _check_id_token(token: Any, what: str = "id_token") -> dict[str, Any]:
    if not isinstance(token, Mapping):
        raise ValueError(f"{what} must be an IdTokenType object, not {type(token).__name__}")
    value, kind = token.get("idToken"), token.get("type")
    if not isinstance(value, str) or len(value) > 36:
        raise ValueError(f"{what}.idToken must be a string of at most 36 characters")
    if kind not in ID_TOKEN_TYPES:
        raise ValueError(f"{what}.type {kind!r} is not an IdTokenEnumType value")
    clean = {"idToken": value, "type": kind}
    if isinstance(token.get("additionalInfo"), list) and token["additionalInfo"]:
        clean["additionalInfo"] = [dict(item) for item in token["additionalInfo"]]
    return clean


def _reading_to_json(r: MeterReading | None) -> dict[str, Any] | None:
    if r is None:
        return None
    return {"evse": r.evse, "energy_wh": r.energy_wh, "power_w": r.power_w,
            "current_a": list(r.current_a), "voltage_v": list(r.voltage_v)}  # fmt: skip


def _reading_from_json(d: Any) -> MeterReading | None:
    if d is None:
        return None
    c = [float(x) for x in d["current_a"]]
    v = [float(x) for x in d["voltage_v"]]
    if len(c) != 3 or len(v) != 3:
        raise ValueError("a persisted meter reading needs 3 currents and 3 voltages")
    reading = MeterReading(
        int(d["evse"]), float(d["energy_wh"]), float(d["power_w"]), (c[0], c[1], c[2]),
        (v[0], v[1], v[2]),
    )  # fmt: skip
    check_reading(reading)
    return reading


@dataclass
class _Tx:
    """The running transaction."""

    transaction_id: str
    started_at: float
    start_reading: MeterReading | None
    held: set[str] = field(default_factory=set)  # stop points that held during the transaction
    pending_stop: str | None = None  # stoppedReason for the later Ended event
    connector_reported: bool = False  # evse.connectorId sent (E01.FR.16)
    last_periodic: float = 0.0


class EvseTransaction:
    """Transaction handling of one EVSE.  See the module docstring for the rules."""

    def __init__(
        self,
        evse_id: int,
        *,
        new_transaction_id: Callable[[], str] = _new_uuid,
        persisted: Mapping[str, Any] | None = None,
    ) -> None:
        if isinstance(evse_id, bool) or not isinstance(evse_id, int) or evse_id < 1:
            raise ValueError(f"evse_id must be an integer >= 1, not {evse_id!r}")
        self.evse_id = evse_id
        self._new_id = new_transaction_id
        self._cfg: TxConfig | None = None
        # what the hardware reports
        self._connector: int | None = None
        self._pilot = "A"
        self._ev_seen = False  # pilot B/C/D seen since plug-in
        self._ev_side_lost = False  # pilot back to A while plugged (E09/E10)
        self._contactor = False
        self._reading_since_close = False
        self._flowing = False
        self._reading: MeterReading | None = None
        self._faulted = False
        # authorization
        self._id_token: dict[str, Any] | None = None
        self._group: dict[str, Any] | None = None
        self._token_reported = False
        self._auth_deadline: float | None = None  # EVConnectionTimeOut
        self._pending_trigger: str | None = None  # Authorized / RemoteStart not yet reported
        self._pending_remote_id: int | None = None
        self._invalid_suspended = False
        self._invalid_energy_limit: float | None = None
        # energy offer
        self._power_on = False
        self._ev_requested = False
        # transaction
        self._tx: _Tx | None = None
        self.seq_no = 0
        self.charging_state: str | None = None
        self._armed: set[str] = set(TX_POINTS)
        if persisted is not None:
            self._restore(persisted)

    # -- state --------------------------------------------------------------------------------

    @property
    def transaction_id(self) -> str | None:
        return self._tx.transaction_id if self._tx else None

    @property
    def id_token(self) -> dict[str, Any] | None:
        """The token of the current authorization, if any."""
        return dict(self._id_token) if self._id_token else None

    @property
    def connector(self) -> int | None:
        return self._connector

    def active(self) -> bool:
        return self._tx is not None

    def accepts_remote_start(self) -> bool:
        """False when a session is already authorized here (F01.FR.24 / F02.FR.26: Rejected)."""
        return self._id_token is None

    # -- inputs -------------------------------------------------------------------------------

    def plug(self, connector: int, plugged: bool, now: float, cfg: TxConfig) -> list[Output]:
        if isinstance(connector, bool) or not isinstance(connector, int) or connector < 1:
            raise ValueError(f"connector must be an integer >= 1, not {connector!r}")
        self._cfg = cfg
        if plugged:
            if self._connector is not None:  # one connector per EVSE at a time (E01.FR.14)
                return []
            self._connector = connector
            self._ev_side_lost = False
            self._ev_seen = self._pilot in "BCD"
            self._auth_deadline = None
            return self._step(now, cfg, "CablePluggedIn", force=self._tx is not None)
        if self._connector != connector:
            return []
        self._connector = None
        self._flowing = self._ev_seen = self._ev_side_lost = False
        return self._step(now, cfg, "EVCommunicationLost", force=self._tx is not None)

    def pilot(self, state: str, now: float, cfg: TxConfig) -> list[Output]:
        if not isinstance(state, str) or state not in PILOT_STATES:
            raise ValueError(f"pilot state must be one of A-F, not {state!r}")
        self._cfg = cfg
        self._pilot = state
        if state not in "CD":  # the EV no longer asks: no energy flows (IEC 61851-1)
            self._flowing = False
        if self._connector is not None:
            if state in "BCD":
                self._ev_seen = True
                if state in "CD" and self._power_allowed(cfg):
                    self._ev_requested = True
                if self._ev_side_lost:  # EV reconnected on its side (E10 A1)
                    self._ev_side_lost = False
                    return self._step(now, cfg, "CablePluggedIn", force=self._tx is not None)
            elif state == "A" and self._ev_seen and not self._ev_side_lost:
                return self._ev_side_disconnect(now, cfg)
        return self._step(now, cfg, "ChargingStateChanged")

    def contactor(self, closed: bool, now: float, cfg: TxConfig) -> list[Output]:
        self._cfg = cfg
        self._contactor = bool(closed)
        if closed:
            self._reading_since_close = False
        else:
            self._flowing = False
        return self._step(now, cfg, "ChargingStateChanged")

    def meter(self, reading: MeterReading, now: float, cfg: TxConfig) -> list[Output]:
        if not isinstance(reading, MeterReading):
            raise ValueError(f"meter() takes a MeterReading, not {type(reading).__name__}")
        if reading.evse != self.evse_id:
            raise ValueError(f"meter reading of EVSE {reading.evse} given to EVSE {self.evse_id}")
        check_reading(reading)
        self._cfg = cfg
        self._reading = reading
        self._flowing = reading.power_w > POWER_THRESHOLD_W and self._connector is not None
        if self._contactor:
            self._reading_since_close = True
        if self._flowing and self._power_allowed(cfg):
            self._ev_requested = True
        limit = self._invalid_energy_limit
        if limit is not None and self._delivered_wh() >= limit:  # E05.FR.03 limit reached
            self._invalid_energy_limit = None
            self._invalid_suspended = True
            return self._step(now, cfg, "ChargingStateChanged", force=self._tx is not None)
        return self._step(now, cfg, "ChargingStateChanged")

    def fault(self, active: bool, now: float, cfg: TxConfig) -> list[Output]:
        """A fault stops the energy offer (Updated, AbnormalCondition, SuspendedEVSE); clearing it
        resumes.  To end the transaction for a fault, call :meth:`stop` (E06.FR.16)."""
        self._cfg = cfg
        if bool(active) == self._faulted:
            return []
        self._faulted = bool(active)
        if active:
            return self._step(now, cfg, "AbnormalCondition", force=self._tx is not None)
        return self._step(now, cfg, "ChargingStateChanged")

    def authorized(
        self,
        id_token: Mapping[str, Any],
        now: float,
        cfg: TxConfig,
        *,
        remote_start_id: int | None = None,
        group_id_token: Mapping[str, Any] | None = None,
    ) -> list[Output]:
        """A token was accepted (local list/cache/AuthorizeResponse, or a remote start).

        The same token again, or one with the same group id (E07.FR.01), while authorized ends
        the authorization (StopAuthorized, stoppedReason Local).  Another token is ignored.
        """
        token = _check_id_token(id_token)
        group = _check_id_token(group_id_token, "group_id_token") if group_id_token else None
        if remote_start_id is not None and (
            isinstance(remote_start_id, bool) or not isinstance(remote_start_id, int)
        ):
            raise ValueError(f"remote_start_id must be an integer, not {remote_start_id!r}")
        self._cfg = cfg
        if self._id_token is not None:
            if self._same_token(token, group):
                return self._end_authorization(now, cfg, "StopAuthorized", "Local", token)
            return []
        self._id_token, self._group = token, group
        self._token_reported = False
        self._invalid_suspended, self._invalid_energy_limit = False, None
        trigger = "Authorized"
        if remote_start_id is not None:
            trigger = "RemoteStart"  # F01.FR.19 / F02.FR.21
            self._pending_remote_id = remote_start_id  # F01.FR.25 / F02.FR.01
        if self._tx is None:
            self._armed = set(TX_POINTS)  # a new authorization begins a new session
            self._pending_trigger = trigger
        else:
            self._tx.pending_stop = None
        if self._connector is None:
            self._auth_deadline = now + cfg.ev_connection_timeout
        return self._step(now, cfg, trigger, force=True)

    def remote_start(
        self, id_token: Mapping[str, Any], remote_start_id: int, now: float, cfg: TxConfig
    ) -> list[Output]:
        """RequestStartTransaction accepted without a further authorization check (F02.FR.10)
        or after it (F02.FR.09).  Raises :class:`TxStateError` if a session is authorized."""
        if self._id_token is not None:
            raise TxStateError(f"EVSE {self.evse_id} already has an authorized session")
        return self.authorized(id_token, now, cfg, remote_start_id=remote_start_id)

    def remote_stop(self, now: float, cfg: TxConfig) -> list[Output]:
        """RequestStopTransaction (F03).  Raises :class:`TxStateError` without a transaction."""
        if self._tx is None:
            raise TxStateError(f"no transaction is ongoing on EVSE {self.evse_id}")
        self._cfg = cfg
        return self._end_authorization(now, cfg, "RemoteStop", "Remote")

    def deauthorized(
        self, now: float, cfg: TxConfig, reason: str = "Deauthorized", *,
        stopped_reason: str = "DeAuthorized",
    ) -> list[Output]:  # fmt: skip
        """The authorization was revoked by the caller's own check; ``reason`` is the
        triggerReason, ``stopped_reason`` the stoppedReason if this ends the transaction."""
        self._check_trigger(reason)
        self._check_reason(stopped_reason)
        self._cfg = cfg
        return self._end_authorization(now, cfg, reason, stopped_reason)

    def tx_response(
        self, payload: Mapping[str, Any], now: float, cfg: TxConfig, *,
        transaction_id: str | None = None,
    ) -> list[Output]:  # fmt: skip
        """A TransactionEventResponse.  ``transaction_id`` (of the request) guards against an
        answer for an older transaction."""
        if not isinstance(payload, Mapping):
            raise ValueError(f"TransactionEventResponse must be an object, not {payload!r}")
        self._cfg = cfg
        if transaction_id is not None and transaction_id != self.transaction_id:
            return []
        info = payload.get("idTokenInfo")
        if info is None:
            return []
        if not isinstance(info, Mapping) or not isinstance(info.get("status"), str):
            raise ValueError("TransactionEventResponse.idTokenInfo.status is missing")
        if self._tx is None or self._id_token is None:
            return []
        if info["status"] == "Accepted":
            group = info.get("groupIdToken")
            if isinstance(group, Mapping):
                self._group = _check_id_token(group, "idTokenInfo.groupIdToken")
            return []
        if cfg.stop_tx_on_invalid_id:  # E05.FR.09 / E05.FR.10 / E06.FR.04
            return self._end_authorization(
                now, cfg, "Deauthorized", "DeAuthorized", end_points=_INVALID_ID_END_POINTS
            )
        limit = cfg.max_energy_on_invalid_id
        if limit is not None and self._delivered_wh() < limit:  # E05.FR.03
            self._invalid_energy_limit = float(limit)
            return []
        self._invalid_suspended = True  # E05.FR.02
        return self._step(now, cfg, "ChargingStateChanged", force=True)

    def stop(
        self, reason: str, now: float, cfg: TxConfig, trigger: str | None = None
    ) -> list[Output]:
        """End the transaction now (reset, power loss, emergency stop, local stop button...).
        ``trigger`` defaults from ``reason`` (ImmediateReset -> ResetCommand, Local ->
        StopAuthorized, Remote -> RemoteStop, else AbnormalCondition, see E06.FR.16)."""
        self._check_reason(reason)
        trigger = trigger or _STOP_TRIGGER.get(reason, "AbnormalCondition")
        self._check_trigger(trigger)
        self._cfg = cfg
        had_tx = self._tx is not None
        self._clear_auth()
        return self._step(now, cfg, trigger, stopped_reason=reason, end_now=had_tx)

    def tick(self, now: float, cfg: TxConfig) -> list[Output]:
        self._cfg = cfg
        out: list[Output] = []
        deadline = self._auth_deadline
        if deadline is not None and now >= deadline and self._connector is None:
            self._auth_deadline = None
            self._clear_auth()
            if self._tx is not None and "ParkingBayOccupancy" in cfg.stop_points:
                self._tx.pending_stop = self._tx.pending_stop or "Timeout"  # E03.FR.15
                out += self._step(now, cfg, "EVConnectTimeout", force=True)
            else:  # E03.FR.05 / F02.FR.07 (without a transaction: only the authorization ends)
                out += self._step(
                    now, cfg, "EVConnectTimeout", stopped_reason="Timeout",
                    end_now=self._tx is not None,
                )  # fmt: skip
        tx, interval = self._tx, cfg.tx_updated_interval
        if tx is not None and interval > 0 and now >= tx.last_periodic + interval:
            tx.last_periodic += interval * math.floor((now - tx.last_periodic) / interval)
            values = self._meter_values(cfg.tx_updated_measurands, "Sample.Periodic", now, cfg)
            if values:  # E02.FR.10: nothing to send without measurands
                out.append(self._event("Updated", "MeterValuePeriodic", now, meter=values))
        return out

    def triggered(self, now: float, cfg: TxConfig) -> list[Output]:
        """TriggerMessage TransactionEvent (F06.FR.07): an Updated event, triggerReason Trigger,
        with the TxUpdated measurands; nothing without a running transaction."""
        self._cfg = cfg
        if self._tx is None:
            return []
        values = self._meter_values(cfg.tx_updated_measurands, "Trigger", now, cfg)
        return [self._event("Updated", "Trigger", now, meter=values)]

    @property
    def started_at(self) -> float | None:
        """When the running transaction started (anchor of Relative charging profiles)."""
        return self._tx.started_at if self._tx else None

    def next_deadline(self) -> float | None:
        """When :meth:`tick` must run next (None: nothing timed is pending)."""
        times: list[float] = []
        if self._auth_deadline is not None and self._connector is None:
            times.append(self._auth_deadline)
        cfg = self._cfg
        if self._tx is not None and cfg is not None and cfg.tx_updated_interval > 0:
            times.append(self._tx.last_periodic + cfg.tx_updated_interval)
        return min(times) if times else None

    def resume_after_power_loss(
        self, now: float, cfg: TxConfig, still_charging: bool
    ) -> list[Output]:
        """After a restart from persisted state: end the interrupted transaction (Ended,
        triggerReason AbnormalCondition, stoppedReason PowerLoss) or, when the hardware shows the
        EV still plugged and charging, continue it with the next seqNo (no gap)."""
        self._cfg = cfg
        self._power_on = False  # the hardware came up with the energy offer off
        if self._tx is not None and still_charging and self._connector is not None:
            return self._step(now, cfg, "ChargingStateChanged")
        had_tx = self._tx is not None
        self._clear_auth()
        self._connector, self._pilot, self._contactor = None, "A", False
        self._flowing = self._ev_seen = self._ev_side_lost = self._faulted = False
        out = self._step(now, cfg, "AbnormalCondition", stopped_reason="PowerLoss", end_now=had_tx)
        self._armed = set(TX_POINTS)
        return out

    # -- persistence --------------------------------------------------------------------------

    def to_persist(self) -> dict[str, Any]:
        tx = self._tx
        return {
            "version": 1,
            "evse_id": self.evse_id,
            "seq_no": self.seq_no,
            "charging_state": self.charging_state,
            "connector": self._connector,
            "pilot": self._pilot,
            "ev_seen": self._ev_seen,
            "ev_side_lost": self._ev_side_lost,
            "contactor": self._contactor,
            "flowing": self._flowing,
            "reading": _reading_to_json(self._reading),
            "faulted": self._faulted,
            "id_token": self._id_token,
            "group": self._group,
            "token_reported": self._token_reported,
            "auth_deadline": self._auth_deadline,
            "pending_trigger": self._pending_trigger,
            "pending_remote_id": self._pending_remote_id,
            "invalid_suspended": self._invalid_suspended,
            "invalid_energy_limit": self._invalid_energy_limit,
            "ev_requested": self._ev_requested,
            "armed": sorted(self._armed),
            "tx": None
            if tx is None
            else {
                "transaction_id": tx.transaction_id,
                "started_at": tx.started_at,
                "start_reading": _reading_to_json(tx.start_reading),
                "held": sorted(tx.held),
                "pending_stop": tx.pending_stop,
                "connector_reported": tx.connector_reported,
                "last_periodic": tx.last_periodic,
            },
        }

    def _restore(self, d: Mapping[str, Any]) -> None:
        try:
            if d.get("version") != 1 or d.get("evse_id") != self.evse_id:
                raise ValueError("version or evse_id does not match")
            self.seq_no = int(d["seq_no"])
            self.charging_state = d["charging_state"]
            self._connector = d["connector"]
            self._pilot = str(d["pilot"])
            self._ev_seen, self._ev_side_lost = bool(d["ev_seen"]), bool(d["ev_side_lost"])
            self._contactor, self._flowing = bool(d["contactor"]), bool(d["flowing"])
            self._reading = _reading_from_json(d["reading"])
            self._faulted = bool(d["faulted"])
            self._id_token = _check_id_token(d["id_token"]) if d["id_token"] else None
            self._group = _check_id_token(d["group"]) if d["group"] else None
            self._token_reported = bool(d["token_reported"])
            self._auth_deadline = d["auth_deadline"]
            self._pending_trigger = d["pending_trigger"]
            self._pending_remote_id = d["pending_remote_id"]
            self._invalid_suspended = bool(d["invalid_suspended"])
            self._invalid_energy_limit = d["invalid_energy_limit"]
            self._ev_requested = bool(d["ev_requested"])
            self._armed = set(d["armed"]) & TX_POINTS
            t = d["tx"]
            if t is not None:
                self._tx = _Tx(
                    str(t["transaction_id"]), float(t["started_at"]),
                    _reading_from_json(t["start_reading"]), set(t["held"]) & TX_POINTS,
                    t["pending_stop"], bool(t["connector_reported"]), float(t["last_periodic"]),
                )  # fmt: skip
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"persisted state of EVSE {self.evse_id} is unusable: {exc}") from exc
        self._power_on = False

    # -- internals ----------------------------------------------------------------------------

    @staticmethod
    def _check_trigger(trigger: str) -> None:
        if trigger not in TRIGGER_REASONS:
            raise ValueError(f"{trigger!r} is not a TriggerReasonEnumType value")

    @staticmethod
    def _check_reason(reason: str) -> None:
        if reason not in STOP_REASONS:
            raise ValueError(f"{reason!r} is not a ReasonEnumType value")

    def _same_token(self, token: dict[str, Any], group: dict[str, Any] | None) -> bool:
        current = self._id_token
        assert current is not None
        if (
            token["idToken"].lower() == current["idToken"].lower()
            and token["type"] == current["type"]
        ):
            return True
        return (
            group is not None
            and self._group is not None
            and group["idToken"].lower() == self._group["idToken"].lower()
        )

    def _clear_auth(self) -> None:
        self._id_token = self._group = None
        self._auth_deadline = None
        self._pending_trigger = self._pending_remote_id = None
        self._invalid_suspended, self._invalid_energy_limit = False, None

    def _ev_side_disconnect(self, now: float, cfg: TxConfig) -> list[Output]:
        self._ev_side_lost, self._flowing = True, False
        if cfg.stop_tx_on_ev_side_disconnect:  # E09.FR.01: deauthorize
            self._clear_auth()
            if self._tx is not None:
                self._tx.pending_stop = self._tx.pending_stop or "EVDisconnected"
        # E10: without StopTxOnEVSideDisconnect only the energy offer stops
        return self._step(now, cfg, "EVCommunicationLost", force=self._tx is not None)

    def _end_authorization(
        self, now: float, cfg: TxConfig, trigger: str, reason: str,
        id_token: dict[str, Any] | None = None, end_points: frozenset[str] = _AUTH_END_POINTS,
    ) -> list[Output]:  # fmt: skip
        self._clear_auth()
        if self._tx is None:
            return self._step(now, cfg, trigger)
        end_now = bool(cfg.stop_points & end_points)
        if not end_now:
            self._tx.pending_stop = self._tx.pending_stop or reason
        return self._step(
            now, cfg, trigger, force=True, stopped_reason=reason, id_token=id_token,
            end_now=end_now,
        )  # fmt: skip

    def _conditions(self) -> dict[str, bool]:
        connected = self._connector is not None and not self._ev_side_lost
        auth = self._id_token is not None
        return {
            "ParkingBayOccupancy": False,
            "EVConnected": connected,
            "Authorized": auth,
            "DataSigned": False,
            "PowerPathClosed": auth and connected,
            "EnergyTransfer": self._flowing,
        }

    def _power_allowed(self, cfg: TxConfig) -> bool:
        if (
            self._id_token is None
            or self._connector is None
            or self._ev_side_lost
            or self._faulted
            or self._invalid_suspended
        ):
            return False
        return self._tx is not None or "EnergyTransfer" in cfg.start_points

    def _state(self, cfg: TxConfig) -> str:
        if self._connector is None or self._ev_side_lost:
            return "Idle"
        if not self._power_allowed(cfg):
            blocked = self._id_token is not None and (self._faulted or self._invalid_suspended)
            return "SuspendedEVSE" if blocked else "EVConnected"
        if self._flowing:
            return "Charging"
        if self._pilot in "CD":  # the EV asks for energy
            if self._contactor:  # no power although the path is closed: the EV takes none
                return "SuspendedEV" if self._reading_since_close else "Charging"
            # the contactor is about to close: keep the state, so it does not flap
            current = self.charging_state
            return current if current in ("Charging", "SuspendedEV") else "EVConnected"
        # pilot B (or E/F) while energy is offered: suspended by the EV if it asked before
        return "SuspendedEV" if self._ev_requested else "EVConnected"

    def _delivered_wh(self) -> float:
        start = self._tx.start_reading if self._tx else None
        if start is None or self._reading is None:
            return 0.0
        return self._reading.energy_wh - start.energy_wh

    def _step(
        self, now: float, cfg: TxConfig, trigger: str, *, force: bool = False,
        stopped_reason: str | None = None, id_token: dict[str, Any] | None = None,
        end_now: bool = False,
    ) -> list[Output]:  # fmt: skip
        """Re-evaluate after an input changed the flags: power, stop points, start points."""
        out: list[Output] = []
        if self._power_on and not self._power_allowed(cfg):
            out.append(self._set_power(False))
        cond = self._conditions()
        self._armed.update(p for p, holds in cond.items() if not holds)
        tx = self._tx
        if tx is not None:
            tx.held.update(p for p in cfg.stop_points if cond[p])
            dropped = [p for p in cfg.stop_points if p in tx.held and not cond[p]]
            if dropped or end_now:
                reason = stopped_reason if end_now else None
                reason = reason or tx.pending_stop or self._default_reason(dropped)
                out += self._finish(now, cfg, trigger, reason, id_token)
            elif force or self._state(cfg) != self.charging_state:
                out.append(self._event("Updated", trigger, now, id_token=id_token))
        elif any(cond[p] and p in self._armed for p in cfg.start_points):
            out.append(self._start(now, cfg, trigger))
        if not self._power_on and self._power_allowed(cfg):
            out.append(self._set_power(True))
        return out

    def _set_power(self, allowed: bool) -> SetPower:
        self._power_on = allowed
        self._ev_requested = allowed and (self._pilot in "CD" or self._flowing)
        return SetPower(allowed)

    def _default_reason(self, dropped: list[str]) -> str:
        if self._connector is None or self._ev_side_lost:
            return "EVDisconnected"
        if "EnergyTransfer" in dropped and self._power_on:
            return "StoppedByEV"
        return "Other"

    def _start(self, now: float, cfg: TxConfig, trigger: str) -> SendTransactionEvent:
        tid = self._new_id()
        if not isinstance(tid, str) or not 0 < len(tid) <= 36:
            raise ValueError(f"new transaction id {tid!r} must be a string of 1..36 characters")
        self._tx = _Tx(tid, now, self._reading, last_periodic=now)
        cond = self._conditions()
        self._tx.held.update(p for p in cfg.stop_points if cond[p])
        self.seq_no = 0  # section 1.3.2.1: seqNo starts at 0 for every transaction
        self.charging_state = None
        meter = self._meter_values(cfg.tx_started_measurands, "Transaction.Begin", now, cfg)
        return self._event("Started", trigger, now, meter=meter)

    def _finish(
        self, now: float, cfg: TxConfig, trigger: str, reason: str,
        id_token: dict[str, Any] | None,
    ) -> list[Output]:  # fmt: skip
        tx = self._tx
        assert tx is not None
        self._clear_auth()
        out: list[Output] = []
        if self._power_on:
            out.append(self._set_power(False))
        meter: list[dict[str, Any]] = []
        if cfg.sampled_data_enabled and cfg.tx_ended_measurands:  # E06.FR.11
            begin = tx.start_reading
            if begin is not None:
                mv = meter_value(begin, cfg.tx_ended_measurands, "Transaction.Begin", tx.started_at)
                meter += [mv] if mv else []
            meter += self._meter_values(cfg.tx_ended_measurands, "Transaction.End", now, cfg)
        event = self._event("Ended", trigger, now, id_token=id_token, stopped=reason, meter=meter)
        out += [event, TransactionFinished(tx.transaction_id, reason)]
        self._tx = None
        self.charging_state = None
        self._armed = {p for p, holds in self._conditions().items() if not holds}
        return out

    def _meter_values(
        self, measurands: tuple[str, ...], context: str, now: float, cfg: TxConfig
    ) -> list[dict[str, Any]]:
        if not cfg.sampled_data_enabled or self._reading is None or not measurands:
            return []
        mv = meter_value(self._reading, measurands, context, now)
        return [mv] if mv else []

    def _event(
        self, event_type: str, trigger: str, now: float, *, id_token: dict[str, Any] | None = None,
        stopped: str | None = None, meter: list[dict[str, Any]] | None = None,
    ) -> SendTransactionEvent:  # fmt: skip
        tx, cfg = self._tx, self._cfg
        assert tx is not None and cfg is not None
        if self._pending_trigger is not None and event_type == "Started":
            trigger = self._pending_trigger  # an authorization not reported yet (F02.FR.21)
        self._pending_trigger = None
        info: dict[str, Any] = {"transactionId": tx.transaction_id}
        state = self._state(cfg)
        if state != self.charging_state or trigger == "ChargingStateChanged":  # E01.FR.18
            info["chargingState"] = state
            self.charging_state = state
        if stopped is not None:
            info["stoppedReason"] = stopped
        if self._pending_remote_id is not None:
            info["remoteStartId"] = self._pending_remote_id
            self._pending_remote_id = None
        payload: dict[str, Any] = {
            "eventType": event_type,
            "timestamp": iso(now),
            "triggerReason": trigger,
            "seqNo": self.seq_no,
            "transactionInfo": info,
        }
        self.seq_no += 1
        if event_type == "Started" or (self._connector is not None and not tx.connector_reported):
            evse: dict[str, Any] = {"id": self.evse_id}
            if self._connector is not None:  # E01.FR.16
                evse["connectorId"] = self._connector
                tx.connector_reported = True
            payload["evse"] = evse
        if id_token is not None:  # E07.FR.02: the token that stopped the authorization
            payload["idToken"] = dict(id_token)
        elif self._id_token is not None and not self._token_reported:  # E03.FR.01
            payload["idToken"] = dict(self._id_token)
            self._token_reported = True
        if meter:
            payload["meterValue"] = meter
        return SendTransactionEvent(payload)
