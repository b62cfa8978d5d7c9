"""`ocpp-station demo` runs the whole scenario against the local CSMS and exits 0."""

from __future__ import annotations

import subprocess
import sys


def test_demo_shows_session_scheduled_change_and_power_limit() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ocpp_station.cli", "demo", "--fast"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for fragment in (
        "BootNotification",
        "evse 1/1 Available",
        "Heartbeat",
        "Authorize",
        "Started seq=0",
        "MeterValuePeriodic",
        'SetChargingProfile result    {"status":"Accepted"}',
        'ChangeAvailability result    {"status":"Scheduled"',
        "evse 1/1 Unavailable",
        "Ended seq=",
        "demo done",
    ):
        assert fragment in out, (fragment, out)
    # The meter follows the 8 A limit: 16 A × 3 × 230 V before, 8 A × 3 × 230 V after.
    assert "power=11040W" in out
    assert out.index("power=5520W") > out.index("lowers this session to 8 A")
    # The scheduled change applies only once the session has ended... and the car has left.
    assert out.index("Scheduled") < out.index("evse 1/1 Unavailable")
    # ...and the EVSE comes back afterwards.
    assert out.rindex("evse 1/1 Available") > out.index("evse 1/1 Unavailable")
