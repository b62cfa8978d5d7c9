"""The station's websocket connection reads its socket 64 KiB at a time (``ws_client``), against
a real ``websockets`` server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from ocpp_station.ws_client import READ_SIZE, StationConnection, small_reads


async def _echo(ws: ServerConnection) -> None:
    async for message in ws:
        await ws.send(message)


async def test_a_station_connection_reads_64_kib_and_still_gets_a_large_frame_whole() -> None:
    async with serve(_echo, "127.0.0.1", 0, max_size=None) as server:
        port = server.sockets[0].getsockname()[1]
        async with connect(
            f"ws://127.0.0.1:{port}", create_connection=StationConnection, max_size=None
        ) as ws:
            assert ws.transport.max_size == READ_SIZE  # type: ignore[attr-defined]
            small = '[2,"1","Heartbeat",{}]'
            await ws.send(small)
            assert await asyncio.wait_for(ws.recv(), 5) == small
            # a frame four times the read size arrives over several reads, whole
            large = json.dumps([2, "2", "DataTransfer", {"vendorId": "x", "data": "y" * 300_000}])
            await ws.send(large)
            assert await asyncio.wait_for(ws.recv(), 5) == large


async def test_other_transports_are_left_alone() -> None:
    class Pipe(asyncio.BaseTransport):  # no read size of its own (like TLS: its own buffer)
        pass

    class Larger(asyncio.BaseTransport):
        max_size = 1024  # already below the read size: not raised

    pipe, larger = Pipe(), Larger()
    small_reads(pipe)
    small_reads(larger)
    assert not hasattr(pipe, "max_size")
    assert larger.max_size == 1024
