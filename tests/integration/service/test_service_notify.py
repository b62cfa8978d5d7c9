"""The station under a fake systemd: ``NOTIFY_SOCKET`` (an abstract datagram socket of the test),
``WATCHDOG_USEC``.  Checks READY once the stores are open and the first connection attempt is under
way, the watchdog cadence, STOPPING at SIGTERM, JSON logs without the password, and that a
blocked event loop stops the pings (which is what makes systemd restart a wedged station)."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import socket
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import PASSWORD, REPO, station_config, to_toml

from ocpp_station import Station
from ocpp_station.csms import LocalCSMS
from ocpp_station.service import ServiceManager
from ocpp_station.service.notify import Notifier


class FakeManager:
    """Receives notification datagrams on a thread (so it keeps time while the loop is blocked)."""

    def __init__(self) -> None:
        self.name = f"@ocs-notify-{uuid.uuid4().hex[:12]}"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + self.name[1:])
        self.sock.settimeout(0.1)
        self.received: list[tuple[float, str]] = []
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop:
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            self.received.append((time.monotonic(), data.decode()))

    def times(self, assignment: str) -> list[float]:
        return [t for t, d in list(self.received) if assignment in d.split("\n")]

    async def wait_for(self, assignment: str, timeout: float = 20.0) -> float:
        deadline = time.monotonic() + timeout
        while not self.times(assignment):
            if time.monotonic() > deadline:
                raise AssertionError(f"no {assignment} in {self.received}")
            await asyncio.sleep(0.01)
        return self.times(assignment)[0]

    def close(self) -> None:
        self._stop = True
        self._thread.join()
        self.sock.close()


@pytest.fixture
def manager() -> Iterator[FakeManager]:
    fake = FakeManager()
    yield fake
    fake.close()


async def test_run_under_systemd_ready_watchdog_stopping_json_logs(
    csms: LocalCSMS, short_tmp: Path, manager: FakeManager
) -> None:
    config = {
        "station": {
            "id": "SVC001",
            "csms_url": csms.url,
            "data_dir": str(short_tmp / "data"),
            "password": PASSWORD,
            "log_format": "json",
        },
        "evse": [{"id": 1, "connectors": [1]}],
        "hal": {"backend": "sim", "tick": 0.05},
    }
    path = short_tmp / "station.toml"
    path.write_text(to_toml(config))
    env = {k: v for k, v in os.environ.items() if k not in ("JOURNAL_STREAM", "WATCHDOG_PID")}
    env.update(NOTIFY_SOCKET=manager.name, WATCHDOG_USEC="600000")  # ping every 0.3 s
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ocpp_station.cli",
        "run",
        "--config",
        str(path),
        "--log-level",
        "DEBUG",  # the most verbose level still shows no secret
        env=env,
        cwd=REPO,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    stderr_task = asyncio.ensure_future(proc.stderr.read())
    try:
        ready = await manager.wait_for("READY=1")
        await csms.wait_connected("SVC001")
        await asyncio.sleep(2.5)
        pings = [t for t in manager.times("WATCHDOG=1") if t >= ready]
        gaps = [b - a for a, b in itertools.pairwise(pings)]
        assert len(gaps) >= 6, manager.received
        assert 0.25 <= statistics.median(gaps) <= 0.4, gaps  # half of WATCHDOG_USEC
        assert max(gaps) < 0.6, gaps  # never the full timeout: systemd would have killed it
        assert any("STATUS=connected to the CSMS" in d for _, d in manager.received)
        print(f"READY {ready - started:.2f} s after exec (Python start-up included)")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 20) == 0
    await manager.wait_for("STOPPING=1", timeout=5)
    lines = (await stderr_task).decode().splitlines()
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all("ts" in e and e["logger"] for e in entries)
    frames = [e for e in entries if e.get("component") == "ocpp"]
    boot = next(e for e in frames if "BootNotification" in e["message"])
    assert boot["station"] == "SVC001" and boot["message_id"]
    assert any(e["component"] == "transport" and e["station"] == "SVC001" for e in entries)
    text = "\n".join(lines)
    assert "Authorization" in text  # websockets' handshake dump is there, but masked
    assert PASSWORD not in text
    assert csms.auth_headers["SVC001"] is not None
    assert csms.auth_headers["SVC001"].split()[1] not in text


async def test_ready_when_the_csms_cannot_be_reached(short_tmp: Path, manager: FakeManager) -> None:
    """READY means "started", not "connected": an unreachable CSMS must not fail the unit."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there
    station = Station(station_config(f"ws://127.0.0.1:{port}/ocpp", short_tmp / "d"))
    notifier = Notifier.from_environment({"NOTIFY_SOCKET": manager.name})
    assert notifier is not None
    station.service = ServiceManager(notifier, None)
    t0 = time.monotonic()
    await station.start()
    ready = await manager.wait_for("READY=1", timeout=5)
    assert not station.connected
    print(f"READY {1000 * (ready - t0):.1f} ms after Station.start() was called")
    await station.stop()
    notifier.close()


async def test_a_blocked_event_loop_stops_the_pings(
    csms: LocalCSMS, short_tmp: Path, manager: FakeManager
) -> None:
    station = Station(station_config(csms.url, short_tmp / "d"))
    notifier = Notifier.from_environment({"NOTIFY_SOCKET": manager.name})
    assert notifier is not None
    station.service = ServiceManager(notifier, 0.05)  # WATCHDOG_USEC=100000
    await station.start()
    try:
        await manager.wait_for("READY=1", timeout=5)
        await asyncio.sleep(0.5)
        before = len(manager.times("WATCHDOG=1"))
        assert before >= 5
        blocked_at = time.monotonic()
        time.sleep(1.0)  # noqa: ASYNC251 - on purpose: a wedged loop (a handler stuck in I/O)
        unblocked_at = time.monotonic()
        await asyncio.sleep(0.5)
        pings = manager.times("WATCHDOG=1")
        # (a ping sent just before the block may be read a little later by the thread)
        during = [t for t in pings if blocked_at + 0.1 < t < unblocked_at]
        assert during == []  # systemd sees silence for 1 s > WatchdogSec and restarts us
        assert len([t for t in pings if t > unblocked_at]) >= 5  # back once the loop runs
    finally:
        await station.stop()
    assert manager.times("STOPPING=1")
    notifier.close()
