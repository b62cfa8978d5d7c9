"""Who answers a DataTransfer from the CSMS (P01), and what a valid answer is (pure).

An integrator registers a handler for its vendor id, for every message id of that vendor or for one
message id.  A DataTransferRequest is routed like this:

* no handler for ``vendorId``: ``UnknownVendorId`` (P01.FR.05);
* a handler registered for exactly ``(vendorId, messageId)``: that one;
* else a handler registered for the vendor without a message id: that one (it sees every message
  id of the vendor, and requests without one);
* else ``UnknownMessageId`` (P01.FR.06: the vendor is known, the message id is not; a request
  without ``messageId`` to a vendor that only has message-specific handlers is answered so too).

Vendor and message ids are compared exactly (OCPP does not make them case-insensitive).  A handler
gets the DataTransferRequest payload (camelCase, as the CSMS sent it) and returns a
DataTransferResponse payload; ``Accepted``/``Rejected`` and ``data`` are the vendor agreement's
business (P01.FR.07).  :func:`checked_answer` turns whatever a handler returned into a valid
response: an answer the schema refuses (or JSON cannot carry) becomes ``Rejected`` with a
statusInfo, so the CSMS always gets a DataTransferResponse, never a CALLERROR.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from ocpp_station.ocpp_types import status_info
from ocpp_station.rpc.errors import OCPPError
from ocpp_station.rpc.validation import default_registry

ACTION = "DataTransfer"
VENDOR_ID_MAX = 255  # DataTransferRequest.vendorId: string[0..255]
MESSAGE_ID_MAX = 50  # DataTransferRequest.messageId: string[0..50]

Answer = dict[str, Any]
DataTransferHandler = Callable[[dict[str, Any]], "Awaitable[Answer] | Answer"]

UNKNOWN_VENDOR: Answer = {"status": "UnknownVendorId"}
UNKNOWN_MESSAGE: Answer = {"status": "UnknownMessageId"}


def check_ids(vendor_id: object, message_id: object) -> None:
    """Raise ``ValueError`` unless these are a vendor id and message id a DataTransfer can carry."""
    if not isinstance(vendor_id, str) or not vendor_id:
        raise ValueError("vendor_id must be a non-empty string")
    if len(vendor_id) > VENDOR_ID_MAX:
        raise ValueError(f"vendor_id is longer than {VENDOR_ID_MAX} characters")
    if message_id is not None:
        if not isinstance(message_id, str) or not message_id:
            raise ValueError("message_id must be a non-empty string or None")
        if len(message_id) > MESSAGE_ID_MAX:
            raise ValueError(f"message_id is longer than {MESSAGE_ID_MAX} characters")


class DataTransferRegistry:
    """The integrator's DataTransfer handlers by vendor id and message id.

    Owned by the station, not by the block: registrations survive a reset (which rebuilds the
    blocks) and may be made before the station starts.
    """

    def __init__(self) -> None:
        self._handlers: dict[str, dict[str | None, DataTransferHandler]] = {}

    def register(
        self, vendor_id: str, handler: DataTransferHandler, message_id: str | None = None
    ) -> Callable[[], None]:
        """Let ``handler`` answer DataTransfers of ``vendor_id`` (every message id when
        ``message_id`` is None).  A later registration for the same ids replaces this one.
        Returns a function that removes this registration (a no-op once it was replaced)."""
        check_ids(vendor_id, message_id)
        if not callable(handler):
            raise TypeError("handler must be callable")
        self._handlers.setdefault(vendor_id, {})[message_id] = handler

        def unregister() -> None:
            by_message = self._handlers.get(vendor_id)
            if by_message is not None and by_message.get(message_id) is handler:
                del by_message[message_id]
                if not by_message:
                    del self._handlers[vendor_id]

        return unregister

    def resolve(self, vendor_id: str, message_id: str | None) -> DataTransferHandler | Answer:
        """The handler for this request, or the answer when there is none (module docstring)."""
        by_message = self._handlers.get(vendor_id)
        if not by_message:
            return dict(UNKNOWN_VENDOR)  # P01.FR.05
        if message_id is not None and message_id in by_message:
            return by_message[message_id]
        if None in by_message:
            return by_message[None]
        return dict(UNKNOWN_MESSAGE)  # P01.FR.06

    def registered(self) -> list[tuple[str, str | None]]:
        """Every (vendor id, message id or None) with a handler."""
        return [(v, m) for v, by_message in self._handlers.items() for m in by_message]


def rejected(reason: str, info: str) -> Answer:
    """A ``Rejected`` answer saying why (StatusInfoType, cut to the schema's lengths)."""
    return {"status": "Rejected", "statusInfo": status_info(reason, info)}


def handler_failed(exc: BaseException) -> Answer:
    """The answer when a handler raised: ``Rejected``, reason ``InternalError``.  Only the
    exception's type goes to the CSMS; its message may carry what the station should keep."""
    return rejected("InternalError", f"the DataTransfer handler failed: {type(exc).__name__}")


def checked_answer(answer: object) -> Answer:
    """``answer`` if it is a valid DataTransferResponse payload, else a ``Rejected`` saying what is
    wrong with it."""
    if not isinstance(answer, dict):
        return rejected(
            "InternalError",
            f"the DataTransfer handler returned {type(answer).__name__}, not a response object",
        )
    try:
        json.dumps(answer, allow_nan=False)
    except (TypeError, ValueError) as exc:
        return rejected("InternalError", f"the DataTransfer handler's answer is not JSON: {exc}")
    try:
        default_registry().validate(ACTION, "response", answer)
    except OCPPError as invalid:
        return rejected(
            "InternalError", f"the DataTransfer handler's answer is invalid: {invalid.description}"
        )
    return answer


def request_payload(
    vendor_id: str,
    message_id: str | None = None,
    data: Any = None,
    custom_data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A DataTransferRequest payload (``data`` None: no data field).  Raises ``ValueError`` for
    ids a DataTransfer cannot carry or ``data`` JSON cannot carry."""
    check_ids(vendor_id, message_id)
    payload: dict[str, Any] = {"vendorId": vendor_id}
    if message_id is not None:
        payload["messageId"] = message_id
    if data is not None:
        try:
            json.dumps(data, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"data is not JSON: {exc}") from None
        payload["data"] = data
    if custom_data is not None:
        payload["customData"] = custom_data
    return payload
