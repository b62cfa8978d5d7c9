"""Strict input, pure: the control API reads and writes strict JSON only, and every format its
schema uses is checked."""

from __future__ import annotations

import json
import logging
import math
from typing import Any

import pytest

from ocpp_station.control import schema as api
from ocpp_station.control.server import MAX_DIGITS, dump_line, parse_line


@pytest.mark.parametrize(
    "line",
    [
        b'{"id": NaN, "method": "status"}',
        b'{"id": Infinity, "method": "status"}',
        b'{"id": -Infinity, "method": "status"}',
        b'{"id": 1e999, "method": "status"}',
        b'{"id": ' + b"9" * 5000 + b', "method": "status"}',
        b'{"id": ' + b"9" * (MAX_DIGITS + 1) + b', "method": "status"}',
        b"[" * 100_000 + b"]" * 100_000,
    ],
)
def test_parse_line_refuses_what_strict_json_has_not(line: bytes) -> None:
    with pytest.raises(ValueError):
        parse_line(line)


def test_dump_line_is_strict_json_or_an_error_reply() -> None:
    log = logging.getLogger("t.control")
    assert dump_line({"id": 1, "result": [1.5]}, log) == b'{"id":1,"result":[1.5]}\n'
    bad = json.loads(dump_line({"id": 2, "result": math.nan}, log))
    assert bad["id"] == 2 and bad["error"]["code"] == "InternalError"
    assert json.loads(dump_line({"id": 3, "result": "x\ud800"}, log))["result"] == "x\ud800"


def test_every_format_the_control_schema_uses_is_checked() -> None:
    used: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("format"), str):
                used.add(node["format"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(api.control_schema())
    assert used and used <= set(api._formats().checkers)
    with pytest.raises(api.ControlError, match="date-time"):
        api.check_params("security_event", {"event": {"type": "x", "timestamp": "yesterday"}})
