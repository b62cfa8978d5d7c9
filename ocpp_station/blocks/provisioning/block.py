"""Provisioning (use cases B01–B08): boot and registration, heartbeat, Get/SetVariables, reports.

Registration (B01–B03): on the first connection the station sends BootNotification with the reason
of this start (``PowerUp`` on a cold start, ``RemoteReset`` etc. after a reset).  ``Accepted``: the
clock follows ``currentTime``, ``interval`` becomes ``OCPPCommCtrlr.HeartbeatInterval``, and the
station goes online (``on_accepted``: StatusNotification for every connector, queued messages,
heartbeats).  ``Pending``: nothing of the station's own is sent until the retry after ``interval``;
CSMS calls are served (B02.FR.02).  ``Rejected``: nothing is sent and every CSMS call is answered
with CALLERROR ``SecurityError`` (B03.FR.02) until the retry after ``interval``.  A
BootNotification the CSMS triggers gives reason ``Triggered`` (F06).  Every ``currentTime`` of a
BootNotification or Heartbeat response sets the clock; ``on_clock_adjusted`` hears by how much.

SetVariables of ``SecurityCtrlr.BasicAuthPassword`` (A01): once answered ``Accepted``, the
``on_password_changed`` hook logs the change and reconnects with the new password.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from device_model import VariableChange
from ocpp_station import settings
from ocpp_station.blocks.base import Block
from ocpp_station.blocks.provisioning import variables
from ocpp_station.context import Context
from ocpp_station.dispatch.dispatcher import NotReady
from ocpp_station.rpc.endpoint import CallTimeout, ConnectionLost, Reply
from ocpp_station.rpc.errors import ErrorCode, OCPPError

BOOT_STATE_KEY = "station.boot"

OnAccepted = Callable[[bool], Awaitable[None]]


async def _nothing() -> None:
    return None


async def _ignore(_: float) -> None:
    return None


class Provisioning(Block):
    def __init__(
        self,
        ctx: Context,
        on_accepted: OnAccepted,
        on_password_changed: Callable[[], Awaitable[None]] = _nothing,
        on_clock_adjusted: Callable[[float], Awaitable[None]] = _ignore,
    ) -> None:
        super().__init__(ctx)
        self._on_accepted = on_accepted
        self._on_password_changed = on_password_changed
        self._on_clock_adjusted = on_clock_adjusted
        handlers = ctx.handlers
        handlers.register("GetVariables", self.on_get_variables)
        handlers.register("SetVariables", self.on_set_variables)
        handlers.register("GetBaseReport", self.on_get_base_report)
        handlers.register("GetReport", self.on_get_report)
        self._boot_task: asyncio.Task[Any] | None = None
        self._heartbeat_task: asyncio.Task[Any] | None = None
        self.boot_reason = "PowerUp"
        self._stored_reason: str | None = None  # the reason on disk (None: not read yet)
        self.accepted_once = False
        self._unsubscribe: Callable[[], None] = lambda: None

    async def start(self) -> None:
        saved = self.ctx.state.load(BOOT_STATE_KEY)
        if saved and isinstance(saved.get("reason"), str):
            self.boot_reason = saved["reason"]
        # No record reads as PowerUp: writing PowerUp over it again would change nothing.
        self._stored_reason = self.boot_reason if saved else "PowerUp"
        self._unsubscribe = self.ctx.dm.subscribe(self._on_variable_change)

    async def stop(self) -> None:
        self._unsubscribe()
        self._cancel(self._boot_task)
        self._cancel(self._heartbeat_task)

    def set_boot_reason(self, reason: str) -> None:
        """The reason the next BootNotification gives (a reset stores it before restarting)."""
        if reason == self._stored_reason:
            return  # already on disk: no synced write that changes nothing
        self.ctx.state.save(BOOT_STATE_KEY, {"reason": reason})
        self._stored_reason = reason

    def forget_registration(self) -> None:
        """B10.FR.10: the station connected through another network slot; a different CSMS
        may be at the other end, so it registers again (BootNotification) and goes online as
        after a boot once Accepted."""
        self.ctx.link.registration = "Unknown"
        self.accepted_once = False

    @staticmethod
    def _cancel(task: asyncio.Task[Any] | None) -> None:
        if task is not None and not task.done():
            task.cancel()

    # -- registration ----------------------------------------------------------------------------
    async def connected(self) -> None:
        if self.ctx.link.registration == "Accepted":
            await self._go_online(first=False)
        else:
            self._cancel(self._boot_task)
            self._boot_task = self.ctx.spawn(self._boot_loop(), "boot", restart=self._boot_loop)

    def disconnected(self) -> None:
        self._cancel(self._boot_task)
        self._cancel(self._heartbeat_task)

    def boot_payload(self, reason: str | None = None) -> dict[str, Any]:
        cfg = self.ctx.config
        station: dict[str, Any] = {"model": cfg.model, "vendorName": cfg.vendor}
        if cfg.serial_number:
            station["serialNumber"] = cfg.serial_number
        if cfg.firmware_version:
            station["firmwareVersion"] = cfg.firmware_version
        return {"reason": reason or self.boot_reason, "chargingStation": station}

    async def send_boot(self, reason: str | None = None) -> dict[str, Any]:
        """Send BootNotification with the reason of this start, or with ``reason`` (F06: a
        TriggerMessage asks for one with BootReasonEnumType ``Triggered``); act on the answer."""
        response = await self.ctx.dispatcher.call("BootNotification", self.boot_payload(reason))
        await self._synchronise(response["currentTime"])
        link = self.ctx.link
        previous = link.registration
        link.registration = response["status"]
        await self.ctx.publish("boot_notification_response", response)
        if response["status"] == "Accepted":
            interval = int(response.get("interval", 0))
            if interval > 0:  # B01.FR.04: the interval becomes the heartbeat interval
                # Not synced by itself: every start asks the CSMS again before a heartbeat, so
                # a power cut can lose nothing of it (one fsync less per start of a fleet).
                self.ctx.dm.set(
                    "OCPPCommCtrlr", "HeartbeatInterval", interval, source="csms", synced=False
                )
            if previous != "Accepted":
                # The reason is spent: the next boot without a reset is a power-up again.
                self.set_boot_reason("PowerUp")
                await self._go_online(first=not self.accepted_once)
                self.accepted_once = True
        return response

    async def _boot_loop(self) -> None:
        while True:
            try:
                response = await self.send_boot()
            except ConnectionLost:
                return
            except (CallTimeout, OCPPError) as exc:
                self.ctx.log.warning("BootNotification failed (%s); retrying", exc)
                await self.ctx.clock.sleep(self._retry_delay(0))
                continue
            if response["status"] == "Accepted":
                return
            self.ctx.log.info(
                "registration %s; next BootNotification in %ss",
                response["status"],
                response.get("interval"),
            )
            await self.ctx.clock.sleep(self._retry_delay(int(response.get("interval", 0))))

    def _retry_delay(self, interval: int) -> float:
        if interval > 0:
            return float(interval)
        return settings.message_timeout(self.ctx.dm)

    def gate(self, action: str) -> OCPPError | None:
        """Checked by the RPC endpoint before any CSMS request is handled."""
        if self.ctx.link.registration == "Rejected":
            # B03.FR.02: while Rejected the station answers no CSMS request but with SecurityError.
            return OCPPError(
                ErrorCode.SECURITY_ERROR, f"{action}: the CSMS rejected this station's registration"
            )
        return None

    async def _go_online(self, first: bool) -> None:
        self._restart_heartbeat()
        await self._on_accepted(first)

    # -- heartbeat -------------------------------------------------------------------------------
    def _restart_heartbeat(self) -> None:
        self._cancel(self._heartbeat_task)
        if self.ctx.link.online:
            self._heartbeat_task = self.ctx.spawn(
                self._heartbeat_loop(), "heartbeat", restart=self._heartbeat_loop
            )

    async def _heartbeat_loop(self) -> None:
        while True:
            interval = self.ctx.dm.get_int("OCPPCommCtrlr", "HeartbeatInterval", default=300)
            await self.ctx.clock.sleep(max(1, interval))
            await self.heartbeat()

    async def heartbeat(self, *, triggered: bool = False) -> None:
        response = await self.ctx.dispatcher.send("Heartbeat", {}, triggered=triggered)
        if response is not None:
            await self._synchronise(response["currentTime"])  # G02 / B01: keep clock in step

    async def _synchronise(self, current_time: str) -> None:
        """The clock follows the CSMS time (ClockCtrlr.TimeSource Heartbeat); the adjustment, in
        seconds, goes to ``on_clock_adjusted`` (ClockCtrlr.TimeAdjustmentReportingThreshold)."""
        before = self.ctx.clock.time()
        self.ctx.clock.synchronise(current_time)
        await self._on_clock_adjusted(self.ctx.clock.time() - before)

    def _on_variable_change(self, change: VariableChange) -> None:
        if (
            change.component.get("name") == "OCPPCommCtrlr"
            and change.variable.get("name") == "HeartbeatInterval"
            and change.attribute == "Actual"
        ):
            # B05: a new HeartbeatInterval takes effect at once: the next heartbeat is one new
            # interval from now.  (None runs yet: the boot's answer that set it starts them.)
            task = self._heartbeat_task
            if task is not None and not task.done():
                self._restart_heartbeat()

    # -- variables and reports (B05–B08) ---------------------------------------------------------
    async def on_get_variables(self, payload: dict[str, Any]) -> dict[str, Any]:
        return variables.handle_get_variables(self.ctx.dm, payload)

    async def on_set_variables(self, payload: dict[str, Any]) -> Reply:
        response = variables.handle_set_variables(self.ctx.dm, payload, source="csms")
        if variables.password_accepted(response):
            # A01: answer first, then log the change and reconnect with the new password.
            return Reply(response, then=self._on_password_changed)
        return Reply(response)

    async def on_get_base_report(self, payload: dict[str, Any]) -> Reply:
        from ocpp_station.blocks.provisioning import reports  # lazy: the report requests only

        response, parts = reports.handle_get_base_report(self.ctx.dm, payload, now=self.ctx.now())
        return Reply(response, then=lambda: self._send_reports(parts))

    async def on_get_report(self, payload: dict[str, Any]) -> Reply:
        from ocpp_station.blocks.provisioning import reports  # lazy: the report requests only

        response, parts = reports.handle_get_report(self.ctx.dm, payload, now=self.ctx.now())
        return Reply(response, then=lambda: self._send_reports(parts))

    async def _send_reports(self, parts: list[dict[str, Any]]) -> None:
        """Send the NotifyReport parts in order, after the response (B07.FR.03, B08.FR.03).
        They answer a CSMS request, so they go while the registration is Pending too (B02.FR.01,
        B02.FR.09).  A part that fails is skipped; a lost connection ends the report."""
        for part in parts:
            try:
                await self.ctx.dispatcher.call("NotifyReport", part, reply=True)
            except ConnectionLost:
                return
            except (CallTimeout, OCPPError) as exc:
                self.ctx.log.warning("NotifyReport seqNo %s failed: %s", part.get("seqNo"), exc)
            except NotReady as exc:  # disconnected or Rejected meanwhile
                self.ctx.log.info("NotifyReport ended: %s", exc)
                return
