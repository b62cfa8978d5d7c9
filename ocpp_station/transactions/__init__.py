"""Transactions: the pure per-EVSE engine (E01-E15, F01-F03) and meter-value building (J01-J02)."""

from ocpp_station.transactions.engine import (
    POWER_THRESHOLD_W,
    EvseTransaction,
    Output,
    SendTransactionEvent,
    SetPower,
    TransactionFinished,
    TxConfig,
    TxStateError,
)
from ocpp_station.transactions.meter import (
    SUPPORTED_MEASURANDS,
    meter_value,
    next_aligned,
    parse_measurands,
    sampled_values,
)

__all__ = [
    "POWER_THRESHOLD_W",
    "SUPPORTED_MEASURANDS",
    "EvseTransaction",
    "Output",
    "SendTransactionEvent",
    "SetPower",
    "TransactionFinished",
    "TxConfig",
    "TxStateError",
    "meter_value",
    "next_aligned",
    "parse_measurands",
    "sampled_values",
]
