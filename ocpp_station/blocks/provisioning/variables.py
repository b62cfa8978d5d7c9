"""Provisioning, device-model part: GetVariables (B06), SetVariables (B05), GetBaseReport (B07)
and GetReport (B08).  Pure functions over a :class:`DeviceModel`; the caller sends the returned
NotifyReport payloads after the response.
"""

from __future__ import annotations

import json
from typing import Any

from device_model import DeviceModel, MalformedRequest
from device_model.report import BASES, CRITERIA
from ocpp_station.clock import SystemClock, iso
from ocpp_station.rpc.errors import ErrorCode, OCPPError

# Bytes a NotifyReport CALL frame adds around its payload: [2,"<message id>","NotifyReport",{}]
_FRAME_OVERHEAD = 80


def _size(obj: object) -> int:
    return len(json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def _device_limit(dm: DeviceModel, variable: str, instance: str) -> int:
    return dm.get_int("DeviceDataCtrlr", variable, variable_instance=instance, default=0)


def _check_limits(dm: DeviceModel, payload: dict[str, Any], items: int, instance: str) -> None:
    """Too many items: OccurrenceConstraintViolation (B06.FR.16, B08.FR.17); too many bytes:
    FormatViolation (B06.FR.17, B08.FR.18).  SetVariables has no own requirement; it gets the
    same answers as GetVariables.  The size measured is the JSON payload (compact)."""
    max_items = _device_limit(dm, "ItemsPerMessage", instance)
    if max_items > 0 and items > max_items:
        raise OCPPError(
            ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION,
            f"{items} items, more than DeviceDataCtrlr.ItemsPerMessage[{instance}] = {max_items}",
        )
    max_bytes = _device_limit(dm, "BytesPerMessage", instance)
    if max_bytes > 0:
        size = _size(payload)
        if size > max_bytes:
            raise OCPPError(
                ErrorCode.FORMAT_VIOLATION,
                f"{size} bytes, more than "
                f"DeviceDataCtrlr.BytesPerMessage[{instance}] = {max_bytes}",
            )


def _list_field(payload: object, field: str, required: bool) -> list[Any]:
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


def _request_id(payload: dict[str, Any]) -> int:
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
    data = _list_field(payload, "getVariableData", required=True)
    _check_limits(dm, payload, len(data), "GetVariables")
    try:
        return {"getVariableResult": dm.get_variables(data)}
    except MalformedRequest as exc:
        raise OCPPError(exc.code, exc.message) from None


def handle_set_variables(
    dm: DeviceModel, payload: dict[str, Any], source: str = "csms"
) -> dict[str, Any]:
    """SetVariablesRequest payload → SetVariablesResponse payload (raises OCPPError)."""
    data = _list_field(payload, "setVariableData", required=True)
    _check_limits(dm, payload, len(data), "SetVariables")
    try:
        return {"setVariableResult": dm.set_variables(data, source)}
    except MalformedRequest as exc:
        raise OCPPError(exc.code, exc.message) from None


def _parts(
    dm: DeviceModel, request_id: int, data: list[dict[str, Any]], now: float | None
) -> list[dict[str, Any]]:
    items = _device_limit(dm, "ItemsPerMessage", "GetReport")
    max_bytes = _device_limit(dm, "BytesPerMessage", "GetReport")
    generated_at = iso(SystemClock().time() if now is None else now)
    return notify_report_parts(
        request_id,
        data,
        items if items > 0 else len(data) or 1,
        generated_at,
        bytes_per_message=max_bytes if max_bytes > 0 else None,
    )


def handle_get_base_report(
    dm: DeviceModel, payload: dict[str, Any], *, now: float | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """GetBaseReportRequest → (GetBaseReportResponse, NotifyReport payloads).  ``now`` (epoch
    seconds, default: system time) is the parts' generatedAt."""
    if not isinstance(payload, dict):
        raise OCPPError(ErrorCode.FORMAT_VIOLATION, "payload must be a JSON object")
    request_id = _request_id(payload)
    base = payload.get("reportBase")
    if base not in BASES:  # B07.FR.02, B07.FR.05: NotSupported and no NotifyReport
        return {
            "status": "NotSupported",
            "statusInfo": {
                "reasonCode": "UnsupportedParam",
                "additionalInfo": f"reportBase {base!r}",
            },
        }, []
    data = dm.report(base=base)
    return {"status": "Accepted"}, _parts(dm, request_id, data, now)  # B07.FR.01/03/04


def handle_get_report(
    dm: DeviceModel, payload: dict[str, Any], *, now: float | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """GetReportRequest → (GetReportResponse, NotifyReport payloads)."""
    criteria = _list_field(payload, "componentCriteria", required=False)
    cvs = _list_field(payload, "componentVariable", required=False)
    request_id = _request_id(payload)
    _check_limits(dm, payload, len(cvs), "GetReport")  # B08.FR.06/17/18
    unknown = [c for c in criteria if c not in CRITERIA]
    if unknown:  # B08.FR.02
        return {
            "status": "NotSupported",
            "statusInfo": {
                "reasonCode": "UnsupportedParam",
                "additionalInfo": f"criteria {unknown}"[:512],
            },
        }, []
    if any(not isinstance(cv, dict) or not isinstance(cv.get("component"), dict) for cv in cvs):
        raise OCPPError(
            ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION, "every componentVariable needs a component"
        )
    data = dm.report(criteria=criteria, component_variables=cvs)
    if not data:  # B08.FR.15
        return {
            "status": "EmptyResultSet",
            "statusInfo": {
                "reasonCode": "NotFound",
                "additionalInfo": "nothing matches the criteria",
            },
        }, []
    return {"status": "Accepted"}, _parts(dm, request_id, data, now)  # B08.FR.01/03/04


def notify_report_parts(
    request_id: int,
    report_data: list[dict[str, Any]],
    items_per_message: int,
    generated_at: str,
    *,
    bytes_per_message: int | None = None,
) -> list[dict[str, Any]]:
    """Split ``report_data`` into NotifyReportRequest payloads: seqNo 0, 1, ... (B07.FR.10,
    B08.FR.14), ``tbc`` true on all but the last, at most ``items_per_message`` items and, when
    given, about ``bytes_per_message`` bytes per CALL frame (an item larger than that goes
    alone).  An empty report gives one part without reportData."""
    if items_per_message < 1:
        raise ValueError(f"items_per_message must be >= 1, got {items_per_message}")
    base_size = _size(
        {"requestId": request_id, "generatedAt": generated_at, "seqNo": 0, "tbc": False}
    )
    base_size += _FRAME_OVERHEAD + len(',"reportData":[]') + 8  # room for larger seqNo
    chunks: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    size = base_size
    for item in report_data:
        item_size = _size(item) + 1
        too_big = bytes_per_message is not None and size + item_size > bytes_per_message
        if current and (len(current) >= items_per_message or too_big):
            chunks.append(current)
            current, size = [], base_size
        current.append(item)
        size += item_size
    if current:
        chunks.append(current)
    if not chunks:
        return [{"requestId": request_id, "generatedAt": generated_at, "seqNo": 0, "tbc": False}]
    return [
        {
            "requestId": request_id,
            "generatedAt": generated_at,
            "seqNo": seq,
            "tbc": seq < len(chunks) - 1,
            "reportData": chunk,
        }
        for seq, chunk in enumerate(chunks)
    ]
