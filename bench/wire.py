"""A raw websocket CSMS for the benchmarks: the same thin code measures every kind of station.

It answers each station→CSMS CALL from a fixed table (no schema validation, no routing framework,
so its own cost stays small and equal for every target), records when each action arrived, and
sends raw CALL frames to a station, timing each round trip.  Run it as its own process with
``python -m bench.wire [--port P] [--heartbeat-interval S]``: it prints ``{"url": ...}`` as its
first line, serves until its standard input closes or it gets SIGTERM, then prints its counters
as one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import itertools
import json
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import websockets
from websockets.asyncio.server import Server, ServerConnection


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class RawCSMS:
    """``ws://127.0.0.1:<port>/ocpp/<station id>`` with subprotocol ocpp2.0.1.

    Every :data:`FREEZE_EVERY` connections it moves what it holds so far out of the cyclic
    collector's reach (``gc.freeze``): the connections' objects live as long as the benchmark,
    and without this its full collections grew with the fleet (a 10,000-station storm: 9 of up
    to 0.58 s, 3.6 s in all), each one holding up every station waiting for an answer, which
    measured this process's collector, not the station.  Nothing is collected from the frozen
    objects any more: the process lives for one benchmark."""

    FREEZE_EVERY = 100

    def __init__(self, heartbeat_interval: int = 300, *, compression: str | None = "deflate"):
        self.heartbeat_interval = heartbeat_interval
        self.compression = compression
        self.port = 0
        self.links: dict[str, ServerConnection] = {}
        self.counts: Counter[str] = Counter()
        self.received: Counter[tuple[str, str]] = Counter()  # (station, action) -> CALLs
        self.first: dict[tuple[str, str], float] = {}  # (station, action) -> perf_counter
        self.last: dict[str, float] = {}  # action -> perf_counter of the latest arrival
        self.connections = 0
        self.on_call: Callable[[str, str, Any, float], None] | None = None
        self._pending: dict[str, asyncio.Future[list[Any]]] = {}
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()
        self._server: Server | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"

    async def start(self) -> RawCSMS:
        self._server = await websockets.serve(
            self._handle,
            "127.0.0.1",
            self.port,
            subprotocols=["ocpp2.0.1"],  # type: ignore[list-item]
            compression=self.compression,
            ping_interval=None,
            max_queue=None,
            backlog=4096,
        )
        self.port = next(iter(self._server.sockets)).getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def _answer(self, action: str, payload: Any) -> dict[str, Any] | None:
        if action == "BootNotification":
            return {
                "currentTime": now_iso(),
                "interval": self.heartbeat_interval,
                "status": "Accepted",
            }
        if action == "Heartbeat":
            return {"currentTime": now_iso()}
        if action in ("Authorize",) or (
            action == "TransactionEvent" and isinstance(payload, dict) and "idToken" in payload
        ):
            return {"idTokenInfo": {"status": "Accepted"}}
        if action == "DataTransfer":
            return {"status": "UnknownVendorId"}
        if action in (
            "StatusNotification",
            "TransactionEvent",
            "MeterValues",
            "NotifyReport",
            "NotifyEvent",
            "SecurityEventNotification",
            "ReportChargingProfiles",
            "NotifyChargingLimit",
            "ClearedChargingLimit",
            "FirmwareStatusNotification",
            "LogStatusNotification",
        ):
            return {}
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        station = ws.request.path.rstrip("/").rsplit("/", 1)[-1]
        self.links[station] = ws
        self.connections += 1
        if self.connections % self.FREEZE_EVERY == 0:
            gc.freeze()
        self._changed.set()
        try:
            async for text in ws:
                t = time.perf_counter()
                try:
                    msg = json.loads(text)
                    kind, mid = msg[0], msg[1]
                except (ValueError, TypeError, IndexError, KeyError):
                    continue
                future = self._pending.pop(mid, None)
                if future is not None:  # the answer to our CALL (an echo station returns it)
                    if not future.done():
                        future.set_result(msg)
                    continue
                if kind == 2:
                    action, payload = msg[2], msg[3]
                    self.counts[action] += 1
                    self.received[station, action] += 1
                    self.first.setdefault((station, action), t)
                    self.last[action] = t
                    if self.on_call is not None:
                        self.on_call(station, action, payload, t)
                    answer = self._answer(action, payload)
                    if answer is None:
                        reply = [4, mid, "NotImplemented", f"{action} not handled", {}]
                    else:
                        reply = [3, mid, answer]
                    await ws.send(json.dumps(reply, separators=(",", ":")))
                    self._changed.set()
        except websockets.ConnectionClosed:
            pass
        finally:
            if self.links.get(station) is ws:
                del self.links[station]
            self._changed.set()

    async def call(
        self, station: str, action: str, payload: dict[str, Any], timeout: float = 10.0
    ) -> tuple[list[Any], float]:
        """Send a raw CALL frame and wait for the frame with the same message id; returns that
        frame and the round trip in seconds (send to arrival of the answer)."""
        ws = self.links[station]
        mid = f"b{next(self._ids)}"
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._pending[mid] = future
        text = json.dumps([2, mid, action, payload], separators=(",", ":"))
        t0 = time.perf_counter()
        await ws.send(text)
        try:
            answer = await asyncio.wait_for(future, timeout)
        finally:
            self._pending.pop(mid, None)
        return answer, time.perf_counter() - t0

    async def wait_for(self, predicate: Callable[[], Any], timeout: float) -> Any:
        """Wait until ``predicate()`` is truthy (checked after every frame and every 20 ms)."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"timed out after {timeout:g} s waiting for {predicate}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(left, 0.02))

    def stats(self) -> dict[str, Any]:
        return {"connections": self.connections, "counts": dict(self.counts)}


async def _serve(port: int, heartbeat_interval: int, compression: str | None) -> None:
    from bench.common import GcPauses  # (this module stays importable without the bench)

    pauses = GcPauses().install()
    pauses.recording = True
    csms = RawCSMS(heartbeat_interval, compression=compression)
    csms.port = port
    await csms.start()
    print(json.dumps({"url": csms.url}), flush=True)
    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, done.set)
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    async def eof() -> None:
        while await reader.read(4096):
            pass
        done.set()

    watcher = asyncio.create_task(eof())
    await done.wait()
    watcher.cancel()
    await csms.stop()
    print(json.dumps({**csms.stats(), "gc": pauses.summary()}), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.wire", description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--heartbeat-interval", type=int, default=300)
    parser.add_argument(
        "--compression",
        choices=("deflate", "none"),
        default="deflate",
        help="accept permessage-deflate when a station offers it (default) or never",
    )
    args = parser.parse_args(argv)
    from ocpp_station.fleet import raise_fd_limit

    raise_fd_limit(65536)
    compression = None if args.compression == "none" else "deflate"
    asyncio.run(_serve(args.port, args.heartbeat_interval, compression))
    return 0


if __name__ == "__main__":
    sys.exit(main())
