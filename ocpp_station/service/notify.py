"""The systemd notification protocol, spoken directly (no libsystemd, no dependency).

A service of ``Type=notify`` gets ``NOTIFY_SOCKET`` in its environment: a ``AF_UNIX`` datagram
socket, named by a path (``/run/systemd/notify``) or, when it starts with ``@``, by a name in the
abstract namespace (the ``@`` stands for a leading NUL byte).  Each datagram holds newline-separated
``KEY=VALUE`` assignments:

- ``READY=1``: start-up is complete (systemd then considers the unit started);
- ``WATCHDOG=1``: the service is alive; with ``WatchdogSec=`` set, systemd puts the timeout in
  ``WATCHDOG_USEC`` (and the pid it is meant for in ``WATCHDOG_PID``) and restarts the service
  when no ``WATCHDOG=1`` arrives within it.  We send one every half timeout, as
  ``sd_watchdog_enabled`` recommends, from a task of the event loop: a wedged loop stops the
  pings and gets restarted;
- ``STATUS=...``: a one-line status that ``systemctl status`` shows;
- ``STOPPING=1``: the service is shutting down.

:func:`notify_address` and :func:`watchdog_period` are pure; :class:`Notifier` sends the datagrams
(non-blocking: a full socket buffer drops a datagram rather than stall the event loop);
:func:`run_watchdog` is the ping loop, on an injected clock.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

from ocpp_station.clock import Clock, SystemClock

__all__ = ["Notifier", "notify_address", "run_watchdog", "watchdog_period"]


def notify_address(value: str | None) -> str | None:
    """The ``AF_UNIX`` address of a ``NOTIFY_SOCKET`` value; None when unset or not usable here.

    ``/path`` is a file-system socket, ``@name`` an abstract one (returned as ``"\\0name"``).
    Other forms (such as systemd's ``vsock:`` addresses for virtual machines) are not supported.
    """
    if not value:
        return None
    if value.startswith("/"):
        return value
    if value.startswith("@") and len(value) > 1:
        return "\0" + value[1:]
    return None


def watchdog_period(env: Mapping[str, str], pid: int) -> float | None:
    """Seconds between ``WATCHDOG=1`` pings that systemd asks for: half of ``WATCHDOG_USEC``;
    None when the watchdog is off, meant for another process (``WATCHDOG_PID``), or malformed."""
    usec = env.get("WATCHDOG_USEC", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    owner = env.get("WATCHDOG_PID", "")
    if owner and (not owner.isdigit() or int(owner) != pid):
        return None
    return int(usec) / 2_000_000


class Notifier:
    """Sends notification datagrams to one ``NOTIFY_SOCKET`` address.  Never raises: a failure is
    logged once (the service manager may be gone while we stop) and the datagram is dropped."""

    def __init__(self, address: str, logger: logging.Logger | None = None) -> None:
        self.address = address
        self.sent = 0
        self._log = logger or logging.getLogger("ocpp_station.service")
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        self._sock.setblocking(False)
        self._failed = False

    @classmethod
    def from_environment(
        cls, env: Mapping[str, str] | None = None, logger: logging.Logger | None = None
    ) -> Notifier | None:
        """The notifier of ``NOTIFY_SOCKET`` (None when the process was not started that way)."""
        env = os.environ if env is None else env
        raw = env.get("NOTIFY_SOCKET")
        address = notify_address(raw)
        if address is None:
            if raw:
                (logger or logging.getLogger("ocpp_station.service")).warning(
                    "NOTIFY_SOCKET=%r is not a path or @abstract name: no notifications", raw
                )
            return None
        return cls(address, logger)

    def send(self, *assignments: str) -> bool:
        """Send ``KEY=VALUE`` assignments in one datagram; True when it was handed to the kernel."""
        data = "\n".join(a.replace("\n", " ") for a in assignments).encode("utf-8")
        try:
            self._sock.sendto(data, self.address)
        except OSError as exc:
            if not self._failed:
                self._log.warning("cannot notify the service manager: %s", exc)
                self._failed = True
            return False
        self.sent += 1
        return True

    def ready(self, status: str | None = None) -> bool:
        return self.send("READY=1", *([f"STATUS={status}"] if status else []))

    def watchdog(self) -> bool:
        return self.send("WATCHDOG=1")

    def status(self, text: str) -> bool:
        return self.send(f"STATUS={text}")

    def stopping(self) -> bool:
        return self.send("STOPPING=1")

    def close(self) -> None:
        self._sock.close()


async def run_watchdog(notifier: Notifier, period: float, clock: Clock | None = None) -> None:
    """Send ``WATCHDOG=1`` now and then every ``period`` seconds until cancelled.  It runs on the
    event loop on purpose: while the loop is blocked no ping goes out, so systemd restarts us."""
    clock = clock or SystemClock()
    while True:
        notifier.watchdog()
        await clock.sleep(period)
