"""OCPP-J 2.0.1 RPC: framing, schema validation, the sans-I/O connection rules and the asyncio
request/response endpoint."""

from ocpp_station.rpc.connection import (
    CallDone,
    CallFailed,
    Dispatch,
    Note,
    Output,
    RpcConnection,
    SendAnswer,
    SendCall,
)
from ocpp_station.rpc.endpoint import Handler, Reply, RpcEndpoint
from ocpp_station.rpc.errors import (
    CallTimeout,
    ConnectionLost,
    ErrorCode,
    InvalidRequest,
    OCPPError,
    SchemaUnavailable,
)
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
    "CallDone",
    "CallError",
    "CallFailed",
    "CallResult",
    "CallTimeout",
    "ConnectionLost",
    "Dispatch",
    "ErrorCode",
    "Frame",
    "FrameError",
    "Handler",
    "InvalidRequest",
    "Note",
    "OCPPError",
    "Output",
    "Reply",
    "RpcConnection",
    "RpcEndpoint",
    "SchemaRegistry",
    "SchemaUnavailable",
    "SendAnswer",
    "SendCall",
    "default_registry",
    "encode",
    "new_message_id",
    "parse",
    "validate",
]
