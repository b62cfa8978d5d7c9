"""The numbers of a fleet's live summary (issue 19): the streaming percentile estimator, round
trips from the stations' own frames, snapshots merged over workers and written for people and
machines."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocpp_station.fleet_stats import (
    MAX_PENDING,
    Histogram,
    RoundTrips,
    Snapshot,
    from_json,
    merge,
    summary_line,
    to_json,
)
from ocpp_station.http.frames import percentile

values = st.lists(st.floats(1e-5, 100.0, allow_nan=False), min_size=1, max_size=400)


@given(data=values, q=st.sampled_from([0.01, 0.5, 0.9, 0.99, 1.0]))
def test_quantile_is_within_one_percent_of_the_exact_one(data: list[float], q: float) -> None:
    h = Histogram()
    for v in data:
        h.add(v)
    exact = percentile(sorted(data), q)
    assert exact is not None
    estimate = h.quantile(q)
    assert estimate is not None
    assert math.isclose(estimate, exact, rel_tol=0.0101)  # half a 2 % bucket
    assert h.count == len(data)


@given(a=values, b=values)
def test_merged_histograms_are_the_histogram_of_all_values(a: list[float], b: list[float]) -> None:
    ha, hb, both = Histogram(), Histogram(), Histogram()
    for v in a:
        ha.add(v)
        both.add(v)
    for v in b:
        hb.add(v)
        both.add(v)
    ha.merge(hb)
    assert ha.buckets == both.buckets and ha.count == both.count
    assert Histogram.from_pairs(json.loads(json.dumps(ha.to_pairs()))).buckets == both.buckets


def test_empty_tiny_and_bad_histograms() -> None:
    h = Histogram()
    assert h.quantile(0.5) is None
    h.add(0.0)  # a zero round trip (a coarse clock) lands in the first bucket
    assert h.quantile(0.5) == pytest.approx(1e-6, rel=0.02)
    for bad in ([[1]], [[-1, 2]], [["a", 1]], [5], [[1, 2.5]]):
        with pytest.raises(ValueError, match="bucket"):
            Histogram.from_pairs(bad)  # type: ignore[arg-type]


def test_round_trips_from_frames() -> None:
    rt = RoundTrips()
    rt.frame("A", "out", '[2,"m1","Heartbeat",{}]', 10.0)
    rt.frame("B", "out", '[2,"m1","Heartbeat",{}]', 10.5)  # same message id, another station
    rt.frame("A", "in", '[2,"c1","GetVariables",{"getVariableData":[]}]', 10.6)  # CSMS CALL
    rt.frame("A", "out", '[3,"c1",{"getVariableResult":[]}]', 10.7)  # our answer: no round trip
    rt.frame("A", "in", '[3,"m1",{"currentTime":"x"}]', 10.2)
    rt.frame("B", "in", '[4,"m1","InternalError","",{}]', 11.5)
    rt.frame("B", "in", '[3,"unknown",{}]', 11.6)  # an answer to nothing
    rt.frame("B", "in", "not json", 11.7)
    assert (rt.messages_in, rt.messages_out) == (5, 3)
    assert rt.pending == 0
    interval = rt.take_interval()
    assert interval.count == 2 and rt.interval.count == 0 and rt.total.count == 2
    assert interval.quantile(0.5) == pytest.approx(0.2, rel=0.011)
    assert interval.quantile(1.0) == pytest.approx(1.0, rel=0.011)


def test_unanswered_calls_are_bounded() -> None:
    rt = RoundTrips()
    for i in range(MAX_PENDING + 10):
        rt.frame("A", "out", f'[2,"{i}","Heartbeat",{{}}]', float(i))
    assert rt.pending == MAX_PENDING
    rt.frame("A", "in", '[3,"0",{}]', 1e6)  # the oldest were forgotten
    assert rt.total.count == 0
    rt.frame("A", "in", f'[3,"{MAX_PENDING + 9}",{{}}]', float(MAX_PENDING + 10))
    assert rt.total.quantile(0.5) == pytest.approx(1.0, rel=0.011)


def snapshot(**kwargs: Any) -> Snapshot:
    h = Histogram()
    for v in kwargs.pop("rtts", []):
        h.add(v)
    return Snapshot(
        kind=kwargs.pop("kind", "live"), elapsed=kwargs.pop("elapsed", 5.0), rtt=h, **kwargs
    )


def test_merge_adds_counts_and_histograms_and_keeps_the_longest_times() -> None:
    a = snapshot(
        stations=3,
        connected=3,
        registered=2,
        charging=1,
        queued=4,
        messages_in=10,
        messages_out=12,
        messages_per_second=2.5,
        rtts=[0.01] * 99,
        boot_seconds=1.0,
        collect_ms=0.5,
    )
    b = snapshot(
        stations=2,
        connected=1,
        registered=1,
        messages_per_second=1.0,
        rtts=[1.0],
        elapsed=6.0,
        failed=1,
        boot_seconds=3.0,
    )
    m = merge([a, b], "final")
    assert (m.kind, m.stations, m.connected, m.registered, m.charging, m.queued) == (
        "final",
        5,
        4,
        3,
        1,
        4,
    )
    assert (m.messages_in, m.messages_out, m.messages_per_second) == (10, 12, 3.5)
    assert (m.elapsed, m.boot_seconds, m.failed, m.workers) == (6.0, 3.0, 1, 2)
    assert m.collect_ms == 0.5  # the slowest worker's
    assert m.rtt.count == 100
    assert m.rtt_ms(0.99) == pytest.approx(10.0, rel=0.011)  # 99 of 100 are 10 ms
    assert m.rtt_ms(1.0) == pytest.approx(1000.0, rel=0.011)
    with pytest.raises(ValueError, match="nothing"):
        merge([])


def test_summary_line_and_json_round_trip() -> None:
    s = snapshot(
        stations=1000,
        running=998,
        connected=998,
        registered=997,
        charging=100,
        queued=3,
        messages_per_second=41.25,
        rtts=[0.002] * 50 + [0.010] * 50,
    )
    line = summary_line(s)
    assert line.startswith("fleet 5s: 998/1000 connected, 997 registered, 100 charging | ")
    assert "41.2 msg/s" in line or "41.3 msg/s" in line
    m = re.search(r"\| rtt p50 ([\d.]+) p99 ([\d.]+) ms \(100\) \| queued 3$", line)
    assert m is not None, line
    assert float(m.group(1)) == pytest.approx(2.0, rel=0.011)
    assert float(m.group(2)) == pytest.approx(10.0, rel=0.011)
    final = snapshot(
        kind="final", stations=2, workers=2, failed=1, dead_workers=1, boot_seconds=2.5
    )
    line = summary_line(final)
    assert line.startswith("fleet final 5s: 0/2 connected")
    assert "rtt p50 - p99 - ms (0)" in line
    assert "2 workers, 1 failed to start, 1 worker(s) died, boot storm 2.5s, 0 messages" in line
    data = to_json(s)
    assert "rtt_buckets" not in data and data["rtt_ms"]["samples"] == 100
    assert data["rtt_ms"]["p50"] == pytest.approx(2.0, rel=0.011)
    back = from_json(json.loads(json.dumps(to_json(s, wire=True))))
    assert back.rtt.buckets == s.rtt.buckets
    assert to_json(back) == to_json(s)


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"kind": "other"},
        {"kind": "live", "stations": -1},
        {"kind": "live", "stations": True},
        {"kind": "live", "elapsed": "x"},
        {"kind": "live", "boot_seconds": "x"},
        {"kind": "live", "rtt_buckets": {}},
        {"kind": "live", "rtt_buckets": [[1]]},
    ],
)
def test_a_worker_line_that_is_not_a_snapshot_is_refused(data: Any) -> None:
    with pytest.raises(ValueError):
        from_json(data)
