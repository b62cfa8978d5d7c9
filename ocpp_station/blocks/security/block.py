"""Security events (use case A04): the security log and SecurityEventNotification.

Every event is written to the persistent, bounded security log (A04.FR.04,
:mod:`ocpp_station.blocks.security.log`) and published (``security_event``); critical ones (the
appendix's list, :mod:`ocpp_station.blocks.security.events`) go to the CSMS through the persistent
queue, so an event raised while offline arrives after the reconnect (A04.FR.01/02).

The block raises these itself: ``StartupOfTheDevice`` or ``ResetOrReboot`` when the station core
starts (by the boot reason the station stored before it went down), and the events of a failed
connection attempt (:meth:`SecurityBlock.connection_failed`: InvalidCsmsCertificate,
InvalidTLSVersion, InvalidTLSCipherSuite, FailedToAuthenticateAtCsms), once per failure series
(:mod:`ocpp_station.blocks.security.series`).  Other blocks raise theirs through
:meth:`SecurityBlock.raise_event` (firmware, the password change, the clock).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from ocpp_station.blocks.base import Block
from ocpp_station.blocks.security.events import is_critical, notification, startup_event
from ocpp_station.blocks.security.log import SecurityLogStore
from ocpp_station.blocks.security.series import FailureSeries
from ocpp_station.context import Context


class SecurityBlock(Block):
    def __init__(
        self,
        ctx: Context,
        log: SecurityLogStore,
        *,
        boot_reason: Callable[[], str] = lambda: "PowerUp",
    ) -> None:
        super().__init__(ctx)
        self.log = log
        self._boot_reason = boot_reason
        self.failures = FailureSeries()

    async def start(self) -> None:
        # The provisioning block has loaded the stored boot reason (it starts first).
        reason = self._boot_reason()
        try:
            # Not synced by itself (log entry and queued notification): a power cut that loses
            # it is followed by a start that raises the event again.
            await self.raise_event(
                startup_event(reason), tech_info=f"boot reason {reason}", synced=False
            )
        except sqlite3.Error as exc:  # a store that cannot write must not stop the start
            self.ctx.log.error("the start's security event could not be queued: %s", exc)

    async def connected(self) -> None:
        self.failures.connected()

    async def raise_event(
        self,
        kind: str,
        *,
        timestamp: str | None = None,
        tech_info: str | None = None,
        critical: bool | None = None,
        synced: bool = True,
    ) -> dict[str, Any]:
        """Raise a security event; returns it as published (``critical`` decided).
        ``synced=False``: see :meth:`start`."""
        when = timestamp or self.ctx.timestamp()
        event: dict[str, Any] = {
            "type": kind,
            "timestamp": when,
            "critical": is_critical(kind, critical),
        }
        if tech_info is not None:
            event["techInfo"] = tech_info
        # A04.FR.04: the security log, before anything else (never key material, A01.FR.12).
        try:
            # A critical event's queued notification, a synced commit right below, syncs the
            # log entry with it: one fsync per event instead of two.
            self.log.append(
                when, kind, tech_info, event["critical"], synced=synced and not event["critical"]
            )
        except sqlite3.Error as exc:  # a full or read-only medium must not stop the station
            self.ctx.log.error("security event %s not written to the security log: %s", kind, exc)
        self.ctx.log.info("security event %s%s", kind, f" ({tech_info})" if tech_info else "")
        await self.ctx.publish("security_event", event)
        if event["critical"]:
            self.ctx.dispatcher.enqueue(
                "SecurityEventNotification", notification(kind, when, tech_info), synced=synced
            )
        return event

    async def connection_failed(self, kind: str, detail: str) -> None:
        """A connection attempt failed with a security event (``ocpp_station.tls.classify``):
        raised at its first occurrence in the failure series only (A00.FR.316 note)."""
        if self.failures.failed(kind):
            await self.raise_event(kind, tech_info=detail)

    def security_log_lines(self) -> list[str]:
        """The security log as GetLog(SecurityLog) uploads it, oldest first."""
        return self.log.lines()

    def describe(self, state: dict[str, Any]) -> None:
        state["security_log"] = {"events": len(self.log), "limit": self.log.limit}
