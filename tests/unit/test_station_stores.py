"""A station's stores at its start (``ocpp_station.station_stores``): a new store's files are made
in a worker thread and its connection opened on the loop; an existing store is opened whole in
the thread; a start cancelled while the thread works leaves nothing open."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from support import station_config

from ocpp_station.clock import SystemClock
from ocpp_station.config import StationConfig
from ocpp_station.station_stores import close_stores, open_stores
from ocpp_station.storage import StationStore

LOG = logging.getLogger("test")
UNREACHABLE = "ws://127.0.0.1:9/ocpp"  # (the stores alone: nothing connects)


def config(data_dir: Path) -> StationConfig:
    return station_config(UNREACHABLE, data_dir, station_id="CS-STORES")


async def start(cfg: StationConfig) -> Any:
    clock = SystemClock()
    return await open_stores(cfg, log=LOG, clock=clock, base_clock=clock, pooled=False)


async def test_a_new_store_opens_on_the_loop_and_an_existing_one_in_the_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened_in: list[bool] = []
    real = StationStore.open_prepared.__func__  # type: ignore[attr-defined]

    def spy(cls: type[StationStore], *args: Any, **kwargs: Any) -> StationStore:
        opened_in.append(threading.current_thread() is threading.main_thread())
        return real(cls, *args, **kwargs)

    monkeypatch.setattr(StationStore, "open_prepared", classmethod(spy))
    cfg = config(tmp_path / "s")
    store, dm, _stores = await start(cfg)
    assert store.fresh
    dm.set("OCPPCommCtrlr", "HeartbeatInterval", 77)
    close_stores((store, dm))
    store, dm, _stores = await start(cfg)
    try:
        assert not store.fresh
        assert dm.get("OCPPCommCtrlr", "HeartbeatInterval") == "77"
    finally:
        close_stores((store, dm))
    assert opened_in == [True, False]  # new: on the loop thread; existing: in a worker thread


async def test_a_start_cancelled_while_the_thread_opens_leaves_nothing_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = config(tmp_path / "s")
    store, dm, _stores = await start(cfg)
    close_stores((store, dm))  # an existing store from here on
    release, opened = threading.Event(), []
    real = StationStore.open_prepared.__func__  # type: ignore[attr-defined]

    def slow(cls: type[StationStore], *args: Any, **kwargs: Any) -> StationStore:
        release.wait(5)
        store = real(cls, *args, **kwargs)
        opened.append(store)
        return store

    monkeypatch.setattr(StationStore, "open_prepared", classmethod(slow))
    task = asyncio.create_task(start(cfg))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    release.set()
    for _ in range(250):  # the thread finishes, then what it opened is closed
        await asyncio.sleep(0.02)
        if opened and closed(opened[0]):
            break
    assert opened, "the thread opened the store"
    assert closed(opened[0])


def closed(store: StationStore) -> bool:
    try:
        store.connection.execute("SELECT 1")
    except sqlite3.ProgrammingError:
        return True
    return False
