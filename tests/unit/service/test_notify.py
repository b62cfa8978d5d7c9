"""The systemd notification protocol (sd_notify(3)), spoken without libsystemd."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Iterator

import pytest

from ocpp_station.clock import ManualClock
from ocpp_station.service import ServiceManager, status_line
from ocpp_station.service.notify import Notifier, notify_address, run_watchdog, watchdog_period


def test_notify_address_path_and_abstract() -> None:
    assert notify_address("/run/systemd/notify") == "/run/systemd/notify"
    assert notify_address("@sd-notify-1") == "\0sd-notify-1"  # abstract namespace
    for unusable in (None, "", "@", "vsock:2:1234", "relative/path"):
        assert notify_address(unusable) is None


def test_watchdog_period_is_half_the_timeout_for_this_pid() -> None:
    assert watchdog_period({"WATCHDOG_USEC": "20000000"}, pid=7) == 10.0
    assert watchdog_period({"WATCHDOG_USEC": "20000000", "WATCHDOG_PID": "7"}, pid=7) == 10.0
    # meant for another process (a forking parent), off, or malformed: no pings
    assert watchdog_period({"WATCHDOG_USEC": "20000000", "WATCHDOG_PID": "8"}, pid=7) is None
    assert watchdog_period({}, pid=7) is None
    assert watchdog_period({"WATCHDOG_USEC": "0"}, pid=7) is None
    assert watchdog_period({"WATCHDOG_USEC": "-5"}, pid=7) is None


@pytest.fixture
def listener() -> Iterator[tuple[str, socket.socket]]:
    """A fake service manager: a datagram socket in the abstract namespace."""
    name = f"@ocs-test-{uuid.uuid4().hex[:12]}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name[1:])
    sock.settimeout(2)
    yield name, sock
    sock.close()


def test_notifier_sends_datagrams(listener: tuple[str, socket.socket]) -> None:
    name, sock = listener
    notifier = Notifier.from_environment({"NOTIFY_SOCKET": name})
    assert notifier is not None
    assert notifier.ready("connecting")
    assert sock.recv(4096) == b"READY=1\nSTATUS=connecting"
    assert notifier.status("two\nlines")  # a newline would start a new assignment
    assert sock.recv(4096) == b"STATUS=two lines"
    assert notifier.watchdog() and sock.recv(4096) == b"WATCHDOG=1"
    assert notifier.stopping() and sock.recv(4096) == b"STOPPING=1"
    assert notifier.sent == 4
    notifier.close()


def test_notifier_never_raises_when_the_manager_is_gone(caplog: pytest.LogCaptureFixture) -> None:
    notifier = Notifier("\0ocs-test-nobody-listens-" + uuid.uuid4().hex)
    assert notifier.watchdog() is False
    assert notifier.watchdog() is False
    assert len([r for r in caplog.records if "cannot notify" in r.message]) == 1  # logged once
    notifier.close()


def test_no_manager_without_notify_socket() -> None:
    assert ServiceManager.from_environment({}) is None
    assert ServiceManager.from_environment({"NOTIFY_SOCKET": "vsock:1:2"}) is None


async def test_watchdog_pings_at_the_period_on_the_clock(
    listener: tuple[str, socket.socket],
) -> None:
    name, sock = listener
    notifier = Notifier.from_environment({"NOTIFY_SOCKET": name})
    assert notifier is not None
    clock = ManualClock()
    task = asyncio.create_task(run_watchdog(notifier, 5.0, clock))
    await asyncio.sleep(0)
    assert notifier.sent == 1  # at once
    await clock.advance(4.9)
    assert notifier.sent == 1
    await clock.advance(0.1)
    assert notifier.sent == 2
    await clock.advance(15)
    assert notifier.sent == 5
    task.cancel()
    assert all(sock.recv(64) == b"WATCHDOG=1" for _ in range(5))
    notifier.close()


async def test_service_manager_ready_status_stopping(listener: tuple[str, socket.socket]) -> None:
    name, sock = listener
    env = {"NOTIFY_SOCKET": name, "WATCHDOG_USEC": "10000000", "WATCHDOG_PID": str(os.getpid())}
    service = ServiceManager.from_environment(env)
    assert service is not None and service.watchdog_period == 5.0
    service.clock = ManualClock()
    service.ready(status_line(False, "Unknown"))
    await asyncio.sleep(0)
    assert sock.recv(4096) == b"READY=1\nSTATUS=not connected to the CSMS, registration Unknown"
    assert sock.recv(4096) == b"WATCHDOG=1"
    service.status(status_line(True, "Accepted"))
    service.status(status_line(True, "Accepted"))  # unchanged: not sent again
    assert sock.recv(4096) == b"STATUS=connected to the CSMS, registration Accepted"
    await service.stopping()
    assert sock.recv(4096) == b"STOPPING=1"
    sock.settimeout(0.05)
    with pytest.raises(TimeoutError):
        sock.recv(4096)
    service.close()
