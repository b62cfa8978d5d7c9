"""JSON-lines server on a Unix socket: the local control API's transport (docs/control-api.md).

Request ``{"id": 1, "method": "...", "params": {...}}``; reply ``{"id": 1, "result": ...}`` or
``{"id": 1, "error": {"code": "...", "message": "..."}}``.  A connection that called
``subscribe`` also receives ``{"topic": T, "data": {...}}`` lines.  A malformed line gets an error
reply naming the problem and the connection goes on; nothing a client sends can stop the server.

The server knows nothing of OCPP: it maps method names to coroutines.  The station's API lives in
:mod:`ocpp_station.control.api`; ``controller-sim`` serves its ``sim.*`` methods with the same
server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import stat
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

Method = Callable[[dict[str, Any]], Awaitable[Any]]

MAX_LINE = 1 << 20  # 1 MiB per request line
MAX_PENDING = 1000  # lines queued for a client that does not read before it is dropped
FLUSH_TIMEOUT = 5.0  # seconds to deliver the last lines of a closing connection
PROBE_TIMEOUT = 1.0  # seconds to learn whether a socket at the path is live
MAX_DIGITS = 30  # the longest integer a request may hold (more is refused, never echoed)


class ControlError(Exception):
    """An error reply: ``code`` is a short machine-readable word, ``message`` says what is wrong."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class SocketPathError(ControlError):
    """The control socket path cannot be served; ``str()`` is one line naming path and reason."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__("SocketPath", f"control socket {path}: {reason}")
        self.path = path


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise ValueError(f"a number of {len(text)} digits is too large (at most {MAX_DIGITS})")
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if len(text) > 2 * MAX_DIGITS or not math.isfinite(value):
        raise ValueError(f"number {text[:40]}... is out of range")
    return value


def parse_line(line: bytes) -> Any:
    """One request line as strict JSON (RFC 8259): no NaN/Infinity, no number beyond
    ``MAX_DIGITS`` digits or a float's range; raises ``ValueError`` (``RecursionError`` for
    nesting deeper than Python can follow is turned into one too)."""
    try:
        return json.loads(
            line,
            parse_constant=_reject_constant,
            parse_int=_parse_int,
            parse_float=_parse_float,
        )
    except RecursionError:
        raise ValueError("nested too deeply") from None


def dump_line(obj: Any, log: logging.Logger) -> bytes:
    """One reply or publication as a line of strict JSON.  What strict JSON cannot carry (NaN,
    an object JSON does not know) becomes an ``InternalError`` reply instead, logged."""
    try:
        text = json.dumps(obj, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        log.error("control reply not sent as it is no strict JSON: %s", exc)
        req_id = obj.get("id") if isinstance(obj, dict) else None
        fallback = _error(None, "InternalError", f"reply is no strict JSON: {exc}")
        with contextlib.suppress(TypeError, ValueError, RecursionError):
            json.dumps(req_id, allow_nan=False)
            fallback["id"] = req_id
        text = json.dumps(fallback, separators=(",", ":"))
    return text.encode() + b"\n"


class _Client:
    """One connection.  Everything it is sent (replies and publications) goes through a bounded
    queue drained by its own task, so a client that stops reading never blocks the station: once
    ``MAX_PENDING`` lines wait, it is dropped."""

    def __init__(self, writer: asyncio.StreamWriter, log: logging.Logger) -> None:
        self.writer = writer
        self.log = log
        self.topics: set[str] = set()
        self.closed = False
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue(MAX_PENDING)
        self._task = asyncio.get_running_loop().create_task(self._pump())

    def send(self, obj: dict[str, Any]) -> bool:
        """Queue one line; False if the client is gone (or was just dropped for lagging)."""
        if self.closed:
            return False
        data = dump_line(obj, self.log)
        try:
            self._queue.put_nowait(data)
        except asyncio.QueueFull:
            self.log.warning("control client not reading (%d lines waiting); dropped", MAX_PENDING)
            self.abort()
            return False
        return True

    async def _pump(self) -> None:
        try:
            while (data := await self._queue.get()) is not None:
                self.writer.write(data)
                await self.writer.drain()
        except (ConnectionError, RuntimeError):
            self.closed = True
        finally:
            self.writer.close()

    async def finish(self) -> None:
        """Flush what is queued (a few seconds at most), then close."""
        if not self.closed:
            self.closed = True
            with contextlib.suppress(asyncio.QueueFull):
                self._queue.put_nowait(None)
        done, _ = await asyncio.wait({self._task}, timeout=FLUSH_TIMEOUT)
        if not done:
            self.abort()

    def abort(self) -> None:
        self.closed = True
        self._task.cancel()
        self.writer.close()


class ControlServer:
    def __init__(
        self,
        path: str | os.PathLike[str],
        methods: dict[str, Method] | None = None,
        *,
        topics: Iterable[str] = (),
        logger: logging.Logger | None = None,
    ) -> None:
        self.path = Path(path)
        self.methods: dict[str, Method] = dict(methods or {})
        self.topics = frozenset(topics)
        self.log = logger or logging.getLogger("ocpp_station.control")
        self._server: asyncio.Server | None = None
        self._clients: set[_Client] = set()
        # Called as check_params(method, params) before every method; raises ControlError.
        self.check_params: Callable[[str, dict[str, Any]], None] | None = None

    def add(self, name: str, method: Method) -> None:
        self.methods[name] = method

    async def check_path(self) -> None:
        """Refuse a path the server must not take (:class:`SocketPathError`, one line naming the
        path and why): a directory, a file that is no socket, the live socket of a running
        process (another station).  Only a stale socket, nobody listening, is removed."""
        try:
            mode = os.lstat(self.path).st_mode
        except FileNotFoundError:
            return
        except OSError as exc:
            raise SocketPathError(self.path, f"cannot be checked: {exc.strerror}") from None
        if stat.S_ISDIR(mode):
            raise SocketPathError(self.path, "is a directory, not a socket")
        if not stat.S_ISSOCK(mode):
            raise SocketPathError(self.path, "exists and is not a socket; not replacing it")
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_unix_connection(str(self.path)), PROBE_TIMEOUT
            )
        except (ConnectionRefusedError, FileNotFoundError):
            self.log.info("replacing stale control socket %s", self.path)
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            return
        except (OSError, TimeoutError) as exc:
            raise SocketPathError(self.path, f"cannot be checked: {exc}") from None
        writer.close()
        raise SocketPathError(
            self.path, "is the live socket of a running process (another station?)"
        )

    async def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        await self.check_path()
        old = os.umask(0o177)  # the socket is created 0600: only the station's user may use it
        try:
            self._server = await asyncio.start_unix_server(
                self._serve, path=str(self.path), limit=MAX_LINE
            )
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for client in list(self._clients):
                client.abort()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def publish(self, topic: str, data: Any) -> None:
        """Send ``{"topic", "data"}`` to every connection subscribed to ``topic``.  Never blocks:
        a connection that does not keep up is dropped (see :class:`_Client`)."""
        for client in list(self._clients):
            if topic in client.topics and not client.send({"topic": topic, "data": data}):
                self._clients.discard(client)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        client = _Client(writer, self.log)
        self._clients.add(client)
        try:
            while not client.closed:
                try:
                    line = await reader.readline()
                except ValueError:  # line over MAX_LINE: the stream cannot be resynchronised
                    client.send(_error(None, "TooLarge", f"request over {MAX_LINE} bytes"))
                    break
                if not line:
                    break
                if not line.strip():
                    continue
                client.send(await self._handle(client, line))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._clients.discard(client)
            await client.finish()

    async def _handle(self, client: _Client, line: bytes) -> dict[str, Any]:
        try:
            request = parse_line(line)
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError included
            return _error(None, "ParseError", f"request is not valid JSON: {exc}")
        if not isinstance(request, dict):
            return _error(None, "InvalidRequest", "request must be a JSON object")
        req_id = request.get("id")
        method = request.get("method")
        params = request.get("params", {})
        if not isinstance(method, str):
            return _error(req_id, "InvalidRequest", "'method' must be a string")
        if params is None:
            params = {}
        if not isinstance(params, dict):
            return _error(req_id, "InvalidParams", "'params' must be a JSON object")
        handler = self.methods.get(method)
        if handler is None and method != "subscribe":
            known = ", ".join(sorted([*self.methods, "subscribe"]))
            return _error(req_id, "UnknownMethod", f"unknown method {method!r}; known: {known}")
        try:
            if self.check_params is not None:
                self.check_params(method, params)
            if handler is None:
                result: Any = self._subscribe(client, params)
            else:
                result = await handler(params)
        except ControlError as exc:
            return _error(req_id, exc.code, exc.message)
        except (KeyError, TypeError, ValueError) as exc:
            return _error(req_id, "InvalidParams", f"{method}: {type(exc).__name__}: {exc}")
        except Exception as exc:
            self.log.exception("control method %s failed", method)
            return _error(req_id, "InternalError", f"{method}: {type(exc).__name__}: {exc}")
        return {"id": req_id, "result": result}

    def _subscribe(self, client: _Client, params: dict[str, Any]) -> list[str]:
        topics = params.get("topics")
        if topics is None:
            topics = sorted(self.topics)
        if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
            raise ControlError("InvalidParams", "'topics' must be a list of strings")
        unknown = [t for t in topics if t not in self.topics]
        if unknown:
            raise ControlError(
                "InvalidParams",
                f"unknown topic(s) {', '.join(unknown)}; known: {', '.join(sorted(self.topics))}",
            )
        client.topics.update(topics)
        return sorted(client.topics)


def _error(req_id: Any, code: str, message: str) -> dict[str, Any]:
    return {"id": req_id, "error": {"code": code, "message": message}}


def require(params: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    """Fetch a required parameter of the given JSON type, or raise a precise ControlError."""
    if key not in params:
        raise ControlError("InvalidParams", f"missing parameter {key!r}")
    value = params[key]
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise ControlError("InvalidParams", f"parameter {key!r} must be a number, not a boolean")
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise ControlError("InvalidParams", f"parameter {key!r} must be {names}")
    return value


async def call(
    path: str | os.PathLike[str], method: str, params: dict[str, Any] | None = None
) -> Any:
    """One request on a fresh connection (what ``ocpp-station ctl`` does): the result, or
    :class:`ControlError` with the server's error (or ``BadReply`` / ``ConnectionClosed``)."""
    reader, writer = await asyncio.open_unix_connection(str(path), limit=MAX_LINE)
    try:
        request = {"id": 1, "method": method, "params": params or {}}
        writer.write(json.dumps(request).encode() + b"\n")
        await writer.drain()
        while True:
            try:
                line = await reader.readline()
            except ValueError:
                raise ControlError("BadReply", f"reply line over {MAX_LINE} bytes") from None
            if not line:
                raise ControlError("ConnectionClosed", "the control socket closed without a reply")
            try:
                reply = json.loads(line)
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise ControlError("BadReply", f"reply is not valid JSON: {exc}") from None
            if not isinstance(reply, dict):
                raise ControlError("BadReply", f"reply is not a JSON object: {line[:200]!r}")
            if "topic" in reply:
                continue
            if "error" in reply:
                err = reply["error"]
                if not isinstance(err, dict):
                    raise ControlError("BadReply", f"malformed error reply: {err!r}")
                raise ControlError(str(err.get("code")), str(err.get("message")))
            return reply.get("result")
    finally:
        writer.close()
