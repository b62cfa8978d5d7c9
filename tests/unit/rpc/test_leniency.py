"""The one leniency towards a CSMS answer: BootNotificationResponse.currentTime without a UTC offset
is read as UTC (issue 14); every other answer is validated strictly."""

from __future__ import annotations

import itertools
import json
import logging

import pytest

from ocpp_station.rpc.connection import CallDone, CallFailed, Note, RpcConnection
from ocpp_station.rpc.errors import ErrorCode
from ocpp_station.rpc.leniency import repair_response

BOOT = {"reason": "PowerUp", "chargingStation": {"model": "M1", "vendorName": "V"}}


def make() -> RpcConnection:
    ids = (f"id-{n}" for n in itertools.count(1))
    return RpcConnection(timeout=lambda: 30.0, new_id=lambda: next(ids))


@pytest.mark.parametrize("naive", ["2026-03-01T10:00:00", "2026-03-01T10:00:00.123"])
def test_boot_time_without_offset_is_read_as_utc(naive: str) -> None:
    payload = {"currentTime": naive, "interval": 60, "status": "Accepted"}
    repaired, warning = repair_response("BootNotification", payload)
    assert repaired == {**payload, "currentTime": naive + "Z"}
    assert warning is not None and naive in warning and "UTC" in warning
    assert payload["currentTime"] == naive  # the received payload is not changed


@pytest.mark.parametrize(
    "value",
    ["2026-03-01T10:00:00Z", "2026-03-01T10:00:00+02:00", "yesterday", "2026-03-01", 17],
)
def test_nothing_else_is_repaired(value: object) -> None:
    payload = {"currentTime": value, "interval": 60, "status": "Accepted"}
    assert repair_response("BootNotification", payload) == (payload, None)


def test_other_actions_are_not_repaired() -> None:
    payload = {"currentTime": "2026-03-01T10:00:00"}
    assert repair_response("Heartbeat", payload) == (payload, None)


def test_connection_accepts_naive_boot_time_with_a_warning() -> None:
    conn = make()
    mid, _ = conn.call("BootNotification", BOOT, now=0.0)
    answer = {"currentTime": "2026-03-01T10:00:00", "interval": 60, "status": "Accepted"}
    outputs = conn.receive(json.dumps([3, mid, answer]), now=1.0)
    done = [o for o in outputs if isinstance(o, CallDone)]
    assert done and done[0].payload["currentTime"] == "2026-03-01T10:00:00Z"
    notes = [o for o in outputs if isinstance(o, Note)]
    assert [n.level for n in notes] == [logging.WARNING]


def test_connection_stays_strict_for_a_naive_heartbeat_time() -> None:
    conn = make()
    mid, _ = conn.call("Heartbeat", {}, now=0.0)
    outputs = conn.receive(json.dumps([3, mid, {"currentTime": "2026-03-01T10:00:00"}]), now=1.0)
    failed = [o for o in outputs if isinstance(o, CallFailed)]
    assert failed and failed[0].error.code is ErrorCode.TYPE_CONSTRAINT_VIOLATION


def test_connection_stays_strict_for_other_boot_fields() -> None:
    conn = make()
    mid, _ = conn.call("BootNotification", BOOT, now=0.0)
    answer = {"currentTime": "2026-03-01T10:00:00", "interval": 60, "status": "Maybe"}
    outputs = conn.receive(json.dumps([3, mid, answer]), now=1.0)
    assert [o for o in outputs if isinstance(o, CallFailed)]
