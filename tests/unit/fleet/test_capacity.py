"""How many stations a fleet process carries: the open-file limit and the available memory are
turned into a number before the boot storm, and a fleet that cannot carry them all says so in
one precise line."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest
from support import station_config

from ocpp_station.fleet import Fleet
from ocpp_station.fleet_capacity import (
    descriptors_short,
    mem_available_kib,
    open_fds,
    out_of_resources,
    plan,
    starts_until_next_count,
)
from ocpp_station.fleet_config import FleetError
from ocpp_station.storage import StorageError
from ocpp_station.storage.pool import auto_size

LIMITS = {
    "fds_open": 10,
    "fds_per_station": 1,
    "pool_size": 8,
    "opener_threads": 6,
    "mem_available_kib": 4 * 1024 * 1024,
    "kib_per_station": 400,
}


def test_descriptors_bound_the_fleet() -> None:
    cap = plan(100, fd_limit=140, **LIMITS)  # type: ignore[arg-type]
    # shared: 10 open + 2 x (8 pool + 6 openers + 8 closing) + 32 spare = 86; 140 - 86 = 54
    assert cap.shared_fds == 86 and cap.by_fds == 54 and cap.stations == 54
    assert not cap.enough
    assert cap.needed_fds == 186
    assert cap.message == (
        "only 54 of 100 stations can run in this process: the open-file limit 140 "
        "(RLIMIT_NOFILE) carries 54 (86 shared descriptors plus one per station; 100 stations "
        "need `ulimit -n 186`); starting 54, use fewer stations or more processes for the rest"
    )


def test_stations_starting_at_once_count_their_stores() -> None:
    cap = plan(100, fd_limit=140, starting=10, **LIMITS)  # type: ignore[arg-type]
    assert cap.shared_fds == 86 + 2 * 10 and cap.stations == 34


def test_a_small_fleet_needs_a_small_pool_and_fits() -> None:
    cap = plan(5, fd_limit=100, **LIMITS)  # type: ignore[arg-type]
    assert cap.shared_fds == 10 + 2 * (5 + 5 + 5) + 32  # never more connections than stations
    assert cap.enough and cap.stations == 5
    assert cap.message == "this process carries all 5 stations"


def test_memory_bounds_the_fleet() -> None:
    limits = {**LIMITS, "mem_available_kib": 40_000}
    cap = plan(1000, fd_limit=20_000, **limits)  # type: ignore[arg-type]
    assert cap.by_memory == 100 and cap.stations == 100
    assert "the available memory, 39 MiB, carries 100 (about 400 KiB each)" in cap.message
    assert "open-file limit" not in cap.message
    unknown = plan(1000, fd_limit=20_000, **{**LIMITS, "mem_available_kib": None})  # type: ignore[arg-type]
    assert unknown.by_memory is None and unknown.stations == 1000


def test_no_room_at_all_carries_zero() -> None:
    cap = plan(10, fd_limit=20, **LIMITS)  # type: ignore[arg-type]
    assert cap.stations == 0 and cap.by_fds == 0


def test_out_of_resources_is_recognised_through_the_cause_chain() -> None:
    emfile = OSError(errno.EMFILE, "Too many open files")
    assert out_of_resources(emfile)
    try:
        try:
            raise emfile
        except OSError as exc:
            raise StorageError("data directory x: cannot write there") from exc
    except StorageError as wrapped:
        assert out_of_resources(wrapped)
    assert out_of_resources(MemoryError())
    assert not out_of_resources(sqlite3.OperationalError("unable to open database file"))
    assert not out_of_resources(StorageError("data directory x: is not a directory"))


def test_this_process_is_measured() -> None:
    assert open_fds() > 3
    assert descriptors_short() is None  # plenty left here (the short case: test_fleet_store)
    assert descriptors_short(31) == "only 31 descriptors left"
    assert descriptors_short(32) is None


def test_descriptors_are_counted_more_often_as_the_limit_comes_near() -> None:
    # each start takes at most 3 (its websocket and its store's 2): never past the spare
    assert starts_until_next_count(10_032) == 1024  # far from the limit: rarely
    assert starts_until_next_count(332) == 100
    assert starts_until_next_count(35) == 1 == starts_until_next_count(10)
    available = mem_available_kib()
    assert available is None or available > 0


def test_the_default_pool_is_an_eighth_of_the_fleet(tmp_path: Path) -> None:
    assert [auto_size(n) for n in (1, 40, 1000, 3000, 10_000)] == [8, 8, 125, 375, 1024]
    config = station_config("ws://127.0.0.1:9/ocpp", tmp_path, station_id="FL")
    assert Fleet(config, 1000).pool.size == 125
    assert Fleet(config, 1000, store_pool=16).pool.size == 16
    with pytest.raises(FleetError, match="store pool size must be a positive integer, got 0"):
        Fleet(config, 10, store_pool=0)
