"""The sans-I/O RPC connection, driven by hand with plain floats as time: no asyncio, no sockets."""

from __future__ import annotations

import itertools
import json
import logging
from typing import Any

import pytest

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
from ocpp_station.rpc.errors import (
    CallTimeout,
    ConnectionLost,
    ErrorCode,
    InvalidRequest,
    OCPPError,
    SchemaUnavailable,
)
from ocpp_station.rpc.validation import SchemaRegistry

BOOT = {"reason": "PowerUp", "chargingStation": {"model": "M1", "vendorName": "V"}}
HEARTBEAT_OK = {"currentTime": "2026-01-01T00:00:00.000Z"}


def make(timeout: float = 30.0) -> RpcConnection:
    ids = (f"id-{n}" for n in itertools.count(1))
    return RpcConnection(timeout=lambda: timeout, new_id=lambda: next(ids))


def wire(outputs: list[Output]) -> list[list[Any]]:
    """The frames to transmit, decoded."""
    return [json.loads(out.text) for out in outputs if isinstance(out, SendCall | SendAnswer)]


def only(outputs: list[Output], kind: type) -> Any:
    found = [out for out in outputs if isinstance(out, kind)]
    assert len(found) == 1, outputs
    return found[0]


def result(message_id: str, payload: dict[str, Any]) -> str:
    return json.dumps([3, message_id, payload])


# --- outgoing ------------------------------------------------------------------------------------


def test_first_call_goes_out_at_once_with_its_deadline() -> None:
    conn = make(timeout=30.0)
    message_id, outputs = conn.call("BootNotification", BOOT, now=100.0)
    assert outputs == [SendCall("id-1", "BootNotification", outputs[0].text, 130.0)]
    assert wire(outputs) == [[2, "id-1", "BootNotification", BOOT]]
    assert conn.in_flight == message_id == "id-1"
    assert conn.next_deadline() == 130.0


def test_one_call_in_flight_then_fifo() -> None:
    conn = make()
    conn.call("Heartbeat", {}, now=0.0)
    second, outputs = conn.call("Heartbeat", {}, now=1.0)
    third, more = conn.call("Heartbeat", {}, now=2.0)
    assert outputs == [] and more == []  # they wait
    assert conn.waiting == 2
    outputs = conn.receive(result("id-1", HEARTBEAT_OK), now=5.0)
    assert outputs[0] == CallDone("id-1", HEARTBEAT_OK)
    assert only(outputs, SendCall).message_id == second
    assert conn.next_deadline() == 35.0  # its deadline starts when it goes out
    outputs = conn.receive(result(second, HEARTBEAT_OK), now=6.0)
    assert only(outputs, SendCall).message_id == third
    assert conn.receive(result(third, HEARTBEAT_OK), now=7.0) == [CallDone(third, HEARTBEAT_OK)]
    assert conn.in_flight is None and conn.next_deadline() is None


def test_deadline_expires_and_the_next_call_goes_out() -> None:
    conn = make(timeout=10.0)
    conn.call("Heartbeat", {}, now=0.0)
    conn.call("Heartbeat", {}, now=0.0)
    assert conn.expire(9.999) == []
    outputs = conn.expire(10.0)
    failed = only(outputs, CallFailed)
    assert failed.message_id == "id-1"
    assert isinstance(failed.error, CallTimeout)
    assert str(failed.error) == "Heartbeat not answered within 10 s"
    assert only(outputs, SendCall).message_id == "id-2"
    assert conn.next_deadline() == 20.0
    late = conn.receive(result("id-1", HEARTBEAT_OK), now=11.0)  # the answer after the timeout
    assert late == [Note(logging.WARNING, late[0].message)]
    assert "stale" in late[0].message
    assert conn.in_flight == "id-2"


def test_timeout_is_read_for_every_call() -> None:
    seconds = [5.0]
    conn = RpcConnection(timeout=lambda: seconds[0])
    conn.call("Heartbeat", {}, now=0.0)
    seconds[0] = 7.0
    conn.call("Heartbeat", {}, now=0.0)  # waits; reads the timeout only when it goes out
    conn.expire(5.0)
    assert conn.next_deadline() == 12.0


def test_unknown_ids_are_dropped_and_never_answered() -> None:
    conn = make()
    conn.call("Heartbeat", {}, now=0.0)
    for text in (result("not-ours", HEARTBEAT_OK), '[4,"not-ours","GenericError","",{}]'):
        outputs = conn.receive(text, now=1.0)
        assert [type(out) for out in outputs] == [Note]
        assert "not-ours" in outputs[0].message
    assert conn.in_flight == "id-1"


def test_answer_with_no_call_in_flight_is_dropped() -> None:
    outputs = make().receive(result("x", HEARTBEAT_OK), now=0.0)
    assert [type(out) for out in outputs] == [Note]


def test_callerror_answer_fails_the_call_with_its_code() -> None:
    conn = make()
    conn.call("Heartbeat", {}, now=0.0)
    outputs = conn.receive('[4,"id-1","SecurityError","no",{"why":1}]', now=1.0)
    error = only(outputs, CallFailed).error
    assert isinstance(error, OCPPError)
    assert (error.code, error.description, error.details) == (
        ErrorCode.SECURITY_ERROR,
        "no",
        {"why": 1},
    )


def test_callerror_with_a_code_part4_does_not_name_is_generic() -> None:
    conn = make()
    conn.call("Heartbeat", {}, now=0.0)
    error = only(conn.receive('[4,"id-1","Weird","text",{}]', now=1.0), CallFailed).error
    assert isinstance(error, OCPPError)
    assert error.code is ErrorCode.GENERIC_ERROR
    assert error.description == "[Weird] text"


def test_invalid_response_fails_the_call_with_the_mapped_code() -> None:
    conn = make()
    conn.call("Heartbeat", {}, now=0.0)
    outputs = conn.receive(result("id-1", {"currentTime": "yesterday"}), now=1.0)
    error = only(outputs, CallFailed).error
    assert isinstance(error, OCPPError)
    assert error.code is ErrorCode.TYPE_CONSTRAINT_VIOLATION
    assert conn.in_flight is None  # the slot is free all the same


def test_invalid_request_is_refused_and_nothing_queued() -> None:
    conn = make()
    with pytest.raises(OCPPError) as info:
        conn.call("BootNotification", {"reason": "PowerUp"}, now=0.0)
    assert info.value.code is ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION
    assert conn.in_flight is None and conn.waiting == 0


def test_send_failure_fails_that_call_only() -> None:
    conn = make()
    conn.call("Heartbeat", {}, now=0.0)
    conn.call("Heartbeat", {}, now=0.0)
    outputs = conn.send_failed("id-1", "socket closed", now=1.0)
    error = only(outputs, CallFailed).error
    assert isinstance(error, ConnectionLost)
    assert str(error) == "sending Heartbeat failed: socket closed"
    assert only(outputs, SendCall).message_id == "id-2"
    assert conn.send_failed("id-1", "again", now=2.0) == []  # not in flight any more


def test_cancel_in_flight_or_waiting() -> None:
    conn = make()
    conn.call("Heartbeat", {}, now=0.0)
    conn.call("Heartbeat", {}, now=0.0)
    conn.call("Heartbeat", {}, now=0.0)
    assert conn.cancel("id-2", now=1.0) == []  # a waiting one simply leaves the queue
    assert conn.waiting == 1
    outputs = conn.cancel("id-1", now=2.0)  # the one in flight: the next goes out
    assert outputs == [SendCall("id-3", "Heartbeat", outputs[0].text, 32.0)]
    assert conn.cancel("id-1", now=3.0) == []  # idempotent


def test_connection_lost_fails_in_flight_and_sends_the_next() -> None:
    conn = make()
    conn.call("Heartbeat", {}, now=0.0)
    conn.call("Heartbeat", {}, now=0.0)
    outputs = conn.connection_lost(now=3.0)
    failed = only(outputs, CallFailed)
    assert failed.message_id == "id-1" and isinstance(failed.error, ConnectionLost)
    assert only(outputs, SendCall).message_id == "id-2"
    again = conn.connection_lost(now=4.0)  # the next one fails too when that send finds no line
    assert [(type(out), out.message_id) for out in again] == [(CallFailed, "id-2")]
    assert conn.connection_lost(now=5.0) == []


def test_close_fails_every_call_and_ends_the_connection() -> None:
    conn = make()
    conn.call("Heartbeat", {}, now=0.0)
    conn.call("Heartbeat", {}, now=0.0)
    outputs = conn.close()
    assert [out.message_id for out in outputs if isinstance(out, CallFailed)] == ["id-1", "id-2"]
    assert all(
        isinstance(out, CallFailed) and isinstance(out.error, ConnectionLost) for out in outputs
    )
    assert conn.closed and conn.next_deadline() is None
    with pytest.raises(ConnectionLost):
        conn.call("Heartbeat", {}, now=1.0)
    assert [type(out) for out in conn.receive('[2,"c1","Reset",{"type":"Immediate"}]', 1.0)] == [
        Note
    ]


# --- incoming ------------------------------------------------------------------------------------


def test_valid_call_is_dispatched_and_answered() -> None:
    conn = make()
    conn.support("Reset")
    dispatch = only(conn.receive('[2,"r1","Reset",{"type":"Immediate"}]', now=0.0), Dispatch)
    assert dispatch.call.payload == {"type": "Immediate"}
    outputs = conn.respond(dispatch, {"status": "Accepted"})
    assert outputs == [SendAnswer("r1", '[3,"r1",{"status":"Accepted"}]', True)]


@pytest.mark.parametrize(
    "text, answer",
    [
        ("nonsense", ["-1", "RpcFrameworkError"]),
        ("[2]", ["-1", "RpcFrameworkError"]),
        ('[9,"m9",{}]', ["m9", "MessageTypeNotSupported"]),
        ('[2,"m2","Reset",[]]', ["m2", "FormatViolation"]),
        ('[2,"ni","StartTransaction",{}]', ["ni", "NotImplemented"]),
        ('[2,"ns","ClearCache",{}]', ["ns", "NotSupported"]),
        ('[2,"tc","Reset",{"type":"Now"}]', ["tc", "TypeConstraintViolation"]),
        ('[2,"oc","Reset",{}]', ["oc", "OccurrenceConstraintViolation"]),
        ('[2,"fv","Reset",{"type":"Immediate","connectorId":1}]', ["fv", "FormatViolation"]),
    ],
)
def test_bad_calls_are_answered_with_the_part4_callerror(text: str, answer: list[str]) -> None:
    conn = make()
    conn.support("Reset")
    outputs = conn.receive(text, now=0.0)
    frames = wire(outputs)
    assert len(frames) == 1 and frames[0][:3] == [4, *answer]
    assert not any(isinstance(out, Dispatch) for out in outputs)
    assert only(outputs, SendAnswer).result is False


@pytest.mark.parametrize("text", ['[3,"r1"]', '[4,"r1","X","y",[]]', '[3,"r1","str"]'])
def test_broken_responses_are_never_answered(text: str) -> None:
    outputs = make().receive(text, now=0.0)
    assert [type(out) for out in outputs] == [Note]
    assert "dropped" in outputs[0].message


def test_gate_is_checked_last() -> None:
    conn = make()
    conn.support("Reset")
    conn.gate = lambda action: OCPPError(ErrorCode.SECURITY_ERROR, f"{action}: not accepted")
    assert wire(conn.receive('[2,"g0","Reset",{}]', 0.0))[0][2] == "OccurrenceConstraintViolation"
    assert wire(conn.receive('[2,"g1","Reset",{"type":"Immediate"}]', 0.0)) == [
        [4, "g1", "SecurityError", "Reset: not accepted", {}]
    ]
    conn.gate = lambda action: None
    only(conn.receive('[2,"g2","Reset",{"type":"Immediate"}]', 0.0), Dispatch)


def test_duplicate_id_while_handling_is_an_rpc_framework_error() -> None:
    conn = make()
    conn.support("Reset")
    first = only(conn.receive('[2,"d1","Reset",{"type":"Immediate"}]', 0.0), Dispatch)
    assert wire(conn.receive('[2,"d1","Reset",{"type":"Immediate"}]', 0.0))[0][:3] == [
        4,
        "d1",
        "RpcFrameworkError",
    ]
    conn.respond(first, {"status": "Accepted"})
    only(conn.receive('[2,"d1","Reset",{"type":"Immediate"}]', 0.0), Dispatch)  # free again


def test_invalid_or_unencodable_handler_results_are_internal_errors() -> None:
    conn = make()
    conn.support("Reset")
    conn.support("DataTransfer")
    reset = only(conn.receive('[2,"h1","Reset",{"type":"Immediate"}]', 0.0), Dispatch)
    outputs = conn.respond(reset, {"status": "Available"})
    assert wire(outputs)[0][:3] == [4, "h1", "InternalError"]
    assert only(outputs, Note).level == logging.ERROR
    reset = only(conn.receive('[2,"h2","Reset",{"type":"Immediate"}]', 0.0), Dispatch)
    assert wire(conn.respond(reset, "Accepted"))[0][:3] == [4, "h2", "InternalError"]
    transfer = only(conn.receive('[2,"h3","DataTransfer",{"vendorId":"v"}]', 0.0), Dispatch)
    outputs = conn.respond(transfer, {"status": "Accepted", "data": {1, 2}})
    assert only(outputs, SendAnswer) == SendAnswer(
        "h3", '[4,"h3","InternalError","response not encodable",{}]', False
    )


def test_handler_error_answered_and_description_cut_to_255() -> None:
    conn = make()
    conn.support("Reset")
    dispatch = only(conn.receive('[2,"w1","Reset",{"type":"Immediate"}]', 0.0), Dispatch)
    frame = wire(conn.respond_error(dispatch, OCPPError(ErrorCode.GENERIC_ERROR, "x" * 1000)))[0]
    assert frame[:3] == [4, "w1", "GenericError"]
    assert len(frame[3]) == 255 and frame[3].endswith("...")


def test_unencodable_error_details_are_dropped() -> None:
    conn = make()
    conn.support("Reset")
    dispatch = only(conn.receive('[2,"e1","Reset",{"type":"Immediate"}]', 0.0), Dispatch)
    error = OCPPError(ErrorCode.GENERIC_ERROR, "busy", {"when": {1}})
    assert wire(conn.respond_error(dispatch, error)) == [[4, "e1", "GenericError", "busy", {}]]


def test_answers_do_not_cross_connections() -> None:
    conn = make()
    conn.support("Reset")
    dispatch = only(conn.receive('[2,"x1","Reset",{"type":"Immediate"}]', 0.0), Dispatch)
    conn.connection_lost(now=1.0)
    outputs = conn.respond(dispatch, {"status": "Accepted"})
    assert [type(out) for out in outputs] == [Note]
    assert "connection was lost" in outputs[0].message
    # the same id on the new connection is a new CALL, not a duplicate
    only(conn.receive('[2,"x1","Reset",{"type":"Immediate"}]', 2.0), Dispatch)


def test_support_rejects_a_non_201_action() -> None:
    with pytest.raises(ValueError, match="RemoteStartTransaction"):
        make().support("RemoteStartTransaction")


def test_a_schema_that_cannot_be_read_is_an_internal_error_and_read_again_later(
    tmp_path: Any,
) -> None:
    """A process out of descriptors cannot read a schema on its first use: the CSMS's call gets
    CALLERROR InternalError (not silence), the station's own call fails without being judged
    invalid (a queued message is sent again, not set aside), and nothing is cached."""
    registry = SchemaRegistry()
    readable = registry._dir
    registry._dir = tmp_path  # every schema read fails (no such file), as with EMFILE
    conn = RpcConnection(timeout=lambda: 30.0, registry=registry, new_id=lambda: "id-1")
    conn.support("Reset")
    answer = wire(conn.receive(json.dumps([2, "h1", "Reset", {"type": "Immediate"}]), 0.0))
    assert answer[0][:3] == [4, "h1", "InternalError"]
    with pytest.raises(SchemaUnavailable) as raised:
        conn.call("Heartbeat", {}, now=0.0)
    assert not isinstance(raised.value, InvalidRequest)
    registry._dir = readable  # descriptors again: the same calls go through
    dispatch = only(
        conn.receive(json.dumps([2, "h2", "Reset", {"type": "Immediate"}]), 1.0), Dispatch
    )
    registry._dir = tmp_path
    outputs = conn.respond(dispatch, {"status": "Accepted"})  # the response cannot be checked
    assert wire(outputs)[0][:3] == [4, "h2", "InternalError"]
    registry._dir = readable
    message_id, outputs = conn.call("Heartbeat", {}, now=2.0)
    assert wire(outputs) == [[2, message_id, "Heartbeat", {}]]
