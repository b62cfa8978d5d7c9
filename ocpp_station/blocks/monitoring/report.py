"""GetMonitoringReport (N02) → NotifyMonitoringReport parts.  Pure.

The monitors reported are those matching ``monitoringCriteria`` (N02.FR.06, N02.FR.12-14) and
``componentVariable`` (N02.FR.08); both absent: every monitor in force (N02.FR.11).  A
componentVariable without variable matches every variable of the component (N02.FR.16), without
variable instance every instance (N02.FR.17), without evse every EVSE and connector and the
component without evse (N02.FR.19), with an evse but no connectorId every connector of it
(N02.FR.18), without component instance every instance (N02.FR.21).  Nothing matching:
EmptyResultSet (N02.FR.10).  Monitors go out grouped per variable instance as
MonitoringDataType, at most ``items`` per NotifyMonitoringReportRequest, seqNo 0, 1 ...
(N02.FR.09), every part with the request's requestId (N02.FR.04).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ocpp_station.blocks.monitoring.monitors import Address, Monitor

CRITERIA: dict[str, tuple[str, ...]] = {
    "ThresholdMonitoring": ("UpperThreshold", "LowerThreshold"),
    "DeltaMonitoring": ("Delta",),
    "PeriodicMonitoring": ("Periodic", "PeriodicClockAligned"),
}


def _matches(address: Address, cv: dict[str, Any]) -> bool:
    component = cv.get("component") or {}
    if component.get("name") != address.component:
        return False
    if component.get("instance") and component["instance"] != address.component_instance:
        return False
    evse = component.get("evse")
    if evse is not None:
        if evse.get("id") != address.evse:
            return False
        if evse.get("connectorId") is not None and evse["connectorId"] != address.connector:
            return False
    variable = cv.get("variable")
    if variable is None:
        return True
    if variable.get("name") != address.variable:
        return False
    return not variable.get("instance") or variable["instance"] == address.variable_instance


def select(
    monitors: Iterable[Monitor],
    criteria: Sequence[str] = (),
    component_variables: Sequence[dict[str, Any]] = (),
) -> list[Monitor]:
    """The monitors a GetMonitoringReportRequest asks for, ordered by id."""
    types = {t for c in criteria for t in CRITERIA.get(c, ())}
    out = []
    for monitor in sorted(monitors, key=lambda m: m.id):
        if criteria and monitor.type not in types:
            continue
        if component_variables and not any(
            _matches(monitor.address, cv) for cv in component_variables
        ):
            continue
        out.append(monitor)
    return out


def monitoring_data(monitors: Iterable[Monitor]) -> list[dict[str, Any]]:
    """MonitoringDataType items: one per variable instance, its monitors in id order."""
    grouped: dict[Address, list[Monitor]] = {}
    for monitor in sorted(monitors, key=lambda m: m.id):
        grouped.setdefault(monitor.address, []).append(monitor)
    return [
        {
            "component": address.component_dict(),
            "variable": address.variable_dict(),
            "variableMonitoring": [m.describe() for m in group],
        }
        for address, group in grouped.items()
    ]


def parts(
    request_id: int, data: Sequence[dict[str, Any]], items: int, generated_at: str
) -> list[dict[str, Any]]:
    """NotifyMonitoringReportRequest payloads: ``tbc`` true on all but the last part."""
    size = max(1, items)
    chunks = [list(data[i : i + size]) for i in range(0, len(data), size)] or [[]]
    out = []
    for seq, chunk in enumerate(chunks):
        part: dict[str, Any] = {
            "requestId": request_id,
            "seqNo": seq,
            "generatedAt": generated_at,
            "tbc": seq < len(chunks) - 1,
        }
        if chunk:
            part["monitor"] = chunk
        out.append(part)
    return out
