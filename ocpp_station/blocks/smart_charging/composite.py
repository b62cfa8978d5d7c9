"""Composite schedule engine (OCPP 2.0.1 K08, section "Combining Charging Profile Purposes").

Pure functions over installed profiles (:class:`StoredProfile`) and explicit times (epoch
seconds).  At every moment the limit of an EVSE is the lowest of

* the leading ChargingStationMaxProfile (installed on EVSE 0; it limits all EVSEs combined, so
  this EVSE gets its ``share``),
* the leading ChargingStationExternalConstraints, station-wide (also shared) and on this EVSE,
* the leading TxProfile of the running transaction, or, when none has a period at that moment,
  the leading TxDefaultProfile (on this EVSE or on EVSE 0) (K02.FR.04, K02.FR.08),

where the *leading* profile of a purpose is the one with the highest stackLevel that is valid
(validFrom <= t < validTo, K01.FR.36/37) and whose schedule has a period at t (K01.FR.17).  At
the same stackLevel a profile on the EVSE itself beats one on EVSE 0 (K01.FR.52/53 keep that
from happening for profiles the CSMS sets).

Units: a limit in A is per phase (K01.FR.51); one in W is converted with
``A = W / (nominal_voltage * numberPhases)`` of its period, numberPhases defaulting to 3
(K01.FR.49, K01.FR.50).  The composite's numberPhases is the lowest of those periods and of the
EVSE's own phases (errata "Avoiding phase conflicts"); a W composite is ``A * voltage * phases``.
Limits are rounded down to one decimal, as the schema's limit accepts.

The work is done per segment between breakpoints (period starts, schedule ends, validity bounds,
recurrences), never per second.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Literal

from ocpp_station.blocks.smart_charging.store import (
    EXTERNAL,
    STATION_MAX,
    TX_DEFAULT,
    TX_PROFILE,
    StoredProfile,
)
from ocpp_station.clock import iso, parse_iso

DAY = 86_400.0
WEEK = 7 * DAY
NEXT_CHANGE_HORIZON = 8 * DAY  # longer than a weekly recurrence: any repeating change shows up


@dataclass(frozen=True)
class EvseContext:
    nominal_voltage: float = 230.0  # the set line voltage for the area, not a measurement
    phases: int = 3  # phases of this EVSE's supply
    transaction_start: float | None = None  # epoch seconds: start of Relative profiles
    transaction_id: str | None = None  # running transaction; None: TxProfiles do not apply
    share: int = 1  # how many EVSEs a station-wide limit is split among
    max_current: float = 32.0  # local (hardware) limit, A per phase; the composite never exceeds it


@dataclass(frozen=True)
class _Schedule:
    """One applicable profile, parsed once."""

    key: tuple[str, bool]  # (purpose, scope) – leading profiles are picked per key
    rank: tuple[int, bool]  # (stackLevel, installed on the EVSE itself)
    valid_from: float
    valid_to: float
    anchor: float | None  # schedule start; None: Relative, starting at the evaluated time
    recurrence: float | None  # DAY / WEEK for Recurring
    duration: float | None
    watts: bool
    divisor: float  # share for station-wide limits, else 1
    starts: list[int]
    limits: list[float]
    phases: list[int]

    def at(self, t: float, voltage: float) -> tuple[float, int] | None:
        """(A per phase, numberPhases) at ``t``, or None when this profile has no period then."""
        if not self.valid_from <= t < self.valid_to:
            return None
        if self.anchor is None:
            offset = 0.0
        elif self.recurrence is not None:
            if t < self.anchor:
                return None
            offset = (t - self.anchor) % self.recurrence
        else:
            offset = t - self.anchor
            if offset < 0:
                return None
        if self.duration is not None and offset >= self.duration:
            return None  # K01.FR.11 / K01.FR.12: past the schedule's duration
        index = bisect_right(self.starts, offset) - 1
        if index < 0:
            return None
        limit = self.limits[index] / self.divisor
        phases = self.phases[index]
        return (limit / (voltage * phases) if self.watts else limit), phases

    def breakpoints(self, t0: float, t1: float) -> Iterable[float]:
        """Instants in (t0, t1) where this profile's contribution may change."""
        for bound in (self.valid_from, self.valid_to):
            if t0 < bound < t1:
                yield bound
        if self.anchor is None:
            return
        offsets = [float(s) for s in self.starts]
        if self.duration is not None:
            offsets = [s for s in offsets if s < self.duration] + [self.duration]
        if self.recurrence is None:
            cycles: Iterable[float] = (self.anchor,)
        else:
            period = self.recurrence
            offsets = [s for s in offsets if s < period]
            first = max(0, math.floor((t0 - self.anchor) / period))
            last = math.floor((t1 - self.anchor) / period)
            cycles = (self.anchor + k * period for k in range(first, last + 1))
        for cycle in cycles:
            for offset in offsets:
                if t0 < cycle + offset < t1:
                    yield cycle + offset

    def fixed_boundaries(self) -> Iterable[float]:
        """Non-repeating instants where this profile may change (for far-future wake-ups)."""
        yield self.valid_from
        yield self.valid_to
        if self.anchor is not None:
            yield self.anchor
            if self.recurrence is None:
                yield from (self.anchor + s for s in self.starts)
                if self.duration is not None:
                    yield self.anchor + self.duration


def _prepare(
    stored: StoredProfile, evse_id: int, ctx: EvseContext, relative_start: float | None
) -> _Schedule | None:
    """Parse ``stored`` if it applies to ``evse_id``; None if it does not or is malformed."""
    try:
        purpose, on = stored.purpose, stored.evse_id
        if evse_id == 0:
            applies = on == 0 and purpose in (STATION_MAX, EXTERNAL)
        elif purpose == STATION_MAX:
            applies = on == 0
        elif purpose in (EXTERNAL, TX_DEFAULT):
            applies = on in (0, evse_id)
        elif purpose == TX_PROFILE:
            tx = stored.transaction_id
            applies = (
                on == evse_id
                and ctx.transaction_id is not None
                and tx in (None, ctx.transaction_id)
            )
        else:
            applies = False
        if not applies:
            return None
        profile: dict[str, Any] = stored.profile
        schedule = profile["chargingSchedule"][0]  # ISO 15118 alternatives: the first one
        periods = schedule["chargingSchedulePeriod"]
        kind = profile["chargingProfileKind"]
        recurrence = None
        if kind == "Relative":
            anchor = relative_start
        else:
            anchor = parse_iso(schedule["startSchedule"])
            if kind == "Recurring":
                recurrence = WEEK if profile.get("recurrencyKind") == "Weekly" else DAY
        station_wide = evse_id != 0 and on == 0 and purpose in (STATION_MAX, EXTERNAL)
        duration = schedule.get("duration")
        return _Schedule(
            key=(purpose, purpose == EXTERNAL and on == 0),
            rank=(int(profile["stackLevel"]), on == evse_id),
            valid_from=parse_iso(profile["validFrom"]) if profile.get("validFrom") else -math.inf,
            valid_to=parse_iso(profile["validTo"]) if profile.get("validTo") else math.inf,
            anchor=anchor,
            recurrence=recurrence,
            duration=None if duration is None else float(duration),
            watts=schedule["chargingRateUnit"] == "W",
            divisor=float(max(1, ctx.share)) if station_wide else 1.0,
            starts=[int(p["startPeriod"]) for p in periods],
            limits=[float(p["limit"]) for p in periods],
            phases=[int(p.get("numberPhases") or 3) for p in periods],
        )
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        return None  # a malformed stored profile limits nothing rather than crashing the station


def _evaluate(
    schedules: Sequence[_Schedule], t: float, ctx: EvseContext
) -> tuple[float | None, int]:
    """(A per phase or None when no profile limits, numberPhases) at ``t``."""
    leading: dict[tuple[str, bool], tuple[tuple[int, bool], float, int]] = {}
    for schedule in schedules:
        value = schedule.at(t, ctx.nominal_voltage)
        if value is None:
            continue
        current = leading.get(schedule.key)
        if current is None or schedule.rank > current[0]:
            leading[schedule.key] = (schedule.rank, value[0], value[1])
    if (TX_PROFILE, False) in leading:  # a TxProfile overrules the TxDefaultProfile (K02.FR.04)
        leading.pop((TX_DEFAULT, False), None)
    if not leading:
        return None, ctx.phases
    amps = min(v[1] for v in leading.values())
    phases = min([ctx.phases, *(v[2] for v in leading.values())])
    return amps, phases


def _floor1(value: float) -> float:
    """Round down to one decimal (the schema's limit precision), never above the true limit.
    A value too large to scale (a stored 1e308) is returned as it is: the EVSE's maximum caps
    it, the arithmetic must never raise."""
    scaled = value * 10 + 1e-6
    if not math.isfinite(scaled):
        return value
    return math.floor(scaled) / 10


def _schedules(
    profiles: Sequence[StoredProfile], evse_id: int, ctx: EvseContext, relative: float | None
) -> list[_Schedule]:
    prepared = (_prepare(p, evse_id, ctx, relative) for p in profiles)
    return [s for s in prepared if s is not None]


def _segments(schedules: Sequence[_Schedule], t0: float, t1: float) -> list[tuple[float, float]]:
    points = sorted({t0, t1, *(b for s in schedules for b in s.breakpoints(t0, t1))})
    return list(pairwise(points))


def composite_schedule(
    profiles: Sequence[StoredProfile],
    evse_id: int,
    start: float,
    duration: int,
    unit: Literal["A", "W"] = "A",
    ctx: EvseContext | None = None,
) -> dict[str, Any]:
    """A GetCompositeScheduleResponse ``schedule`` (CompositeScheduleType) for ``evse_id``.

    Covers ``[start, start + duration)`` (K08.FR.02); where no profile limits, the EVSE's
    ``max_current`` is reported.  Without a running transaction Relative profiles start at
    ``start``, as if a transaction started then (K08.FR.06).  ``evse_id`` 0 gives the grid
    connection's limit: the station-wide ChargingStationMaxProfile and external constraints,
    not divided (K08.FR.03).  Raises ``ValueError`` for a negative duration or unknown unit.
    """
    ctx = ctx or EvseContext()
    if isinstance(duration, bool) or not isinstance(duration, int) or duration < 0:
        raise ValueError(f"duration must be a non-negative integer, got {duration!r}")
    if unit not in ("A", "W"):
        raise ValueError(f"chargingRateUnit must be A or W, got {unit!r}")
    relative = ctx.transaction_start if ctx.transaction_start is not None else start
    schedules = _schedules(profiles, evse_id, ctx, relative)
    periods: list[dict[str, Any]] = []
    for seg_start, seg_end in _segments(schedules, start, start + max(duration, 1)):
        amps, phases = _evaluate(schedules, (seg_start + seg_end) / 2, ctx)
        amps = ctx.max_current if amps is None else min(amps, ctx.max_current)
        limit = amps if unit == "A" else amps * ctx.nominal_voltage * phases
        period = {
            "startPeriod": round(seg_start - start),
            "limit": _floor1(limit),
            "numberPhases": phases,
        }
        if periods and periods[-1]["startPeriod"] == period["startPeriod"]:
            periods.pop()  # a sub-second segment: the later one stands for this second
        if periods and (periods[-1]["limit"], periods[-1]["numberPhases"]) == (
            period["limit"],
            period["numberPhases"],
        ):
            continue  # merge with the equal period before
        periods.append(period)
    return {
        "evseId": evse_id,
        "duration": duration,
        "scheduleStart": iso(start),
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": periods,
    }


def limit_at(
    profiles: Sequence[StoredProfile], evse_id: int, now: float, ctx: EvseContext | None = None
) -> tuple[float | None, int, float | None]:
    """What the charge controller must be told at ``now``, and when to look again.

    Returns (limit in A per phase, or None when no profile limits; numberPhases; epoch of the
    next instant the limit or phases change, or None when nothing installed will ever change
    it).  Without a transaction start a Relative profile is evaluated at its first period.
    """
    ctx = ctx or EvseContext()
    schedules = _schedules(profiles, evse_id, ctx, ctx.transaction_start)
    amps, phases = _evaluate(schedules, now, ctx)
    current = (None if amps is None else _floor1(amps), phases)
    horizon = now + NEXT_CHANGE_HORIZON
    for seg_start, seg_end in _segments(schedules, now, horizon):
        if seg_start <= now:
            continue
        later_amps, later_phases = _evaluate(schedules, (seg_start + seg_end) / 2, ctx)
        if (None if later_amps is None else _floor1(later_amps), later_phases) != current:
            return current[0], phases, seg_start
    beyond = [b for s in schedules for b in s.fixed_boundaries() if horizon <= b < math.inf]
    return current[0], phases, (min(beyond) if beyond else None)
