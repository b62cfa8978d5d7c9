"""The start's security event, written where the station store is opened.

When the station core starts it raises ``StartupOfTheDevice`` or ``ResetOrReboot`` (by the boot
reason stored before it went down, :func:`.events.startup_event`): one security-log entry and,
the event being critical, one queued SecurityEventNotification.  Both are plain storage, so
:func:`record_startup` writes them in the thread that opens the station store (with the start's
reads, :class:`ocpp_station.wiring.BlockStores`): a fleet's boot storm runs no statement for them
on the event loop.  The security block announces the event when it starts (log line, bus), as it
does for every other event.

Not synced by themselves (like the block's own start event): a power cut that loses them is
followed by a start that raises the event again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ocpp_station.blocks.security.events import is_critical, notification, startup_event
from ocpp_station.blocks.security.log import SecurityLogStore
from ocpp_station.clock import iso
from ocpp_station.storage.messages import MessageQueue


@dataclass(frozen=True)
class StartupRecord:
    """The start event as the bus gets it, and what could not be stored (for the block's log)."""

    event: dict[str, Any]
    errors: list[str] = field(default_factory=list)


def record_startup(
    log: SecurityLogStore, queue: MessageQueue, boot_reason: str, now: Callable[[], float]
) -> StartupRecord:
    """Write the start event of a station that boots with ``boot_reason`` (any thread; the
    store's connection is used by nothing else meanwhile)."""
    kind = startup_event(boot_reason)
    tech_info = f"boot reason {boot_reason}"
    when = iso(now())
    critical = is_critical(kind)
    event: dict[str, Any] = {
        "type": kind,
        "timestamp": when,
        "critical": critical,
        "techInfo": tech_info,
    }
    errors = []
    try:  # A04.FR.04: the security log first
        log.append(when, kind, tech_info, critical, synced=False)
    except sqlite3.Error as exc:
        errors.append(f"security event {kind} not written to the security log: {exc}")
    if critical:
        payload = notification(kind, when, tech_info)
        try:
            queue.push_batch([("SecurityEventNotification", payload)], now(), synced=False)
        except sqlite3.Error as exc:
            errors.append(f"the start's security event could not be queued: {exc}")
    return StartupRecord(event, errors)
