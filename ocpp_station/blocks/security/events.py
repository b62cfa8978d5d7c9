"""Security events (use case A04): which events are critical, and the notification they make.

OCPP 2.0.1 part 2 appendix 1 lists the security events; the ones it marks critical are sent to
the CSMS as SecurityEventNotification (A04.FR.02); every event goes to the station's security
log.  Pure functions: the block decides with these and sends.
"""

from __future__ import annotations

from typing import Any

CRITICAL_SECURITY_EVENTS = frozenset(
    {
        "FirmwareUpdated",
        "SettingSystemTime",
        "StartupOfTheDevice",
        "ResetOrReboot",
        "SecurityLogWasCleared",
        "MemoryExhaustion",
        "TamperDetectionActivated",
        "MaintenanceLoginAccepted",
        "MaintenanceLoginFailed",
    }
)
TYPE_MAX = 50  # SecurityEventNotificationRequest.type: string[0..50]
TECH_INFO_MAX = 255  # SecurityEventNotificationRequest.techInfo: string[0..255]


def is_critical(kind: str, critical: bool | None = None) -> bool:
    """An explicit ``critical`` (an integrator's own event) wins; else the appendix list."""
    return kind in CRITICAL_SECURITY_EVENTS if critical is None else bool(critical)


def notification(kind: str, timestamp: str, tech_info: str | None = None) -> dict[str, Any]:
    """The SecurityEventNotificationRequest payload, cut to the schema's lengths."""
    payload: dict[str, Any] = {"type": kind[:TYPE_MAX], "timestamp": timestamp}
    if tech_info:
        payload["techInfo"] = tech_info[:TECH_INFO_MAX]
    return payload


def time_adjustment_reported(adjustment: float, threshold: float) -> bool:
    """ClockCtrlr.TimeAdjustmentReportingThreshold: a clock adjustment (seconds, either way)
    larger than the threshold is reported as security event ``SettingSystemTime``."""
    return abs(adjustment) > threshold
