"""``Transport``'s ``on_connect_failed``: a failed attempt that is a security event is reported
with its type; other failures are not (real servers on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from pki import Pki, make_pki
from websockets.asyncio.server import ServerConnection, basic_auth, serve
from websockets.typing import Subprotocol

from ocpp_station.transport import BackOff, Transport, TransportConfig

OCPP = [Subprotocol("ocpp2.0.1")]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


async def attempts(config: TransportConfig, count: int) -> list[tuple[str, str]]:
    """Run a transport until it failed ``count`` attempts; the reported failures."""
    reported: list[tuple[str, str]] = []
    enough = asyncio.Event()

    def backoff() -> BackOff:  # read after every attempt, failed_attempts already counted
        if transport.failed_attempts >= count:
            enough.set()
        return BackOff(0.01, 0.0, 0)

    async def nothing() -> None:
        return None

    async def ignore(_: str) -> None:
        return None

    transport = Transport(
        config,
        on_connect=nothing,
        on_message=ignore,
        on_disconnect=lambda: None,
        backoff=backoff,
        ping_interval=lambda: 0.0,
        open_timeout=2.0,
        on_connect_failed=lambda kind, detail: reported.append((kind, detail)),
    )
    task = asyncio.create_task(transport.run())
    try:
        await asyncio.wait_for(enough.wait(), 10)
    finally:
        await transport.stop()
        await task
    return reported


async def handler(ws: ServerConnection) -> None:
    await ws.close()


async def test_http_401_is_failed_to_authenticate() -> None:
    auth = basic_auth(credentials=("CS001", "the-right-password-123"))
    async with serve(handler, "127.0.0.1", 0, subprotocols=OCPP, process_request=auth) as server:
        port = server.sockets[0].getsockname()[1]
        config = TransportConfig(f"ws://127.0.0.1:{port}", "CS001", password="a-wrong-password-12")
        reported = await attempts(config, 2)
    assert len(reported) >= 2  # the transport reports every attempt; the block thins them out
    assert set(reported) == {
        ("FailedToAuthenticateAtCsms", "the CSMS answered the upgrade with HTTP 401")
    }


async def test_an_untrusted_csms_certificate_is_reported(pki: Pki, tmp_path: Path) -> None:
    other = make_pki(tmp_path / "other")
    server_ctx = other.server_ssl_context()
    async with serve(handler, "127.0.0.1", 0, subprotocols=OCPP, ssl=server_ctx) as server:
        port = server.sockets[0].getsockname()[1]
        config = TransportConfig(
            f"wss://127.0.0.1:{port}",
            "CS001",
            security_profile=2,
            password="a-password-0123456",
            ca_file=str(pki.ca_cert),
        )
        reported = await attempts(config, 1)
    assert reported and reported[0][0] == "InvalidCsmsCertificate"
    assert "unable to get local issuer certificate" in reported[0][1]


async def test_a_refused_connection_is_no_security_event() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there once closed
    config = TransportConfig(f"ws://127.0.0.1:{port}", "CS001", password="a-password-0123456")
    assert await attempts(config, 2) == []
