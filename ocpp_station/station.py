"""The station: composition and lifecycle.

Builds the context (device model, station store, HAL, RPC endpoint, dispatcher, clock, log,
publications, EVSE layout), then the functional blocks in a visible order, each given the other
blocks it needs through narrow interfaces, and owns every background task: nothing outlives
:meth:`Station.stop`.  The OCPP behaviour lives in the blocks (``ocpp_station/blocks/``) and the
pure cores they drive; this module only connects them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import hal
from hal.types import ChargeController, HalEvent
from ocpp_station import settings
from ocpp_station.blocks.data_transfer.handlers import DataTransferRegistry
from ocpp_station.blocks.firmware.install import InstallStep
from ocpp_station.clock import Clock, OffsetClock, SystemClock
from ocpp_station.config import StationConfig
from ocpp_station.context import Context
from ocpp_station.dispatch.dispatcher import Dispatcher
from ocpp_station.dispatch.policy import LinkState
from ocpp_station.dispatch.sender import QueueSender
from ocpp_station.events import EventBus
from ocpp_station.layout import EvseLayout
from ocpp_station.rpc.endpoint import RpcEndpoint
from ocpp_station.station_api import StationApi
from ocpp_station.station_link import StationLink
from ocpp_station.station_stores import open_stores
from ocpp_station.storage import QueuedMessage
from ocpp_station.storage.pool import ConnectionPool
from ocpp_station.tasks import Factory, OnDemand, TaskGroup
from ocpp_station.wiring import build_blocks

ResetHook = Callable[[str], Awaitable[None]]

STORAGE_PROBE_INTERVAL = 2.0  # seconds between write attempts while the store cannot write


class StationCore(StationApi, StationLink):
    """One OCPP 2.0.1 charging station, without the local control socket (``ocpp_station.Station``
    adds it).

    ``await station.start()`` opens the stores and the HAL and starts connecting;
    ``await station.stop()`` closes everything cleanly.  ``controller`` replaces the HAL backend of
    the config (an embedding application passes its own); ``store_pool`` (fleet stations) keeps the
    station store's file open only while a bounded pool has room for it
    (:mod:`ocpp_station.storage.pool`); ``on_reset`` is called with the boot
    reason (``RemoteReset``, ``FirmwareUpdate``) after a station reset or a firmware update
    restarted the station core, so the application can reboot the board; ``install_firmware`` is
    the firmware install step (``ocpp_station.blocks.firmware.install``; default: the
    ``[firmware] install_command`` of the config, or the ``sim`` backend's no-op).
    """

    def __init__(
        self,
        config: StationConfig,
        *,
        clock: Clock | None = None,
        controller: ChargeController | None = None,
        on_reset: ResetHook | None = None,
        on_frame: Callable[[str, str], None] | None = None,
        logger: logging.Logger | None = None,
        install_firmware: InstallStep | None = None,
        store_pool: ConnectionPool | None = None,
    ) -> None:
        self.config = config
        self._store_pool = store_pool
        self.base_clock = clock or SystemClock()
        self.clock = OffsetClock(self.base_clock)
        self.log = logger or logging.getLogger(f"ocpp_station.{config.id}")
        self.bus = EventBus(self.log)
        self.layout = EvseLayout.of(config.evse_map)
        self.link = LinkState()
        self.on_reset = on_reset
        self.on_frame = on_frame
        self.install_firmware = install_firmware
        self._controller_override = controller
        self._group = TaskGroup(config.id, self.log, self.base_clock)
        self._tasks: set[asyncio.Task[Any]] = self._group.tasks
        self._restart_task: asyncio.Task[Any] | None = None
        self._stopped = asyncio.Event()
        self.started = False
        self._transport_task: asyncio.Task[Any] | None = None
        self._storage_probe: OnDemand | None = None
        self._opened: list[Any] = []
        self.data_transfers = DataTransferRegistry()  # kept over a reset, usable before start()

    # -- public ------------------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self.link.connected

    @property
    def registration(self) -> str:
        return self.link.registration

    @property
    def online(self) -> bool:
        """Connected and registered: the station may send its own messages."""
        return self.link.online

    def status(self) -> dict[str, Any]:
        """The live state, as the control API's ``status`` returns it."""
        state: dict[str, Any] = {
            "id": self.config.id,
            "connected": self.link.connected,
            "registration": self.link.registration,
            "storage": self.store.health.describe(),
        }
        if self._group.restarts:
            state["task_restarts"] = dict(self._group.restarts)
        for block in self.blocks.all():
            block.describe(state)
        return state

    # -- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        try:
            await self._start()
        except BaseException:
            # A failed or cancelled start (a bad seed, a HAL that cannot open, a fleet stopped
            # during its boot storm) leaves nothing open behind it.
            await self._abort_start()
            raise

    async def _abort_start(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        transport = getattr(self, "transport", None)
        if transport is not None:
            with contextlib.suppress(Exception):
                await transport.stop()
        controller = getattr(self, "hal", None)
        if controller is not None:
            with contextlib.suppress(Exception):
                await controller.close()
        for store in reversed(self._opened):
            with contextlib.suppress(Exception):
                store.close()
        self._opened = []

    async def _start(self) -> None:
        cfg = self.config
        self.link.connected = False
        self.link.registration = "Unknown"  # a (re)started core boots again (B01, B11/B12)
        self.link.down_since = None
        self._opened = []
        pool = self._store_pool

        self.store, self.dm, stores = await open_stores(
            cfg,
            log=self.log,
            clock=self.clock,
            base_clock=self.base_clock,
            pooled=pool is not None,
            copier=None if pool is None else pool.copier,
            database=None if pool is None else pool.database,
        )
        self._opened += [self.store, self.dm]
        if pool is not None and not self.store.shared:
            self.store.join(pool)  # from here on the fleet's pool opens and closes its file
        self.queue = self.store.messages
        self.hal = self._controller_override or hal.open(
            cfg.hal_backend, evses=cfg.evse_map, **self._hal_options()
        )
        # MessageTimeout runs on the base clock: the CSMS-corrected one jumps when it syncs.
        self.rpc = RpcEndpoint(
            self._send_text,
            timeout=lambda: settings.message_timeout(self.dm),
            clock=self.base_clock,
            logger=self.log,
        )
        self.rpc.on_frame = self.on_frame
        self.sender = QueueSender(
            self.queue,
            self.rpc.call,
            lambda: settings.retry_policy(self.dm),
            self.base_clock,
            on_response=self._on_queue_response,
            logger=self.log,
        )
        self.sender.pause()
        self.dispatcher = Dispatcher(
            self.rpc,
            self.queue,
            self.sender,
            self.link,
            now=self.clock.time,
            queue_all=lambda: settings.queue_all_messages(self.dm),
            logger=self.log,
        )
        ctx = Context(
            config=cfg,
            layout=self.layout,
            dm=self.dm,
            state=self.store.state,
            hal=self.hal,
            handlers=self.rpc,
            dispatcher=self.dispatcher,
            link=self.link,
            clock=self.clock,
            log=self.log,
            bus=self.bus,
            spawn=self.spawn,
        )
        self.blocks = build_blocks(
            ctx,
            self.store,
            stores=stores,
            on_accepted=self._on_accepted,
            restart=self._schedule_restart,
            data_transfers=self.data_transfers,
            reconnect=self._reconnect_with_new_password,
            install_firmware=self.install_firmware,
            on_trust_changed=self._trust_changed,
            reconnect_tls=self._reconnect_with_new_certificate,
        )
        self.rpc.gate = self.blocks.provisioning.gate
        self.transport = self._make_transport()
        await self.hal.open()
        for block in self.blocks.all():
            await block.start()
        self.store.state.release()  # the records preloaded for the blocks' start
        self._trust_changed()  # the certificate store is loaded: its CSMS roots
        self.spawn(self._hal_loop(), "hal", restart=self._hal_loop)
        self.spawn(self.sender.run(), "queue", restart=self.sender.run)
        # the probe of a store that cannot write runs from its first failure on
        self._storage_probe = OnDemand(self.spawn, self._storage_watch, "storage")
        self.store.health.on_failure = self._storage_probe.wake
        self._transport_task = self.spawn(
            self.transport.run(), "transport", restart=self.transport.run
        )
        self.started = True

    async def stop(self) -> None:
        """Close the websocket cleanly, stop the HAL and close the stores (state stays on disk)."""
        if self._restart_task is not None and self._restart_task is not asyncio.current_task():
            self._restart_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._restart_task
        await self._shutdown()
        self._stopped.set()

    def _schedule_restart(self, reason: str) -> None:
        """A station reset: restart the core outside the core's own tasks (it cancels them)."""
        self._restart_task = asyncio.get_running_loop().create_task(self.restart_core(reason))

    async def restart_core(self, reason: str) -> None:
        """Restart the station core after a reset (B11/B12): everything is closed and opened again
        from the persisted state, so the next BootNotification carries ``reason``; the control
        socket stays up.  The embedding application's ``on_reset`` hook runs afterwards."""
        await self._shutdown()
        await self.start()
        if self.on_reset is not None:
            await self.on_reset(reason)

    async def stop_ocpp(self) -> None:
        """Disconnect and stop OCPP communication until :meth:`restart_ocpp`."""
        await self.transport.stop()
        if self._transport_task is not None:
            self._transport_task.cancel()

    async def restart_ocpp(self) -> None:
        """Connect again after :meth:`stop_ocpp`."""
        if self._transport_task is None or self._transport_task.done():
            self._transport_task = self.spawn(
                self.transport.run(), "transport", restart=self.transport.run
            )

    async def _shutdown(self) -> None:
        if not self.started:
            return
        self.started = False
        for block in reversed(self.blocks.all()):
            with contextlib.suppress(Exception):
                await block.stop()
        await self.transport.stop()
        await self.rpc.aclose()
        if self._storage_probe is not None:
            self._storage_probe.stop()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            await self.hal.close()
        for store in reversed(self._opened):
            store.close()
        self._opened = []

    async def wait_stopped(self) -> None:
        await self._stopped.wait()

    def spawn(
        self, coro: Awaitable[Any], name: str, *, restart: Factory | None = None
    ) -> asyncio.Task[Any]:
        """A background task owned by the station, supervised (:mod:`ocpp_station.tasks`): its
        failure is logged; with ``restart`` (a fresh coroutine's factory), restarted."""
        return self._group.spawn(coro, name, restart=restart)

    def now(self) -> float:
        return self.clock.time()

    # -- internals -------------------------------------------------------------------------------
    async def _send_text(self, text: str) -> None:
        await self.transport.send(text)

    async def _on_queue_response(self, message: QueuedMessage, response: dict[str, Any]) -> None:
        await self.blocks.transactions.on_queue_response(message.action, message.payload, response)

    def _hal_options(self) -> dict[str, Any]:
        options = dict(self.config.hal_options)
        if self.config.hal_backend == "sim":
            options.setdefault("clock", self.base_clock)
        return options

    async def _on_connect(self) -> None:
        # M05.FR.13: a connection verified with a new CSMS root ends its fallback
        try:
            self.blocks.certificates.connection_verified(self.transport.peer_certificate())
        except Exception:  # never in the way of the connection itself
            self.log.exception("checking the fallback CSMS root failed")
        # The base clock: the CSMS-corrected one jumps when it syncs (B04 measures the outage).
        self.link.came_up(self.base_clock.time())
        await self.bus.publish("is_connected", True)
        for block in self.blocks.all():
            await block.connected()

    async def _on_accepted(self, first: bool) -> None:
        """The registration is Accepted (or the connection came back after it): the blocks go
        online, then the queue is sent (B01: StatusNotifications before queued messages)."""
        for block in self.blocks.all():
            await block.online(first)
        self.sender.resume()

    def _on_disconnect(self) -> None:
        was = self.link.connected
        self.link.went_down(self.base_clock.time())
        self.sender.pause()
        self.rpc.connection_lost()
        for block in self.blocks.all():
            block.disconnected()
        if was:
            self.spawn(self.bus.publish("is_connected", False), "publish")

    async def _storage_watch(self) -> None:
        """While the store cannot write, probe it now and then (until it writes again; the next
        failure starts this again)."""
        health = self.store.health
        while not health.ok:
            await self.base_clock.sleep(STORAGE_PROBE_INTERVAL)
            if not health.ok:
                self.store.probe()

    async def _hal_loop(self) -> None:
        async for event in self.hal.events():
            if (pending := self._hal_input(event)) is not None:
                await pending

    async def handle_hal_event(self, event: HalEvent) -> None:
        if (pending := self._hal_input(event)) is not None:
            await pending

    def _hal_input(self, event: HalEvent, first: int = 0) -> Awaitable[None] | None:
        """The blocks hear ``event`` in turn (from the ``first`` on); a block done with it on
        return gives None, and when all are, no coroutine is made (the HAL's snapshot at every
        start is ten events).  Else what must be awaited: that block's work, then the rest."""
        blocks = self.blocks.hal_consumers
        for i in range(first, len(blocks)):
            try:
                pending = blocks[i].hal_input(event)
            except Exception:
                self.log.exception("block %s failed on %s", type(blocks[i]).__name__, event)
                continue
            if pending is not None:
                return self._hal_rest(event, i, pending)
        return None

    async def _hal_rest(self, event: HalEvent, i: int, pending: Awaitable[None]) -> None:
        try:
            await pending
        except Exception:
            block = self.blocks.hal_consumers[i]
            self.log.exception("block %s failed on %s", type(block).__name__, event)
        if (rest := self._hal_input(event, i + 1)) is not None:
            await rest
