"""What the transaction engine takes and gives: its configuration, its outputs, the OCPP 2.0.1
enumerations it accepts and the checks of the values it is handed.  Pure, no I/O."""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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

# The triggerReason of an Ended event by its stoppedReason, when the caller gives none.
STOP_TRIGGERS = {
    "ImmediateReset": "ResetCommand",
    "Local": "StopAuthorized",
    "Remote": "RemoteStop",
    "DeAuthorized": "Deauthorized",
    "EVDisconnected": "EVCommunicationLost",
    "EnergyLimitReached": "EnergyLimitReached",
    "TimeLimitReached": "TimeLimitReached",
    "Timeout": "EVConnectTimeout",
}


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
    tx_ended_interval: float = 0.0  # SampledDataCtrlr.TxEndedInterval (s, 0 = begin/end only)
    aligned_tx_ended_interval: float = 0.0  # AlignedDataCtrlr.TxEndedInterval (s, 0 = off)
    aligned_tx_ended_measurands: tuple[str, ...] = ()  # AlignedDataCtrlr.TxEndedMeasurands
    unlock_on_ev_side_disconnect: bool = True  # OCPPCommCtrlr.UnlockOnEVSideDisconnect

    def __post_init__(self) -> None:
        for name in ("start_points", "stop_points"):
            points = getattr(self, name)
            if not points:
                raise ValueError(f"TxConfig.{name} must name at least one point")
            unknown = sorted(set(points) - TX_POINTS)
            if unknown:
                raise ValueError(f"TxConfig.{name}: unknown point(s) {', '.join(unknown)}")
        for name in (
            "ev_connection_timeout",
            "tx_updated_interval",
            "tx_ended_interval",
            "aligned_tx_ended_interval",
        ):
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
class SetLock:
    """Lock (``locked``) or unlock the cable in ``connector`` of this EVSE."""

    connector: int
    locked: bool


@dataclass(frozen=True)
class TransactionFinished:
    transaction_id: str
    stopped_reason: str


Output = SendTransactionEvent | SetPower | SetLock | TransactionFinished


def check_optional_int(value: object, what: str) -> None:
    """``value`` must be None or an integer (a remoteStartId, a reservationId)."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValueError(f"{what} must be an integer, not {value!r}")


def check_id_token(token: Any, what: str = "id_token") -> dict[str, Any]:
    """A clean copy of the IdTokenType ``token``; :class:`ValueError` if it is not one."""
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


def check_trigger(trigger: str) -> None:
    if trigger not in TRIGGER_REASONS:
        raise ValueError(f"{trigger!r} is not a TriggerReasonEnumType value")


def check_reason(reason: str) -> None:
    if reason not in STOP_REASONS:
        raise ValueError(f"{reason!r} is not a ReasonEnumType value")


def new_transaction_id() -> str:
    """A fresh transactionId (a UUID: 36 characters, the most the schema allows)."""
    return str(uuid.uuid4())
