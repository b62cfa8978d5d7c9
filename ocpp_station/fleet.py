"""Many simulated stations in one process: ``ocpp-station fleet --config FILE --count N``.

The template config gives everything but the identity: station ``i`` (1-based) is
``<template id>-<i>`` (zero-padded to at least 4 digits), keeps its SQLite files in
``<template data_dir>/<its id>``, runs the ``sim`` HAL backend with the template's sim options, and
has its own websocket and device model.  Fleet stations have no control socket (a thousand Unix
sockets would cost descriptors and path length for nothing) and no status page of their own (the
fleet has one: ``run_fleet(..., http=...)``, ``ocpp-station fleet --http``): an embedding program,
such as the benchmark, reaches them in-process through :attr:`Fleet.stations`.

Start-up is bounded: at most ``concurrency`` stations are between "starting" and "first
BootNotification answered" at a time, so a boot storm of thousands of stations neither melts the
event loop nor opens thousands of TLS/websocket handshakes at once.
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

from hal.backends.sim import MODEL_OPTIONS
from ocpp_station import Station
from ocpp_station import fleet_capacity as limits
from ocpp_station.clock import SystemClock
from ocpp_station.config import StationConfig
from ocpp_station.fleet_capacity import raise_fd_limit
from ocpp_station.fleet_heap import HeapFreezer
from ocpp_station.http.frames import FrameStats
from ocpp_station.http.pages import FleetPage
from ocpp_station.http.server import ListenError, PageServer
from ocpp_station.storage.pool import ConnectionPool, auto_size
from ocpp_station.transport import STATION_ID_MAX_LENGTH
from ocpp_station.wheel import WheelClock

LOG = logging.getLogger("ocpp_station.fleet")

DEFAULT_CONCURRENCY = 50
DEFAULT_BOOT_TIMEOUT = 30.0  # seconds a start-up slot waits for the first BootNotification answer
MAX_COUNT = 100_000
FDS_PER_STATION = 1  # measured: its websocket (its station.db is open only while in the pool)
KIB_PER_STATION = 256  # measured 186-190 KiB per fleet station (docs/performance.md), + margin
SIM_OPTIONS = frozenset({"tick", *MODEL_OPTIONS})

FrameHook = Callable[[str, str, str], None]  # (station id, "in" | "out", frame text)


class FleetError(ValueError):
    """A template or count the fleet cannot use (the message names the problem)."""


def station_id(template_id: str, index: int, count: int) -> str:
    """The id of station ``index`` (1-based) of ``count``: ``CS-0001``; wider past 9999."""
    width = max(4, len(str(count)))
    return f"{template_id}-{index:0{width}d}"


def fleet_configs(template: StationConfig, count: int) -> list[StationConfig]:
    """The configs of a fleet of ``count`` stations made from ``template`` (pure)."""
    if isinstance(count, bool) or not isinstance(count, int):
        raise FleetError(f"count must be an integer, got {count!r}")
    if not 1 <= count <= MAX_COUNT:
        raise FleetError(f"count must be between 1 and {MAX_COUNT}, got {count}")
    if template.hal_backend != "sim":
        raise FleetError(
            f"{template.source}: [hal] backend must be 'sim' for a fleet of simulated stations, "
            f"got {template.hal_backend!r}"
        )
    unknown = sorted(set(template.hal_options) - SIM_OPTIONS)
    if unknown:
        raise FleetError(
            f"{template.source}: [hal]: unknown sim option(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(SIM_OPTIONS))}"
        )
    last = station_id(template.id, count, count)
    if len(last) > STATION_ID_MAX_LENGTH:
        raise FleetError(
            f"{template.source}: station.id: fleet ids such as {last!r} are longer than "
            f"{STATION_ID_MAX_LENGTH} characters; use a shorter template id"
        )
    configs = []
    for index in range(1, count + 1):
        sid = station_id(template.id, index, count)
        configs.append(
            dataclasses.replace(
                template,
                id=sid,
                data_dir=template.data_dir / sid,
                hal_options=dict(template.hal_options),
                device_model=dict(template.device_model),
                control_socket=None,
                http_listen=None,
                evses=list(template.evses),
            )
        )
    return configs


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
    ``store_pool``; :mod:`ocpp_station.fleet_heap` keeps them clear of full garbage collections.

    At most ``store_pool`` stations' databases are open at a time (default: an eighth, 8-1024);
    :meth:`start` starts only the stations the process can carry (:attr:`limit` says why).
    """

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
    ) -> None:
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise FleetError(f"concurrency must be a positive integer, got {concurrency!r}")
        if not (isinstance(boot_timeout, int | float) and math.isfinite(boot_timeout)):
            raise FleetError(f"boot_timeout must be a finite number, got {boot_timeout!r}")
        if boot_timeout <= 0:
            raise FleetError(f"boot_timeout must be > 0 seconds, got {boot_timeout!r}")
        self.configs = fleet_configs(template, count)
        try:
            self.pool = ConnectionPool(auto_size(count) if store_pool is None else store_pool)
        except ValueError as exc:
            raise FleetError(str(exc)) from None
        self.limit: str | None = None
        self.on_limit: Callable[[str], None] = lambda line: LOG.error("fleet: %s", line)
        self.not_started = 0
        self.concurrency = concurrency
        self.boot_timeout = float(boot_timeout)
        self.stations: list[Station] = []
        self.failed: dict[str, str] = {}
        self._on_frame = on_frame
        self._factory = station_factory
        self.clock, self._heap = WheelClock(), HeapFreezer()
        self._running: list[Station] = []  # started and not yet stopped
        self._stopping = False
        self._exhausted = False
        self._starts = 0

    def __len__(self) -> int:
        return len(self.configs)

    def _build(self, config: StationConfig) -> Station:
        frame = None if self._on_frame is None else functools.partial(self._on_frame, config.id)
        return self._factory(config, clock=self.clock, on_frame=frame, store_pool=self.pool)

    def capacity(self) -> limits.Capacity:
        """How many of this fleet's stations the process can carry now."""
        return limits.measure(
            len(self.configs),
            fds_per_station=FDS_PER_STATION,
            pool_size=self.pool.size,
            kib_per_station=KIB_PER_STATION,
        )

    async def start(self) -> FleetStart:
        """Start every station, at most ``concurrency`` at a time; return when each one's first
        BootNotification was answered (or timed out).  A station that fails to start is logged,
        recorded in :attr:`failed` and skipped; the others go on.  Only as many stations as the
        process can carry are started (:meth:`capacity`; :attr:`limit` says why)."""
        if self.stations:
            raise FleetError("this fleet was already started; make a new Fleet")
        capacity = self.capacity()
        if not capacity.enough:
            self._limit_met(capacity.message, len(self.configs) - capacity.stations)
        self.stations = [self._build(config) for config in self.configs[: capacity.stations]]
        slots = asyncio.Semaphore(self.concurrency)
        answered: list[bool] = []
        t0 = time.perf_counter()

        async def one(station: Station) -> None:
            async with slots:
                if self._stopping:
                    return
                self._starts += 1
                if not self._exhausted:
                    self._exhaust(limits.descriptors_short(self._starts))
                if self._exhausted:
                    self.not_started += 1
                    return
                answered.append(await self._start_one(station))
                self._heap.station_started()

        tasks = [
            asyncio.create_task(one(s), name=f"fleet-start:{s.config.id}") for s in self.stations
        ]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        self._heap.freeze()
        return FleetStart(
            started=len(self._running),
            answered=sum(answered),
            accepted=self.registrations().get("Accepted", 0),
            failed=dict(self.failed),
            seconds=time.perf_counter() - t0,
            not_started=self.not_started,
            limit=self.limit,
        )

    def _exhaust(self, why: str | None) -> None:
        """Start no more stations: the started ones need what is left of the descriptors."""
        if why is not None and not self._exhausted:
            self._exhausted = True
            self._limit_met(f"{why} after {len(self._running)} stations; no more start", 0)

    def _limit_met(self, message: str, left_out: int) -> None:
        self.limit = message
        self.not_started += left_out
        self.on_limit(message)  # at once: before the boot storm, or when it met the limit

    async def _start_one(self, station: Station) -> bool:
        answered = asyncio.Event()

        def listener(topic: str, _data: Any) -> None:
            if topic == "boot_notification_response":
                answered.set()

        unsubscribe = station.bus.subscribe(listener)
        try:
            try:
                await station.start()
            except Exception as exc:  # a broken data_dir or device-model seed: skip this one
                self.failed[station.config.id] = f"{type(exc).__name__}: {exc}"
                LOG.error("fleet station %s failed to start: %s", station.config.id, exc)
                if limits.out_of_resources(exc):
                    self._exhaust(f"out of descriptors or memory ({station.config.id}: {exc})")
                with contextlib.suppress(Exception):
                    await station.stop()
                return False
            self._running.append(station)
            try:
                await asyncio.wait_for(answered.wait(), self.boot_timeout)
            except TimeoutError:
                return False
            return True
        finally:
            unsubscribe()

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
        self._heap.release()

    async def __aenter__(self) -> Fleet:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


async def run_fleet(
    config: StationConfig,
    count: int,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    stop: asyncio.Event | None = None,
    http: str | None = None,
    store_pool: int | None = None,
) -> int:
    """The ``fleet`` command: run ``count`` stations until SIGINT/SIGTERM (or ``stop`` is set),
    then stop them cleanly.  ``http`` (``host:port``; default: the template's ``[http] listen``)
    serves the fleet's status page from before the boot storm to the end.  Returns the exit code:
    0, 2 for a bad template or count, 1 when no station could start or the page cannot listen."""
    http = http or config.http_listen
    stats = FrameStats() if http else None
    clock = SystemClock()

    def count_frame(sid: str, direction: str, text: str) -> None:
        assert stats is not None
        stats.add(sid, direction, text, clock.time())

    try:
        fleet = Fleet(
            config,
            count,
            concurrency=concurrency,
            on_frame=count_frame if stats else None,
            store_pool=store_pool,
        )
    except FleetError as exc:
        print(f"ocpp-station fleet: {exc}", file=sys.stderr)
        return 2
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
    fleet.on_limit = lambda line: print(f"ocpp-station fleet: {line}", file=sys.stderr, flush=True)
    stop = stop or asyncio.Event()
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
        await fleet.stop()
        if page is not None:
            await page.close()
        for sig in installed:
            loop.remove_signal_handler(sig)
    return 0
