"""OCPP-J 2.0.1 CALLERROR codes (OCPP 2.0.1 Part 4, section 4.3), the exception carrying one, and
the two ways an outgoing CALL can fail without an answer."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    FORMAT_VIOLATION = "FormatViolation"
    GENERIC_ERROR = "GenericError"
    INTERNAL_ERROR = "InternalError"
    MESSAGE_TYPE_NOT_SUPPORTED = "MessageTypeNotSupported"
    NOT_IMPLEMENTED = "NotImplemented"
    NOT_SUPPORTED = "NotSupported"
    OCCURRENCE_CONSTRAINT_VIOLATION = "OccurrenceConstraintViolation"
    PROPERTY_CONSTRAINT_VIOLATION = "PropertyConstraintViolation"
    PROTOCOL_ERROR = "ProtocolError"
    RPC_FRAMEWORK_ERROR = "RpcFrameworkError"
    SECURITY_ERROR = "SecurityError"
    TYPE_CONSTRAINT_VIOLATION = "TypeConstraintViolation"


class OCPPError(Exception):
    """An error to be answered (or received) as a CALLERROR.

    Raise it from a handler to answer the CALL with that code; the RPC layer also raises it for a
    CALLERROR the CSMS sent back.
    """

    def __init__(
        self, code: ErrorCode | str, description: str = "", details: dict[str, Any] | None = None
    ) -> None:
        self.code = ErrorCode(code)
        self.description = description
        self.details: dict[str, Any] = details or {}
        super().__init__(f"{self.code}: {description}" if description else str(self.code))


class InvalidRequest(OCPPError):
    """A station→CSMS request that is no valid OCPP (its schema, or text UTF-8 cannot carry):
    it was not sent, and sending it again can never help.  ``code`` is the CALLERROR the CSMS
    would have answered with."""


class SchemaUnavailable(OCPPError):
    """A schema could not be read to check a message (the process is out of file descriptors,
    say): an InternalError for the CSMS's call, a failed attempt (sent again later) for the
    station's own; nothing is cached, so the next message reads it again."""

    def __init__(self, description: str) -> None:
        super().__init__(ErrorCode.INTERNAL_ERROR, description)


class CallTimeout(Exception):
    """No CALLRESULT/CALLERROR arrived within the timeout (OCPPCommCtrlr.MessageTimeout)."""


class ConnectionLost(Exception):
    """The connection went away before the CALL was answered (or while sending it), or the
    endpoint was closed."""
