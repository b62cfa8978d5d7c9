"""Provisioning, device-model part: GetVariables (B06) and SetVariables (B05), with the message
size limits of ``DeviceDataCtrlr``.  Pure functions over a :class:`DeviceModel`.
"""

from __future__ import annotations

import json
from typing import Any

from device_model import DeviceModel, MalformedRequest
from ocpp_station.rpc.errors import ErrorCode, OCPPError

# Bytes a NotifyReport CALL frame adds around its payload: [2,"<message id>","NotifyReport",{}]
FRAME_OVERHEAD = 80


def json_size(obj: object) -> int:
    return len(json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def device_limit(dm: DeviceModel, variable: str, instance: str) -> int:
    return dm.get_int("DeviceDataCtrlr", variable, variable_instance=instance, default=0)


def check_limits(dm: DeviceModel, payload: dict[str, Any], items: int, instance: str) -> None:
    """Too many items: OccurrenceConstraintViolation (B06.FR.16, B08.FR.17); too many bytes:
    FormatViolation (B06.FR.17, B08.FR.18).  SetVariables has no own requirement; it gets the
    same answers as GetVariables.  The size measured is the JSON payload (compact)."""
    max_items = device_limit(dm, "ItemsPerMessage", instance)
    if max_items > 0 and items > max_items:
        raise OCPPError(
            ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION,
            f"{items} items, more than DeviceDataCtrlr.ItemsPerMessage[{instance}] = {max_items}",
        )
    max_bytes = device_limit(dm, "BytesPerMessage", instance)
    if max_bytes > 0:
        size = json_size(payload)
        if size > max_bytes:
            raise OCPPError(
                ErrorCode.FORMAT_VIOLATION,
                f"{size} bytes, more than "
                f"DeviceDataCtrlr.BytesPerMessage[{instance}] = {max_bytes}",
            )


def list_field(payload: object, field: str, required: bool) -> list[Any]:
    if not isinstance(payload, dict):
        raise OCPPError(ErrorCode.FORMAT_VIOLATION, "payload must be a JSON object")
    value = payload.get(field)
    if value is None:
        if required:
            raise OCPPError(ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION, f"{field} is missing")
        return []
    if not isinstance(value, list):
        raise OCPPError(ErrorCode.TYPE_CONSTRAINT_VIOLATION, f"{field} must be an array")
    if not value:
        raise OCPPError(
            ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION, f"{field} needs at least one item"
        )
    return value


def request_id_of(payload: dict[str, Any]) -> int:
    rid = payload.get("requestId")
    if isinstance(rid, bool) or not isinstance(rid, int):
        raise OCPPError(
            ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION
            if rid is None
            else ErrorCode.TYPE_CONSTRAINT_VIOLATION,
            "requestId is missing or not an integer",
        )
    return rid


def handle_get_variables(dm: DeviceModel, payload: dict[str, Any]) -> dict[str, Any]:
    """GetVariablesRequest payload → GetVariablesResponse payload (raises OCPPError)."""
    data = list_field(payload, "getVariableData", required=True)
    check_limits(dm, payload, len(data), "GetVariables")
    try:
        return {"getVariableResult": dm.get_variables(data)}
    except MalformedRequest as exc:
        raise OCPPError(exc.code, exc.message) from None


def handle_set_variables(
    dm: DeviceModel, payload: dict[str, Any], source: str = "csms"
) -> dict[str, Any]:
    """SetVariablesRequest payload → SetVariablesResponse payload (raises OCPPError)."""
    data = list_field(payload, "setVariableData", required=True)
    check_limits(dm, payload, len(data), "SetVariables")
    try:
        return {"setVariableResult": dm.set_variables(data, source)}
    except MalformedRequest as exc:
        raise OCPPError(exc.code, exc.message) from None


def password_accepted(response: dict[str, Any]) -> bool:
    """Did this SetVariablesResponse accept a new SecurityCtrlr.BasicAuthPassword (A01)?"""
    return any(
        result.get("attributeStatus") == "Accepted"
        and result.get("component", {}).get("name") == "SecurityCtrlr"
        and result.get("variable", {}).get("name") == "BasicAuthPassword"
        and result.get("attributeType", "Actual") == "Actual"
        for result in response.get("setVariableResult", [])
    )
