"""DataTransfer on the local control API: EVerest's DataTransfer types (seed 004) and the handlers
that control-API clients serve.

EVerest's ``DataTransferRequest``/``DataTransferResponse`` carry ``data`` as JSON *text* (EVerest
parses it into the OCPP ``data`` value and dumps the OCPP value back to text), and ``custom_data``
as ``{"vendor_id", "data"}`` with ``data`` the JSON text of the OCPP customData object.  The
``DataTransferStatus`` ``Offline`` is EVerest's answer when the request got no answer from the CSMS
(not connected, not registered, no answer in time); a CALLERROR from the CSMS is EVerest's
``Rejected``.  Both come with ``status_info`` saying why (an addition to EVerest's type).

A control-API client that called ``register_data_transfer`` answers the CSMS's DataTransfers of
that vendor: each one is published on :data:`INCOMING_TOPIC` as ``{"id", "request"}`` and the first
``data_transfer_reply`` with that id answers it; with no reply in time the CSMS gets ``Rejected``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Awaitable, Callable
from typing import Any

from ocpp_station.blocks.data_transfer.handlers import Answer, DataTransferHandler, rejected
from ocpp_station.clock import Clock
from ocpp_station.control.naming import to_camel, to_snake
from ocpp_station.control.server import ControlError
from ocpp_station.dispatch.dispatcher import NotReady
from ocpp_station.rpc.errors import CallTimeout, ConnectionLost, OCPPError

INCOMING_TOPIC = "data_transfer_incoming"
DEFAULT_REPLY_TIMEOUT = 5.0  # seconds a control-API handler has to answer


def _json_text(value: str, where: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise ControlError("InvalidParams", f"{where} must be JSON text: {exc}") from None


def _custom_data_in(custom: dict[str, Any], where: str) -> dict[str, Any]:
    """EVerest CustomData → OCPP customData (``vendorId`` added when the JSON lacks it)."""
    obj = _json_text(custom["data"], f"{where}.data")
    if not isinstance(obj, dict):
        raise ControlError("InvalidParams", f"{where}.data must be the JSON text of an object")
    obj.setdefault("vendorId", custom["vendor_id"])
    return obj


def _custom_data_out(custom: dict[str, Any]) -> dict[str, Any]:
    return {"vendor_id": custom.get("vendorId", ""), "data": json.dumps(custom)}


def request_in(request: dict[str, Any]) -> dict[str, Any]:
    """EVerest DataTransferRequest → the OCPP DataTransferRequest payload."""
    payload: dict[str, Any] = {"vendorId": request["vendor_id"]}
    if "message_id" in request:
        payload["messageId"] = request["message_id"]
    if "data" in request:
        payload["data"] = _json_text(request["data"], "request.data")
    if "custom_data" in request:
        payload["customData"] = _custom_data_in(request["custom_data"], "request.custom_data")
    return payload


def request_out(payload: dict[str, Any]) -> dict[str, Any]:
    """The OCPP DataTransferRequest payload → EVerest DataTransferRequest."""
    out: dict[str, Any] = {"vendor_id": payload["vendorId"]}
    if "messageId" in payload:
        out["message_id"] = payload["messageId"]
    if "data" in payload:
        out["data"] = json.dumps(payload["data"])
    if "customData" in payload:
        out["custom_data"] = _custom_data_out(payload["customData"])
    return out


def response_out(answer: dict[str, Any]) -> dict[str, Any]:
    """The OCPP DataTransferResponse payload → EVerest DataTransferResponse (+ ``status_info``)."""
    out: dict[str, Any] = {"status": answer["status"]}
    if "data" in answer:
        out["data"] = json.dumps(answer["data"])
    if "customData" in answer:
        out["custom_data"] = _custom_data_out(answer["customData"])
    if "statusInfo" in answer:
        out["status_info"] = to_snake(answer["statusInfo"])
    return out


def response_in(response: dict[str, Any]) -> Answer:
    """EVerest DataTransferResponse (a client's reply) → the OCPP DataTransferResponse payload.
    ``Offline`` is not an OCPP status: it becomes ``UnknownVendorId``, as EVerest maps it."""
    status = response["status"]
    answer: Answer = {"status": "UnknownVendorId" if status == "Offline" else status}
    if "data" in response:
        answer["data"] = _json_text(response["data"], "response.data")
    if "custom_data" in response:
        answer["customData"] = _custom_data_in(response["custom_data"], "response.custom_data")
    if "status_info" in response:
        answer["statusInfo"] = to_camel(response["status_info"])
    return answer


def _info(reason: str, info: str) -> dict[str, Any]:
    return {"reason_code": reason, "additional_info": info[:512]}


def failure_out(exc: Exception, *, connected: bool) -> dict[str, Any] | None:
    """The EVerest DataTransferResponse for a DataTransfer that got no DataTransferResponse, or
    None when ``exc`` is not one of those outcomes."""
    if isinstance(exc, NotReady):
        if not connected:
            return {"status": "Offline", "status_info": _info("NotConnected", str(exc))}
        # B02/B03: only Accepted stations send their own messages
        return {"status": "Offline", "status_info": _info("CSNotAccepted", str(exc))}
    if isinstance(exc, ConnectionLost):
        info = "the connection was lost before the CSMS answered"
        return {"status": "Offline", "status_info": _info("ConnectionLost", info)}
    if isinstance(exc, CallTimeout):
        info = "no answer from the CSMS within MessageTimeout"
        return {"status": "Offline", "status_info": _info("Timeout", info)}
    if isinstance(exc, OCPPError):
        # A CALLERROR (or a response the schema refuses): EVerest answers Rejected.
        return {"status": "Rejected", "status_info": _info(str(exc.code), exc.description)}
    return None


class ClientHandlers:
    """DataTransfer handlers served by control-API clients (see the module docstring)."""

    def __init__(self, publish: Callable[[str, Any], Awaitable[None]], clock: Clock) -> None:
        self._publish = publish
        self._clock = clock
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}

    def handler(self, timeout: float) -> DataTransferHandler:
        async def handle(payload: dict[str, Any]) -> Answer:
            return await self._ask(payload, timeout)

        return handle

    async def _ask(self, payload: dict[str, Any], timeout: float) -> Answer:
        request_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        sleeper: asyncio.Future[Any] = asyncio.ensure_future(self._clock.sleep(timeout))
        try:
            await self._publish(INCOMING_TOPIC, {"id": request_id, "request": request_out(payload)})
            waiting: set[asyncio.Future[Any]] = {future, sleeper}
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if future.done() and not future.cancelled():
                return future.result()
            info = f"no local DataTransfer handler answered within {timeout:g} s"
            return rejected("InternalError", info)
        finally:
            sleeper.cancel()
            self._pending.pop(request_id, None)

    def reply(self, request_id: int, response: dict[str, Any]) -> None:
        """A client's ``data_transfer_reply``: answer the waiting request ``request_id``."""
        future = self._pending.get(request_id)
        if future is None or future.done():
            raise ControlError(
                "InvalidParams",
                f"no DataTransfer request {request_id} is waiting for an answer "
                "(answered already, timed out, or never published)",
            )
        future.set_result(response_in(response))

    def close(self) -> None:
        for future in self._pending.values():
            future.cancel()
        self._pending.clear()
