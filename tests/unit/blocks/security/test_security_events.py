"""Which security events are critical (the Part 2 appendix list), the start event, the
notification payload."""

from __future__ import annotations

import pytest

from ocpp_station.blocks.security.events import (
    CRITICAL_SECURITY_EVENTS,
    NON_CRITICAL_SECURITY_EVENTS,
    is_critical,
    notification,
    startup_event,
)

# The appendix's security event list (OCPP 2.0.1 Part 2 appendices v1.4, security_events.csv):
# every event and its "Critical" column, in the appendix's order.
APPENDIX = [
    ("FirmwareUpdated", True),
    ("FailedToAuthenticateAtCsms", False),
    ("CsmsFailedToAuthenticate", False),
    ("SettingSystemTime", True),
    ("StartupOfTheDevice", True),
    ("ResetOrReboot", True),
    ("SecurityLogWasCleared", True),
    ("ReconfigurationOfSecurityParameters", False),
    ("MemoryExhaustion", True),
    ("InvalidMessages", False),
    ("AttemptedReplayAttacks", False),
    ("TamperDetectionActivated", True),
    ("InvalidFirmwareSignature", True),
    ("InvalidFirmwareSigningCertificate", True),
    ("InvalidCsmsCertificate", True),
    ("InvalidChargingStationCertificate", True),
    ("InvalidTLSVersion", True),
    ("InvalidTLSCipherSuite", True),
    ("MaintenanceLoginAccepted", True),
    ("MaintenanceLoginFailed", True),
]


def test_the_critical_list_is_the_appendix_exactly() -> None:
    assert CRITICAL_SECURITY_EVENTS == {kind for kind, critical in APPENDIX if critical}
    assert NON_CRITICAL_SECURITY_EVENTS == {kind for kind, critical in APPENDIX if not critical}
    assert len(APPENDIX) == 20


@pytest.mark.parametrize("kind, critical", APPENDIX)
def test_each_appendix_event(kind: str, critical: bool) -> None:
    assert is_critical(kind) is critical


def test_an_integrators_own_event_says_itself() -> None:
    assert is_critical("VendorDoorOpened") is False  # not in the appendix: not critical
    assert is_critical("VendorDoorOpened", True) is True
    assert is_critical("StartupOfTheDevice", False) is False  # an explicit word wins


@pytest.mark.parametrize(
    "reason, event",
    [
        ("PowerUp", "StartupOfTheDevice"),
        ("RemoteReset", "ResetOrReboot"),
        ("FirmwareUpdate", "ResetOrReboot"),
        ("LocalReset", "ResetOrReboot"),
        ("ScheduledReset", "ResetOrReboot"),
        ("Watchdog", "ResetOrReboot"),
    ],
)
def test_start_event_by_boot_reason(reason: str, event: str) -> None:
    assert startup_event(reason) == event


def test_notification_is_cut_to_the_schema() -> None:
    payload = notification("X" * 60, "2026-01-01T00:00:00Z", "t" * 300)
    assert payload == {"type": "X" * 50, "timestamp": "2026-01-01T00:00:00Z", "techInfo": "t" * 255}
    assert "techInfo" not in notification("StartupOfTheDevice", "2026-01-01T00:00:00Z")
