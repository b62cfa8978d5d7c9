"""The control socket server and client on their own (no station): a client that does not read
is dropped, never waited for; a reply that is no JSON is reported as such."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from support import LineClient

from ocpp_station.control import server as server_module
from ocpp_station.control.server import ControlError, ControlServer, call


async def test_a_client_that_does_not_read_is_dropped_not_waited_for(
    short_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server_module, "MAX_PENDING", 4)
    server = ControlServer(short_tmp / "s.sock", topics=["event_data"])
    await server.start()
    try:
        client = await LineClient.open(server.path)
        await client.request("subscribe", {"topics": ["event_data"]})
        big = "x" * 200_000
        for _ in range(40):  # ~8 MB that nobody reads: publish must never block
            await asyncio.wait_for(server.publish("event_data", big), 1.0)
        assert server._clients == set()
        await client.close()
        # Other clients are served as before.
        assert await call(server.path, "subscribe", {"topics": []}) == []
    finally:
        await server.close()


async def test_call_reports_a_bad_reply(short_tmp: Path) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        writer.write(b"<html>not a control server</html>\n")
        await writer.drain()
        writer.close()

    path = short_tmp / "x.sock"
    server = await asyncio.start_unix_server(answer, path=str(path))
    try:
        with pytest.raises(ControlError) as info:
            await call(path, "status")
        assert info.value.code == "BadReply"
        assert "not valid JSON" in info.value.message
    finally:
        server.close()
        await server.wait_closed()
    with pytest.raises(OSError):  # nobody listens any more
        await call(short_tmp / "gone.sock", "status")
