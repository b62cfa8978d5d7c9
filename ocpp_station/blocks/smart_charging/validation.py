"""Checks a charging profile before it is installed (OCPP 2.0.1 K01 SetChargingProfile).

Pure: the caller gathers the station's configuration (SmartChargingCtrlr variables), its running
transactions and the installed profiles into a :class:`ValidationContext`.  The result is
``None`` (accept) or a :class:`Rejection`: an official reason code (Appendix "Reason codes") plus
a sentence naming the problem, ready for the ``statusInfo`` of a SetChargingProfileResponse with
status Rejected.  Malformed input (wrong types, missing fields) is rejected the same way, never
raised.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from ocpp_station.blocks.smart_charging.store import (
    EXTERNAL,
    PURPOSES,
    STATION_MAX,
    TX_DEFAULT,
    TX_PROFILE,
    StoredProfile,
    same_slot,
)
from ocpp_station.clock import parse_iso
from ocpp_station.ocpp_types import status_info

KINDS = ("Absolute", "Recurring", "Relative")
# How far above what the target can physically carry a limit may go and still be taken (and
# capped by the hardware): a site limit may exceed one station's rating, but not by orders of
# magnitude.  Beyond it a limit is no limit at all (1e308 A) and is Rejected.
LIMIT_HEADROOM = 10.0
RECURRENCY_KINDS = ("Daily", "Weekly")


class Rejection(NamedTuple):
    reason_code: str  # a ReasonCode of the OCPP 2.0.1 appendices, e.g. "TxNotFound"
    additional_info: str  # human-readable, names the offending field and the rule

    def status_info(self) -> dict[str, str]:
        """As a StatusInfoType (reasonCode <= 20 chars, additionalInfo <= 512 chars)."""
        return status_info(self.reason_code, self.additional_info)


@dataclass(frozen=True)
class ValidationContext:
    evse_ids: frozenset[int]  # configured EVSEs; 0 (the station) is always valid
    transactions: Mapping[int, str]  # evse id -> transactionId of its running transaction
    rate_units: frozenset[str]  # SmartChargingCtrlr.RateUnit, e.g. {"A", "W"}
    periods_per_schedule: int  # SmartChargingCtrlr.PeriodsPerSchedule
    max_stack_level: int  # SmartChargingCtrlr.ProfileStackLevel
    entries_max: int | None = None  # SmartChargingCtrlr.EntriesChargingProfiles (None: no cap)
    entries_now: int = 0  # profiles installed now
    phase_switching: bool = False  # SmartChargingCtrlr.ACPhaseSwitchingSupported
    existing: Sequence[StoredProfile] = ()  # installed profiles, for id / stack conflicts
    source: Literal["csms", "local"] = "csms"  # who sends: the CSMS or a local/external system
    multiple_schedules: bool = False  # ISO 15118 session: up to 3 schedules allowed (K01.FR.34)
    max_amps: float | None = None  # what the target EVSE (0: the station) carries, A per phase
    nominal_voltage: float = 230.0  # to convert a W limit to A (K01.FR.50)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _time(profile_or_schedule: Mapping[str, Any], key: str, where: str) -> float | Rejection:
    text = profile_or_schedule[key]
    try:
        if not isinstance(text, str):
            raise ValueError
        return parse_iso(text)
    except ValueError:
        return Rejection("InvalidValue", f"{where}.{key} {text!r} is not an RFC 3339 date-time")


def validate_profile(
    evse_id: int, profile: Mapping[str, Any], ctx: ValidationContext
) -> Rejection | None:
    """``None`` when ``profile`` may be installed on ``evse_id``, else why not."""
    if not isinstance(profile, Mapping):
        return Rejection("InvalidProfile", "chargingProfile must be an object")
    if not _is_int(evse_id) or evse_id < 0:
        return Rejection("UnknownEvse", f"evseId {evse_id!r} is not a non-negative integer")
    for key, check in (("id", _is_int), ("stackLevel", _is_int)):
        if not check(profile.get(key)):
            return Rejection(
                "InvalidProfile",
                f"chargingProfile.{key} must be an integer, got {profile.get(key)!r}",
            )
    purpose = profile.get("chargingProfilePurpose")
    if purpose not in PURPOSES:
        return Rejection("InvalidProfile", f"chargingProfilePurpose {purpose!r} is not known")
    kind = profile.get("chargingProfileKind")
    if kind not in KINDS:
        return Rejection("InvalidProfile", f"chargingProfileKind {kind!r} is not known")
    return (
        _check_target(evse_id, profile, purpose, ctx)
        or _check_kind_and_validity(profile, kind, purpose)
        or _check_schedules(profile, kind, ctx)
        or _check_stack(evse_id, profile, ctx)
    )


def _check_target(
    evse_id: int, profile: Mapping[str, Any], purpose: str, ctx: ValidationContext
) -> Rejection | None:
    """EVSE, purpose and transaction rules."""
    if evse_id != 0 and evse_id not in ctx.evse_ids:
        return Rejection("UnknownEvse", f"EVSE {evse_id} does not exist (K01.FR.28)")
    if purpose == EXTERNAL and ctx.source == "csms":
        return Rejection(
            "InvalidValue",
            "the CSMS may not set a ChargingStationExternalConstraints profile (K01.FR.22)",
        )
    if purpose == STATION_MAX and evse_id != 0:
        return Rejection(
            "InvalidValue", f"ChargingStationMaxProfile only applies to EVSE 0, not EVSE {evse_id}"
        )
    tx = profile.get("transactionId")
    if tx is not None and purpose != TX_PROFILE:
        return Rejection(
            "InvalidValue", f"transactionId is only allowed on a TxProfile, not {purpose}"
        )
    if purpose == TX_PROFILE:
        if evse_id == 0:
            return Rejection("InvalidValue", "a TxProfile needs an EVSE id > 0 (K01.FR.16)")
        running = ctx.transactions.get(evse_id)
        if running is None:
            return Rejection(
                "TxNotFound", f"TxProfile needs a running transaction on EVSE {evse_id} (K01.FR.09)"
            )
        if tx is not None and tx != running:
            return Rejection(
                "TxNotFound",
                f"transactionId {tx!r} is not the transaction running on EVSE {evse_id} "
                "(K01.FR.33)",
            )
    return None


def _check_kind_and_validity(
    profile: Mapping[str, Any], kind: str, purpose: str
) -> Rejection | None:
    recurrency = profile.get("recurrencyKind")
    if kind == "Recurring" and recurrency not in RECURRENCY_KINDS:
        return Rejection(
            "InvalidProfile",
            f"a Recurring profile needs recurrencyKind Daily or Weekly, got {recurrency!r}",
        )
    if kind != "Recurring" and recurrency is not None:
        return Rejection(
            "InvalidProfile", f"recurrencyKind is only allowed on Recurring, not {kind}"
        )
    if kind == "Relative" and purpose == STATION_MAX:
        return Rejection(
            "InvalidProfile", "a ChargingStationMaxProfile cannot be Relative (K01.FR.38)"
        )
    bounds: list[float] = []
    for key in ("validFrom", "validTo"):
        if profile.get(key) is not None:
            value = _time(profile, key, "chargingProfile")
            if isinstance(value, Rejection):
                return value
            bounds.append(value)
    if len(bounds) == 2 and bounds[0] >= bounds[1]:
        return Rejection("InvalidValue", "validFrom must be before validTo")
    return None


def _check_schedules(
    profile: Mapping[str, Any], kind: str, ctx: ValidationContext
) -> Rejection | None:
    schedules = profile.get("chargingSchedule")
    if not isinstance(schedules, list) or not schedules:
        return Rejection("InvalidSchedule", "chargingSchedule must be a non-empty list")
    allowed = 3 if ctx.multiple_schedules else 1
    if len(schedules) > allowed:
        return Rejection(
            "TooManyElements",
            f"{len(schedules)} chargingSchedules given, at most {allowed} allowed (K01.FR.34)",
        )
    for n, schedule in enumerate(schedules):
        problem = _check_schedule(schedule, f"chargingSchedule[{n}]", kind, ctx)
        if problem:
            return problem
    return None


def _check_schedule(
    schedule: Any, where: str, kind: str, ctx: ValidationContext
) -> Rejection | None:
    if not isinstance(schedule, Mapping):
        return Rejection("InvalidSchedule", f"{where} must be an object")
    has_start = schedule.get("startSchedule") is not None
    if kind in ("Absolute", "Recurring") and not has_start:
        return Rejection(
            "InvalidSchedule", f"{where}: a {kind} profile needs startSchedule (K01.FR.40)"
        )
    if kind == "Relative" and has_start:
        return Rejection(
            "InvalidSchedule",
            f"{where}: a Relative profile must not have startSchedule (K01.FR.41)",
        )
    if has_start:
        start = _time(schedule, "startSchedule", where)
        if isinstance(start, Rejection):
            return start
    duration = schedule.get("duration")
    if duration is not None and (not _is_int(duration) or duration <= 0):
        return Rejection("InvalidSchedule", f"{where}.duration must be a positive integer")
    unit = schedule.get("chargingRateUnit")
    if unit not in ("A", "W"):
        return Rejection("InvalidSchedule", f"{where}.chargingRateUnit {unit!r} is not A or W")
    if unit not in ctx.rate_units:
        return Rejection(
            "UnsupportedRateUnit",
            f"chargingRateUnit {unit} is not configured in SmartChargingCtrlr.RateUnit (K01.FR.26)",
        )
    min_rate = schedule.get("minChargingRate")
    if min_rate is not None and (not _is_number(min_rate) or min_rate < 0):
        return Rejection("InvalidSchedule", f"{where}.minChargingRate must be a number >= 0")
    periods = schedule.get("chargingSchedulePeriod")
    if not isinstance(periods, list) or not periods:
        return Rejection(
            "InvalidSchedule", f"{where}.chargingSchedulePeriod must be a non-empty list"
        )
    if len(periods) > ctx.periods_per_schedule:
        return Rejection(
            "TooManyElements",
            f"{where} has {len(periods)} periods, SmartChargingCtrlr.PeriodsPerSchedule allows "
            f"{ctx.periods_per_schedule}",
        )
    previous = -1
    for i, period in enumerate(periods):
        problem = _check_period(period, f"{where}.chargingSchedulePeriod[{i}]", ctx, unit)
        if problem:
            return problem
        start_period = period["startPeriod"]
        if i == 0 and start_period != 0:
            return Rejection(
                "InvalidSchedule", f"{where}: the first startPeriod must be 0 (K01.FR.31)"
            )
        if start_period <= previous:
            return Rejection(
                "InvalidSchedule",
                f"{where}: startPeriod {start_period} does not follow {previous}; periods must be "
                "in strictly increasing order (K01.FR.35)",
            )
        previous = start_period
    return None


def _check_period(period: Any, where: str, ctx: ValidationContext, unit: str) -> Rejection | None:
    if not isinstance(period, Mapping):
        return Rejection("InvalidSchedule", f"{where} must be an object")
    if not _is_int(period.get("startPeriod")) or period["startPeriod"] < 0:
        return Rejection("InvalidSchedule", f"{where}.startPeriod must be an integer >= 0")
    limit = period.get("limit")
    if isinstance(limit, bool) or not isinstance(limit, int | float) or not math.isfinite(limit):
        return Rejection("InvalidSchedule", f"{where}.limit must be a number, got {limit!r}")
    if limit < 0:
        return Rejection("InvalidSchedule", f"{where}.limit {limit} is negative")
    phases = period.get("numberPhases")
    if phases is not None and (not _is_int(phases) or not 1 <= phases <= 3):
        return Rejection("InvalidSchedule", f"{where}.numberPhases must be 1, 2 or 3")
    too_high = _beyond_physical(limit, unit, phases or 3, ctx)
    if too_high is not None:
        return Rejection("ValueTooHigh", f"{where}.limit {limit:g} {unit} {too_high}")
    phase = period.get("phaseToUse")
    if phase is not None:
        if not _is_int(phase) or not 1 <= phase <= 3:
            return Rejection("InvalidSchedule", f"{where}.phaseToUse must be 1, 2 or 3")
        if phases != 1:
            return Rejection(
                "InvalidSchedule", f"{where}.phaseToUse needs numberPhases = 1 (K01.FR.19)"
            )
        if not ctx.phase_switching:
            return Rejection(
                "InvalidSchedule",
                f"{where}.phaseToUse given but phase switching is not supported (K01.FR.20, "
                "K01.FR.48)",
            )
    return None


def _beyond_physical(limit: float, unit: str, phases: int, ctx: ValidationContext) -> str | None:
    """Why ``limit`` is beyond anything the target can physically do (K01: a limit the station
    cannot even compute with must not be Accepted), else None.  W is per all phases
    (K01.FR.50), A per phase (K01.FR.51)."""
    if ctx.max_amps is None:
        return None
    amps = limit / (ctx.nominal_voltage * phases) if unit == "W" else limit
    bound = ctx.max_amps * LIMIT_HEADROOM
    if amps <= bound:
        return None
    return (
        f"is beyond what the target can physically carry ({ctx.max_amps:g} A per phase; limits "
        f"up to {bound:g} A are taken and capped)"
    )


def _check_stack(
    evse_id: int, profile: Mapping[str, Any], ctx: ValidationContext
) -> Rejection | None:
    """stackLevel range, id and stack conflicts with installed profiles, storage limit."""
    level = profile["stackLevel"]
    if not 0 <= level <= ctx.max_stack_level:
        return Rejection(
            "InvalidStackLevel",
            f"stackLevel {level} is outside 0..{ctx.max_stack_level} "
            "(SmartChargingCtrlr.ProfileStackLevel)",
        )
    new = StoredProfile(evse_id, dict(profile))
    replaces_existing = False
    for old in ctx.existing:
        if old.id == new.id:
            if old.purpose == EXTERNAL and ctx.source == "csms":
                return Rejection(
                    "InvalidValue",
                    f"chargingProfile.id {new.id} belongs to a ChargingStationExternalConstraints "
                    "profile, which the CSMS cannot replace (K01.FR.05)",
                )
            replaces_existing = True
            continue
        if ctx.source != "csms":
            continue  # a local update replaces its predecessor in the store
        if same_slot(old, new):
            rule = "K01.FR.39" if new.purpose == TX_PROFILE else "K01.FR.06"
            return Rejection(
                "DuplicateProfile",
                f"profile {old.id} already has {new.purpose} stackLevel {level} on EVSE "
                f"{old.evse_id} with an overlapping validity ({rule})",
            )
        if (
            new.purpose == TX_DEFAULT
            and old.purpose == TX_DEFAULT
            and old.stack_level == level
            and (old.evse_id == 0) != (evse_id == 0)
        ):
            rule = "K01.FR.52" if evse_id == 0 else "K01.FR.53"
            return Rejection(
                "DuplicateProfile",
                f"TxDefaultProfile {old.id} with stackLevel {level} is installed on EVSE "
                f"{old.evse_id} ({rule})",
            )
    if ctx.entries_max is not None and not replaces_existing and ctx.entries_now >= ctx.entries_max:
        return Rejection(
            "TooManyElements",
            f"{ctx.entries_now} profiles installed, SmartChargingCtrlr.EntriesChargingProfiles "
            f"allows {ctx.entries_max}",
        )
    return None
