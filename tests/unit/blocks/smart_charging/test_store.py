"""ProfileStore: replacement rules (K01.FR.05/06/39), clearing (K10), queries (K09), persistence
(K01.FR.27)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ocpp_station.blocks.smart_charging.store import (
    EXTERNAL,
    STATION_MAX,
    TX_DEFAULT,
    TX_PROFILE,
    ProfileStore,
)


def body(pid: int, purpose: str = TX_DEFAULT, level: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "id": pid,
        "stackLevel": level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Relative" if purpose == TX_PROFILE else "Absolute",
        "chargingSchedule": [
            {
                "id": 1,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
                **({} if purpose == TX_PROFILE else {"startSchedule": "2026-01-01T00:00:00Z"}),
            }
        ],
        **extra,
    }


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ProfileStore]:
    s = ProfileStore(tmp_path / "profiles.db")
    yield s
    s.close()


def ids(profiles: list[Any]) -> list[int]:
    return [p.id for p in profiles]


def test_add_and_read_back(store: ProfileStore) -> None:
    p = body(7, TX_DEFAULT, 2)
    assert store.add(1, p) == []
    [stored] = store.all()
    assert (stored.evse_id, stored.id, stored.purpose, stored.stack_level) == (1, 7, TX_DEFAULT, 2)
    assert stored.profile == p and stored.source == "CSO" and stored.transaction_id is None
    assert store.get(7) == stored and store.get(8) is None and store.count() == 1


def test_same_id_replaces_even_on_another_evse(store: ProfileStore) -> None:
    store.add(1, body(7, TX_DEFAULT, 0))
    store.add(2, body(7, TX_DEFAULT, 3))  # K01.FR.05
    [stored] = store.all()
    assert (stored.evse_id, stored.stack_level) == (2, 3)


def test_same_purpose_and_stack_level_on_same_evse_replaces(store: ProfileStore) -> None:
    store.add(1, body(1, TX_DEFAULT, 0))
    store.add(2, body(2, TX_DEFAULT, 0))  # another EVSE: no conflict
    store.add(1, body(3, TX_DEFAULT, 1))  # another stack level: no conflict
    store.add(1, body(4, STATION_MAX, 0))  # another purpose: no conflict (EVSE is not checked)
    assert store.add(1, body(5, TX_DEFAULT, 0)) == [1]  # K01.FR.06 slot
    assert ids(store.all()) == [2, 3, 4, 5]


def test_disjoint_validity_periods_share_a_slot(store: ProfileStore) -> None:
    store.add(1, body(1, validFrom="2026-01-01T00:00:00Z", validTo="2026-02-01T00:00:00Z"))
    assert store.add(1, body(2, validFrom="2026-02-01T00:00:00Z")) == []
    assert store.add(1, body(3, validTo="2026-01-15T00:00:00Z")) == [1]
    assert ids(store.all()) == [2, 3]


def test_tx_profiles_conflict_per_transaction(store: ProfileStore) -> None:
    store.add(1, body(1, TX_PROFILE, 0, transactionId="A"))
    store.add(2, body(2, TX_PROFILE, 0, transactionId="B"))
    assert store.add(1, body(3, TX_PROFILE, 0, transactionId="A")) == [1]  # K01.FR.39
    assert ids(store.all()) == [2, 3]


def test_clear_by_id(store: ProfileStore) -> None:
    store.add(1, body(1))
    store.add(0, body(2, STATION_MAX))
    assert store.clear(profile_id=1) == 1  # K10.FR.03
    assert store.clear(profile_id=1) == 0  # K10.FR.01: Unknown
    assert ids(store.all()) == [2]


def test_clear_by_id_ignores_criteria(store: ProfileStore) -> None:
    store.add(1, body(1))
    assert store.clear(profile_id=1, evse_id=5, purpose=STATION_MAX) == 1


def test_clear_by_criteria(store: ProfileStore) -> None:
    store.add(0, body(1, STATION_MAX, 0))
    store.add(0, body(2, TX_DEFAULT, 0))
    store.add(1, body(3, TX_DEFAULT, 0))
    store.add(1, body(4, TX_DEFAULT, 1))
    store.add(2, body(5, TX_DEFAULT, 1))
    assert store.clear(evse_id=1, purpose=TX_DEFAULT, stack_level=1) == 1  # K10.FR.04, AND
    assert ids(store.all()) == [1, 2, 3, 5]
    assert store.clear(purpose=TX_DEFAULT) == 3
    assert ids(store.all()) == [1]
    assert store.clear(evse_id=7) == 0


def test_external_constraints_are_never_cleared_by_the_csms(store: ProfileStore) -> None:
    store.add(0, body(1, EXTERNAL), source="EMS")
    store.add(0, body(2, STATION_MAX))
    assert store.clear(profile_id=1) == 0  # K10.FR.09
    assert store.clear(purpose=EXTERNAL) == 0  # K10.FR.08
    assert store.clear() == 1  # everything else
    assert ids(store.all()) == [1]
    assert store.clear(profile_id=1, include_external=True) == 1  # the local interface may


def test_criteria_that_also_match_an_external_constraint_clear_only_the_others(
    store: ProfileStore,
) -> None:
    store.add(0, body(1, STATION_MAX, 0))
    store.add(0, body(5, EXTERNAL, 0), source="EMS")
    assert store.clear(profile_id=5) == 0  # K10.FR.09: the CSMS cannot clear it by id ...
    assert store.clear(evse_id=0, stack_level=0) == 1  # ... nor by criteria: the station max goes
    assert store.clear(evse_id=0, stack_level=0) == 0  # only the external one matches: Unknown
    assert ids(store.all()) == [5]


def test_remove_transaction(store: ProfileStore) -> None:
    store.add(1, body(1, TX_PROFILE, 0, transactionId="A"))
    store.add(1, body(2, TX_PROFILE, 1, transactionId="A"))
    store.add(2, body(3, TX_PROFILE, 0, transactionId="B"))
    store.add(2, body(4, TX_PROFILE, 1))
    store.add(1, body(5, TX_DEFAULT, 0))
    assert store.remove_transaction("A") == 2  # K02.FR.05
    assert ids(store.all()) == [3, 4, 5]
    assert store.remove_transaction("B", evse_id=2) == 2
    assert ids(store.all()) == [5]


def test_find_criteria(store: ProfileStore) -> None:
    store.add(0, body(1, STATION_MAX, 0))
    store.add(0, body(2, TX_DEFAULT, 1))
    store.add(1, body(3, TX_DEFAULT, 1))
    store.add(1, body(4, EXTERNAL, 2), source="SO")
    assert ids(store.find(evse_id=0)) == [1, 2]  # K09.FR.05: the station itself only
    assert ids(store.find(evse_id=1)) == [3, 4]
    assert ids(store.find()) == [1, 2, 3, 4]
    assert ids(store.find(purposes=[TX_DEFAULT], stack_level=1)) == [2, 3]
    assert ids(store.find(ids=[4, 1, 99])) == [1, 4]
    assert ids(store.find(sources=["SO", "EMS"])) == [4]
    assert ids(store.find(sources=["CSO"], evse_id=1)) == [3]
    assert store.find(ids=[]) == []


def test_profiles_survive_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    s = ProfileStore(path)
    s.add(1, body(1, TX_DEFAULT, 0))
    s.add(0, body(2, EXTERNAL, 1), source="EMS")
    s.close()
    again = ProfileStore(str(path))
    assert [(p.id, p.evse_id, p.source) for p in again.all()] == [(1, 1, "CSO"), (2, 0, "EMS")]
    assert again.all()[0].profile == body(1, TX_DEFAULT, 0)
    again.close()


def test_caller_owned_connection_stays_open() -> None:
    conn = sqlite3.connect(":memory:")
    s = ProfileStore(conn)
    s.add(1, body(1))
    s.close()
    assert conn.execute("SELECT COUNT(*) FROM charging_profiles").fetchone()[0] == 1
    conn.close()


def test_a_change_is_one_transaction_on_an_autocommit_connection() -> None:
    # the station store's connection runs isolation_level=None: no implicit transactions
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("PRAGMA synchronous=FULL")
    s = ProfileStore(conn)
    assert conn.execute("PRAGMA synchronous").fetchone() == (2,)  # no PRAGMA of its own
    s.add(1, body(1, TX_DEFAULT, 0))
    conn.execute(
        "CREATE TRIGGER boom BEFORE INSERT ON charging_profiles WHEN NEW.id = 2 "
        "BEGIN SELECT RAISE(ABORT, 'disk says no'); END"
    )
    with pytest.raises(sqlite3.IntegrityError):
        s.add(1, body(2, TX_DEFAULT, 0))  # would replace profile 1 (same slot)
    assert [p.id for p in s.all()] == [1]  # the replacement was rolled back with the insert
    assert not conn.in_transaction
    conn.close()


@pytest.mark.parametrize(
    ("evse", "profile", "message"),
    [
        (-1, body(1), "evse_id"),
        (1, {"stackLevel": 0, "chargingProfilePurpose": TX_DEFAULT}, "id"),
        (1, {**body(1), "stackLevel": "0"}, "stackLevel"),
        (1, {**body(1), "chargingProfilePurpose": "Mine"}, "chargingProfilePurpose"),
        (1, [], "object"),
    ],
)
def test_bad_profiles_are_refused_with_a_message(
    store: ProfileStore, evse: int, profile: Any, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        store.add(evse, profile)
    assert store.all() == []


def test_unknown_source_is_refused(store: ProfileStore) -> None:
    with pytest.raises(ValueError, match="source"):
        store.add(1, body(1), source="Grid")
