"""The fleet's heap freezer (ocpp_station/fleet_heap.py): stations' objects leave the collector's
walk every N started stations and after the storm, and come back when the fleet stops."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from ocpp_station.fleet_heap import STEADY_GEN2, STORM_GEN0, HeapFreezer


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_freezes_every_n_started_stations_and_releases_on_stop() -> None:
    heap = HeapFreezer(every=3)
    kept = [[i] for i in range(100)]  # long-lived containers, like a station's objects
    heap.station_started()
    heap.station_started()
    assert gc.get_freeze_count() == 0 and not heap.frozen
    heap.station_started()  # the third: frozen
    assert gc.get_freeze_count() >= len(kept) and heap.frozen
    heap.release()
    assert gc.get_freeze_count() == 0 and not heap.frozen
    heap.release()  # twice: nothing to do
    assert gc.get_freeze_count() == 0


def test_freeze_after_the_storm_and_a_bad_interval() -> None:
    heap = HeapFreezer()
    heap.freeze()
    assert gc.get_freeze_count() > 0
    heap.release()
    assert gc.get_freeze_count() == 0
    with pytest.raises(ValueError, match="at least 1"):
        HeapFreezer(every=0)


def test_young_collections_are_rarer_during_the_storm_only() -> None:
    before = gc.get_threshold()
    heap = HeapFreezer()
    heap.station_started()
    assert gc.get_threshold()[0] == max(before[0], STORM_GEN0)
    assert gc.get_threshold()[1:] == before[1:]
    heap.storm_over()  # frozen; young and middle collections as before, full ones rarer
    assert gc.get_threshold() == (before[0], before[1], max(before[2], STEADY_GEN2))
    assert heap.frozen
    heap.release()
    assert gc.get_threshold() == before
    heap.station_started()  # a storm stopped half-way: release() puts them back too
    heap.release()
    assert gc.get_threshold() == before


def test_stations_started_after_the_storm_make_a_storm_again() -> None:
    before = gc.get_threshold()
    heap = HeapFreezer()
    heap.station_started()
    heap.storm_over()
    heap.station_started()  # more stations later: young collections rare again
    assert gc.get_threshold() == (max(before[0], STORM_GEN0), before[1], before[2])
    heap.storm_over()
    assert gc.get_threshold() == (before[0], before[1], max(before[2], STEADY_GEN2))
    heap.release()
    assert gc.get_threshold() == before
