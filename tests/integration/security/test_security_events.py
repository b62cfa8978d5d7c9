"""Security events and the security log (A04) and the TLS checks (A00.FR.308-323), against the
``ocpp``-package CSMS and real TLS servers, with certificates made by ``cryptography``."""

from __future__ import annotations

import socket
import ssl
import threading
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest
from cryptography.x509.oid import ExtendedKeyUsageOID
from filetransfer import FileServer
from pki import Pki, issue_leaf, issue_server, make_pki, name
from support import PASSWORD, StationFactory, station_config

from ocpp_station import Station
from ocpp_station.csms import LocalCSMS

# -- TLS servers a station cannot (or must not) connect to -----------------------------------------
# HandshakeServer is a real TLS server on 127.0.0.1 that only does the handshake (in a thread,
# with the blocking ssl module, which sends the TLS alert of a failed handshake to the client as a
# production TLS terminator does; asyncio's servers drop the connection without it).


class HandshakeServer:
    """Accepts TCP connections and runs the TLS handshake with ``context``; counts attempts."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self.context = context
        self.attempts = 0
        self.failures: list[str] = []  # the server side's handshake errors
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"wss://127.0.0.1:{self.port}/ocpp"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.attempts += 1
            conn.settimeout(5)
            try:
                with self.context.wrap_socket(conn, server_side=True):
                    pass
            except (OSError, ssl.SSLError) as exc:
                self.failures.append(str(exc))
            finally:
                conn.close()

    def __enter__(self) -> HandshakeServer:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._listener.close()
        self._thread.join(5)


def _server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def legacy_tls_context(pki: Pki) -> ssl.SSLContext:
    """A server that speaks TLS 1.0 and 1.1 only (A00.FR.316: the station must refuse it)."""
    context = _server_context(pki.server_cert, pki.server_key)
    context.set_ciphers("DEFAULT:@SECLEVEL=0")  # OpenSSL 3 allows TLS < 1.2 only at level 0
    with warnings.catch_warnings():  # the point of this server: the deprecated versions
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    return context


def cbc_only_context(pki: Pki) -> ssl.SSLContext:
    """A TLS 1.2 server with only a CBC/SHA-1 suite (A00.FR.320/323: not allowed)."""
    context = _server_context(pki.server_cert, pki.server_key)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers("ECDHE-ECDSA-AES128-SHA")
    return context


def untrusted_context(pki: Pki) -> ssl.SSLContext:
    """A server whose certificate comes from a CA the station does not trust (``pki`` is
    another PKI than the station's)."""
    return _server_context(pki.server_cert, pki.server_key)


def other_host_context(pki: Pki, directory: Path, host: str = "csms.example.com") -> ssl.SSLContext:
    """A server certificate from the trusted CA, but for another host name (A00.FR.309)."""
    server = issue_server(pki.ca, host, hosts=[host])
    cert_path, key_path = server.write(directory, "other_host")
    return _server_context(cert_path, key_path)


def expired_context(pki: Pki, directory: Path) -> ssl.SSLContext:
    """A server certificate from the trusted CA for the right host, expired (TC_A_05)."""
    server = issue_leaf(
        pki.ca, name("localhost"), ExtendedKeyUsageOID.SERVER_AUTH, days=0.5, hosts=["127.0.0.1"]
    )
    cert_path, key_path = server.write(directory, "expired")
    return _server_context(cert_path, key_path)


# -- the tests -------------------------------------------------------------------------------------

FAST_RETRY = {"OCPPCommCtrlr.RetryBackOffRepeatTimes": 0}  # a retry every second


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path / "pki", station_id="CS001")


@pytest.fixture
async def stations() -> AsyncIterator[list[Station]]:
    running: list[Station] = []
    yield running
    for station in running:
        await station.stop()


@pytest.fixture
def http_server() -> Iterator[FileServer]:
    server = FileServer().start()
    yield server
    server.stop()


async def start(stations: list[Station], url: str, data_dir: Path, **kwargs: Any) -> Station:
    config = station_config(url, data_dir, device_model=FAST_RETRY, **kwargs)
    station = Station(config)
    stations.append(station)
    await station.start()
    return station


async def failed_attempts(csms: LocalCSMS, station: Station, count: int) -> None:
    """Wait until the station has failed ``count`` connection attempts in a row."""
    await csms.wait_for(lambda: station.transport.failed_attempts >= count, timeout=30)


def events(csms: LocalCSMS, kind: str | None = None) -> list[dict[str, Any]]:
    return [
        p for p in csms.received("SecurityEventNotification") if kind is None or p["type"] == kind
    ]


def log_statuses(csms: LocalCSMS) -> list[tuple[str, int | None]]:
    return [(p["status"], p.get("requestId")) for p in csms.received("LogStatusNotification")]


async def security_log(csms: LocalCSMS, http: FileServer, request_id: int) -> list[str]:
    """GetLog(SecurityLog) from the CSMS; the uploaded file's event lines (N01.FR.03)."""
    request = {
        "logType": "SecurityLog",
        "requestId": request_id,
        "retries": 0,
        "log": {"remoteLocation": http.url(f"/sec{request_id}")},
    }
    assert (await csms.send("CS001", "GetLog", request))["status"] == "Accepted"
    await csms.wait_for(lambda: ("Uploaded", request_id) in log_statuses(csms))
    [upload] = [u for u in http.uploads if u.path == f"/sec{request_id}"]
    body = upload.body.decode()
    return [line for line in body.splitlines() if line[:2] == "20"]


Bad = Callable[[Pki, Path], ssl.SSLContext]


@pytest.mark.parametrize(
    "server, event, detail",
    [
        # A00.FR.310/311: a CSMS certificate from a CA the station does not trust
        (
            lambda pki, tmp: untrusted_context(make_pki(tmp / "other")),
            "InvalidCsmsCertificate",
            "certificate",
        ),
        # A00.FR.309/310: a trusted CA, but the certificate names another host
        (
            lambda pki, tmp: other_host_context(pki, tmp / "host"),
            "InvalidCsmsCertificate",
            "mismatch",
        ),
        # A00.FR.310 (TC_A_05): a trusted CA and the right host, but expired
        (
            lambda pki, tmp: expired_context(pki, tmp / "expired"),
            "InvalidCsmsCertificate",
            "expired",
        ),
        # A00.FR.313/316: the CSMS offers TLS 1.0/1.1 only
        (lambda pki, tmp: legacy_tls_context(pki), "InvalidTLSVersion", "PROTOCOL_VERSION"),
        # A00.FR.320/323: the CSMS offers only a suite A00 does not allow
        (lambda pki, tmp: cbc_only_context(pki), "InvalidTLSCipherSuite", "HANDSHAKE_FAILURE"),
    ],
    ids=["untrusted-ca", "other-host", "expired", "tls-1.1", "cbc-only"],
)
async def test_a_refused_csms_raises_the_event_once_and_it_arrives_over_a_good_connection(
    pki: Pki,
    short_tmp: Path,
    tmp_path: Path,
    stations: list[Station],
    server: Bad,
    event: str,
    detail: str,
) -> None:
    """The station terminates the connection, raises the event once for the whole series of
    failed attempts (A00.FR.316 note) and queues it (critical, A04.FR.02); restarted with the
    same data directory against a CSMS it trusts, it delivers it there."""
    data_dir = short_tmp / "CS001"
    good = await LocalCSMS(ssl_context=pki.server_ssl_context()).start()
    try:
        with HandshakeServer(server(pki, tmp_path)) as bad:
            station = await start(
                stations, bad.url, data_dir, security_profile=2, ca_file=str(pki.ca_cert)
            )
            await failed_attempts(good, station, 3)
            assert bad.attempts >= 3
            assert not station.connected
            await station.stop()
        await start(stations, good.url, data_dir, security_profile=2, ca_file=str(pki.ca_cert))
        # queued in order: this start's event, the refusal (once), the next start's event
        await good.wait_for(lambda: len(events(good)) >= 3, timeout=20)
        assert [e["type"] for e in events(good)] == [
            "StartupOfTheDevice",
            event,
            "StartupOfTheDevice",
        ]
        assert detail in events(good, event)[0]["techInfo"]
    finally:
        await good.stop()


async def test_refused_credentials_are_logged_once_and_not_sent(
    short_tmp: Path, stations: list[Station], http_server: FileServer
) -> None:
    """HTTP 401 at the websocket upgrade: FailedToAuthenticateAtCsms in the security log, once
    for the series; it is not critical (appendix), so no SecurityEventNotification (A04.FR.01).
    GetLog(SecurityLog) uploads the log's lines."""
    csms = await LocalCSMS().start()
    csms.policy.passwords = {"CS001": "another-password-0123"}
    try:
        station = await start(stations, csms.url, short_tmp / "CS001")
        await failed_attempts(csms, station, 3)
        assert csms.connections == 0
        csms.policy.passwords = {"CS001": PASSWORD}
        await csms.wait_for(lambda: station.online, timeout=20)
        lines = await security_log(csms, http_server, request_id=21)
        refused = [line for line in lines if " FailedToAuthenticateAtCsms " in line]
        assert len(refused) == 1
        assert "critical=no" in refused[0] and "HTTP 401" in refused[0]
        assert " StartupOfTheDevice critical=yes " in lines[0]
        await csms.wait_for(lambda: events(csms, "StartupOfTheDevice"))
        assert events(csms, "FailedToAuthenticateAtCsms") == []
    finally:
        await csms.stop()


async def test_startup_then_reset_or_reboot_after_a_reset(
    csms: LocalCSMS, make_station: StationFactory, http_server: FileServer
) -> None:
    """StartupOfTheDevice after a start; ResetOrReboot (not StartupOfTheDevice) after
    Reset(Immediate); both critical, so both reach the CSMS; both in the security log."""
    station = await make_station()
    await csms.wait_for(lambda: events(csms, "StartupOfTheDevice"))
    answer = await csms.send("CS001", "Reset", {"type": "Immediate"})
    assert answer["status"] == "Accepted"
    await csms.wait_for(lambda: events(csms, "ResetOrReboot"), timeout=20)
    boots = [b["reason"] for b in csms.received("BootNotification")]
    assert boots == ["PowerUp", "RemoteReset"]
    assert [e["type"] for e in events(csms)] == ["StartupOfTheDevice", "ResetOrReboot"]
    assert "RemoteReset" in events(csms, "ResetOrReboot")[0]["techInfo"]
    await csms.wait_for(lambda: station.online)
    lines = await security_log(csms, http_server, request_id=22)
    assert [line.split()[1] for line in lines] == ["StartupOfTheDevice", "ResetOrReboot"]
