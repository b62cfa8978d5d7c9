"""Many simulated stations in one process: ``ocpp-station fleet --config FILE --count N``.

The template config gives everything but the identity: station ``i`` (1-based) is
``<template id>-<i>`` (zero-padded to at least 4 digits), keeps its SQLite files in
``<template data_dir>/<its id>``, runs the ``sim`` HAL backend with the template's sim options, and
has its own websocket and device model.  Fleet stations have no control socket and no status
page of their own (the fleet has one: ``ocpp-station fleet --http``): an embedding program, such
as the benchmark, reaches them in-process through :attr:`Fleet.stations`.

Start-up is bounded: at most ``concurrency`` stations are between "starting" and "first
BootNotification answered" at a time, so a boot storm neither melts the event loop nor opens
thousands of handshakes at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import math
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from ocpp_station import Station
from ocpp_station import fleet_capacity as limits
from ocpp_station.clock import SystemClock
from ocpp_station.config import StationConfig
from ocpp_station.fleet_capacity import raise_fd_limit
from ocpp_station.fleet_config import FleetError, fleet_configs
from ocpp_station.fleet_heap import HeapFreezer
from ocpp_station.fleet_live import Monitor
from ocpp_station.http.frames import FrameStats
from ocpp_station.http.pages import FleetPage
from ocpp_station.http.server import ListenError, PageServer
from ocpp_station.rpc.validation import default_registry
from ocpp_station.storage.connection import StorageError
from ocpp_station.storage.copier import StoreCopier
from ocpp_station.storage.fleet_db import FleetDatabase
from ocpp_station.storage.pool import ConnectionPool, auto_size
from ocpp_station.wheel import WheelClock

LOG = logging.getLogger("ocpp_station.fleet")

DEFAULT_CONCURRENCY = 50
DEFAULT_BOOT_TIMEOUT = 30.0  # seconds a start-up slot waits for the first BootNotification answer
FDS_PER_STATION = 1  # its websocket (rows in fleet.db; an own station.db: in the pool)
KIB_PER_STATION = 256  # measured 186-190 KiB per fleet station (docs/performance.md), + margin

FrameHook = Callable[[str, str, str], None]  # (station id, "in" | "out", frame text)


@dataclasses.dataclass
class FleetStart:
    """What :meth:`Fleet.start` achieved."""

    started: int  # Station.start() returned
    answered: int  # the first BootNotification got an answer within the boot timeout
    accepted: int  # registration Accepted when start() returned
    failed: dict[str, str]  # station id -> why it did not start
    seconds: float  # from the first start to the last slot released
    not_started: int = 0  # stations left out: the process cannot carry them (see ``limit``)
    limit: str | None = None  # the resource limit met, one line (None: none met)


class Fleet:
    """N stations in this process: ``await fleet.start()``, ``await fleet.stop()``.

    ``concurrency`` bounds how many stations are starting at once; a slot is held from
    ``Station.start()`` until the station's first BootNotification is answered (any status) or
    ``boot_timeout`` seconds passed.  ``on_frame(station_id, direction, text)`` sees every frame of
    every station (for measurements); ``station_factory`` builds each station with the keywords
    ``clock`` (the fleet's shared :class:`~ocpp_station.wheel.WheelClock`), ``on_frame`` and
    ``store_pool`` (station databases open at once; default 1/8 of the stations); ``admission``:
    which stations start; :mod:`ocpp_station.fleet_heap` keeps them out of full collections."""

    def __init__(
        self,
        template: StationConfig,
        count: int,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        boot_timeout: float = DEFAULT_BOOT_TIMEOUT,
        on_frame: FrameHook | None = None,
        station_factory: Callable[..., Station] = Station,
        store_pool: int | None = None,
        indices: range | None = None,
    ) -> None:
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise FleetError(f"concurrency must be a positive integer, got {concurrency!r}")
        if not (isinstance(boot_timeout, int | float) and math.isfinite(boot_timeout)):
            raise FleetError(f"boot_timeout must be a finite number, got {boot_timeout!r}")
        if boot_timeout <= 0:
            raise FleetError(f"boot_timeout must be > 0 seconds, got {boot_timeout!r}")
        self.configs = fleet_configs(template, count, indices)
        try:
            size = auto_size(len(self.configs)) if store_pool is None else store_pool
            self.pool = ConnectionPool(size)
        except ValueError as exc:
            raise FleetError(str(exc)) from None
        self.admission = limits.Admission()  # how many start; ``on_limit`` says why not all
        self.concurrency = concurrency
        self.boot_timeout = float(boot_timeout)
        self.stations: list[Station] = []
        self.failed: dict[str, str] = {}
        self._on_frame = on_frame
        self._factory = station_factory
        self.clock, self._heap = WheelClock(), HeapFreezer()
        self._running: list[Station] = []  # started and not yet stopped
        self._stopping = False

    def __len__(self) -> int:
        return len(self.configs)

    def _build(self, config: StationConfig) -> Station:
        frame = None if self._on_frame is None else functools.partial(self._on_frame, config.id)
        return self._factory(config, clock=self.clock, on_frame=frame, store_pool=self.pool)

    def capacity(self) -> limits.Capacity:
        """How many of this fleet's stations the process can carry now."""
        return limits.measure(
            len(self.configs),
            self.pool.size,
            FDS_PER_STATION,
            KIB_PER_STATION,
            starting=min(self.concurrency, self.pool.size),  # see ConnectionPool.holding
        )

    async def start(self) -> FleetStart:
        """Start every station, at most ``concurrency`` at a time; return when each one's first
        BootNotification was answered (or timed out).  A station that fails to start is logged,
        recorded in :attr:`failed` and skipped; the others go on.  Only as many stations as the
        process can carry are started (:meth:`capacity`; ``admission.limit`` says why)."""
        if self.stations:
            raise FleetError("this fleet was already started; make a new Fleet")
        # The stations keep their rows in one database (storage.fleet_db; its descriptors are
        # counted by the capacity); one whose directory holds a store of its own keeps that,
        # and a new store's files for such a station are made by a helper process
        # (storage.copier), which boots while the stations are built.
        self.pool.database = database = await self._open_database()
        carried = self.admission.admit(self.capacity())
        own = [c for c in self.configs[:carried] if not database or not database.holds(c.data_dir)]
        helper = asyncio.ensure_future(StoreCopier.start() if own else _none())
        await asyncio.sleep(0)  # (its process is spawned now)
        try:
            default_registry().read_ahead()  # checking messages needs no descriptor from here
            self.stations = [self._build(config) for config in self.configs[:carried]]
        except BaseException:
            if (copier := await helper) is not None:
                await copier.close()
            raise
        self.pool.copier = await helper
        answered: list[bool] = []
        t0 = time.perf_counter()
        queue = iter(self.stations)  # in order, ``concurrency`` at a time: a task per slot

        async def starter() -> None:
            for station in queue:
                if self._stopping:
                    return
                if not self.admission.may_start(len(self._running)):
                    continue
                answered.append(await self._start_one(station))
                self._heap.station_started()

        slots = min(self.concurrency, len(self.stations))
        tasks = [asyncio.create_task(starter(), name=f"fleet-start-{i}") for i in range(slots)]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        finally:
            copier, self.pool.copier = self.pool.copier, None
            if copier is not None:
                await copier.close()
        self._heap.storm_over()
        return FleetStart(
            started=len(self._running),
            answered=sum(answered),
            accepted=self.registrations().get("Accepted", 0),
            failed=dict(self.failed),
            seconds=time.perf_counter() - t0,
            not_started=self.admission.not_started,
            limit=self.admission.limit,
        )

    async def _start_one(self, station: Station) -> bool:
        answered = asyncio.Event()
        short: list[BaseException] = []  # a connection attempt failed for want of descriptors

        def listener(_topic: str, _data: Any) -> None:
            answered.set()

        def connection_failed(exc: BaseException | None) -> None:
            if exc is not None and limits.says_out_of_resources(exc):
                short.append(exc)  # (its store opened no file: its websocket is the first)
                answered.set()

        unsubscribe = station.bus.subscribe(listener, topics=("boot_notification_response",))
        station.on_connection_failed = connection_failed
        try:
            # Its store stays open until the boot is answered or timed out: the pool evicts no
            # station that is still starting (it would close and reopen its file on the loop).
            with self.pool.holding():
                try:
                    await station.start()
                except Exception as exc:  # a broken data_dir or device-model seed: skip it
                    self.failed[station.config.id] = f"{type(exc).__name__}: {exc}"
                    LOG.error("fleet station %s failed to start: %s", station.config.id, exc)
                    self.admission.failed(station.config.id, exc, len(self._running))
                    with contextlib.suppress(Exception):
                        await station.stop()
                    return False
                self._running.append(station)
                try:
                    async with asyncio.timeout(self.boot_timeout):  # (no task, as wait_for makes)
                        await answered.wait()
                except TimeoutError:
                    return False
                if short:  # it runs on, and connects when descriptors are free again
                    self.admission.failed(station.config.id, short[0], len(self._running))
                    return False
                return True
        finally:
            unsubscribe()
            station.on_connection_failed = None

    @property
    def running(self) -> list[Station]:  # started and not yet stopped
        return self._running

    def registrations(self) -> Counter[str]:
        """How many stations are in each registration state (``Unknown`` before an answer)."""
        return Counter(s.registration for s in self._running)

    def connected(self) -> int:
        return sum(1 for s in self._running if s.connected)

    async def wait_accepted(self, timeout: float, poll: float = 0.05) -> bool:
        """Wait until every running station is registered ``Accepted``; False on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            if all(s.registration == "Accepted" for s in self._running):
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(poll)

    async def stop(self) -> None:
        """Stop every started station cleanly (websocket close 1000, stores closed), at most
        ``concurrency`` at a time; a station failing to stop is logged and the rest go on."""
        self._stopping = True
        slots = asyncio.Semaphore(self.concurrency)

        async def one(station: Station) -> None:
            async with slots:
                try:
                    await station.stop()
                except Exception:
                    LOG.exception("fleet station %s failed to stop cleanly", station.config.id)

        running, self._running = self._running, []
        await asyncio.gather(*(one(s) for s in running))
        self.pool.close_all()
        await asyncio.to_thread(self.pool.wait_closed)  # every station.db checkpointed and closed
        database, self.pool.database = self.pool.database, None
        if database is not None:
            await asyncio.to_thread(database.close)  # (its checkpoint: off the loop)
        self._heap.release()

    async def _open_database(self) -> FleetDatabase | None:
        """The fleet's database in the template's data directory, where every station's data
        directory is (in a worker thread: a new file's migrations are a synced commit)."""
        if self.pool.database is not None or not self.configs:
            return self.pool.database
        root = self.configs[0].data_dir.parent
        try:
            return await asyncio.to_thread(FleetDatabase.open, root, logger=LOG)
        except StorageError as exc:
            raise FleetError(str(exc)) from None

    async def __aenter__(self) -> Fleet:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


async def _none() -> None:
    return None


async def run_fleet(
    config: StationConfig,
    count: int,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    stop: asyncio.Event | None = None,
    http: str | None = None,
    store_pool: int | None = None,
    indices: range | None = None,
    monitor: Monitor | None = None,
) -> int:
    """The ``fleet`` command: run ``count`` stations until SIGINT/SIGTERM (or ``stop`` is set),
    then stop them cleanly.  ``http`` (``host:port``; default: the template's ``[http] listen``)
    serves the fleet's status page from before the boot storm to the end.  ``indices``: run only
    these stations of the ``count`` (a shard); ``monitor`` sees every frame and gives the live
    summary and the final report (``ocpp_station.fleet_live``).  Returns the exit code:
    0, 2 for a bad template or count, 1 when no station could start or the page cannot listen."""
    http = http or config.http_listen
    stats = FrameStats() if http else None
    clock = SystemClock()

    def count_frame(sid: str, direction: str, text: str) -> None:
        if stats is not None:
            stats.add(sid, direction, text, clock.time())
        if monitor is not None:
            monitor.on_frame(sid, direction, text)

    try:
        fleet = Fleet(
            config,
            count,
            concurrency=concurrency,
            on_frame=count_frame if stats or monitor else None,
            indices=indices,
            store_pool=store_pool,
        )
    except FleetError as exc:
        print(f"ocpp-station fleet: {exc}", file=sys.stderr)
        return 2
    count = len(fleet)  # from here on: the stations this process runs (a shard: fewer)
    page: PageServer | None = None
    if http and stats is not None:
        source = FleetPage(lambda: fleet.stations, stats, clock.time, count)
        page = PageServer(source, http, clock=clock, logger=LOG)
        try:
            await page.start()
        except ListenError as exc:
            print(f"ocpp-station fleet: --http {http}: {exc.strerror}", file=sys.stderr)
            return 1
    raise_fd_limit(fleet.capacity().needed_fds)
    fleet.admission.on_limit = lambda line: print(f"ocpp-station fleet: {line}", file=sys.stderr)
    stop = stop or asyncio.Event()
    watching: asyncio.Future[None] | None = None
    if monitor is not None:
        monitor.attach(fleet, stop)
        watching = asyncio.ensure_future(monitor.run())
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        starting = asyncio.ensure_future(fleet.start())
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait({starting, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if not starting.done():  # a signal during the boot storm: stop what was started
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starting
        else:
            report = starting.result()
            if monitor is not None:
                monitor.booted(report)
            LOG.info(
                "fleet: %d of %d stations started, %d accepted, in %.1f s",
                report.started,
                count,
                report.accepted,
                report.seconds,
            )
            for sid, why in report.failed.items():
                print(f"ocpp-station fleet: {sid}: {why}", file=sys.stderr)
            if report.started == 0:
                stopper.cancel()
                return 1
            await stopper
        stopper.cancel()
    finally:
        if watching is not None and monitor is not None:
            watching.cancel()
            monitor.final()  # before the stop: the stations as they ran
        await fleet.stop()
        if page is not None:
            await page.close()
        for sig in installed:
            loop.remove_signal_handler(sig)
    return 0
