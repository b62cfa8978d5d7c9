"""The fleet's store pool: each station keeps its own station.db, at most ``size`` of them are
open at a time, and nothing a station committed is lost when its connection is closed and opened
again (same durability as a single station: WAL, synchronous=FULL, atomic batches)."""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from device_model import DeviceModel
from ocpp_station.blocks.local_list.store import ListStore
from ocpp_station.blocks.monitoring.store import MonitorStore
from ocpp_station.blocks.smart_charging.store import ProfileStore
from ocpp_station.storage import STORE_FILE, StationStore, StorageUnavailable
from ocpp_station.storage.pool import ConnectionPool, PooledConnection


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[list[StationStore]]:
    opened = [StationStore.open(tmp_path / f"S{i}", pooled=True) for i in range(4)]
    yield opened
    for store in opened:
        store.close()


def handle(store: StationStore) -> PooledConnection:
    assert isinstance(store.connection, PooledConnection)
    return store.connection


def test_at_most_size_open_least_recently_used_closed(stores: list[StationStore]) -> None:
    pool = ConnectionPool(2)
    for store in stores:
        store.join(pool)  # each joins with the connection it was opened with
    assert len(pool) == 2 and pool.evicted == 2
    assert [handle(s).is_open for s in stores] == [False, False, True, True]
    stores[2].state.save("k", {"v": 2})  # S2 becomes the most recently used
    stores[0].state.load("k")  # reopens S0: S3, the least recently used now, is closed
    assert [handle(s).is_open for s in stores] == [True, False, True, False]
    assert pool.opened == 1 and pool.evicted == 3
    # A closed WAL connection was checkpointed: no -wal/-shm is left, no descriptor held.
    pool.wait_closed()  # the closes run in closer threads
    s3 = stores[3].path
    assert not s3.with_name(STORE_FILE + "-wal").exists()
    assert not s3.with_name(STORE_FILE + "-shm").exists()


def test_an_evicted_store_holds_no_descriptor(stores: list[StationStore]) -> None:
    pool = ConnectionPool(1)
    stores[0].join(pool)
    stores[0].state.save("k", {"v": 0})
    before = open_fds()  # all four stores are open (each opened with its connection)
    stores[1].join(pool)  # S1 in, S0 (least recently used) closed: its 2 descriptors freed
    pool.wait_closed()
    assert open_fds() == before - 2
    stores[2].join(pool)
    stores[3].join(pool)
    pool.wait_closed()
    assert open_fds() == before - 6  # one connection open: S3's
    assert pool.descriptors == 2 and len(pool) == 1


def test_reopened_store_keeps_its_data_and_the_file_has_every_commit(
    stores: list[StationStore],
) -> None:
    pool = ConnectionPool(1)
    first = stores[0]
    first.join(pool)
    ids = first.messages.push_batch(
        [("TransactionEvent", {"seqNo": 0}), ("TransactionEvent", {"seqNo": 1})],
        1.0,
        state_key="tx.1",
        state={"seq": 2},
    )
    stores[1].join(pool)
    assert not handle(first).is_open
    pool.wait_closed()
    # Durability: what was committed is in station.db itself, read by another connection.
    with sqlite3.connect(first.path) as other:
        assert other.execute("SELECT id FROM messages ORDER BY id").fetchall() == [
            (i,) for i in ids
        ]
        assert other.execute("SELECT value FROM state WHERE key = 'tx.1'").fetchone() == (
            '{"seq":2}',
        )
    other.close()
    # The store reopens on use, unchanged, in WAL with synchronous=FULL again.
    head = first.messages.head()
    assert head is not None and head.payload == {"seqNo": 0} and len(first.messages) == 2
    assert first.state.load("tx.1") == {"seq": 2}
    assert first.connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert first.connection.execute("PRAGMA synchronous").fetchone() == (2,)
    assert handle(first).is_open and not handle(stores[1]).is_open


def test_every_store_module_works_through_the_pool(stores: list[StationStore]) -> None:
    pool = ConnectionPool(1)
    for store in stores:
        store.join(pool)
    station = stores[0]
    dm = DeviceModel.open(station.connection, {1: [1]}, {"SecurityCtrlr.Identity": "S0"})
    profiles = ProfileStore(station.connection)
    lists = ListStore(station.connection)
    monitors = MonitorStore(station.connection)
    stores[1].state.items()  # S0 closed again
    assert dm.set("TxCtrlr", "EVConnectionTimeOut", 77) == "Accepted"
    stores[1].state.items()
    assert profiles.count() == 0
    lists.load()
    monitors.load()
    dm.close()
    again = DeviceModel.open(station.connection, {1: [1]}, {})
    assert again.get("TxCtrlr", "EVConnectionTimeOut") == "77"
    again.close()


def test_a_connection_inside_a_transaction_is_never_closed(stores: list[StationStore]) -> None:
    pool = ConnectionPool(1)
    for store in stores:
        store.join(pool)
    busy = stores[0].connection
    busy.execute("BEGIN IMMEDIATE")
    busy.execute("INSERT INTO state (key, value) VALUES ('a', '{}')")
    for store in stores[1:]:
        store.state.load("x")  # each opens; S0 stays open (in a transaction), the others go
    assert handle(stores[0]).is_open and len(pool) == 2  # above size while S0 is busy
    busy.execute("COMMIT")
    stores[1].state.load("x")  # S0 is idle now: it is the one closed
    assert not handle(stores[0]).is_open and len(pool) == 1
    assert stores[0].state.load("a") == {}


def test_a_checked_out_connection_is_never_closed(stores: list[StationStore]) -> None:
    pool = ConnectionPool(1)
    for store in stores:
        store.join(pool)
    stores[0].state.save("r1", {"n": 1})
    stores[0].state.save("r2", {"n": 2})
    with handle(stores[0]).checkout() as conn:
        rows = conn.execute("SELECT key FROM state ORDER BY key")
        assert next(rows) == ("r1",)
        for store in stores[1:]:
            store.state.load("x")  # would close S0 (least recently used) were it not out
        assert next(rows) == ("r2",)  # its cursor still reads
        assert handle(stores[0]).is_open
    stores[1].state.load("x")
    assert not handle(stores[0]).is_open


def test_a_store_that_cannot_reopen_says_so(stores: list[StationStore]) -> None:
    pool = ConnectionPool(1)
    stores[0].join(pool)
    stores[1].join(pool)
    pool.wait_closed()  # the eviction's close is done before the files go
    shutil.rmtree(stores[0].path.parent)  # its medium is gone
    with pytest.raises(StorageUnavailable, match=r"cannot open station\.db"):
        stores[0].state.save("k", {})
    assert stores[0].health.ok is False
    assert stores[0].health.describe()["ok"] is False
    assert stores[1].state.load("k") is None  # the others go on


def test_closes_wait_in_threads_up_to_a_bound(tmp_path: Path) -> None:
    stores = [StationStore.open(tmp_path / f"S{i}", pooled=True) for i in range(6)]
    pool = ConnectionPool(2)
    assert pool.max_closing == 2
    for store in stores:
        store.join(pool)  # four evicted: at most two wait for a closer thread at a time
        assert pool.closing <= pool.max_closing
    pool.wait_closed()
    assert pool.closing == 0 and pool.evicted == 4
    for store in stores[:4]:
        assert not store.path.with_name(STORE_FILE + "-wal").exists()
    for store in stores:
        store.close()
    pool.wait_closed()
    assert not any(s.path.with_name(STORE_FILE + "-wal").exists() for s in stores)


def test_closed_and_unmanaged_handles(tmp_path: Path) -> None:
    store = StationStore.open(tmp_path / "one", pooled=True)
    store.state.save("k", {"v": 1})  # not in a pool yet: it keeps the connection it was opened with
    pool = ConnectionPool(4)
    store.join(pool)
    store.join(pool)  # joining twice is harmless
    with pytest.raises(ValueError, match="another pool"):
        ConnectionPool(4).manage(handle(store))
    store.close()
    assert len(pool) == 0
    with pytest.raises(sqlite3.ProgrammingError):
        store.state.load("k")
    plain = StationStore.open(tmp_path / "two")
    with pytest.raises(ValueError, match="not opened with pooled=True"):
        plain.join(pool)
    plain.close()
    for bad in (0, -1, True, 1.5):
        with pytest.raises(ValueError, match="positive integer"):
            ConnectionPool(bad)  # type: ignore[arg-type]


def test_a_call_the_handle_does_not_delegate_fails_loudly(tmp_path: Path) -> None:
    store = StationStore.open(tmp_path / "one", pooled=True)
    try:
        with pytest.raises(sqlite3.ProgrammingError, match="__init__ not called"):
            store.connection.create_function("f", 0, lambda: 1)
    finally:
        store.close()
