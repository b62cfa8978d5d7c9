"""The vocabulary of the availability state: statuses, results, errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ConnectorStatus = Literal["Available", "Occupied", "Reserved", "Unavailable", "Faulted"]
OperationalStatus = Literal["Operative", "Inoperative"]

OPERATIVE: OperationalStatus = "Operative"
INOPERATIVE: OperationalStatus = "Inoperative"
PERSIST_VERSION = 1

# statusInfo.reasonCode values (OCPP 2.0.1 appendix "Reason codes").
REASON_UNKNOWN_EVSE = "UnknownEvse"
REASON_UNKNOWN_CONNECTOR = "UnknownConnectorId"
REASON_TX_IN_PROGRESS = "TxInProgress"


class AvailabilityError(ValueError):
    """A caller bug or corrupt input: unknown EVSE/connector, bad status, bad persisted data."""


@dataclass(frozen=True)
class StatusChange:
    evse: int
    connector: int
    status: ConnectorStatus


@dataclass(frozen=True)
class ChangeResult:
    """The answer to a ChangeAvailabilityRequest: ``reason``/``info`` map to
    ``statusInfo.reasonCode``/``statusInfo.additionalInfo``."""

    status: Literal["Accepted", "Scheduled", "Rejected"]
    reason: str | None = None
    info: str | None = None


Conn = tuple[int, int]


def _operational(value: object, what: str) -> OperationalStatus:
    if value == OPERATIVE:
        return OPERATIVE
    if value == INOPERATIVE:
        return INOPERATIVE
    raise AvailabilityError(
        f"{what}: {value!r} is not an operational status (Operative/Inoperative)"
    )


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
