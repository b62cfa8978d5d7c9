"""The status page's HTTP server, on the ``websockets`` server the project already has.

``websockets`` answers plain HTTP requests through ``process_request``, so one listening socket
serves

- ``GET /``: the page (one static HTML file with its CSS and JavaScript inline: no build step);
- ``GET /status.json``: :meth:`PageSource.status` as JSON;
- ``GET /ws``: a websocket on which the server pushes :meth:`PageSource.snapshot` as JSON text
  every ``interval`` seconds, and sooner after :meth:`PageServer.wake`.  A client may send
  ``{"query": "..."}`` (the fleet page's filter); each client gets the snapshot of its query.

Everything it serves is read-only.  Snapshots are computed once per tick and query, only while a
client is connected; when computing them costs much (a big fleet), the ticks space out so the page
never takes more than about 5% of the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from http import HTTPStatus
from importlib import resources
from typing import Any, Protocol

from websockets.asyncio.server import Server, ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from ocpp_station.clock import Clock, SystemClock, sleep_or_wake

__all__ = ["ListenError", "PageServer", "PageSource", "parse_listen"]

LOAD_SHARE = 0.05  # at most this share of the event loop goes to computing snapshots
MAX_QUERY = 200
MIN_GAP = 0.1  # seconds between a wake-up and its push, so a burst of changes makes one push


class ListenError(OSError):
    """The page cannot listen on its address (in use, not an address of this host...)."""


class PageSource(Protocol):
    page: str  # the HTML file under ocpp_station/http/static/

    def status(self) -> dict[str, Any]: ...

    def snapshot(self, query: str) -> dict[str, Any]: ...


def parse_listen(listen: str) -> tuple[str, int]:
    """``"127.0.0.1:8080"`` → ``("127.0.0.1", 8080)``; ``"[::1]:8080"`` → ``("::1", 8080)``."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ValueError(f"listen must be host:port, got {listen!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


def load_page(name: str) -> str:
    return resources.files("ocpp_station.http").joinpath("static", name).read_text("utf-8")


class PageServer:
    """Serves one :class:`PageSource` on ``listen``; ``await start()``, ``await close()``."""

    def __init__(
        self,
        source: PageSource,
        listen: str,
        *,
        interval: float = 1.0,
        clock: Clock | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self.source = source
        self.host, self.port = parse_listen(listen)
        self.interval = interval
        self.clock = clock or SystemClock()
        self.log = logger or logging.getLogger("ocpp_station.http")
        self.clients: dict[ServerConnection, str] = {}  # connection -> its query
        self.pushes = 0
        self._html = load_page(source.page)
        self._server: Server | None = None
        self._pusher: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        # websockets logs every plain HTTP answer as a "rejected" handshake at INFO: keep quiet.
        self._wire_log = logging.getLogger("ocpp_station.http.wire")
        self._wire_log.setLevel(logging.WARNING)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    async def start(self) -> None:
        try:
            self._server = await serve(
                self._handle,
                self.host,
                self.port,
                process_request=self._route,
                compression=None,
                logger=self._wire_log,
                max_size=4096,  # clients only send short queries
            )
        except OSError as exc:
            where = f"{self.host}:{self.port}"
            raise ListenError(exc.errno, f"cannot listen on {where}: {exc}") from exc
        self.port = next(iter(self._server.sockets)).getsockname()[1]  # port 0: the one chosen
        self._pusher = asyncio.get_running_loop().create_task(self._push_loop(), name="http-push")
        self.log.info("status page at %s", self.url)

    async def close(self) -> None:
        if self._pusher is not None:
            self._pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pusher
            self._pusher = None
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def wake(self) -> None:
        """Push a fresh snapshot now (something changed)."""
        self._wake.set()

    # -- HTTP ------------------------------------------------------------------------------------
    def _route(self, connection: ServerConnection, request: Request) -> Response | None:
        path = request.path.split("?", 1)[0]
        if path == "/ws":
            return None  # the websocket handshake goes on
        if path in ("/", "/index.html"):
            return self._answer(connection, self._html, "text/html; charset=utf-8")
        if path == "/status.json":
            body = json.dumps(self.source.status(), indent=1)
            return self._answer(connection, body, "application/json")
        return self._answer(connection, "not found\n", "text/plain", HTTPStatus.NOT_FOUND)

    @staticmethod
    def _answer(
        connection: ServerConnection,
        body: str,
        content_type: str,
        status: HTTPStatus = HTTPStatus.OK,
    ) -> Response:
        response = connection.respond(status, body)
        del response.headers["Content-Type"]  # Headers are multi-valued: replace, not add
        response.headers["Content-Type"] = content_type
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    # -- websocket -------------------------------------------------------------------------------
    async def _handle(self, connection: ServerConnection) -> None:
        self.clients[connection] = ""
        try:
            await connection.send(self._snapshot_text(""))
            async for message in connection:
                query = _query_of(message)
                if query is not None:
                    self.clients[connection] = query
                    await connection.send(self._snapshot_text(query))
        except ConnectionClosed:
            pass
        finally:
            self.clients.pop(connection, None)

    def _snapshot_text(self, query: str) -> str:
        return json.dumps(self.source.snapshot(query), separators=(",", ":"))

    async def _push_loop(self) -> None:
        while True:
            delay = self.interval
            if self.clients:
                started = time.perf_counter()
                by_query: dict[str, list[ServerConnection]] = {}
                for connection, query in list(self.clients.items()):
                    by_query.setdefault(query, []).append(connection)
                for query, connections in by_query.items():
                    try:
                        text = self._snapshot_text(query)
                    except Exception:
                        self.log.exception("status page snapshot failed")
                        continue
                    broadcast(connections, text)
                self.pushes += 1
                cost = time.perf_counter() - started
                delay = max(self.interval, cost / LOAD_SHARE)
            self._wake.clear()
            await sleep_or_wake(self.clock, delay, self._wake)
            if self._wake.is_set():  # coalesce a burst of changes into one push
                await self.clock.sleep(MIN_GAP)


def _query_of(message: str | bytes) -> str | None:
    try:
        data = json.loads(message)
    except (ValueError, TypeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("query", None), str):
        return None
    return str(data["query"])[:MAX_QUERY]
