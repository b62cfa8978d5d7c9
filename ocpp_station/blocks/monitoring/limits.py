"""Message size limits of ``MonitoringCtrlr`` (N04.FR.09, N06.FR.04/06/07), and the range a
device-model value is capped to.  Pure."""

from __future__ import annotations

import json
from typing import Any

from device_model import DeviceModel, VariableDef
from ocpp_station.rpc.errors import ErrorCode, OCPPError

CTRLR = "MonitoringCtrlr"


def limit(dm: DeviceModel, component: str, variable: str, instance: str | None) -> int:
    return dm.get_int(component, variable, variable_instance=instance, default=0)


def check_limits(dm: DeviceModel, payload: dict[str, Any], items: int, instance: str) -> None:
    """More items than ``ItemsPerMessage[instance]``: OccurrenceConstraintViolation; more bytes
    (compact JSON payload) than ``BytesPerMessage[instance]``: FormatViolation."""
    most = limit(dm, CTRLR, "ItemsPerMessage", instance)
    if most and items > most:
        raise OCPPError(
            ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION,
            f"{items} items, more than {CTRLR}.ItemsPerMessage[{instance}] = {most}",
        )
    size = len(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
    most = limit(dm, CTRLR, "BytesPerMessage", instance)
    if most and size > most:
        raise OCPPError(
            ErrorCode.FORMAT_VIOLATION,
            f"{size} bytes, more than {CTRLR}.BytesPerMessage[{instance}] = {most}",
        )


def capped(var: VariableDef, text: str) -> str | None:
    """A decimal reading beyond the variable's declared range, capped to it (None: not a
    number)."""
    try:
        value = float(text)
    except ValueError:
        return None
    if var.max_limit is not None:
        value = min(var.max_limit, value)
    if var.min_limit is not None:
        value = max(var.min_limit, value)
    return repr(value)
