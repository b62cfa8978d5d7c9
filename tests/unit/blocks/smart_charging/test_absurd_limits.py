"""Strict input, pure: a charging limit the EVSE cannot physically carry is rejected with a
reason (K01); a plausible one above the rating is taken and capped; a stored absurd limit never
breaks the limit arithmetic."""

from __future__ import annotations

import math
from typing import Any

import pytest

from ocpp_station.blocks.smart_charging.composite import EvseContext, limit_at
from ocpp_station.blocks.smart_charging.store import StoredProfile
from ocpp_station.blocks.smart_charging.validation import (
    LIMIT_HEADROOM,
    ValidationContext,
    validate_profile,
)


def profile(limit: float, unit: str = "A", phases: int | None = None) -> dict[str, Any]:
    period: dict[str, Any] = {"startPeriod": 0, "limit": limit}
    if phases is not None:
        period["numberPhases"] = phases
    return {
        "id": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [
            {
                "id": 1,
                "chargingRateUnit": unit,
                "startSchedule": "2026-01-01T00:00:00Z",
                "chargingSchedulePeriod": [period],
            }
        ],
    }


CTX = ValidationContext(
    evse_ids=frozenset({1}),
    transactions={},
    rate_units=frozenset({"A", "W"}),
    periods_per_schedule=24,
    max_stack_level=10,
    max_amps=32.0,
)


@pytest.mark.parametrize(
    ("limit", "unit"), [(1e308, "A"), (321, "A"), (1e308, "W"), (230 * 3 * 321, "W")]
)
def test_an_absurd_limit_is_rejected_with_a_reason(limit: float, unit: str) -> None:
    rejection = validate_profile(1, profile(limit, unit), CTX)
    assert rejection is not None and rejection.reason_code == "ValueTooHigh"
    assert "32 A" in rejection.additional_info


@pytest.mark.parametrize(("limit", "unit"), [(32, "A"), (63, "A"), (320, "A"), (22080, "W")])
def test_a_limit_above_the_rating_but_plausible_is_taken_and_capped(
    limit: float, unit: str
) -> None:
    assert LIMIT_HEADROOM == 10
    assert validate_profile(1, profile(limit, unit), CTX) is None


def test_a_stored_absurd_limit_never_breaks_the_limit_arithmetic() -> None:
    stored = StoredProfile(1, profile(1e308))
    limit, phases, _ = limit_at([stored], 1, 1_767_225_700.0, EvseContext(max_current=32))
    assert limit is not None and math.isfinite(limit) and phases == 3
