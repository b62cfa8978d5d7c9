"""A station's stores at its start: ``station.db`` (:class:`.StationStore`), the device model
on its connection and the blocks' stores (:class:`~ocpp_station.wiring.BlockStores`).

The file system's work (the directory, a 0.1.0 import, a new store's copy of the image with its
sync) runs in a worker thread (:meth:`StationStore.prepare`).  A new copy is then opened on the
event loop: a connection, a few PRAGMAs and one small write, nothing read or migrated, which costs
the loop less than the hand-overs of the GIL a worker thread makes when it opens the store
(a fleet's boot storm: some 40 per store kept the loop thread off its CPU 14 % of the time).  An
existing store (migrations, every read of the start) is opened in the worker thread, in the
same hand-over.  In a fleet's boot storm, a helper process makes a new store's files instead of
the thread (:mod:`ocpp_station.storage.copier`): no thread of the process wakes for it.

A fleet station keeps its rows in the fleet's database instead (:mod:`.storage.fleet_db`),
unless its directory holds a store of its own: no file, no thread, and a new station reads
nothing at its start.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from device_model import DeviceModel, Plan
from ocpp_station import settings
from ocpp_station.clock import Clock
from ocpp_station.config import StationConfig
from ocpp_station.storage import StationStore
from ocpp_station.storage.connection import STORE_FILE
from ocpp_station.storage.offload import open_in_thread
from ocpp_station.storage.store import PreparedFiles
from ocpp_station.wiring import BlockStores

if TYPE_CHECKING:  # (a fleet's: a single station never loads them)
    from ocpp_station.storage.copier import StoreCopier
    from ocpp_station.storage.fleet_db import FleetDatabase

Opened = tuple[StationStore, DeviceModel, BlockStores]


async def open_stores(
    cfg: StationConfig,
    *,
    log: logging.Logger,
    clock: Clock,
    base_clock: Clock,
    pooled: bool,
    copier: StoreCopier | None = None,
    database: FleetDatabase | None = None,
) -> Opened:
    """Open the stores of the station ``cfg`` (``pooled``: a fleet station's, see
    :meth:`StationStore.open`); a failure leaves nothing open.  ``copier``: a fleet's helper
    process, which makes a new store's files when its directory is not there yet;
    ``database``: the fleet's database, where the station keeps its rows unless its directory
    holds a store of its own."""
    if database is not None and database.holds(cfg.data_dir):
        return _in_fleet_database(cfg, database, log=log, clock=clock)
    known: Plan | None = None  # worked out on the loop for the copier

    def prepare() -> tuple[Plan, PreparedFiles, Opened | None]:  # in a worker thread
        plan = known or DeviceModel.plan(cfg.evse_map, settings.seed(cfg))  # (errors first)
        files = StationStore.prepare(cfg.data_dir, logger=log, image_rows=plan.rows)
        # An existing store is opened here too, in the same hand-over to the thread.
        return plan, files, None if files.fresh else opened(plan, files)

    def opened(plan: Plan, files: PreparedFiles) -> Opened:
        dm: list[DeviceModel] = []  # seeded inside open: a new station.db's seed is unsynced
        store = StationStore.open_prepared(
            files,
            logger=log,
            now=base_clock.time,
            pooled=pooled,
            preload=True,
            initialise=lambda s: dm.append(
                DeviceModel.open_plan(s.connection, plan, clock=clock, image=s.image)
            ),
        )
        try:
            return store, dm[0], BlockStores.open(store)
        except BaseException:
            close_stores((store, dm[0]))
            raise

    if copier is not None and copier.running:
        known = DeviceModel.plan(cfg.evse_map, settings.seed(cfg))  # (config errors first)
        directory = Path(cfg.data_dir)
        store = directory / STORE_FILE
        held = await copier.new_store(directory, store, known.rows)
        if held is not None:  # (else: it was there, or not made: the usual way below)
            return opened(known, PreparedFiles(directory, store, True, held))
    plan, files, ready = await open_in_thread(prepare, _close_prepared)
    return opened(plan, files) if ready is None else ready


def _in_fleet_database(
    cfg: StationConfig, database: FleetDatabase, *, log: logging.Logger, clock: Clock
) -> Opened:
    """The stores of a fleet station on the fleet's connection (on the event loop: a new
    station's start reads nothing, and its first write is unsynced; see :mod:`.fleet_db`)."""
    plan = DeviceModel.plan(cfg.evse_map, settings.seed(cfg))  # (config errors first)
    store = database.store(cfg.id, cfg.data_dir, logger=log)
    try:
        dm = DeviceModel.open_plan(
            store.connection,
            plan,
            clock=clock,
            station=cfg.id,
            new=store.fresh,
            bases=database.bases,
        )
    except BaseException:
        store.close()
        raise
    try:
        store.state.preload(empty=store.fresh)
        return store, dm, BlockStores.open(store)
    except BaseException:
        close_stores((store, dm))
        raise


def close_stores(opened: tuple[StationStore, DeviceModel, *tuple[BlockStores, ...]]) -> None:
    opened[1].close()
    opened[0].close()


def _close_prepared(prepared: tuple[Plan, PreparedFiles, Opened | None]) -> None:
    """What :func:`open_stores`'s thread made when its caller is gone: the stores it opened (files
    made ready for a new copy hold no connection)."""
    if prepared[2] is not None:
        close_stores(prepared[2])
