"""Shards and worker slices (issue 19): every station of a fleet is run exactly once, whatever the
number of shards (hosts) and workers (processes per host)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import station_config

from ocpp_station.fleet_config import FleetError, fleet_configs, station_id
from ocpp_station.fleet_shard import Shard, ShardError, parse_shard, shard_indices, split


@given(count=st.integers(1, 20_000), shards=st.integers(1, 300), workers=st.integers(1, 64))
def test_every_station_exactly_once(count: int, shards: int, workers: int) -> None:
    seen: Counter[int] = Counter()
    previous_stop = 1
    for i in range(shards):
        indices = shard_indices(count, Shard(i, shards))
        assert indices.start == previous_stop  # contiguous and in order
        previous_stop = indices.stop
        assert len(indices) in (count // shards, -(-count // shards))  # balanced within one
        for part in split(indices, workers):
            seen.update(part)
    assert previous_stop == count + 1
    assert seen.keys() == set(range(1, count + 1))
    assert set(seen.values()) == {1}


@given(count=st.integers(1, 3_000), shards=st.integers(1, 40))
def test_station_ids_of_the_shards_are_the_fleets(count: int, shards: int) -> None:
    ids = [
        station_id("CS", i, count)
        for s in range(shards)
        for i in shard_indices(count, Shard(s, shards))
    ]
    assert ids == [station_id("CS", i, count) for i in range(1, count + 1)]
    assert len(set(ids)) == count


def test_no_shard_is_the_whole_fleet_and_more_shards_than_stations_leave_some_empty() -> None:
    assert shard_indices(5, None) == range(1, 6)
    assert [shard_indices(3, Shard(i, 5)) for i in range(5)] == [
        range(1, 2), range(2, 3), range(3, 4), range(4, 4), range(4, 4),
    ]  # fmt: skip
    assert split(range(1, 11), 3) == [range(1, 5), range(5, 8), range(8, 11)]


@pytest.mark.parametrize(
    ("text", "env", "shard"),
    [
        ("0/4", {}, Shard(0, 4)),
        ("3/4", {}, Shard(3, 4)),
        (" 1 / 2 ", {}, Shard(1, 2)),
        ("auto/4", {"JOB_COMPLETION_INDEX": "2"}, Shard(2, 4)),
    ],
)
def test_parse_shard(text: str, env: dict[str, str], shard: Shard) -> None:
    assert parse_shard(text, env) == shard
    assert str(shard) == f"{shard.index}/{shard.total}"


@pytest.mark.parametrize(
    ("text", "env", "fragment"),
    [
        ("4/4", {}, "out of range for 4 shards (0..3)"),
        ("1/0", {}, "between 1 and"),
        ("1-4", {}, "expected I/N"),
        ("-1/4", {}, "expected I/N"),
        ("a/4", {}, "expected I/N"),
        ("auto/4", {}, "JOB_COMPLETION_INDEX is not set"),
        ("auto/4", {"JOB_COMPLETION_INDEX": "x"}, "is not an index"),
        ("auto/4", {"JOB_COMPLETION_INDEX": "4"}, "out of range"),
    ],
)
def test_bad_shard_is_named(text: str, env: dict[str, str], fragment: str) -> None:
    with pytest.raises(ShardError, match=re.escape(fragment)):
        parse_shard(text, env)


def test_split_needs_a_contiguous_range_and_parts() -> None:
    with pytest.raises(ValueError, match="contiguous"):
        split(range(1, 10, 2), 2)
    with pytest.raises(ValueError, match="parts"):
        split(range(1, 10), 0)


def test_a_slice_of_a_fleet_has_the_fleets_ids_and_folders(tmp_path: Path) -> None:
    base = station_config("ws://127.0.0.1:9/ocpp", tmp_path, station_id="FL")
    part = fleet_configs(base, 12_000, range(9_999, 10_002))
    assert [c.id for c in part] == ["FL-09999", "FL-10000", "FL-10001"]  # width from the count
    assert [c.data_dir for c in part] == [tmp_path / c.id for c in part]
    assert fleet_configs(base, 3, range(3, 3)) == []
    for bad in (range(0, 2), range(2, 5), range(1, 4, 2)):
        with pytest.raises(FleetError, match=re.escape("not a slice of 1..3")):
            fleet_configs(base, 3, bad)
