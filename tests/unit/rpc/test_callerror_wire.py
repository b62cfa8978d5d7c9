"""Over a real loopback websocket, the station answers broken CSMS frames with the right CALLERROR.

A plain ``websockets`` server plays a (badly behaved) CSMS and sends raw text; the client is the
real :class:`Transport` + :class:`RpcEndpoint` (no station; loopback only).  After every error,
including a handler that raises (InternalError), the connection stays up.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.typing import Subprotocol

from ocpp_station.rpc.endpoint import RpcEndpoint
from ocpp_station.transport import BackOff, Transport, TransportConfig

BOOT = {"reason": "PowerUp", "chargingStation": {"model": "M1", "vendorName": "V"}}
BOOT_OK = {"currentTime": "2026-01-01T00:00:00.000Z", "interval": 300, "status": "Accepted"}

# (raw frame the CSMS sends, [message id, error code] the station must answer with)
CASES: list[tuple[str, list[str]]] = [
    ("this is not json", ["-1", "RpcFrameworkError"]),
    ('{"messageId": "x"}', ["-1", "RpcFrameworkError"]),  # not an array
    ("[2]", ["-1", "RpcFrameworkError"]),  # no message id
    ('[2,42,"Reset",{}]', ["-1", "RpcFrameworkError"]),  # message id not a string
    ('[5,"mt-1","Reset",{}]', ["mt-1", "MessageTypeNotSupported"]),
    ('[2,"ca-1","Reset"]', ["ca-1", "RpcFrameworkError"]),  # 3 elements
    ('[2,"ni-1","RemoteStartTransaction",{"idTag":"x"}]', ["ni-1", "NotImplemented"]),
    ('[2,"ns-1","GetLog",{}]', ["ns-1", "NotSupported"]),
    ('[2,"tc-1","Reset",{"type":"Now"}]', ["tc-1", "TypeConstraintViolation"]),
    ('[2,"tc-2","Reset",{"type":"Immediate","evseId":"1"}]', ["tc-2", "TypeConstraintViolation"]),
    ('[2,"oc-1","Reset",{}]', ["oc-1", "OccurrenceConstraintViolation"]),
    (
        json.dumps([2, "pc-1", "DataTransfer", {"vendorId": "v" * 256}]),
        ["pc-1", "PropertyConstraintViolation"],
    ),
    ('[2,"fv-1","Reset",{"type":"Immediate","connectorId":1}]', ["fv-1", "FormatViolation"]),
    ('[2,"fv-2","Reset",[]]', ["fv-2", "FormatViolation"]),  # payload not an object
    ('[2,"ie-1","ClearCache",{}]', ["ie-1", "InternalError"]),  # the handler raises
]


async def test_callerrors_over_the_wire() -> None:
    answers: list[list[Any]] = []
    script_done = asyncio.Event()
    boot_answered: list[dict[str, Any]] = []

    async def bad_csms(ws: ServerConnection) -> None:
        # the station's BootNotification comes first; answer it
        boot = json.loads(await ws.recv())
        assert boot[2] == "BootNotification"
        await ws.send(json.dumps([3, boot[1], BOOT_OK]))
        for raw, _ in CASES:
            await ws.send(raw)
            answers.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
        # broken responses are never answered: the next thing back is the valid CALL's result
        await ws.send('[3,"nobody"]')
        await ws.send('[4,"nobody","NotAnError",5,{}]')
        await ws.send('[2,"ok-1","Reset",{"type":"Immediate"}]')
        answers.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
        script_done.set()
        await ws.wait_closed()

    async with serve(bad_csms, "127.0.0.1", 0, subprotocols=[Subprotocol("ocpp2.0.1")]) as server:
        port = server.sockets[0].getsockname()[1]
        endpoint: RpcEndpoint

        async def on_connect() -> None:
            boot_answered.append(await endpoint.call("BootNotification", BOOT))

        transport = Transport(
            TransportConfig(f"ws://127.0.0.1:{port}/ocpp", "CS001"),
            on_connect=on_connect,
            on_message=lambda text: endpoint.on_message(text),
            on_disconnect=lambda: endpoint.connection_lost(),
            backoff=lambda: BackOff(0.01, 0, 0),
            ping_interval=lambda: 0.0,
        )
        endpoint = RpcEndpoint(transport.send, timeout=lambda: 5.0)

        async def accepted(payload: dict[str, Any]) -> dict[str, Any]:
            return {"status": "Accepted"}

        async def clear_cache(payload: dict[str, Any]) -> dict[str, Any]:
            raise RuntimeError("cache on fire")

        endpoint.register("Reset", accepted)
        endpoint.register("DataTransfer", accepted)
        endpoint.register("ClearCache", clear_cache)

        run = asyncio.create_task(transport.run())
        try:
            await asyncio.wait_for(script_done.wait(), 10)
            assert transport.connected  # still up after every error
        finally:
            await transport.stop()
            await run
            await endpoint.aclose()

    assert boot_answered == [BOOT_OK]
    for (raw, expected), answer in zip(CASES, answers):
        assert answer[0] == 4, raw
        assert answer[1:3] == expected, raw
        assert isinstance(answer[3], str) and len(answer[3]) <= 255
        assert isinstance(answer[4], dict)
    assert answers[-1] == [3, "ok-1", {"status": "Accepted"}]
    assert len(answers) == len(CASES) + 1
