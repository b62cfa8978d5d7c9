"""Security events (use case A04): which events are critical, and the notification they make.

OCPP 2.0.1 part 2 appendix 1 lists the security events; the ones it marks critical are sent to
the CSMS as SecurityEventNotification (A04.FR.02); every event goes to the station's security
log.  Pure functions: the block decides with these and sends.
"""

from __future__ import annotations

from typing import Any

# The "Critical: Yes" rows of the appendix's security event list (security_events.csv, v1.4).
CRITICAL_SECURITY_EVENTS = frozenset(
    {
        "FirmwareUpdated",
        "SettingSystemTime",
        "StartupOfTheDevice",
        "ResetOrReboot",
        "SecurityLogWasCleared",
        "MemoryExhaustion",
        "TamperDetectionActivated",
        "InvalidFirmwareSignature",
        "InvalidFirmwareSigningCertificate",
        "InvalidCsmsCertificate",
        "InvalidChargingStationCertificate",
        "InvalidTLSVersion",
        "InvalidTLSCipherSuite",
        "MaintenanceLoginAccepted",
        "MaintenanceLoginFailed",
    }
)
# The "Critical: No" rows: logged only (A04.FR.04), not sent unless an integrator says so.
NON_CRITICAL_SECURITY_EVENTS = frozenset(
    {
        "FailedToAuthenticateAtCsms",
        "CsmsFailedToAuthenticate",
        "ReconfigurationOfSecurityParameters",
        "InvalidMessages",
        "AttemptedReplayAttacks",
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


def startup_event(boot_reason: str) -> str:
    """The event of a start of the station core: ``StartupOfTheDevice`` when it booted by itself
    (BootReason ``PowerUp``), ``ResetOrReboot`` when a reset or a reboot brought it up (any other
    boot reason the station stored before it went down: RemoteReset, FirmwareUpdate, ...)."""
    return "StartupOfTheDevice" if boot_reason == "PowerUp" else "ResetOrReboot"


def time_adjustment_reported(adjustment: float, threshold: float) -> bool:
    """ClockCtrlr.TimeAdjustmentReportingThreshold: a clock adjustment (seconds, either way)
    larger than the threshold is reported as security event ``SettingSystemTime``."""
    return abs(adjustment) > threshold
