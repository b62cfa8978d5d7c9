"""Provisioning, reports: GetBaseReport (B07) and GetReport (B08) answered with NotifyReport
parts.  Pure functions over a :class:`DeviceModel`; the caller sends the returned NotifyReport
payloads after the response.
"""

from __future__ import annotations

from typing import Any

from device_model import DeviceModel
from device_model.report import BASES, CRITERIA
from ocpp_station.blocks.provisioning.variables import (
    FRAME_OVERHEAD,
    check_limits,
    device_limit,
    json_size,
    list_field,
    request_id_of,
)
from ocpp_station.clock import iso
from ocpp_station.ocpp_types import status_info
from ocpp_station.rpc.errors import ErrorCode, OCPPError


def _parts(
    dm: DeviceModel, request_id: int, data: list[dict[str, Any]], now: float
) -> list[dict[str, Any]]:
    items = device_limit(dm, "ItemsPerMessage", "GetReport")
    max_bytes = device_limit(dm, "BytesPerMessage", "GetReport")
    generated_at = iso(now)
    return notify_report_parts(
        request_id,
        data,
        items if items > 0 else len(data) or 1,
        generated_at,
        bytes_per_message=max_bytes if max_bytes > 0 else None,
    )


def handle_get_base_report(
    dm: DeviceModel, payload: dict[str, Any], *, now: float
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """GetBaseReportRequest → (GetBaseReportResponse, NotifyReport payloads).  ``now`` (epoch
    seconds) is the parts' generatedAt."""
    if not isinstance(payload, dict):
        raise OCPPError(ErrorCode.FORMAT_VIOLATION, "payload must be a JSON object")
    request_id = request_id_of(payload)
    base = payload.get("reportBase")
    if base not in BASES:  # B07.FR.02, B07.FR.05: NotSupported and no NotifyReport
        return {
            "status": "NotSupported",
            "statusInfo": status_info("UnsupportedParam", f"reportBase {base!r}"),
        }, []
    data = dm.report(base=base)
    return {"status": "Accepted"}, _parts(dm, request_id, data, now)  # B07.FR.01/03/04


def handle_get_report(
    dm: DeviceModel, payload: dict[str, Any], *, now: float
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """GetReportRequest → (GetReportResponse, NotifyReport payloads)."""
    criteria = list_field(payload, "componentCriteria", required=False)
    cvs = list_field(payload, "componentVariable", required=False)
    request_id = request_id_of(payload)
    check_limits(dm, payload, len(cvs), "GetReport")  # B08.FR.06/17/18
    unknown = [c for c in criteria if c not in CRITERIA]
    if unknown:  # B08.FR.02
        return {
            "status": "NotSupported",
            "statusInfo": status_info("UnsupportedParam", f"criteria {unknown}"),
        }, []
    if any(not isinstance(cv, dict) or not isinstance(cv.get("component"), dict) for cv in cvs):
        raise OCPPError(
            ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION, "every componentVariable needs a component"
        )
    data = dm.report(criteria=criteria, component_variables=cvs)
    if not data:  # B08.FR.15
        return {
            "status": "EmptyResultSet",
            "statusInfo": status_info("NotFound", "nothing matches the criteria"),
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
    base_size = json_size(
        {"requestId": request_id, "generatedAt": generated_at, "seqNo": 0, "tbc": False}
    )
    base_size += FRAME_OVERHEAD + len(',"reportData":[]') + 8  # room for larger seqNo
    chunks: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    size = base_size
    for item in report_data:
        item_size = json_size(item) + 1
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
