"""Every CALLERROR rule of OCPP-J (issue 2), against the whole station: a plain websocket server
plays the CSMS, answers the boot, then sends raw frames and reads the station's answers.  (A
handler that raises is answered InternalError: ``tests/unit/rpc/test_callerror_wire.py``, which
can give the endpoint such a handler.)"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import websockets
from support import station_config
from websockets.asyncio.server import ServerConnection

from ocpp_station import Station

CASES: list[tuple[str, str, str]] = [
    ("not json", "RpcFrameworkError", "-1"),
    ('{"an": "object"}', "RpcFrameworkError", "-1"),
    ("[2]", "RpcFrameworkError", "-1"),
    ('[7, "m-type", "Heartbeat", {}]', "MessageTypeNotSupported", "m-type"),
    ('[2, "m-undef", "FlyToTheMoon", {}]', "NotImplemented", "m-undef"),
    (
        '[2, "m-unsup", "PublishFirmware", {"location": "https://x/fw.bin", '
        '"checksum": "0123456789abcdef0123456789abcdef", "requestId": 1}]',
        "NotSupported",
        "m-unsup",
    ),
    (
        '[2, "m-type16", "ChangeAvailability", {"operationalStatus": "Available"}]',
        "TypeConstraintViolation",
        "m-type16",
    ),
    (
        '[2, "m-wrongtype", "GetVariables", {"getVariableData": "all"}]',
        "TypeConstraintViolation",
        "m-wrongtype",
    ),
    ('[2, "m-missing", "ChangeAvailability", {}]', "OccurrenceConstraintViolation", "m-missing"),
    (
        '[2, "m-range", "SetChargingProfile", {"evseId": 1, "chargingProfile": {"id": 1, '
        '"stackLevel": 1, "chargingProfilePurpose": "TxDefaultProfile", '
        '"chargingProfileKind": "Absolute", "chargingSchedule": [{"id": 1, '
        '"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6}]}, '
        '{"id": 2, "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, '
        '"limit": 6}]}, {"id": 3, "chargingRateUnit": "A", "chargingSchedulePeriod": '
        '[{"startPeriod": 0, "limit": 6}]}, {"id": 4, "chargingRateUnit": "A", '
        '"chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6}]}]}}]',
        "OccurrenceConstraintViolation",
        "m-range",
    ),
    (
        '[2, "m-long", "GetVariables", {"getVariableData": [{"component": {"name": "'
        + "X" * 60
        + '"}, "variable": {"name": "Y"}}]}]',
        "PropertyConstraintViolation",
        "m-long",
    ),
    (
        '[2, "m-flat", "ChangeAvailability", {"operationalStatus": "Inoperative", '
        '"connectorId": 1}]',
        "FormatViolation",
        "m-flat",
    ),
]


class RawCsms:
    def __init__(self) -> None:
        self.connection: ServerConnection | None = None
        self.connected = asyncio.Event()
        self.answers: asyncio.Queue[list[Any]] = asyncio.Queue()

    async def handler(self, ws: ServerConnection) -> None:
        self.connection = ws
        async for text in ws:
            msg = json.loads(text)
            if msg[0] == 2:  # a CALL from the station: answer it minimally
                action, payload = msg[2], {}
                if action == "BootNotification":
                    payload = {
                        "currentTime": "2026-01-01T00:00:00Z",
                        "interval": 300,
                        "status": "Accepted",
                    }
                    self.connected.set()
                elif action == "Heartbeat":
                    payload = {"currentTime": "2026-01-01T00:00:00Z"}
                await ws.send(json.dumps([3, msg[1], payload]))
            else:
                await self.answers.put(msg)

    async def ask(self, raw: str) -> list[Any]:
        assert self.connection is not None
        await self.connection.send(raw)
        return await asyncio.wait_for(self.answers.get(), 5)


@pytest.fixture
async def raw_station(short_tmp: Path) -> AsyncIterator[tuple[RawCsms, Station]]:
    csms = RawCsms()
    server = await websockets.serve(csms.handler, "127.0.0.1", 0, subprotocols=["ocpp2.0.1"])  # type: ignore[list-item]
    port = next(iter(server.sockets)).getsockname()[1]
    station = Station(station_config(f"ws://127.0.0.1:{port}/ocpp", short_tmp / "d"))
    await station.start()
    await asyncio.wait_for(csms.connected.wait(), 10)
    yield csms, station
    await station.stop()
    server.close()
    await server.wait_closed()


async def test_every_callerror_rule_and_the_connection_stays(
    raw_station: tuple[RawCsms, Station],
) -> None:
    csms, station = raw_station
    for raw, code, message_id in CASES:
        answer = await csms.ask(raw)
        assert answer[0] == 4, (raw, answer)
        assert answer[1] == message_id, (raw, answer)
        assert answer[2] == code, (raw, answer)
        assert isinstance(answer[3], str) and len(answer[3]) <= 255
    # The description names the offending field.
    flat = await csms.ask(CASES[-1][0].replace("m-flat", "m-flat2"))
    assert "connectorId" in flat[3]
    # Still connected and serving: a valid CALL gets its CALLRESULT.
    ok = await csms.ask(
        '[2, "m-ok", "GetVariables", {"getVariableData": [{"component": {"name": '
        '"OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]}]'
    )
    assert ok[0] == 3 and ok[1] == "m-ok"
    assert ok[2]["getVariableResult"][0]["attributeValue"] == "300"
    assert station.connected
