"""validate_profile: every K01 rule with its reason code and message."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest

from ocpp_station.blocks.smart_charging.store import (
    EXTERNAL,
    STATION_MAX,
    TX_DEFAULT,
    TX_PROFILE,
    StoredProfile,
)
from ocpp_station.blocks.smart_charging.validation import (
    Rejection,
    ValidationContext,
    validate_profile,
)

CTX = ValidationContext(
    evse_ids=frozenset({1, 2}),
    transactions={1: "TX-1"},
    rate_units=frozenset({"A", "W"}),
    periods_per_schedule=24,
    max_stack_level=8,
)


def make(
    pid: int = 1,
    purpose: str = TX_DEFAULT,
    level: int = 0,
    kind: str = "Absolute",
    **extra: Any,
) -> dict[str, Any]:
    schedule: dict[str, Any] = {
        "id": 1,
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [
            {"startPeriod": 0, "limit": 16.0},
            {"startPeriod": 3600, "limit": 10},
        ],
    }
    if kind != "Relative":
        schedule["startSchedule"] = "2026-01-01T00:00:00Z"
    profile: dict[str, Any] = {
        "id": pid,
        "stackLevel": level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": [schedule],
    }
    if kind == "Recurring":
        profile["recurrencyKind"] = "Daily"
    profile.update(extra)
    return profile


def with_schedule(profile: dict[str, Any], **changes: Any) -> dict[str, Any]:
    p = copy.deepcopy(profile)
    for key, value in changes.items():
        if value is None:
            p["chargingSchedule"][0].pop(key, None)
        else:
            p["chargingSchedule"][0][key] = value
    return p


def with_period(profile: dict[str, Any], index: int, **changes: Any) -> dict[str, Any]:
    p = copy.deepcopy(profile)
    p["chargingSchedule"][0]["chargingSchedulePeriod"][index].update(changes)
    return p


def rejected(evse: int, profile: Any, ctx: ValidationContext, code: str, words: str) -> Rejection:
    result = validate_profile(evse, profile, ctx)
    assert result is not None, "expected a rejection"
    assert result.reason_code == code, result
    assert words in result.additional_info, result
    info = result.status_info()
    assert len(info["reasonCode"]) <= 20 and len(info["additionalInfo"]) <= 512
    return result


@pytest.mark.parametrize(
    ("evse", "profile", "ctx"),
    [
        (0, make(purpose=STATION_MAX), CTX),
        (0, make(), CTX),  # TxDefaultProfile for all EVSEs
        (2, make(), CTX),
        (1, make(purpose=TX_PROFILE, kind="Relative", transactionId="TX-1"), CTX),
        (1, make(purpose=TX_PROFILE, kind="Relative"), CTX),  # transactionId omitted
        (0, make(purpose=EXTERNAL), replace(CTX, source="local")),
        (1, make(purpose=EXTERNAL), replace(CTX, source="local")),
        (1, make(kind="Recurring", recurrencyKind="Weekly"), CTX),
        (1, make(kind="Relative"), CTX),
        (1, make(validFrom="2026-01-01T00:00:00Z", validTo="2026-01-02T00:00:00Z"), CTX),
        (1, make(level=8), CTX),
        (
            1,
            with_period(make(), 1, numberPhases=1, phaseToUse=2),
            replace(CTX, phase_switching=True),
        ),
        (1, with_schedule(make(), duration=7200, minChargingRate=6), CTX),
    ],
)
def test_valid_profiles_are_accepted(
    evse: int, profile: dict[str, Any], ctx: ValidationContext
) -> None:
    assert validate_profile(evse, profile, ctx) is None


def test_station_max_only_on_evse_zero() -> None:
    rejected(1, make(purpose=STATION_MAX), CTX, "InvalidValue", "EVSE 0")


def test_station_max_cannot_be_relative() -> None:
    rejected(0, make(purpose=STATION_MAX, kind="Relative"), CTX, "InvalidProfile", "K01.FR.38")


def test_tx_profile_rules() -> None:
    tx = make(purpose=TX_PROFILE, kind="Relative")
    rejected(0, tx, CTX, "InvalidValue", "K01.FR.16")
    rejected(2, tx, CTX, "TxNotFound", "running transaction on EVSE 2")  # K01.FR.09
    rejected(1, {**tx, "transactionId": "TX-9"}, CTX, "TxNotFound", "K01.FR.33")


def test_transaction_id_only_on_tx_profiles() -> None:
    rejected(1, make(transactionId="TX-1"), CTX, "InvalidValue", "only allowed on a TxProfile")


def test_external_constraints_refused_from_the_csms() -> None:
    rejected(0, make(purpose=EXTERNAL), CTX, "InvalidValue", "K01.FR.22")


def test_unknown_evse() -> None:
    rejected(3, make(), CTX, "UnknownEvse", "K01.FR.28")
    rejected(-1, make(), CTX, "UnknownEvse", "evseId")


def test_rate_unit_not_configured() -> None:
    ctx = replace(CTX, rate_units=frozenset({"A"}))
    rejected(
        1, with_schedule(make(), chargingRateUnit="W"), ctx, "UnsupportedRateUnit", "K01.FR.26"
    )
    rejected(1, with_schedule(make(), chargingRateUnit="kW"), CTX, "InvalidSchedule", "'kW'")


def test_too_many_periods() -> None:
    ctx = replace(CTX, periods_per_schedule=1)
    rejected(1, make(), ctx, "TooManyElements", "PeriodsPerSchedule allows 1")


def test_first_period_must_start_at_zero() -> None:
    rejected(1, with_period(make(), 0, startPeriod=60), CTX, "InvalidSchedule", "K01.FR.31")


def test_periods_must_increase_strictly() -> None:
    rejected(1, with_period(make(), 1, startPeriod=0), CTX, "InvalidSchedule", "K01.FR.35")


def test_stack_level_out_of_range() -> None:
    rejected(1, make(level=9), CTX, "InvalidStackLevel", "0..8")
    rejected(1, make(level=-1), CTX, "InvalidStackLevel", "-1")


def test_recurrency_kind_rules() -> None:
    recurring = make(kind="Recurring")
    del recurring["recurrencyKind"]
    rejected(1, recurring, CTX, "InvalidProfile", "needs recurrencyKind")
    rejected(1, make(recurrencyKind="Daily"), CTX, "InvalidProfile", "only allowed on Recurring")
    rejected(1, make(kind="Recurring", recurrencyKind="Hourly"), CTX, "InvalidProfile", "Hourly")


def test_start_schedule_rules() -> None:
    for kind in ("Absolute", "Recurring"):
        profile = with_schedule(make(kind=kind), startSchedule=None)
        rejected(1, profile, CTX, "InvalidSchedule", "K01.FR.40")
    relative = with_schedule(make(kind="Relative"), startSchedule="2026-01-01T00:00:00Z")
    rejected(1, relative, CTX, "InvalidSchedule", "K01.FR.41")
    rejected(1, with_schedule(make(), startSchedule="yesterday"), CTX, "InvalidValue", "yesterday")


def test_valid_from_must_precede_valid_to() -> None:
    profile = make(validFrom="2026-01-02T00:00:00Z", validTo="2026-01-02T00:00:00Z")
    rejected(1, profile, CTX, "InvalidValue", "validFrom must be before validTo")
    rejected(1, make(validTo="soon"), CTX, "InvalidValue", "validTo")


def test_phase_rules() -> None:
    switching = replace(CTX, phase_switching=True)
    rejected(1, with_period(make(), 0, numberPhases=4), CTX, "InvalidSchedule", "numberPhases")
    rejected(1, with_period(make(), 0, phaseToUse=1), switching, "InvalidSchedule", "K01.FR.19")
    three = with_period(make(), 0, numberPhases=3, phaseToUse=1)
    rejected(1, three, switching, "InvalidSchedule", "K01.FR.19")
    one = with_period(make(), 0, numberPhases=1, phaseToUse=1)
    rejected(1, one, CTX, "InvalidSchedule", "K01.FR.20")
    bad = with_period(make(), 0, numberPhases=1, phaseToUse=4)
    rejected(1, bad, switching, "InvalidSchedule", "phaseToUse must be 1, 2 or 3")


def test_limits_must_be_non_negative_numbers() -> None:
    rejected(1, with_period(make(), 1, limit=-1), CTX, "InvalidSchedule", "negative")
    rejected(
        1, with_period(make(), 1, limit="16"), CTX, "InvalidSchedule", "limit must be a number"
    )
    rejected(1, with_period(make(), 1, limit=float("nan")), CTX, "InvalidSchedule", "limit")
    rejected(1, with_schedule(make(), minChargingRate=-2), CTX, "InvalidSchedule", "minCharging")


def test_duration_must_be_positive() -> None:
    rejected(1, with_schedule(make(), duration=0), CTX, "InvalidSchedule", "duration")


def test_one_schedule_unless_iso15118() -> None:
    profile = make()
    profile["chargingSchedule"] = profile["chargingSchedule"] * 2
    rejected(1, profile, CTX, "TooManyElements", "K01.FR.34")
    assert validate_profile(1, profile, replace(CTX, multiple_schedules=True)) is None


def test_too_many_profiles() -> None:
    full = replace(
        CTX, entries_max=2, entries_now=2, existing=(StoredProfile(2, make(5, level=3)),)
    )
    rejected(1, make(), full, "TooManyElements", "EntriesChargingProfiles allows 2")
    # Replacing an installed profile does not need room.
    assert validate_profile(2, make(5, level=4), full) is None


def test_duplicate_stack_level_and_purpose(  # K01.FR.06
) -> None:
    ctx = replace(CTX, existing=(StoredProfile(1, make(9)),))
    rejected(1, make(1), ctx, "DuplicateProfile", "K01.FR.06")
    assert validate_profile(2, make(1), ctx) is None  # other EVSE
    assert validate_profile(1, make(1, level=1), ctx) is None  # other stack level
    assert validate_profile(1, make(9), ctx) is None  # same id: replaces (K01.FR.05)
    later = replace(CTX, existing=(StoredProfile(1, make(9, validTo="2026-01-01T00:00:00Z")),))
    assert validate_profile(1, make(1, validFrom="2026-01-01T00:00:00Z"), later) is None


def test_duplicate_tx_profile_for_the_transaction() -> None:  # K01.FR.39
    existing = StoredProfile(1, make(9, TX_PROFILE, kind="Relative", transactionId="TX-1"))
    ctx = replace(CTX, existing=(existing,))
    profile = make(1, TX_PROFILE, kind="Relative", transactionId="TX-1")
    rejected(1, profile, ctx, "DuplicateProfile", "K01.FR.39")


def test_tx_default_on_evse_zero_and_on_an_evse_conflict() -> None:
    on_evse = replace(CTX, existing=(StoredProfile(2, make(9)),))
    rejected(0, make(1), on_evse, "DuplicateProfile", "K01.FR.52")
    on_zero = replace(CTX, existing=(StoredProfile(0, make(9)),))
    rejected(1, make(1), on_zero, "DuplicateProfile", "K01.FR.53")
    assert validate_profile(1, make(1, level=1), on_zero) is None


def test_csms_cannot_replace_external_constraints_by_id() -> None:
    ctx = replace(CTX, existing=(StoredProfile(0, make(9, EXTERNAL), "EMS"),))
    rejected(0, make(9, STATION_MAX), ctx, "InvalidValue", "K01.FR.05")
    local = replace(ctx, source="local")
    assert validate_profile(0, make(9, EXTERNAL), local) is None


def test_local_source_may_restack_its_own_profiles() -> None:
    ctx = replace(CTX, source="local", existing=(StoredProfile(0, make(9, EXTERNAL), "EMS"),))
    assert validate_profile(0, make(1, EXTERNAL), ctx) is None


@pytest.mark.parametrize(
    ("profile", "words"),
    [
        ([], "must be an object"),
        ({}, "chargingProfile.id"),
        ({"id": True, "stackLevel": 0}, "chargingProfile.id"),
        ({"id": 1, "stackLevel": 0.5}, "stackLevel"),
        ({"id": 1, "stackLevel": 0, "chargingProfilePurpose": "X"}, "chargingProfilePurpose"),
        ({**make(), "chargingProfileKind": None}, "chargingProfileKind"),
        ({**make(), "chargingSchedule": []}, "chargingSchedule"),
        ({**make(), "chargingSchedule": ["x"]}, "must be an object"),
        (with_schedule(make(), chargingSchedulePeriod=[]), "chargingSchedulePeriod"),
        (with_schedule(make(), chargingSchedulePeriod=[7]), "must be an object"),
        (with_period(make(), 0, startPeriod=None), "startPeriod"),
    ],
)
def test_malformed_profiles_are_rejected_not_raised(profile: Any, words: str) -> None:
    result = validate_profile(1, profile, CTX)
    assert result is not None and words in result.additional_info
    assert result.reason_code in ("InvalidProfile", "InvalidSchedule")
