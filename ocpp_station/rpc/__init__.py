"""OCPP-J 2.0.1 RPC: framing, schema validation and the request/response endpoint."""

from ocpp_station.rpc.endpoint import CallTimeout, ConnectionLost, Handler, Reply, RpcEndpoint
from ocpp_station.rpc.errors import ErrorCode, OCPPError
from ocpp_station.rpc.frames import (
    Call,
    CallError,
    CallResult,
    Frame,
    FrameError,
    encode,
    new_message_id,
    parse,
)
from ocpp_station.rpc.validation import SchemaRegistry, default_registry, validate

__all__ = [
    "Call",
    "CallError",
    "CallResult",
    "CallTimeout",
    "ConnectionLost",
    "ErrorCode",
    "Frame",
    "FrameError",
    "Handler",
    "OCPPError",
    "Reply",
    "RpcEndpoint",
    "SchemaRegistry",
    "default_registry",
    "encode",
    "new_message_id",
    "parse",
    "validate",
]
