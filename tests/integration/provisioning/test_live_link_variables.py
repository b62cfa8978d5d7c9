"""The connection settings of OCPPCommCtrlr as the CSMS side sees them (issue 14: no inert
variable): the reconnect back-off (RetryBackOffWaitMinimum, RetryBackOffRandomRange,
RetryBackOffRepeatTimes, Part 4 section 5.3) counted as connection attempts at the CSMS's address,
and WebSocketPingInterval as the pings the CSMS receives."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from support import StationFactory
from websockets.frames import Frame, Opcode

from ocpp_station.csms import LocalCSMS


class AttemptCounter:
    """A TCP listener where a CSMS should be: counts connection attempts and closes each one."""

    def __init__(self) -> None:
        self.attempts = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._refuse, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"ws://127.0.0.1:{port}/ocpp"

    async def _refuse(self, _: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.attempts += 1
        writer.close()

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()


async def test_reconnect_back_off_follows_the_retry_variables(
    make_station: StationFactory, short_tmp: Path
) -> None:
    """Attempts in 4.5 s against an address that accepts and drops every connection: each wait
    is RetryBackOffWaitMinimum doubled per failed attempt up to RetryBackOffRepeatTimes times,
    plus up to RetryBackOffRandomRange seconds."""
    cases: list[tuple[dict[str, Any], range]] = [
        ({"RetryBackOffWaitMinimum": 1, "RetryBackOffRepeatTimes": 0}, range(4, 99)),  # 0,1,2,3,4
        ({"RetryBackOffWaitMinimum": 1, "RetryBackOffRepeatTimes": 3}, range(2, 4)),  # 0,1,3
        ({"RetryBackOffWaitMinimum": 10, "RetryBackOffRepeatTimes": 0}, range(1, 2)),  # 0
        ({"RetryBackOffWaitMinimum": 0, "RetryBackOffRandomRange": 3600}, range(1, 2)),  # 0
    ]
    counters = []
    for n, (values, _) in enumerate(cases):
        counter = AttemptCounter()
        url = await counter.start()
        counters.append(counter)
        device_model = {"OCPPCommCtrlr.RetryBackOffRandomRange": 0}
        device_model |= {f"OCPPCommCtrlr.{k}": v for k, v in values.items()}
        await make_station(url=url, station_id=f"CS{n + 1:03d}", device_model=device_model)
    try:
        await asyncio.sleep(4.5)
        attempts = [c.attempts for c in counters]
        assert all(seen in want for seen, (_, want) in zip(attempts, cases)), attempts
    finally:
        for counter in counters:
            counter.stop()


async def test_websocket_ping_interval(csms: LocalCSMS, make_station: StationFactory) -> None:
    """WebSocketPingInterval 1: the station pings the CSMS every second; 0: never (Part 4)."""
    pinging = await make_station(
        station_id="CS001", device_model={"OCPPCommCtrlr.WebSocketPingInterval": 1}
    )
    quiet = await make_station(
        station_id="CS002", device_model={"OCPPCommCtrlr.WebSocketPingInterval": 0}
    )
    await csms.wait_for(lambda: pinging.online and quiet.online)
    pings: dict[str, int] = {"CS001": 0, "CS002": 0}
    for station in pings:
        connection = csms.links[station]._connection
        process = connection.process_event

        def count(event: Any, station: str = station, process: Any = process) -> None:
            if isinstance(event, Frame) and event.opcode is Opcode.PING:
                pings[station] += 1
            process(event)

        connection.process_event = count  # type: ignore[method-assign]
    await asyncio.sleep(2.5)
    assert pings["CS001"] >= 2 and pings["CS002"] == 0, pings
