"""EVerest's DataTransfer types (seed 004) on the control API: ``data`` is JSON text, CustomData is
``{vendor_id, data}``, and a DataTransfer without an answer is ``Offline``."""

from __future__ import annotations

import pytest

from ocpp_station.control.data_transfer import (
    failure_out,
    request_in,
    request_out,
    response_in,
    response_out,
)
from ocpp_station.control.server import ControlError
from ocpp_station.dispatch.dispatcher import NotReady
from ocpp_station.rpc.errors import CallTimeout, ConnectionLost, ErrorCode, OCPPError


def test_request_round_trip() -> None:
    everest = {
        "vendor_id": "com.example",
        "message_id": "ping",
        "data": '{"n": 1, "list": [true, null]}',
        "custom_data": {"vendor_id": "com.example", "data": '{"x": 2}'},
    }
    ocpp = request_in(everest)
    assert ocpp == {
        "vendorId": "com.example",
        "messageId": "ping",
        "data": {"n": 1, "list": [True, None]},
        "customData": {"x": 2, "vendorId": "com.example"},
    }
    back = request_out(ocpp)
    assert back["vendor_id"] == "com.example" and back["message_id"] == "ping"
    assert request_in(back) == ocpp


def test_data_must_be_json_text() -> None:
    with pytest.raises(ControlError, match=r"request\.data must be JSON text"):
        request_in({"vendor_id": "v", "data": "not json"})
    assert request_in({"vendor_id": "v", "data": '"a string"'})["data"] == "a string"
    with pytest.raises(ControlError, match="JSON text of an object"):
        request_in({"vendor_id": "v", "custom_data": {"vendor_id": "v", "data": "[1]"}})


def test_response_shapes() -> None:
    answer = {
        "status": "Rejected",
        "data": [1, "two"],
        "statusInfo": {"reasonCode": "InvalidValue", "additionalInfo": "no"},
    }
    assert response_out(answer) == {
        "status": "Rejected",
        "data": '[1, "two"]',
        "status_info": {"reason_code": "InvalidValue", "additional_info": "no"},
    }
    assert response_in(response_out(answer)) == answer
    # Offline is EVerest's, not OCPP's: it goes to the CSMS as UnknownVendorId (as EVerest does)
    assert response_in({"status": "Offline"}) == {"status": "UnknownVendorId"}


def test_failures_p02() -> None:
    offline = failure_out(NotReady("DataTransfer: not connected"), connected=False)
    assert offline is not None and offline["status"] == "Offline"
    assert offline["status_info"]["reason_code"] == "NotConnected"
    pending = failure_out(NotReady("DataTransfer: Pending"), connected=True)
    assert pending is not None and pending["status_info"]["reason_code"] == "CSNotAccepted"
    lost = failure_out(ConnectionLost(), connected=True)
    assert lost is not None and lost["status"] == "Offline"
    timeout = failure_out(CallTimeout(), connected=True)
    assert timeout is not None and timeout["status_info"]["reason_code"] == "Timeout"
    error = failure_out(OCPPError(ErrorCode.NOT_SUPPORTED, "no"), connected=True)
    assert error == {
        "status": "Rejected",
        "status_info": {"reason_code": "NotSupported", "additional_info": "no"},
    }
    assert failure_out(RuntimeError("x"), connected=True) is None
