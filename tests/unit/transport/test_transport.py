"""The websocket transport against real ``websockets`` servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
import random
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from pki import Pki, make_pki
from support import eventually
from websockets.asyncio.server import Server, ServerConnection, basic_auth, serve
from websockets.typing import Subprotocol

from ocpp_station.clock import ManualClock
from ocpp_station.transport import (
    BackOff,
    NotConnected,
    Transport,
    TransportConfig,
    TransportError,
)

OCPP = [Subprotocol("ocpp2.0.1")]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


class Station:
    """A Transport with recording callbacks."""

    def __init__(self, config: TransportConfig, **kwargs: Any) -> None:
        self.connects = 0
        self.disconnects = 0
        self.messages: asyncio.Queue[str] = asyncio.Queue()
        self.attempts: list[int] = []
        self.connected = asyncio.Event()
        options: dict[str, Any] = {
            "backoff": self._backoff,
            "ping_interval": lambda: 0.0,
            "open_timeout": 2.0,
        }
        options.update(kwargs)
        self.transport = Transport(
            config,
            on_connect=self._on_connect,
            on_message=self.messages.put,
            on_disconnect=self._on_disconnect,
            **options,
        )
        self.task: asyncio.Task[None] | None = None

    def _backoff(self) -> BackOff:
        station = self

        class Recording(BackOff):
            def delay(self, attempt: int) -> float:
                station.attempts.append(attempt)
                return super().delay(attempt)

        return Recording(0.01, 0.0, 3)

    async def _on_connect(self) -> None:
        self.connects += 1
        self.connected.set()

    def _on_disconnect(self) -> None:
        self.disconnects += 1
        self.connected.clear()

    async def __aenter__(self) -> Station:
        self.task = asyncio.create_task(self.transport.run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.wait_for(self.transport.stop(), 5)
        assert self.task is not None
        await asyncio.wait_for(self.task, 5)


Handler = Callable[[ServerConnection], Awaitable[None]]


@asynccontextmanager
async def csms(handler: Handler, **kwargs: Any) -> AsyncIterator[tuple[Server, int]]:
    options: dict[str, Any] = {"subprotocols": OCPP}
    options.update(kwargs)
    async with serve(handler, "127.0.0.1", 0, **options) as server:
        port = server.sockets[0].getsockname()[1]
        yield server, port


class Recorder:
    """A CSMS handler that records connections and keeps them open until closed by the client."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.received: list[str] = []
        self.close_codes: list[int | None] = []
        self.connections: list[ServerConnection] = []

    async def __call__(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        self.paths.append(ws.request.path)
        self.connections.append(ws)
        async for message in ws:
            self.received.append(str(message))
        self.close_codes.append(ws.close_code)


# --- configuration and back-off (pure) -----------------------------------------------------------


def test_url_has_one_slash_and_encodes_the_id() -> None:
    assert TransportConfig("ws://h/ocpp/", "CS001").url() == "ws://h/ocpp/CS001"
    assert TransportConfig("ws://h/ocpp", "CS001").url() == "ws://h/ocpp/CS001"
    # Part 4 section 3.1.1, example 2
    assert TransportConfig("wss://h/ocppj", "RDAM 123").url() == "wss://h/ocppj/RDAM%20123"


@pytest.mark.parametrize(
    "config, needle",
    [
        (TransportConfig("ws://h", ""), "empty"),
        (TransportConfig("ws://h", "A" * 49), "48"),
        (TransportConfig("ws://h", "CS:1"), "':'"),
        (TransportConfig("http://h", "CS1"), "ws:// or wss://"),
        (TransportConfig("ws://h", "CS1", security_profile=4), "1, 2 or 3"),
        (TransportConfig("ws://h", "CS1", security_profile=2), "wss://"),
        (TransportConfig("ws://h", "CS1", security_profile=3), "wss://"),
        (TransportConfig("wss://h", "CS1", security_profile=3), "cert_file and key_file"),
    ],
)
def test_bad_config_is_refused_precisely(config: TransportConfig, needle: str) -> None:
    with pytest.raises(TransportError, match=needle.replace("/", r"\/").replace(".", r"\.")):
        config.check()


def test_basic_auth_header_by_profile() -> None:
    header = TransportConfig("ws://h", "CS001", password="secret").headers()
    assert header == {"Authorization": "Basic Q1MwMDE6c2VjcmV0"}  # base64("CS001:secret")
    assert TransportConfig("ws://h", "CS001").headers() == {}
    mtls = TransportConfig("wss://h", "CS001", 3, "pw", cert_file="c", key_file="k")
    assert mtls.headers() == {}


def test_backoff_doubles_repeat_times_then_stays() -> None:
    # Part 4 section 5.3
    backoff = BackOff(wait_minimum=5, random_range=0, repeat_times=3)
    assert [backoff.delay(n) for n in range(6)] == [5, 10, 20, 40, 40, 40]


def test_backoff_adds_fresh_random_part() -> None:
    backoff = BackOff(10, 4, 2, rng=random.Random(1))
    delays = [backoff.delay(n) for n in range(50)]
    for n, delay in enumerate(delays):
        base = 10 * 2 ** min(n, 2)
        assert base <= delay <= base + 4
    assert len({round(d - 40, 9) for d in delays[2:]}) > 10  # a new random value every time
    again = BackOff(10, 4, 2, rng=random.Random(1))
    assert [again.delay(n) for n in range(50)] == delays  # seeded: reproducible


def test_backoff_zero_repeat_and_huge_attempts() -> None:
    assert BackOff(3, 0, 0).delay(7) == 3
    assert BackOff(1, 0, 10_000).delay(10_000) < float("inf")


@pytest.mark.parametrize("args", [(-1, 0, 0), (1, -1, 0), (1, 0, -1)])
def test_backoff_rejects_negative(args: tuple[float, float, int]) -> None:
    with pytest.raises(ValueError, match="RetryBackOff"):
        BackOff(*args)
    with pytest.raises(ValueError, match="attempt"):
        BackOff(1, 0, 0).delay(-1)


# --- real connections ---------------------------------------------------------------------------


async def test_connects_with_subprotocol_exchanges_and_stops_cleanly() -> None:
    recorder = Recorder()
    async with csms(recorder) as (_, port):
        station = Station(TransportConfig(f"ws://127.0.0.1:{port}/ocpp/", "CS001"))
        async with station:
            await asyncio.wait_for(station.connected.wait(), 5)
            assert station.transport.connected
            assert recorder.paths == ["/ocpp/CS001"]
            await station.transport.send('[2,"a","Heartbeat",{}]')
            await recorder.connections[0].send('[3,"a",{}]')
            assert await asyncio.wait_for(station.messages.get(), 5) == '[3,"a",{}]'
        await eventually(lambda: bool(recorder.close_codes))
    assert recorder.received == ['[2,"a","Heartbeat",{}]']
    assert recorder.close_codes == [1000]
    assert station.connects == 1 and station.disconnects == 1
    assert not station.transport.connected


async def test_send_while_offline_raises_not_connected() -> None:
    station = Station(TransportConfig("ws://127.0.0.1:1/ocpp", "CS001"))
    with pytest.raises(NotConnected):
        await station.transport.send("[]")


async def test_subprotocol_refused_counts_as_failed_attempt(
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = Recorder()
    async with csms(recorder, subprotocols=None) as (_, port):
        station = Station(TransportConfig(f"ws://127.0.0.1:{port}/ocpp", "CS001"))
        with caplog.at_level(logging.ERROR):
            async with station:
                await eventually(lambda: station.transport.failed_attempts >= 2)
    assert station.connects == 0
    assert station.attempts[:2] == [0, 1]  # the back-off grows
    assert "did not agree to subprotocol ocpp2.0.1" in caplog.text


@pytest.mark.parametrize("password, ok", [("secret", True), ("wrong", False), (None, False)])
async def test_basic_auth_checked_by_server(password: str | None, ok: bool) -> None:
    recorder = Recorder()
    auth = basic_auth(credentials=("CS001", "secret"))
    async with csms(recorder, process_request=auth) as (_, port):
        config = TransportConfig(f"ws://127.0.0.1:{port}/ocpp", "CS001", password=password)
        station = Station(config)
        async with station:
            if ok:
                await asyncio.wait_for(station.connected.wait(), 5)
            else:
                await eventually(lambda: station.transport.failed_attempts >= 2)
    assert (station.connects == 1) is ok


async def test_profile2_tls_with_test_ca(pki: Pki) -> None:
    recorder = Recorder()
    auth = basic_auth(credentials=("CS001", "secret"))
    async with csms(recorder, ssl=pki.server_ssl_context(), process_request=auth) as (_, port):
        config = TransportConfig(
            f"wss://127.0.0.1:{port}/ocpp", "CS001", 2, "secret", ca_file=str(pki.ca_cert)
        )
        station = Station(config)
        async with station:
            await asyncio.wait_for(station.connected.wait(), 5)
    assert recorder.paths == ["/ocpp/CS001"]


async def test_profile2_wrong_ca_fails_and_retries(
    pki: Pki, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder()
    async with csms(recorder, ssl=pki.server_ssl_context()) as (_, port):
        config = TransportConfig(
            f"wss://127.0.0.1:{port}/ocpp", "CS001", 2, "secret", ca_file=str(pki.other_ca_cert)
        )
        station = Station(config)
        with caplog.at_level(logging.ERROR):
            async with station:
                await eventually(lambda: station.transport.failed_attempts >= 2)
    assert station.connects == 0 and recorder.paths == []
    assert "certificate" in caplog.text and "failed verification" in caplog.text


async def test_profile2_missing_ca_file_is_a_failed_attempt(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = TransportConfig(
        "wss://127.0.0.1:1/ocpp", "CS001", 2, "pw", ca_file=str(tmp_path / "missing.pem")
    )
    station = Station(config)
    with caplog.at_level(logging.ERROR):
        async with station:
            await eventually(lambda: station.transport.failed_attempts >= 1)
    assert "cannot set up TLS" in caplog.text


async def test_profile3_mutual_tls(pki: Pki) -> None:
    recorder = Recorder()
    server_ssl = pki.server_ssl_context(require_client_cert=True)
    async with csms(recorder, ssl=server_ssl) as (_, port):
        config = TransportConfig(
            f"wss://127.0.0.1:{port}/ocpp",
            "CS001",
            3,
            ca_file=str(pki.ca_cert),
            cert_file=str(pki.client_cert),
            key_file=str(pki.client_key),
        )
        station = Station(config)
        async with station:
            await asyncio.wait_for(station.connected.wait(), 5)
            peer = recorder.connections[0].transport.get_extra_info("peercert")
            assert ("commonName", "CS001") in [field for rdn in peer["subject"] for field in rdn]
            assert "Authorization" not in recorder.connections[0].request.headers  # type: ignore[union-attr]


async def test_profile3_client_cert_from_other_ca_refused(pki: Pki) -> None:
    recorder = Recorder()
    server_ssl = pki.server_ssl_context(require_client_cert=True)
    async with csms(recorder, ssl=server_ssl) as (_, port):
        config = TransportConfig(
            f"wss://127.0.0.1:{port}/ocpp",
            "CS001",
            3,
            ca_file=str(pki.ca_cert),
            cert_file=str(pki.other_client_cert),
            key_file=str(pki.other_client_key),
        )
        station = Station(config)
        async with station:
            await eventually(lambda: station.transport.failed_attempts >= 2)
    assert station.connects == 0 and recorder.paths == []


async def test_reconnects_after_server_drops_connection() -> None:
    seen: list[int] = []

    async def flaky(ws: ServerConnection) -> None:
        seen.append(1)
        if len(seen) == 1:
            await ws.close(code=1011)  # the CSMS drops the first connection
            return
        await ws.wait_closed()

    async with csms(flaky) as (_, port):
        station = Station(TransportConfig(f"ws://127.0.0.1:{port}/ocpp", "CS001"))
        async with station:
            await eventually(lambda: station.connects == 2)
            assert station.disconnects == 1
            assert station.attempts == [0]  # one back-off wait, the first one
            assert station.transport.connected
    assert station.disconnects == 2


async def test_backoff_resets_after_a_good_connection() -> None:
    # nothing listens on this port: every attempt fails fast
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    station = Station(TransportConfig(f"ws://127.0.0.1:{port}/ocpp", "CS001"))
    async with station:
        await eventually(lambda: len(station.attempts) >= 5)
    assert station.attempts[:5] == [0, 1, 2, 3, 4]
    assert station.connects == 0


async def test_open_timeout_counts_as_failure() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(-1)  # accept TCP, never answer the HTTP upgrade
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        config = TransportConfig(f"ws://127.0.0.1:{port}/ocpp", "CS001")
        station = Station(config, open_timeout=0.1)
        async with station:
            await eventually(lambda: station.transport.failed_attempts >= 1)
    assert station.connects == 0


async def test_stop_interrupts_a_long_back_off() -> None:
    clock = ManualClock()

    def backoff() -> BackOff:
        return BackOff(3600, 0, 0)

    station = Station(TransportConfig("ws://127.0.0.1:1/ocpp", "CS001"), clock=clock)
    station.transport._backoff = backoff
    async with station:
        await eventually(lambda: station.transport.failed_attempts >= 1)
        await asyncio.sleep(0.01)  # now asleep on the ManualClock for an hour
    assert station.task is not None and station.task.done()


async def test_ping_interval_read_per_connection() -> None:
    recorder = Recorder()
    intervals = [0.0, 5.0]
    async with csms(recorder) as (_, port):
        station = Station(
            TransportConfig(f"ws://127.0.0.1:{port}/ocpp", "CS001"),
            ping_interval=lambda: intervals[0],
        )
        async with station:
            await asyncio.wait_for(station.connected.wait(), 5)
            ws = station.transport._ws
            assert ws is not None and ws.ping_interval is None  # 0 disables pings
            intervals[0] = 5.0
            await recorder.connections[0].close()
            await eventually(lambda: station.connects == 2)
            ws = station.transport._ws
            assert ws is not None and ws.ping_interval == 5.0


async def test_run_twice_is_refused() -> None:
    station = Station(TransportConfig("ws://127.0.0.1:1/ocpp", "CS001"))
    async with station:
        await asyncio.sleep(0)
        with pytest.raises(TransportError, match="already running"):
            await station.transport.run()


async def test_select_gives_the_config_of_every_attempt_and_hears_the_outcome() -> None:
    """Network connection profiles (B10): ``select`` is asked before every attempt, an unusable
    choice is a failed attempt, ``on_attempt`` hears each outcome before ``on_connect``."""
    with socket.socket() as probe:  # nothing listens here: attempts fail fast
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    recorder = Recorder()
    async with csms(recorder) as (_, port):
        choices = [
            TransportConfig(f"ws://127.0.0.1:{dead}/ocpp", "CS001"),
            TransportConfig("wss://127.0.0.1:1/ocpp", "CS001", security_profile=0),  # unusable
            TransportConfig(f"ws://127.0.0.1:{port}/ocpp", "CS001"),
        ]
        outcomes: list[tuple[bool, int]] = []

        def select() -> TransportConfig:
            return choices[min(len(outcomes), 2)]

        station = Station(
            choices[0],
            select=select,
            on_attempt=lambda ok: outcomes.append((ok, station.connects)),
        )
        async with station:
            await asyncio.wait_for(station.connected.wait(), 5)
            assert station.transport.config is choices[2]
        # the first attempt failed, the unusable one too (without a connection), then it worked,
        # reported before on_connect ran (connects was still 0)
        assert outcomes == [(False, 0), (False, 0), (True, 0)]
        assert recorder.paths == ["/ocpp/CS001"]
        assert station.transport.failed_attempts == 0


async def test_before_attempt_may_change_the_client_certificate_per_attempt(pki: Pki) -> None:
    """``before_attempt`` runs before every connection attempt; the station uses it to pick the
    client certificate (the renewed pair, or back to the previous one, A02.FR.28)."""
    recorder = Recorder()
    server_ssl = pki.server_ssl_context(require_client_cert=True)
    async with csms(recorder, ssl=server_ssl) as (_, port):
        config = TransportConfig(
            f"wss://127.0.0.1:{port}/ocpp",
            "CS001",
            3,
            ca_file=str(pki.ca_cert),
            cert_file=str(pki.other_client_cert),  # refused by the server
            key_file=str(pki.other_client_key),
        )
        seen: list[int] = []
        station: Station | None = None

        def before() -> None:
            assert station is not None
            failed = station.transport.failed_attempts
            seen.append(failed)
            if failed >= 2:  # after two failures: the pair the server trusts
                config.cert_file, config.key_file = str(pki.client_cert), str(pki.client_key)

        station = Station(config, before_attempt=before)
        async with station:
            await asyncio.wait_for(station.connected.wait(), 10)
        assert seen == [0, 1, 2]
        assert station.connects == 1
