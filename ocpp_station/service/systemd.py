"""What a station tells systemd when it runs as a ``Type=notify`` service.

``ocpp-station run`` builds a :class:`ServiceManager` when ``NOTIFY_SOCKET`` is set and hands it to
the station (``Station.service``).  The station calls :meth:`ServiceManager.ready` once its stores
are open and its first connection attempt is under way: that sends ``READY=1`` and, when systemd
asked for a watchdog (``WatchdogSec=`` → ``WATCHDOG_USEC``), starts the ``WATCHDOG=1`` task on the
event loop.  :meth:`ServiceManager.status` keeps ``systemctl status`` showing the connection and
registration state; :meth:`ServiceManager.stopping` says ``STOPPING=1`` and ends the pings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Mapping

from ocpp_station.clock import Clock, SystemClock
from ocpp_station.service.notify import Notifier, run_watchdog, watchdog_period

__all__ = ["ServiceManager", "status_line"]


def status_line(connected: bool, registration: str) -> str:
    """The one-line ``STATUS=`` text: ``connected to the CSMS, registration Accepted``."""
    link = "connected to the CSMS" if connected else "not connected to the CSMS"
    return f"{link}, registration {registration}"


class ServiceManager:
    def __init__(
        self,
        notifier: Notifier,
        watchdog: float | None,
        *,
        clock: Clock | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self.notifier = notifier
        self.watchdog_period = watchdog  # seconds between pings; None: systemd set no watchdog
        self.clock = clock or SystemClock()  # the watchdog is about real time
        self.ready_sent = False
        self._log = logger or logging.getLogger("ocpp_station.service")
        self._task: asyncio.Task[None] | None = None
        self._last_status = ""

    @classmethod
    def from_environment(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        pid: int | None = None,
        logger: logging.Logger | None = None,
    ) -> ServiceManager | None:
        """The manager for this process (None when systemd did not start it as Type=notify)."""
        env = os.environ if env is None else env
        notifier = Notifier.from_environment(env, logger)
        if notifier is None:
            return None
        period = watchdog_period(env, os.getpid() if pid is None else pid)
        return cls(notifier, period, logger=logger)

    def ready(self, status: str | None = None) -> None:
        """``READY=1`` (again after a reset restarted the core: harmless) and the watchdog task."""
        self.notifier.ready(status)
        if status:
            self._last_status = status
        if not self.ready_sent:
            self._log.info(
                "told the service manager READY%s",
                f"; watchdog ping every {self.watchdog_period:.2f} s"
                if self.watchdog_period
                else "",
            )
        self.ready_sent = True
        if self.watchdog_period is not None and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(
                run_watchdog(self.notifier, self.watchdog_period, self.clock), name="watchdog"
            )

    def status(self, text: str) -> None:
        """``STATUS=text``, sent only when it changed."""
        if text != self._last_status:
            self._last_status = text
            self.notifier.status(text)

    async def stopping(self) -> None:
        """``STOPPING=1``; the watchdog pings end (systemd stops watching a stopping service)."""
        self.notifier.stopping()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def close(self) -> None:
        self.notifier.close()
