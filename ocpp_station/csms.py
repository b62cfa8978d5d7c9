"""A small local CSMS built on the ``ocpp`` package (mobilityhouse), for the demo and the tests.

Not our own protocol code: frames, routing and schema validation here are the ``ocpp`` package's.
It records every frame, answers each station→CSMS message with a configurable policy, and lets a
test or the demo send any CSMS→station call with a camelCase payload.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

import websockets
from ocpp import charge_point as package
from ocpp.exceptions import OCPPError as PackageOCPPError
from ocpp.messages import CallError, MessageType, unpack
from ocpp.routing import on
from ocpp.v201 import ChargePoint, call, call_result
from websockets.asyncio.server import Server, ServerConnection
from websockets.http11 import Request, Response

LOG = logging.getLogger("ocpp_station.csms")


@dataclass
class Frame:
    """One frame on the wire as the CSMS saw it."""

    t: float
    station: str
    direction: str  # "in" (station → CSMS) or "out"
    kind: int  # 2 CALL, 3 CALLRESULT, 4 CALLERROR
    message_id: str
    action: str | None
    payload: Any


@dataclass
class Policy:
    """How the CSMS answers.  Tests change these fields at any time."""

    boot: list[tuple[str, int]] = field(default_factory=lambda: [("Accepted", 300)])
    token_status: dict[str, str] = field(default_factory=dict)  # default "Accepted"
    # more IdTokenInfo fields per idToken (OCPP names, e.g. groupIdToken, evseId)
    token_info: dict[str, dict[str, Any]] = field(default_factory=dict)
    silent: set[str] = field(default_factory=set)  # actions left unanswered
    errors: dict[str, str] = field(default_factory=dict)  # action -> CALLERROR code
    passwords: dict[str, str] | None = None  # station id -> basic-auth password (None: no check)
    # vendorId -> the DataTransferResponse payload (camelCase); other vendors: UnknownVendorId
    data_transfer: dict[str, dict[str, Any]] = field(default_factory=dict)
    boot_time: str | None = None  # BootNotificationResponse.currentTime as sent (None: now, UTC)
    sign_certificate: str = "Accepted"  # SignCertificateResponse.status (the CSR is recorded)
    # eventType ("Started"/"Updated"/"Ended", or "*" for all) -> more TransactionEventResponse
    # fields (OCPP names, e.g. totalCost, updatedPersonalMessage); an eventType's win over "*"
    transaction_response: dict[str, dict[str, Any]] = field(default_factory=dict)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _to_dict(obj: Any) -> dict[str, Any]:
    result: dict[str, Any] = package.remove_nones(
        package.snake_to_camel_case(package.serialize_as_dict(obj))
    )
    return result


class _StationLink(ChargePoint):
    """The ``ocpp`` package's ChargePoint, one per connected station."""

    def __init__(self, station_id: str, connection: ServerConnection, csms: LocalCSMS) -> None:
        super().__init__(station_id, connection, response_timeout=csms.response_timeout)
        self.csms = csms
        self.boot_count = 0

    # -- recording -------------------------------------------------------------------------------
    async def route_message(self, raw_msg: str) -> None:
        try:
            msg = unpack(raw_msg)
        except PackageOCPPError:
            self.csms._record(self.id, "in", raw_msg)
            return await super().route_message(raw_msg)
        self.csms._record(self.id, "in", raw_msg)
        if msg.message_type_id == MessageType.Call:
            policy = self.csms.policy
            if msg.action in policy.silent:
                return None
            if msg.action in policy.errors:
                error = CallError(msg.unique_id, policy.errors[msg.action], "test policy", {})
                await self._send(error.to_json())
                return None
        await super().route_message(raw_msg)
        return None

    async def _send(self, message: str) -> None:
        self.csms._record(self.id, "out", message)
        await super()._send(message)

    # -- handlers ----------------------------------------------------------------------------------
    def _token_info(self, id_token: dict[str, Any] | None) -> dict[str, Any]:
        token = (id_token or {}).get("id_token", "")
        policy = self.csms.policy
        return {
            **policy.token_info.get(token, {}),
            "status": policy.token_status.get(token, "Accepted"),
        }

    @on("BootNotification")
    async def on_boot(self, **_: Any) -> Any:
        boots = self.csms.policy.boot
        status, interval = boots[min(self.boot_count, len(boots) - 1)]
        self.boot_count += 1
        current_time = self.csms.policy.boot_time or _now_iso()
        return call_result.BootNotification(
            current_time=current_time, interval=interval, status=status
        )

    @on("Heartbeat")
    async def on_heartbeat(self, **_: Any) -> Any:
        return call_result.Heartbeat(current_time=_now_iso())

    @on("StatusNotification")
    async def on_status(self, **_: Any) -> Any:
        return call_result.StatusNotification()

    @on("Authorize")
    async def on_authorize(self, id_token: dict[str, Any], **_: Any) -> Any:
        return call_result.Authorize(id_token_info=self._token_info(id_token))

    @on("TransactionEvent")
    async def on_transaction_event(self, **kwargs: Any) -> Any:
        extra = self.csms.policy.transaction_response
        answer: dict[str, Any] = package.camel_to_snake_case(
            {**extra.get("*", {}), **extra.get(kwargs.get("event_type", ""), {})}
        )
        if "id_token" in kwargs:
            answer["id_token_info"] = self._token_info(kwargs["id_token"])
        return call_result.TransactionEvent(**answer)

    @on("MeterValues")
    async def on_meter_values(self, **_: Any) -> Any:
        return call_result.MeterValues()

    @on("NotifyReport")
    async def on_notify_report(self, **_: Any) -> Any:
        return call_result.NotifyReport()

    @on("NotifyEvent")
    async def on_notify_event(self, **_: Any) -> Any:
        return call_result.NotifyEvent()

    @on("NotifyMonitoringReport")
    async def on_notify_monitoring_report(self, **_: Any) -> Any:
        return call_result.NotifyMonitoringReport()

    @on("NotifyDisplayMessages")
    async def on_notify_display_messages(self, **_: Any) -> Any:
        return call_result.NotifyDisplayMessages()

    @on("SecurityEventNotification")
    async def on_security_event(self, **_: Any) -> Any:
        return call_result.SecurityEventNotification()

    @on("ReportChargingProfiles")
    async def on_report_profiles(self, **_: Any) -> Any:
        return call_result.ReportChargingProfiles()

    @on("NotifyChargingLimit")
    async def on_notify_limit(self, **_: Any) -> Any:
        return call_result.NotifyChargingLimit()

    @on("ClearedChargingLimit")
    async def on_cleared_limit(self, **_: Any) -> Any:
        return call_result.ClearedChargingLimit()

    @on("DataTransfer")
    async def on_data_transfer(self, vendor_id: str, **_: Any) -> Any:
        answer = self.csms.policy.data_transfer.get(vendor_id)
        if answer is None:
            return call_result.DataTransfer(status="UnknownVendorId")
        return call_result.DataTransfer(**package.camel_to_snake_case(answer))

    @on("FirmwareStatusNotification")
    async def on_firmware_status(self, **_: Any) -> Any:
        return call_result.FirmwareStatusNotification()

    @on("LogStatusNotification")
    async def on_log_status(self, **_: Any) -> Any:
        return call_result.LogStatusNotification()

    @on("ReservationStatusUpdate")
    async def on_reservation_status_update(self, **_: Any) -> Any:
        return call_result.ReservationStatusUpdate()

    @on("SignCertificate")
    async def on_sign_certificate(self, **_: Any) -> Any:
        return call_result.SignCertificate(status=self.csms.policy.sign_certificate)

    @on("NotifyCustomerInformation")
    async def on_notify_customer_information(self, **_: Any) -> Any:
        return call_result.NotifyCustomerInformation()


class LocalCSMS:
    """A websocket CSMS on loopback: ``ws://host:port/ocpp/<station id>``."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        ssl_context: ssl.SSLContext | None = None,
        policy: Policy | None = None,
        response_timeout: float = 10.0,
        on_frame: Callable[[Frame], None] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.policy = policy or Policy()
        self.response_timeout = response_timeout
        self.on_frame = on_frame
        self.frames: list[Frame] = []
        self.links: dict[str, _StationLink] = {}
        self.auth_headers: dict[str, str | None] = {}
        self.connections = 0
        self._server: Server | None = None
        self._changed = asyncio.Condition()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        scheme = "wss" if self.ssl_context else "ws"
        return f"{scheme}://{self.host}:{self.port}/ocpp"

    async def start(self) -> LocalCSMS:
        self._server = await websockets.serve(
            self._handle,
            self.host,
            self.port,
            subprotocols=["ocpp2.0.1"],  # type: ignore[list-item]
            ssl=self.ssl_context,
            process_request=self._check_auth,
        )
        sock = next(iter(self._server.sockets))
        self.port = sock.getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> LocalCSMS:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- connection handling -----------------------------------------------------------------------
    def _check_auth(self, connection: ServerConnection, request: Request) -> Response | None:
        station_id = request.path.rstrip("/").rsplit("/", 1)[-1]
        header = request.headers.get("Authorization")
        self.auth_headers[station_id] = header
        passwords = self.policy.passwords
        if passwords is None:
            return None
        expected = passwords.get(station_id)
        if expected is not None and header is not None and header.startswith("Basic "):
            try:
                user, _, pw = base64.b64decode(header[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                user, pw = "", ""
            if user == station_id and pw == expected:
                return None
        return connection.respond(HTTPStatus.UNAUTHORIZED, "bad credentials\n")

    async def _handle(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        station_id = connection.request.path.rstrip("/").rsplit("/", 1)[-1]
        if connection.subprotocol != "ocpp2.0.1":
            await connection.close(1002, "subprotocol ocpp2.0.1 required")
            return
        link = _StationLink(station_id, connection, self)
        self.links[station_id] = link
        self.connections += 1
        await self._notify()
        try:
            await link.start()
        except websockets.ConnectionClosed:
            pass
        finally:
            if self.links.get(station_id) is link:
                del self.links[station_id]
            await self._notify()

    # -- recording and waiting ---------------------------------------------------------------
    def _record(self, station: str, direction: str, raw: str) -> None:
        try:
            msg = json.loads(raw)
            kind, mid = int(msg[0]), str(msg[1])
            action = msg[2] if kind == 2 else None
            payload = msg[3] if kind == 2 else msg[2] if kind == 3 else msg[2:]
        except (ValueError, TypeError, IndexError, KeyError):
            kind, mid, action, payload = 0, "", None, raw
        if kind in (3, 4):  # name the action of a result from the call it answers
            for f in reversed(self.frames):
                if f.message_id == mid and f.kind == 2:
                    action = f.action
                    break
        frame = Frame(time.time(), station, direction, kind, mid, action, payload)
        self.frames.append(frame)
        if self.on_frame is not None:
            self.on_frame(frame)
        task = asyncio.get_running_loop().create_task(self._notify())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def received(self, action: str, station: str | None = None) -> list[dict[str, Any]]:
        """Payloads of the CALLs ``action`` the station(s) sent, in order."""
        return [
            f.payload
            for f in self.frames
            if f.direction == "in"
            and f.kind == 2
            and f.action == action
            and (station is None or f.station == station)
        ]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until ``predicate()`` is truthy (re-checked after every frame); return its value."""

        async def _wait() -> Any:
            async with self._changed:
                while True:
                    value = predicate()
                    if value:
                        return value
                    # Re-checked after every frame, and every 50 ms for state outside the CSMS.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), 0.05)

        try:
            return await asyncio.wait_for(_wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"timed out after {timeout}s waiting for {predicate}") from None

    async def wait_received(
        self, action: str, count: int = 1, station: str | None = None, timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self.wait_for(
            lambda: (r := self.received(action, station)) and len(r) >= count and r, timeout
        )
        return result

    async def wait_connected(self, station: str, timeout: float = 10.0) -> None:
        await self.wait_for(lambda: station in self.links, timeout)

    # -- CSMS → station ----------------------------------------------------------------------------
    async def send(self, station: str, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """A CSMS→station CALL (camelCase, validated by the ``ocpp`` package): the camelCase
        CALLRESULT payload, or the package's OCPPError for a CALLERROR."""
        link = self.links[station]
        request = getattr(call, action)(**package.camel_to_snake_case(payload))
        response = await link.call(request, suppress=False)
        return _to_dict(response)

    async def send_raw(self, station: str, text: str) -> None:
        """Put arbitrary text on the wire (for CALLERROR tests)."""
        await self.links[station]._send(text)

    async def drop(self, station: str) -> None:
        """Close the station's websocket abruptly (as a lost network would)."""
        link = self.links.get(station)
        if link is not None:
            transport = getattr(link._connection, "transport", None)
            if transport is not None:
                transport.abort()
            else:
                with contextlib.suppress(Exception):
                    await link._connection.close()

    def stations(self) -> Iterable[str]:
        return list(self.links)
