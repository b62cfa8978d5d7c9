"""The websocket client to the CSMS (OCPP 2.0.1 Part 4 section 3 and 5; Part 2 section A).

:class:`Transport` connects to ``<csms_url>/<station id>`` with subprotocol ``ocpp2.0.1`` under
security profile 1 (HTTP Basic auth), 2 (TLS 1.2+ and Basic auth) or 3 (mutual TLS), hands every
received message to ``on_message``, and reconnects with the back-off of Part 4 section 5.3
(:class:`BackOff`, :mod:`ocpp_station.backoff`) until :meth:`Transport.stop`.  Profile 0 (plain
``ws://`` without authentication) is for test rigs only: not a valid OCPP 2.0.1 set-up (Part 2
A, 1.3), refused with ``wss://`` and warned about at every connect.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import ssl
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.typing import Subprotocol

from ocpp_station import tls
from ocpp_station.backoff import BackOff as BackOff  # re-exported: part of this module's API
from ocpp_station.clock import Clock, SystemClock
from ocpp_station.logutil import RedactingLogger
from ocpp_station.ws_client import StationConnection

SUBPROTOCOL = Subprotocol("ocpp2.0.1")
STATION_ID_MAX_LENGTH = 48  # Part 4 section 3.1.1
OPEN_TIMEOUT = 10.0  # seconds for TCP + TLS + HTTP upgrade

T = TypeVar("T")


class TransportError(Exception):
    """A configuration the transport cannot use, or a connection-level failure."""


class NotConnected(TransportError):
    """Raised by :meth:`Transport.send` while there is no open connection."""


class UnsendableText(TransportError, ValueError):
    """Raised by :meth:`Transport.send` for text UTF-8 cannot encode; nothing was sent."""


@dataclass
class TransportConfig:
    csms_url: str
    station_id: str
    security_profile: int = 1
    password: str | None = None
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    # PEM text of the installed CSMS root certificates (M05), trusted besides ``ca_file``; an
    # empty string trusts nothing more (and, without ca_file, nothing: the last root deleted).
    ca_data: str | None = None

    def url(self) -> str:
        """``<csms_url>/<station id>``: one slash, the id percent-encoded (Part 4 section 3.1.1)."""
        return self.csms_url.rstrip("/") + "/" + quote(self.station_id, safe="")

    def check(self) -> None:
        """Raise :class:`TransportError` naming the first problem with this configuration."""
        if not self.station_id:
            raise TransportError("station_id is empty")
        if len(self.station_id) > STATION_ID_MAX_LENGTH:
            raise TransportError(
                f"station_id is {len(self.station_id)} characters, at most "
                f"{STATION_ID_MAX_LENGTH} allowed"
            )
        if ":" in self.station_id:  # it is the Basic auth user name (Part 4 section 3.1.1)
            raise TransportError("station_id must not contain ':'")
        scheme = urlsplit(self.csms_url).scheme.lower()
        if scheme not in ("ws", "wss"):
            raise TransportError(f"csms_url must be a ws:// or wss:// URL, got {self.csms_url!r}")
        if self.security_profile not in (0, 1, 2, 3):
            raise TransportError(
                f"security_profile must be 0, 1, 2 or 3, not {self.security_profile}"
            )
        if self.security_profile == 0 and scheme != "ws":
            raise TransportError(
                "security profile 0 (no authentication) is for plain ws:// test rigs only, "
                f"got {self.csms_url!r}"
            )
        if self.security_profile >= 2 and scheme != "wss":
            raise TransportError(
                f"security profile {self.security_profile} needs a wss:// csms_url (TLS), "
                f"got {self.csms_url!r}"
            )
        if self.security_profile == 3 and not (self.cert_file and self.key_file):
            raise TransportError("security profile 3 needs cert_file and key_file")

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS client context for a wss URL (None for ws): TLS 1.2 or newer, the cipher
        suites of A00.FR.319, no compression (:mod:`ocpp_station.tls`), the CSMS certificate's
        path and host name verified against ``ca_file`` and ``ca_data`` (system CAs when both
        are unset), and the client
        certificate under profile 3.  Reads the files now, so renewed certificates are used."""
        if urlsplit(self.csms_url).scheme.lower() != "wss":
            return None
        # PROTOCOL_TLS_CLIENT verifies the certification path and the host name (A00.FR.308/309)
        context = tls.configure(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
        if self.ca_file:
            context.load_verify_locations(cafile=self.ca_file)
        if self.ca_data:
            context.load_verify_locations(cadata=self.ca_data)
            # an installed root may be signed by the root it replaced (M05.FR.10): a trust
            # anchor of its own, whether or not the old one is still installed
            context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
        if not self.ca_file and self.ca_data is None:
            context.load_default_certs()
        if self.security_profile == 3:
            assert self.cert_file and self.key_file  # check() guarantees them
            context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def headers(self) -> dict[str, str]:
        """HTTP Basic auth ``<station id>:<password>`` under profiles 1 and 2 (Part 2, A); the
        password as UTF-8 (A00.FR.205/304)."""
        if self.security_profile not in (1, 2) or self.password is None:
            return {}
        token = base64.b64encode(f"{self.station_id}:{self.password}".encode()).decode("ascii")
        return {"Authorization": f"Basic {token}"}


class Transport:
    """One websocket connection to the CSMS, kept open (and reopened) until :meth:`stop`.

    ``on_connect`` runs as a task once the connection is open (it may make calls: the receive loop
    keeps going) and is cancelled when the connection closes; ``on_message`` gets every received
    message; ``on_disconnect`` is called once for every connection that was open and is now gone.
    ``backoff`` and ``ping_interval`` are read for every (re)connection, so device-model changes
    take effect on the next one; ``ping_interval() == 0`` disables websocket pings.  ``select``
    gives the configuration of each attempt in place of ``config`` (B10); ``on_attempt`` hears
    whether each attempt connected (if not, :attr:`last_error` says why), before ``on_connect``
    runs; ``on_connect_failed(kind, detail)`` every failed attempt that is a security event
    (:func:`ocpp_station.tls.classify`: InvalidCsmsCertificate, InvalidTLSVersion,
    InvalidTLSCipherSuite, FailedToAuthenticateAtCsms)."""

    def __init__(
        self,
        config: TransportConfig,
        *,
        on_connect: Callable[[], Awaitable[None]],
        on_message: Callable[[str], Awaitable[None]],
        on_disconnect: Callable[[], None],
        backoff: Callable[[], BackOff],
        ping_interval: Callable[[], float],
        clock: Clock | None = None,
        logger: logging.Logger | None = None,
        open_timeout: float = OPEN_TIMEOUT,
        select: Callable[[], TransportConfig] | None = None,
        on_attempt: Callable[[bool], None] | None = None,
        before_attempt: Callable[[], None] | None = None,
        on_connect_failed: Callable[[str, str], object] | None = None,
    ) -> None:
        config.check()
        self.config = config
        self._select = select
        self._on_attempt = on_attempt
        self._on_connect = on_connect
        self._on_message = on_message
        self._on_disconnect = on_disconnect
        self._backoff = backoff
        self._ping_interval = ping_interval
        self._on_connect_failed = on_connect_failed
        self._clock: Clock = clock or SystemClock()
        self._log = logger or logging.getLogger("ocpp_station.transport")
        self._ws_log = logging.getLogger("websockets.client")
        self._open_timeout = open_timeout
        # before every attempt: may update ``config`` (a renewed client cert, A02.FR.08/28)
        self._before_attempt = before_attempt
        self._ws: ClientConnection | None = None
        self._stopping = asyncio.Event()
        self._awaiting: asyncio.Task[Any] | None = None  # what _unless_stopped waits for
        self._running = False
        self._done = asyncio.Event()
        self.connected = False
        self.failed_attempts = 0  # consecutive failed connection attempts (reset on success)
        self.last_error: BaseException | None = None  # why the last failed attempt failed
        self._retries = 0  # back-off waits since the last open connection

    async def run(self) -> None:
        """Connect, serve, reconnect with back-off; return after :meth:`stop`."""
        if self._running:
            raise TransportError("Transport.run() is already running")
        self._running = True
        self._done.clear()
        self._stopping.clear()
        try:
            while not self._stopping.is_set():
                ws = await self._connect(self.config.url()) if self._choose() else None
                if self._on_attempt and (ws is not None or not self._stopping.is_set()):
                    self._on_attempt(ws is not None)
                if ws is not None:
                    self.failed_attempts = 0
                    self._retries = 0
                    await self._serve(ws)
                else:
                    self.failed_attempts += 1
                if self._stopping.is_set():
                    break
                # the first wait after a lost connection is attempt 0; each failure doubles it
                delay = self._backoff().delay(self._retries)
                self._retries += 1
                self._log.info("reconnecting to %s in %.1f s", self.config.url(), delay)
                await self._unless_stopped(self._clock.sleep(delay))
        finally:
            self._running = False
            self._done.set()

    def _choose(self) -> bool:
        """The configuration of the next attempt: ``select`` (B10), then ``before_attempt``;
        False (logged) when the selected one cannot be used."""
        if self._select is not None:
            try:
                config = self._select()
                config.check()
            except TransportError as exc:
                self._log.error("cannot connect with the selected network profile: %s", exc)
                return False
            self.config = config
        if self._before_attempt is not None:
            try:
                self._before_attempt()
            except Exception:
                self._log.exception("before_attempt callback failed")
        return True

    async def _connect(self, url: str) -> ClientConnection | None:
        """Open one connection; None (logged) when it failed or the CSMS refused ocpp2.0.1."""
        try:
            context = self.config.ssl_context()
        except (OSError, ValueError) as exc:
            self.last_error = exc
            self._log.error("cannot set up TLS for %s: %s", url, exc)
            return None
        if self.config.security_profile == 0:
            self._log.warning(
                "security profile 0: connecting to %s without authentication (test rigs only; "
                "not a valid OCPP 2.0.1 set-up)",
                url,
            )
        interval = self._ping_interval()
        ping = interval if interval > 0 else None

        async def open_connection() -> ClientConnection:
            return await connect(
                url,
                subprotocols=[SUBPROTOCOL],
                additional_headers=self.config.headers(),
                ssl=context,
                open_timeout=self._open_timeout,
                ping_interval=ping,  # websockets' keepalive (OCPPCommCtrlr.WebSocketPingInterval)
                ping_timeout=ping,
                proxy=None,  # a station talks to its configured CSMS, not to $HTTPS_PROXY
                compression=None,  # OCPP frames are small; its buffers: ~0.5 MiB a connection
                create_connection=StationConnection,  # 64 KiB reads (ws_client)
                # never the Authorization header nor a frame's text in the log, at any level
                logger=RedactingLogger(self._ws_log),
            )

        try:
            ws = await self._unless_stopped(open_connection())
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:  # ssl's are OSErrors
            self.last_error = exc
            level, message, event = tls.failure(exc)  # event: A00.FR.310/316/323, a 401/403
            self._log.log(level, message, url, exc)
            if event is not None and self._on_connect_failed is not None:
                self._on_connect_failed(*event)
            return None
        if ws is None:  # stopped while connecting
            return None
        if ws.subprotocol != SUBPROTOCOL:
            # Part 4 section 3.2: a CSMS that does not agree answers without the header.
            self._log.error(
                "the CSMS at %s did not agree to subprotocol %s (got %r); closing",
                url,
                SUBPROTOCOL,
                ws.subprotocol,
            )
            await ws.close(code=1002, reason="ocpp2.0.1 required")
            return None
        return ws

    async def _serve(self, ws: ClientConnection) -> None:
        self._ws = ws
        if self._stopping.is_set():
            # stop() came while the connection was opening and found no websocket to close.
            self._ws = None
            await ws.close(code=1000, reason="station stopping")
            return
        self.connected = True
        self._log.info("connected to %s", self.config.url())
        startup = asyncio.create_task(self._guard(self._on_connect, "on_connect"))
        await asyncio.sleep(0)  # let on_connect start before anything can cancel it
        try:
            async for message in ws:
                if isinstance(message, bytes):  # OCPP-J uses text frames; decode what we can
                    message = message.decode("utf-8", errors="replace")
                try:
                    await self._on_message(message)
                except Exception:
                    self._log.exception("on_message callback failed")
        except ConnectionClosed:
            pass
        finally:
            self.connected = False
            self._ws = None
            self._log.info(
                "connection to %s closed (code %s)",
                self.config.url(),
                ws.close_code,
            )
            startup.cancel()
            try:
                self._on_disconnect()
            except Exception:
                self._log.exception("on_disconnect callback failed")
            await asyncio.gather(startup, return_exceptions=True)

    async def _guard(self, callback: Callable[[], Awaitable[None]], what: str) -> None:
        try:
            await callback()
        except Exception:
            self._log.exception("%s callback failed", what)

    async def _unless_stopped(self, coro: Coroutine[Any, Any, T]) -> T | None:
        """Await ``coro`` unless :meth:`stop` comes first: :meth:`stop` cancels it, and this
        returns None (a connection that opened as :meth:`stop` came is closed)."""
        if self._stopping.is_set():
            coro.close()
            return None
        task: asyncio.Task[T] = asyncio.create_task(coro)
        self._awaiting = task
        try:
            result = await task
            if self._stopping.is_set():  # finished in the race with stop()
                if isinstance(result, ClientConnection):
                    await result.close()
                return None
            return result
        except asyncio.CancelledError:
            if task.cancelled() and self._stopping.is_set():
                current = asyncio.current_task()
                if current is None or not current.cancelling():
                    return None  # cancelled by stop(), not from outside
            raise
        finally:
            self._awaiting = None

    async def send(self, text: str) -> None:
        """Send one text frame.  Text UTF-8 cannot carry (a lone surrogate) raises
        :class:`UnsendableText` and leaves the connection as it is (Part 4 section 4.1.2)."""
        ws = self._ws
        if ws is None or not self.connected:
            raise NotConnected("not connected to the CSMS")
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise UnsendableText(f"frame not sent: not valid UTF-8 text ({exc.reason})") from None
        try:
            await ws.send(data, text=True)
        except ConnectionClosed as exc:
            raise NotConnected(f"connection to the CSMS closed: {exc}") from exc

    def peer_certificate(self) -> bytes | None:
        """The DER of the server certificate of the open TLS connection (None: none open)."""
        ws = self._ws
        if ws is None:
            return None
        ssl_object = ws.transport.get_extra_info("ssl_object")
        if ssl_object is None:
            return None
        der: bytes | None = ssl_object.getpeercert(binary_form=True)
        return der

    async def reconnect(self) -> None:
        """Close the open connection cleanly; :meth:`run` connects again after the back-off, with
        :attr:`config` as it is then (A01: the new password)."""
        ws = self._ws
        if ws is not None:
            await ws.close(code=1000, reason="reconnecting with new credentials")

    async def stop(self) -> None:
        """Close the websocket cleanly (code 1000) and end :meth:`run`."""
        self._stopping.set()
        if self._awaiting is not None:  # a connection attempt or a back-off wait
            self._awaiting.cancel()
        ws = self._ws
        if ws is not None:
            await ws.close(code=1000, reason="station stopping")
        if self._running:
            await self._done.wait()
