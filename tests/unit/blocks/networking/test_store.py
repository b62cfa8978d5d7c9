"""The configuration slots in the station store, over a restart (B09.FR.01, A05.FR.06)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ocpp_station.blocks.networking.profiles import NetworkProfile
from ocpp_station.blocks.networking.store import SlotStore
from ocpp_station.storage import StationStore

SEED = NetworkProfile("ws://a.example/ocpp", 1)
B = NetworkProfile("ws://b.example/ocpp", 1, "Wired0", 20)
C = NetworkProfile("wss://c.example/ocpp", 2, "Wired0", 20)


def reopen(folder: Path, seed: NetworkProfile = SEED) -> tuple[StationStore, SlotStore, bool]:
    station = StationStore.open(folder)
    slots, changed = SlotStore.open(station.state, seed)
    return station, slots, changed


def test_the_seed_is_slot_0_and_stored_profiles_survive_a_restart(tmp_path: Path) -> None:
    station, slots, changed = reopen(tmp_path)
    assert not changed and slots.profiles() == {0: SEED}
    slots.put(2, B)
    slots.connected_on(2)
    station.close()
    station, slots, changed = reopen(tmp_path)
    assert not changed
    assert slots.profiles() == {0: SEED, 2: B} and slots.last_good == 2
    slots.put(0, C)  # the CSMS stores over the seed: the stored profile wins
    station.close()
    station, slots, _ = reopen(tmp_path)
    assert slots.profiles() == {0: C, 2: B}
    station.close()


def test_removed_slots_stay_removed_the_seed_too_a05_fr_06(tmp_path: Path) -> None:
    station, slots, _ = reopen(tmp_path)
    slots.put(1, C)
    slots.put(2, B)
    slots.remove({0, 2})
    station.close()
    station, slots, _ = reopen(tmp_path)
    assert slots.profiles() == {1: C}
    slots.put(2, C)  # a slot can be filled again
    assert slots.profiles() == {1: C, 2: C}
    station.close()


def test_a_changed_config_connection_is_slot_0_again(tmp_path: Path) -> None:
    station, slots, _ = reopen(tmp_path)
    slots.put(0, B)
    slots.put(1, C)
    station.close()
    moved = NetworkProfile("ws://new.example/ocpp", 1)
    station, slots, changed = reopen(tmp_path, moved)
    assert changed and slots.profiles() == {0: moved, 1: C}
    station.close()
    station, slots, changed = reopen(tmp_path, moved)
    assert not changed
    station.close()


def test_a_first_start_writes_nothing_and_a_new_seed_before_any_record_is_just_used(
    tmp_path: Path,
) -> None:
    station, slots, changed = reopen(tmp_path)
    assert not changed and station.state.load("network.profiles") is None
    station.close()
    moved = NetworkProfile("ws://new.example/ocpp", 1)  # edited before it ever connected
    station, slots, changed = reopen(tmp_path, moved)
    assert not changed and slots.profiles() == {0: moved}
    slots.connected_on(0)  # the only slot: nothing to remember for the next start
    assert station.state.load("network.profiles") is None and slots.last_good == 0
    slots.put(1, B)  # the first record keeps the seed it saw, and the slot that worked
    station.close()
    station, slots, changed = reopen(tmp_path, moved)
    assert not changed and slots.last_good == 0 and slots.profiles() == {0: moved, 1: B}
    station.close()


class BrokenRecords:
    def __init__(self) -> None:
        self.saved: dict[str, dict[str, object]] = {}
        self.broken = False

    def load(self, key: str) -> dict[str, object] | None:
        return None

    def save(self, key: str, value: dict[str, object], *, synced: bool = True) -> None:
        if self.broken:
            raise sqlite3.OperationalError("disk I/O error")
        self.saved[key] = value


def test_a_failed_write_changes_nothing_b09_fr_03() -> None:
    records = BrokenRecords()
    slots, _ = SlotStore.open(records, SEED)
    records.broken = True
    with pytest.raises(sqlite3.Error):
        slots.put(1, B)
    with pytest.raises(sqlite3.Error):
        slots.remove({0})
    assert slots.profiles() == {0: SEED}
