"""The station: composition and lifecycle.

Wires the transport, the RPC endpoint, the device model, the persistent queue, the HAL and the
functional blocks together, and runs the HAL event loop.  The OCPP behaviour itself lives in the
blocks (``ocpp_station/blocks/``) and in the pure cores they drive; this module only connects them.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import hal
from device_model import DeviceModel
from hal.types import ChargeController, HalEvent
from ocpp_station.clock import Clock, OffsetClock, SystemClock, iso
from ocpp_station.config import StationConfig
from ocpp_station.control.api import ControlApi
from ocpp_station.control.server import ControlServer
from ocpp_station.events import TOPICS, EventBus
from ocpp_station.queue import MessageQueue, QueuedMessage, QueueSender, RetryPolicy
from ocpp_station.rpc.endpoint import RpcEndpoint
from ocpp_station.transport import BackOff, Transport, TransportConfig

ResetHook = Callable[[str], Awaitable[None]]


class NotReady(Exception):
    """The station may not send this message now (offline, or not registered yet)."""


class Station:
    """One OCPP 2.0.1 charging station.

    ``await station.start()`` opens the stores and the HAL and starts connecting;
    ``await station.stop()`` closes everything cleanly.  ``controller`` replaces the HAL backend of
    the config (an embedding application passes its own); ``on_reset`` is called with the reset type
    after a station reset restarted the station core, so the application can reboot the board.
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
    ) -> None:
        self.config = config
        self.base_clock = clock or SystemClock()
        self.clock = OffsetClock(self.base_clock)
        self.log = logger or logging.getLogger(f"ocpp_station.{config.id}")
        self.bus = EventBus(self.log)
        self.on_reset = on_reset
        self.on_frame = on_frame
        self._controller_override = controller
        self.registration = "Unknown"  # RegistrationStatusEnumType once a BootNotification answered
        self.connected = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopped = asyncio.Event()
        self.started = False
        self.control_server: ControlServer | None = None
        self.control_api: ControlApi | None = None
        self._transport_task: asyncio.Task[Any] | None = None

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
        for store in (getattr(self, "queue", None), getattr(self, "dm", None)):
            if store is not None:
                with contextlib.suppress(Exception):
                    store.close()

    async def _start(self) -> None:
        from ocpp_station.blocks import build_blocks  # blocks import Station for typing only

        cfg = self.config
        cfg.data_dir.mkdir(parents=True, exist_ok=True)
        self.registration = "Unknown"  # a (re)started core boots again (B01, B11/B12)
        self.connected = False
        self.dm = DeviceModel.open(
            cfg.data_dir / "device_model.db", cfg.evse_map, self._seed(), clock=self.clock
        )
        self.queue = MessageQueue(cfg.data_dir / "queue.db")
        self.hal = self._controller_override or hal.open(
            cfg.hal_backend, evses=cfg.evse_map, **self._hal_options()
        )
        self.rpc = RpcEndpoint(self._send_text, timeout=self._message_timeout, logger=self.log)
        self.rpc.on_frame = self.on_frame
        self.sender = QueueSender(
            self.queue,
            self.rpc.call,
            self._retry_policy,
            self.base_clock,
            on_response=self._on_queue_response,
            logger=self.log,
        )
        self.sender.pause()
        self.blocks = build_blocks(self)
        self.transport = Transport(
            TransportConfig(
                csms_url=cfg.csms_url,
                station_id=cfg.id,
                security_profile=cfg.security_profile,
                password=self._password(),
                ca_file=str(cfg.ca_file) if cfg.ca_file else None,
                cert_file=str(cfg.cert_file) if cfg.cert_file else None,
                key_file=str(cfg.key_file) if cfg.key_file else None,
            ),
            on_connect=self._on_connect,
            on_message=self.rpc.on_message,
            on_disconnect=self._on_disconnect,
            backoff=self._backoff,
            ping_interval=lambda: self.dm.get_float(
                "OCPPCommCtrlr", "WebSocketPingInterval", default=30.0
            ),
            clock=self.base_clock,
            logger=self.log,
        )
        await self.hal.open()
        for block in self.blocks.all():
            await block.start()
        self.spawn(self._hal_loop(), "hal")
        self.spawn(self.sender.run(), "queue")
        self._transport_task = self.spawn(self.transport.run(), "transport")
        if cfg.control_socket is not None and self.control_server is None:
            self.control_server = ControlServer(cfg.control_socket, topics=TOPICS, logger=self.log)
            await self.control_server.start()
        if self.control_server is not None:
            self.control_api = ControlApi(self, self.control_server)
        self.started = True

    async def stop(self) -> None:
        """Close the websocket cleanly, stop the HAL and close the stores (state stays on disk)."""
        await self._shutdown()
        if self.control_server is not None:
            await self.control_server.close()
            self.control_server = None
        self._stopped.set()

    async def restart_core(self, reason: str) -> None:
        """Restart the station core after a reset (B11/B12): everything is closed and opened again
        from the persisted state, so the next BootNotification carries ``reason``; the control
        socket stays up.  The embedding application's ``on_reset`` hook runs afterwards."""
        await self._shutdown()
        await self.start()
        if self.on_reset is not None:
            await self.on_reset(reason)

    async def stop_ocpp(self) -> None:
        """The control API's ``stop``: disconnect and stop OCPP communication (seed 001)."""
        await self.transport.stop()
        if self._transport_task is not None:
            self._transport_task.cancel()

    async def restart_ocpp(self) -> None:
        """The control API's ``restart``: connect again after ``stop``."""
        if self._transport_task is None or self._transport_task.done():
            self._transport_task = self.spawn(self.transport.run(), "transport")

    def status(self) -> dict[str, Any]:
        """The live state, as the control API's ``status`` returns it (DESIGN.md §3)."""
        state: dict[str, Any] = {
            "id": self.config.id,
            "connected": self.connected,
            "registration": self.registration,
        }
        for block in self.blocks.all():
            block.describe(state)
        return state

    async def _shutdown(self) -> None:
        if not self.started:
            return
        self.started = False
        if self.control_api is not None:
            self.control_api.close()
            self.control_api = None
        for block in reversed(self.blocks.all()):
            with contextlib.suppress(Exception):
                await block.stop()
        await self.transport.stop()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            await self.hal.close()
        self.queue.close()
        self.dm.close()

    async def wait_stopped(self) -> None:
        await self._stopped.wait()

    def spawn(self, coro: Awaitable[Any], name: str) -> asyncio.Task[Any]:
        """Run a background task owned by the station; its failure is logged, never silent."""

        async def guarded() -> Any:
            try:
                return await coro
            except asyncio.CancelledError:
                raise
            except Exception:
                self.log.exception("station task %s failed", name)
                return None

        task = asyncio.get_running_loop().create_task(guarded(), name=f"{self.config.id}:{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        if inspect.iscoroutine(coro):
            # A task cancelled before it ran never awaited ``coro``: close it (no-op otherwise).
            task.add_done_callback(lambda _: coro.close())
        return task

    # -- sending ---------------------------------------------------------------------------------
    async def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send a station→CSMS CALL now.  Outside registration only BootNotification may go (B02,
        B03: while Pending or Rejected the station sends nothing of its own but the boot)."""
        if not self.connected:
            raise NotReady(f"{action}: not connected")
        if self.registration != "Accepted" and action != "BootNotification":
            raise NotReady(f"{action}: registration is {self.registration}")
        return await self.rpc.call(action, payload)

    @property
    def online(self) -> bool:
        """Connected and registered: the station may send its own messages."""
        return self.connected and self.registration == "Accepted"

    def enqueue(self, action: str, payload: dict[str, Any]) -> None:
        """Send through the persistent queue: stored first, delivered in order, kept over a
        reconnect or a power loss, retried as ``MessageAttempts``/``MessageAttemptInterval`` say."""
        self.queue.push(action, payload, self.now())
        self.sender.wake()

    def now(self) -> float:
        return self.clock.time()

    def timestamp(self) -> str:
        return iso(self.clock.time())

    async def publish(self, topic: str, data: Any) -> None:
        assert topic in TOPICS, topic
        await self.bus.publish(topic, data)

    # -- internals -------------------------------------------------------------------------------
    async def _send_text(self, text: str) -> None:
        await self.transport.send(text)

    def _retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            attempts=self.dm.get_int(
                "OCPPCommCtrlr", "MessageAttempts", variable_instance="TransactionEvent", default=3
            ),
            interval=self.dm.get_float(
                "OCPPCommCtrlr",
                "MessageAttemptInterval",
                variable_instance="TransactionEvent",
                default=60.0,
            ),
        )

    async def _on_queue_response(self, message: QueuedMessage, response: dict[str, Any]) -> None:
        tx = getattr(self.blocks, "transactions", None)
        if tx is not None:
            await tx.on_queue_response(message, response)

    def _message_timeout(self) -> float:
        return self.dm.get_float(
            "OCPPCommCtrlr", "MessageTimeout", variable_instance="Default", default=30.0
        )

    def _backoff(self) -> BackOff:
        dm = self.dm
        return BackOff(
            dm.get_float("OCPPCommCtrlr", "RetryBackOffWaitMinimum", default=3.0),
            dm.get_float("OCPPCommCtrlr", "RetryBackOffRandomRange", default=2.0),
            dm.get_int("OCPPCommCtrlr", "RetryBackOffRepeatTimes", default=5),
        )

    def _seed(self) -> dict[str, Any]:
        """The ``[station]`` facts the device model reports, under the config's own
        ``[device_model]`` values (which win)."""
        cfg = self.config
        seed: dict[str, Any] = {
            "ChargingStation.VendorName": cfg.vendor,
            "ChargingStation.Model": cfg.model,
            "SecurityCtrlr.Identity": cfg.id,
            "SecurityCtrlr.SecurityProfile": cfg.security_profile,
        }
        if cfg.serial_number:
            seed["ChargingStation.SerialNumber"] = cfg.serial_number
        if cfg.firmware_version:
            seed["ChargingStation.FirmwareVersion"] = cfg.firmware_version
        if cfg.password:
            seed["SecurityCtrlr.BasicAuthPassword"] = cfg.password
        return {**seed, **cfg.device_model}

    def _password(self) -> str | None:
        # The device model's value wins: a CSMS may have set a new one (A01).
        return self.dm.get("SecurityCtrlr", "BasicAuthPassword") or self.config.password

    def _hal_options(self) -> dict[str, Any]:
        options = dict(self.config.hal_options)
        if self.config.hal_backend == "sim":
            options.setdefault("clock", self.base_clock)
        return options

    async def _on_connect(self) -> None:
        self.connected = True
        await self.publish("is_connected", True)
        for block in self.blocks.all():
            await block.connected()

    def _on_disconnect(self) -> None:
        was = self.connected
        self.connected = False
        self.sender.pause()
        self.rpc.connection_lost()
        for block in self.blocks.all():
            block.disconnected()
        if was:
            self.spawn(self.publish("is_connected", False), "publish")

    async def _hal_loop(self) -> None:
        async for event in self.hal.events():
            await self.handle_hal_event(event)

    async def handle_hal_event(self, event: HalEvent) -> None:
        for block in self.blocks.all():
            try:
                await block.hal_event(event)
            except Exception:
                self.log.exception("block %s failed on %s", type(block).__name__, event)
