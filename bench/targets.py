"""The comparison stations the benchmarks measure ours against, each run as its own process.

``python -m bench.targets peer --url URL --id ID``: a minimal station on the ``ocpp`` package
(``ocpp.v201.ChargePoint`` as the client): it sends a BootNotification, then answers GetVariables
and ChangeAvailability from a dict with ``@on`` handlers.  The package validates every message
against the official schemas, as ours does.

``python -m bench.targets echo --url URL --id ID``: a bare websocket client that sends one raw
BootNotification frame and echoes every frame it receives unchanged: the floor of any station
written in Python with the same websockets library.

Both stop cleanly (close code 1000, exit 0) on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

SUBPROTOCOL = Subprotocol("ocpp2.0.1")

# The variables the peer "has": (component, variable) -> value.
PEER_VARIABLES: dict[tuple[str, str], str] = {
    ("OCPPCommCtrlr", "HeartbeatInterval"): "300",
    ("OCPPCommCtrlr", "MessageTimeout"): "30",
    ("ChargingStation", "AvailabilityState"): "Available",
}


async def _open(url: str, station_id: str) -> ClientConnection:
    return await connect(f"{url.rstrip('/')}/{station_id}", subprotocols=[SUBPROTOCOL], proxy=None)


async def _until_signal(work: asyncio.Task[Any]) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    waiter = asyncio.ensure_future(stop.wait())
    await asyncio.wait({work, waiter}, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    work.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await work


async def run_peer(url: str, station_id: str) -> None:
    from ocpp.routing import on
    from ocpp.v201 import ChargePoint, call, call_result

    class PeerStation(ChargePoint):
        @on("GetVariables")
        async def on_get_variables(self, get_variable_data: list[dict[str, Any]], **_: Any) -> Any:
            results = []
            for item in get_variable_data:
                key = (item["component"]["name"], item["variable"]["name"])
                value = PEER_VARIABLES.get(key)
                result: dict[str, Any] = {
                    "attribute_status": "Accepted" if value is not None else "UnknownVariable",
                    "component": item["component"],
                    "variable": item["variable"],
                }
                if value is not None:
                    result["attribute_value"] = value
                results.append(result)
            return call_result.GetVariables(get_variable_result=results)

        @on("ChangeAvailability")
        async def on_change_availability(self, operational_status: str, **_: Any) -> Any:
            return call_result.ChangeAvailability(status="Accepted")

    ws = await _open(url, station_id)
    station = PeerStation(station_id, ws)
    serving = asyncio.create_task(station.start())
    await station.call(
        call.BootNotification(
            charging_station={"model": "peer", "vendor_name": "bench"}, reason="PowerUp"
        )
    )
    try:
        await _until_signal(serving)
    finally:
        await ws.close(code=1000)


async def run_echo(url: str, station_id: str) -> None:
    ws = await _open(url, station_id)
    boot = {"reason": "PowerUp", "chargingStation": {"model": "echo", "vendorName": "bench"}}
    await ws.send(json.dumps([2, "boot-1", "BootNotification", boot]))

    async def echo() -> None:
        async for message in ws:
            await ws.send(message)

    try:
        await _until_signal(asyncio.create_task(echo()))
    finally:
        await ws.close(code=1000)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.targets", description=__doc__)
    parser.add_argument("kind", choices=("peer", "echo"))
    parser.add_argument("--url", required=True, help="CSMS base URL, e.g. ws://127.0.0.1:9000/ocpp")
    parser.add_argument("--id", required=True, help="station id")
    args = parser.parse_args(argv)
    runner = run_peer if args.kind == "peer" else run_echo
    asyncio.run(runner(args.url, args.id))
    return 0


if __name__ == "__main__":
    sys.exit(main())
