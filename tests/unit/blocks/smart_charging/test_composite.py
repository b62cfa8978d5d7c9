"""Composite schedule engine: hand-worked cases (OCPP 2.0.1 K08, "Combining Charging Profile
Purposes"), each result checked against the official GetCompositeScheduleResponse schema."""

from __future__ import annotations

import json
import math
import time
from importlib import resources
from itertools import pairwise
from typing import Any, Literal

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocpp_station.blocks.smart_charging.composite import EvseContext, composite_schedule, limit_at
from ocpp_station.blocks.smart_charging.store import (
    EXTERNAL,
    STATION_MAX,
    TX_DEFAULT,
    TX_PROFILE,
    StoredProfile,
)
from ocpp_station.clock import iso, parse_iso

T0 = parse_iso("2026-01-01T00:00:00Z")
HOUR = 3600
_SCHEMA = json.loads(
    resources.files("ocpp.v201.schemas").joinpath("GetCompositeScheduleResponse.json").read_text()
)
_VALIDATOR = jsonschema.Draft6Validator(_SCHEMA, format_checker=jsonschema.FormatChecker())


def profile(
    pid: int,
    purpose: str,
    level: int,
    periods: list[tuple[int, float] | tuple[int, float, int]],
    *,
    evse: int = 1,
    kind: str = "Absolute",
    start: str | None = "2026-01-01T00:00:00Z",
    duration: int | None = None,
    unit: str = "A",
    recurrency: str | None = None,
    valid_from: str | None = None,
    valid_to: str | None = None,
    tx: str | None = None,
) -> StoredProfile:
    schedule: dict[str, Any] = {
        "id": pid,
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [
            {"startPeriod": p[0], "limit": p[1], **({"numberPhases": p[2]} if len(p) > 2 else {})}
            for p in periods
        ],
    }
    if kind != "Relative" and start is not None:
        schedule["startSchedule"] = start
    if duration is not None:
        schedule["duration"] = duration
    body: dict[str, Any] = {
        "id": pid,
        "stackLevel": level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": [schedule],
    }
    for key, value in (
        ("recurrencyKind", recurrency),
        ("validFrom", valid_from),
        ("validTo", valid_to),
        ("transactionId", tx),
    ):
        if value is not None:
            body[key] = value
    return StoredProfile(evse, body)


def compose(
    profiles: list[StoredProfile],
    *,
    evse: int = 1,
    start: float = T0,
    duration: int = 24 * HOUR,
    unit: Literal["A", "W"] = "A",
    ctx: EvseContext | None = None,
) -> list[tuple[int, float, int]]:
    result = composite_schedule(profiles, evse, start, duration, unit, ctx)
    _VALIDATOR.validate({"status": "Accepted", "schedule": result})
    assert result["evseId"] == evse and result["duration"] == duration
    assert result["chargingRateUnit"] == unit
    assert parse_iso(result["scheduleStart"]) == pytest.approx(start, abs=0.001)
    return [
        (p["startPeriod"], p["limit"], p["numberPhases"]) for p in result["chargingSchedulePeriod"]
    ]


def test_no_profiles_reports_the_local_limit() -> None:
    assert compose([]) == [(0, 32.0, 3)]
    assert compose([], ctx=EvseContext(max_current=16.0, phases=1)) == [(0, 16.0, 1)]


def test_higher_stack_level_wins_inside_its_window_only() -> None:
    base = profile(1, TX_DEFAULT, 0, [(0, 16)])
    peak = profile(2, TX_DEFAULT, 1, [(0, 10)], start="2026-01-01T01:00:00Z", duration=2 * HOUR)
    assert compose([base, peak]) == [(0, 16.0, 3), (HOUR, 10.0, 3), (3 * HOUR, 16.0, 3)]
    # A lower stack level never overrides a higher one (K01.FR.17).
    low = profile(3, TX_DEFAULT, 0, [(0, 6)], start="2026-01-01T01:30:00Z", duration=HOUR)
    assert compose([peak, low], duration=4 * HOUR) == [
        (0, 32.0, 3),
        (HOUR, 10.0, 3),
        (3 * HOUR, 32.0, 3),
    ]


def test_periods_within_a_schedule_and_its_duration() -> None:
    p = profile(1, TX_DEFAULT, 0, [(0, 6), (1800, 12), (5400, 20)], duration=2 * HOUR)
    # K01.FR.11/12: the last period ends with the schedule's duration.
    assert compose([p], duration=3 * HOUR) == [
        (0, 6.0, 3),
        (1800, 12.0, 3),
        (5400, 20.0, 3),
        (7200, 32.0, 3),
    ]


def test_recurring_daily_profile_runs_across_midnight() -> None:
    night = profile(
        1,
        TX_DEFAULT,
        1,
        [(0, 16)],
        kind="Recurring",
        recurrency="Daily",
        start="2025-12-31T22:00:00Z",
        duration=8 * HOUR,
    )
    day = profile(2, TX_DEFAULT, 0, [(0, 32)])
    # From midnight: still inside last night's window until 06:00, again from 22:00.
    assert compose([night]) == [(0, 16.0, 3), (6 * HOUR, 32.0, 3), (22 * HOUR, 16.0, 3)]
    # From noon: 22:00 today to 06:00 tomorrow.
    noon = T0 + 12 * HOUR
    assert compose([night, day], start=noon) == [
        (0, 32.0, 3),
        (10 * HOUR, 16.0, 3),
        (18 * HOUR, 32.0, 3),
    ]
    # Three days later it still recurs.
    assert compose([night], start=T0 + 3 * 24 * HOUR + 12 * HOUR)[1] == (10 * HOUR, 16.0, 3)


def test_recurring_profile_is_not_active_before_its_start_schedule() -> None:
    p = profile(
        1,
        TX_DEFAULT,
        0,
        [(0, 10)],
        kind="Recurring",
        recurrency="Daily",
        start="2026-01-01T06:00:00Z",
    )
    assert compose([p]) == [(0, 32.0, 3), (6 * HOUR, 10.0, 3)]


def test_recurring_weekly() -> None:
    # Thursday 2026-01-01; weekly from Saturday 2026-01-03 for one day.
    sat = profile(
        1,
        TX_DEFAULT,
        0,
        [(0, 8)],
        kind="Recurring",
        recurrency="Weekly",
        start="2026-01-03T00:00:00Z",
        duration=24 * HOUR,
    )
    day = 24 * HOUR
    assert compose([sat], duration=14 * day) == [
        (0, 32.0, 3),
        (2 * day, 8.0, 3),
        (3 * day, 32.0, 3),
        (9 * day, 8.0, 3),
        (10 * day, 32.0, 3),
    ]


def test_relative_tx_profile_starts_with_the_transaction() -> None:
    default = profile(1, TX_DEFAULT, 0, [(0, 16)])
    tx = profile(2, TX_PROFILE, 0, [(0, 10), (1800, 20)], kind="Relative", duration=HOUR, tx="T1")
    ctx = EvseContext(transaction_start=T0 + 600, transaction_id="T1")
    # Before the transaction started and after the TxProfile's duration the TxDefaultProfile
    # applies (K02.FR.08).
    assert compose([default, tx], duration=2 * HOUR, ctx=ctx) == [
        (0, 16.0, 3),
        (600, 10.0, 3),
        (2400, 20.0, 3),
        (4200, 16.0, 3),
    ]
    # Another transaction's TxProfile, or no transaction at all: only the default applies.
    other = EvseContext(transaction_start=T0, transaction_id="T2")
    assert compose([default, tx], ctx=other) == [(0, 16.0, 3)]
    assert compose([default, tx]) == [(0, 16.0, 3)]


def test_relative_default_without_transaction_starts_at_the_request() -> None:
    # K08.FR.06: as if a transaction started now.
    p = profile(1, TX_DEFAULT, 0, [(0, 6), (HOUR, 16)], kind="Relative")
    assert compose([p], start=T0 + 5 * HOUR, duration=2 * HOUR) == [(0, 6.0, 3), (HOUR, 16.0, 3)]


def test_tx_profile_overrules_a_higher_tx_default() -> None:
    default = profile(1, TX_DEFAULT, 5, [(0, 6)])
    tx = profile(2, TX_PROFILE, 0, [(0, 20)], kind="Relative", tx="T1")
    ctx = EvseContext(transaction_start=T0, transaction_id="T1")
    assert compose([default, tx], ctx=ctx) == [(0, 20.0, 3)]


def test_amps_to_watts_three_and_one_phase() -> None:
    p = profile(1, TX_DEFAULT, 0, [(0, 16)])
    assert compose([p], unit="W") == [(0, 11040.0, 3)]  # 16 A x 230 V x 3
    assert compose([p], unit="W", ctx=EvseContext(phases=1)) == [(0, 3680.0, 1)]
    one = profile(2, TX_DEFAULT, 0, [(0, 16, 1)])
    assert compose([one], unit="W") == [(0, 3680.0, 1)]


def test_watts_to_amps_three_and_one_phase() -> None:
    # K01.FR.49/50: A per phase = W / (230 V x numberPhases), numberPhases defaulting to 3.
    assert compose([profile(1, TX_DEFAULT, 0, [(0, 11040)], unit="W")]) == [(0, 16.0, 3)]
    assert compose([profile(1, TX_DEFAULT, 0, [(0, 7360, 1)], unit="W")]) == [(0, 32.0, 1)]
    assert compose([profile(1, TX_DEFAULT, 0, [(0, 7360, 1)], unit="W")], unit="W") == [
        (0, 7360.0, 1)
    ]
    # 11000 / 690 = 15.942..: rounded down, never above the true limit.
    assert compose([profile(1, TX_DEFAULT, 0, [(0, 11000)], unit="W")]) == [(0, 15.9, 3)]
    # ... while a W composite of a W schedule gives back the schedule's own value.
    assert compose([profile(1, TX_DEFAULT, 0, [(0, 11000)], unit="W")], unit="W") == [
        (0, 11000.0, 3)
    ]


def test_station_max_below_tx_profile_wins() -> None:
    station = profile(1, STATION_MAX, 0, [(0, 20)], evse=0)
    tx = profile(2, TX_PROFILE, 0, [(0, 32)], kind="Relative", tx="T1")
    ctx = EvseContext(transaction_start=T0, transaction_id="T1")
    assert compose([station, tx], ctx=ctx) == [(0, 20.0, 3)]
    # A station max that drops for one hour.
    dip = profile(3, STATION_MAX, 1, [(0, 8)], evse=0, start="2026-01-01T02:00:00Z", duration=HOUR)
    assert compose([station, tx, dip], ctx=ctx) == [
        (0, 20.0, 3),
        (2 * HOUR, 8.0, 3),
        (3 * HOUR, 20.0, 3),
    ]


def test_station_limit_is_split_among_evses() -> None:
    station = profile(1, STATION_MAX, 0, [(0, 40)], evse=0)
    assert compose([station], ctx=EvseContext(share=2)) == [(0, 20.0, 3)]
    watts = profile(1, STATION_MAX, 0, [(0, 22080)], evse=0, unit="W")
    assert compose([watts], ctx=EvseContext(share=2)) == [(0, 16.0, 3)]
    # The grid connection itself (evseId 0, K08.FR.03) is not divided.
    assert compose([station], evse=0, ctx=EvseContext(share=2, max_current=63)) == [(0, 40.0, 3)]


def test_grid_connection_ignores_evse_profiles() -> None:
    station = profile(1, STATION_MAX, 0, [(0, 50)], evse=0)
    default = profile(2, TX_DEFAULT, 0, [(0, 6)], evse=0)
    assert compose([station, default], evse=0, ctx=EvseContext(max_current=63)) == [(0, 50.0, 3)]


def test_external_constraints_station_wide_and_per_evse() -> None:
    wide = profile(1, EXTERNAL, 0, [(0, 30)], evse=0)
    mine = profile(2, EXTERNAL, 0, [(0, 20)], evse=1, start="2026-01-01T01:00:00Z", duration=HOUR)
    other = profile(3, EXTERNAL, 0, [(0, 6)], evse=2)
    assert compose([wide, mine, other], ctx=EvseContext(share=2), duration=3 * HOUR) == [
        (0, 15.0, 3)
    ]
    assert compose([wide, mine, other], duration=3 * HOUR) == [
        (0, 30.0, 3),
        (HOUR, 20.0, 3),
        (2 * HOUR, 30.0, 3),
    ]


def test_evse_specific_default_beats_evse_zero_at_the_same_level_only() -> None:
    everywhere = profile(1, TX_DEFAULT, 0, [(0, 10)], evse=0)
    here = profile(2, TX_DEFAULT, 0, [(0, 20)], evse=1)
    assert compose([everywhere, here]) == [(0, 20.0, 3)]
    higher = profile(3, TX_DEFAULT, 1, [(0, 12)], evse=0)
    assert compose([everywhere, here, higher]) == [(0, 12.0, 3)]
    # Another EVSE's default does not apply here.
    assert compose([profile(4, TX_DEFAULT, 0, [(0, 6)], evse=2)]) == [(0, 32.0, 3)]


def test_valid_from_and_valid_to_clip_a_profile() -> None:
    base = profile(1, TX_DEFAULT, 0, [(0, 16)])
    clipped = profile(
        2,
        TX_DEFAULT,
        1,
        [(0, 10)],
        valid_from="2026-01-01T02:00:00Z",
        valid_to="2026-01-01T04:00:00Z",
    )
    assert compose([base, clipped]) == [(0, 16.0, 3), (2 * HOUR, 10.0, 3), (4 * HOUR, 16.0, 3)]


def test_lowest_number_of_phases_wins() -> None:
    station = profile(1, STATION_MAX, 0, [(0, 32, 1)], evse=0)
    default = profile(2, TX_DEFAULT, 0, [(0, 16, 3)])
    assert compose([station, default]) == [(0, 16.0, 1)]
    assert compose([station, default], unit="W") == [(0, 3680.0, 1)]


def test_adjacent_equal_periods_are_merged() -> None:
    a = profile(1, TX_DEFAULT, 0, [(0, 16), (HOUR, 16), (2 * HOUR, 16)])
    b = profile(2, STATION_MAX, 0, [(0, 40)], evse=0, start="2026-01-01T05:00:00Z")
    assert compose([a, b]) == [(0, 16.0, 3)]


def test_zero_duration_and_sub_second_start() -> None:
    p = profile(1, TX_DEFAULT, 0, [(0, 16)])
    assert compose([p], duration=0) == [(0, 16.0, 3)]
    assert compose([p], start=T0 + 0.25, duration=60) == [(0, 16.0, 3)]


def test_bad_arguments_raise_value_errors() -> None:
    with pytest.raises(ValueError, match="duration"):
        composite_schedule([], 1, T0, -5, "A", EvseContext())
    with pytest.raises(ValueError, match="chargingRateUnit"):
        composite_schedule([], 1, T0, 60, "kW", EvseContext())  # type: ignore[arg-type]


def test_malformed_stored_profiles_are_ignored() -> None:
    broken = [
        StoredProfile(1, {"id": 1}),
        StoredProfile(1, {"id": 2, "stackLevel": 0, "chargingProfilePurpose": TX_DEFAULT}),
        profile(3, TX_DEFAULT, 0, [(0, 16)], start="not a date"),
    ]
    assert compose([*broken, profile(4, TX_DEFAULT, 0, [(0, 10)])]) == [(0, 10.0, 3)]
    assert limit_at(broken, 1, T0) == (None, 3, None)


def test_limit_at_and_next_change() -> None:
    night = profile(
        1,
        TX_DEFAULT,
        1,
        [(0, 16)],
        kind="Recurring",
        recurrency="Daily",
        start="2025-12-31T22:00:00Z",
        duration=8 * HOUR,
    )
    assert limit_at([night], 1, T0 + 12 * HOUR) == (None, 3, T0 + 22 * HOUR)
    assert limit_at([night], 1, T0 + 23 * HOUR) == (16.0, 3, T0 + 30 * HOUR)
    day = profile(2, TX_DEFAULT, 0, [(0, 32)])
    assert limit_at([night, day], 1, T0 + 12 * HOUR) == (32.0, 3, T0 + 22 * HOUR)
    # Breakpoints where the limit does not change are skipped.
    same = profile(3, TX_DEFAULT, 0, [(0, 16), (HOUR, 16), (2 * HOUR, 10)])
    assert limit_at([same], 1, T0) == (16.0, 3, T0 + 2 * HOUR)
    assert limit_at([same], 1, T0 + 2 * HOUR) == (10.0, 3, None)
    assert limit_at([], 1, T0) == (None, 3, None)


def test_limit_at_far_future_profile_and_relative_without_transaction() -> None:
    later = profile(1, TX_DEFAULT, 0, [(0, 6)], start="2026-03-01T00:00:00Z")
    assert limit_at([later], 1, T0) == (None, 3, parse_iso("2026-03-01T00:00:00Z"))
    relative = profile(2, TX_DEFAULT, 0, [(0, 6), (HOUR, 16)], kind="Relative")
    assert limit_at([relative], 1, T0) == (6.0, 3, None)
    ctx = EvseContext(transaction_start=T0, transaction_id="T1")
    assert limit_at([relative], 1, T0 + 60, ctx) == (6.0, 3, T0 + HOUR)
    # Watts become amps per phase; the phases come along.
    watts = profile(3, STATION_MAX, 0, [(0, 7360, 1)], evse=0, unit="W")
    assert limit_at([watts], 1, T0) == (32.0, 1, None)


def test_twenty_stacked_profiles_take_milliseconds() -> None:
    profiles = [
        profile(
            i,
            TX_DEFAULT if i % 2 else STATION_MAX,
            i,
            [(h * HOUR, 6 + (h + i) % 26) for h in range(24)],
            evse=i % 2,
            kind="Recurring",
            recurrency="Daily",
            start=f"2025-12-31T{i:02d}:{(7 * i) % 60:02d}:00Z",
            duration=23 * HOUR,
        )
        for i in range(1, 21)
    ]
    began = time.perf_counter()
    periods = compose(profiles, ctx=EvseContext(share=2))
    elapsed = time.perf_counter() - began
    assert elapsed < 0.5, f"24 h composite of 20 profiles took {elapsed:.3f} s"
    assert periods[0][0] == 0 and len(periods) > 24
    assert all(a[0] < b[0] for a, b in pairwise(periods))
    assert all(a[1:] != b[1:] for a, b in pairwise(periods))


# -- brute-force oracle: the segment engine agrees with naive sampling ----------------------------

_SLOT = 900  # every time in generated profiles is a multiple of 15 minutes


def _naive_amps(profiles: list[StoredProfile], t: float, share: int) -> tuple[float, int]:
    """Straight from the rules, sampled at one instant (no breakpoints involved)."""
    best: dict[tuple[str, bool], tuple[tuple[int, bool], float, int]] = {}
    for sp in profiles:
        p = sp.profile
        schedule = p["chargingSchedule"][0]
        if "validFrom" in p and t < parse_iso(p["validFrom"]):
            continue
        if "validTo" in p and t >= parse_iso(p["validTo"]):
            continue
        offset = t - parse_iso(schedule["startSchedule"])
        if offset < 0:
            continue
        if p["chargingProfileKind"] == "Recurring":
            offset %= 86_400 if p["recurrencyKind"] == "Daily" else 7 * 86_400
        if offset >= schedule.get("duration", float("inf")):
            continue
        period = [q for q in schedule["chargingSchedulePeriod"] if q["startPeriod"] <= offset][-1]
        phases = period.get("numberPhases", 3)
        limit = period["limit"] / (
            share if sp.evse_id == 0 and p["chargingProfilePurpose"] != TX_DEFAULT else 1
        )
        amps = limit / (230 * phases) if schedule["chargingRateUnit"] == "W" else limit
        key = (
            p["chargingProfilePurpose"],
            p["chargingProfilePurpose"] == EXTERNAL and sp.evse_id == 0,
        )
        rank = (p["stackLevel"], sp.evse_id == 1)
        if key not in best or rank > best[key][0]:
            best[key] = (rank, amps, phases)
    if not best:
        return 32.0, 3
    return min(32.0, *(v[1] for v in best.values())), min(3, *(v[2] for v in best.values()))


_purposes = st.sampled_from([TX_DEFAULT, STATION_MAX, EXTERNAL])


@st.composite
def _random_profile(draw: st.DrawFn, pid: int) -> StoredProfile:
    purpose = draw(_purposes)
    evse = 0 if purpose == STATION_MAX else draw(st.sampled_from([0, 1]))
    kind = draw(st.sampled_from(["Absolute", "Recurring"]))
    starts = sorted(draw(st.sets(st.integers(1, 40), max_size=4)))
    periods: list[tuple[int, float] | tuple[int, float, int]] = [
        (s * _SLOT, float(draw(st.integers(0, 64))), draw(st.sampled_from([1, 3])))
        for s in [0, *starts]
    ]
    duration = draw(st.none() | st.integers(1, 96).map(lambda n: n * _SLOT))
    begin = T0 + draw(st.integers(-96, 96)) * _SLOT
    valid_from = draw(st.none() | st.integers(-96, 192).map(lambda n: T0 + n * _SLOT))
    return profile(
        pid,
        purpose,
        draw(st.integers(0, 3)),
        periods,
        evse=evse,
        kind=kind,
        start=iso(begin),
        duration=duration,
        unit=draw(st.sampled_from(["A", "W"])),
        recurrency=draw(st.sampled_from(["Daily", "Weekly"])) if kind == "Recurring" else None,
        valid_from=None if valid_from is None else iso(valid_from),
    )


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_segments_agree_with_naive_sampling(data: st.DataObject) -> None:
    count = data.draw(st.integers(1, 6))
    profiles = [data.draw(_random_profile(i)) for i in range(1, count + 1)]
    share = data.draw(st.sampled_from([1, 2]))
    periods = compose(profiles, duration=3 * 86_400, ctx=EvseContext(share=share))
    for k in range(3 * 86_400 // _SLOT):
        offset = k * _SLOT + _SLOT // 2
        expected_amps, expected_phases = _naive_amps(profiles, T0 + offset, share)
        _, limit, phases = [p for p in periods if p[0] <= offset][-1]
        assert phases == expected_phases, (offset, periods)
        assert limit == pytest.approx(math.floor(expected_amps * 10 + 1e-6) / 10), (offset, periods)
