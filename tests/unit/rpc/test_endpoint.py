"""The asyncio RPC endpoint: one CALL in flight, timeouts on the injected clock, answers, dispatch
and its CALLERRORs, and a close that leaves no task behind."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from ocpp_station.clock import ManualClock
from ocpp_station.rpc.endpoint import CallTimeout, ConnectionLost, Reply, RpcEndpoint
from ocpp_station.rpc.errors import ErrorCode, OCPPError

BOOT = {"reason": "PowerUp", "chargingStation": {"model": "M1", "vendorName": "V"}}
BOOT_OK = {"currentTime": "2026-01-01T00:00:00.000Z", "interval": 300, "status": "Accepted"}
HEARTBEAT_OK = {"currentTime": "2026-01-01T00:00:00.000Z"}


class Wire:
    """The far side: records what the endpoint sends."""

    def __init__(self) -> None:
        self.sent: list[list[Any]] = []
        self._queue: asyncio.Queue[list[Any]] = asyncio.Queue()
        self.fail = False

    async def send(self, text: str) -> None:
        if self.fail:
            raise ConnectionError("socket closed")
        frame = json.loads(text)
        self.sent.append(frame)
        self._queue.put_nowait(frame)

    async def next(self) -> list[Any]:
        return await asyncio.wait_for(self._queue.get(), 2)

    def empty(self) -> bool:
        return self._queue.empty()


@pytest.fixture
def wire() -> Wire:
    return Wire()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def endpoint(wire: Wire, clock: ManualClock) -> RpcEndpoint:
    return RpcEndpoint(wire.send, timeout=lambda: 2.0, clock=clock)


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


# --- outgoing ------------------------------------------------------------------------------------


async def test_call_returns_result(endpoint: RpcEndpoint, wire: Wire) -> None:
    task = asyncio.create_task(endpoint.call("BootNotification", BOOT))
    frame = await wire.next()
    assert frame[0] == 2 and frame[2] == "BootNotification" and frame[3] == BOOT
    await endpoint.on_message(json.dumps([3, frame[1], BOOT_OK]))
    assert await task == BOOT_OK


async def test_one_call_in_flight_fifo(endpoint: RpcEndpoint, wire: Wire) -> None:
    tasks = [asyncio.create_task(endpoint.call("Heartbeat", {})) for _ in range(3)]
    for index in range(3):
        frame = await wire.next()
        await settle()
        assert wire.empty()  # nothing else went out while this CALL is unanswered
        answer = {"currentTime": f"2026-01-01T00:00:0{index}Z"}
        await endpoint.on_message(json.dumps([3, frame[1], answer]))
    results = await asyncio.gather(*tasks)
    assert [r["currentTime"][-3:] for r in results] == ["00Z", "01Z", "02Z"]  # FIFO order
    assert len({frame[1] for frame in wire.sent}) == 3  # fresh id per CALL


async def test_timeout_then_late_answer_dropped(
    endpoint: RpcEndpoint, wire: Wire, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    first = asyncio.create_task(endpoint.call("Heartbeat", {}))
    stale = (await wire.next())[1]
    await clock.advance(2.0)
    with pytest.raises(CallTimeout):
        await first
    task = asyncio.create_task(endpoint.call("Heartbeat", {}))
    second = await wire.next()
    with caplog.at_level(logging.WARNING):
        await endpoint.on_message(json.dumps([3, stale, HEARTBEAT_OK]))  # too late
    assert "stale" in caplog.text
    assert not task.done()
    await endpoint.on_message(json.dumps([3, second[1], HEARTBEAT_OK]))
    assert await task == HEARTBEAT_OK


async def test_message_timeout_runs_on_the_injected_clock(wire: Wire, clock: ManualClock) -> None:
    # an hour of MessageTimeout passes in no real time: the timer sleeps on the ManualClock
    endpoint = RpcEndpoint(wire.send, timeout=lambda: 3600.0, clock=clock)
    task = asyncio.create_task(endpoint.call("Heartbeat", {}))
    await wire.next()
    await clock.advance(3599.0)
    assert not task.done()
    await clock.advance(1.0)
    assert task.done()
    with pytest.raises(CallTimeout, match="Heartbeat not answered within 3600 s"):
        await task


async def test_timeout_read_per_call(wire: Wire, clock: ManualClock) -> None:
    seconds = [20.0]
    endpoint = RpcEndpoint(wire.send, timeout=lambda: seconds[0], clock=clock)
    for value in (20.0, 30.0):
        seconds[0] = value
        task = asyncio.create_task(endpoint.call("Heartbeat", {}))
        await wire.next()
        await clock.advance(value - 0.5)
        assert not task.done()
        await clock.advance(0.5)
        with pytest.raises(CallTimeout, match=f"{value:g} s"):
            await task


async def test_waiting_call_times_out_from_when_it_went_out(
    endpoint: RpcEndpoint, wire: Wire, clock: ManualClock
) -> None:
    first = asyncio.create_task(endpoint.call("Heartbeat", {}))
    second = asyncio.create_task(endpoint.call("Heartbeat", {}))
    frame = await wire.next()
    await clock.advance(1.5)
    await endpoint.on_message(json.dumps([3, frame[1], HEARTBEAT_OK]))
    assert await first == HEARTBEAT_OK
    await wire.next()  # the second goes out now, 1.5 s after it was made
    await clock.advance(1.5)
    assert not second.done()
    await clock.advance(0.5)
    with pytest.raises(CallTimeout):
        await second


async def test_default_clock_is_the_system_clock(wire: Wire) -> None:
    endpoint = RpcEndpoint(wire.send, timeout=lambda: 0.02)
    with pytest.raises(CallTimeout, match=r"0\.02"):
        await endpoint.call("Heartbeat", {})


async def test_cancelled_caller_frees_the_slot(endpoint: RpcEndpoint, wire: Wire) -> None:
    first = asyncio.create_task(endpoint.call("Heartbeat", {}))
    second = asyncio.create_task(endpoint.call("Heartbeat", {}))
    stale = await wire.next()
    first.cancel()
    frame = await wire.next()  # the waiting call goes out at once
    await endpoint.on_message(json.dumps([3, stale[1], HEARTBEAT_OK]))  # dropped as stale
    assert not second.done()
    await endpoint.on_message(json.dumps([3, frame[1], HEARTBEAT_OK]))
    assert await second == HEARTBEAT_OK


async def test_callerror_raises_ocpp_error(endpoint: RpcEndpoint, wire: Wire) -> None:
    task = asyncio.create_task(endpoint.call("Heartbeat", {}))
    frame = await wire.next()
    await endpoint.on_message(json.dumps([4, frame[1], "SecurityError", "no", {"why": 1}]))
    with pytest.raises(OCPPError) as info:
        await task
    assert info.value.code is ErrorCode.SECURITY_ERROR
    assert info.value.description == "no"
    assert info.value.details == {"why": 1}


async def test_callerror_with_unknown_code_is_generic(endpoint: RpcEndpoint, wire: Wire) -> None:
    task = asyncio.create_task(endpoint.call("Heartbeat", {}))
    frame = await wire.next()
    await endpoint.on_message(json.dumps([4, frame[1], "Weird", "text", {}]))
    with pytest.raises(OCPPError) as info:
        await task
    assert info.value.code is ErrorCode.GENERIC_ERROR
    assert "Weird" in info.value.description


async def test_unknown_id_dropped(
    endpoint: RpcEndpoint, wire: Wire, caplog: pytest.LogCaptureFixture
) -> None:
    task = asyncio.create_task(endpoint.call("Heartbeat", {}))
    frame = await wire.next()
    with caplog.at_level(logging.WARNING):
        await endpoint.on_message(json.dumps([3, "not-ours", HEARTBEAT_OK]))
        await endpoint.on_message(json.dumps([4, "not-ours", "GenericError", "", {}]))
    assert caplog.text.count("not-ours") == 2
    assert not task.done()
    assert wire.empty()  # nothing answered
    await endpoint.on_message(json.dumps([3, frame[1], HEARTBEAT_OK]))
    assert await task == HEARTBEAT_OK


async def test_invalid_request_is_not_sent(endpoint: RpcEndpoint, wire: Wire) -> None:
    with pytest.raises(OCPPError) as info:
        await endpoint.call("BootNotification", {"reason": "PowerUp"})
    assert info.value.code is ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION
    assert wire.sent == []


async def test_invalid_response_raises_mapped_code(endpoint: RpcEndpoint, wire: Wire) -> None:
    task = asyncio.create_task(endpoint.call("BootNotification", BOOT))
    frame = await wire.next()
    await endpoint.on_message(json.dumps([3, frame[1], {**BOOT_OK, "status": "Maybe"}]))
    with pytest.raises(OCPPError) as info:
        await task
    assert info.value.code is ErrorCode.TYPE_CONSTRAINT_VIOLATION
    assert info.value.details["field"] == "status"


async def test_connection_lost_fails_in_flight_and_queue_moves_on(
    endpoint: RpcEndpoint, wire: Wire
) -> None:
    first = asyncio.create_task(endpoint.call("Heartbeat", {}))
    second = asyncio.create_task(endpoint.call("Heartbeat", {}))
    await wire.next()
    endpoint.connection_lost()
    with pytest.raises(ConnectionLost):
        await first
    frame = await wire.next()  # the queued call goes out (on the next connection)
    await endpoint.on_message(json.dumps([3, frame[1], HEARTBEAT_OK]))
    assert await second == HEARTBEAT_OK


async def test_send_failure_is_connection_lost(endpoint: RpcEndpoint, wire: Wire) -> None:
    wire.fail = True
    with pytest.raises(ConnectionLost, match="Heartbeat"):
        await endpoint.call("Heartbeat", {})
    wire.fail = False
    task = asyncio.create_task(endpoint.call("Heartbeat", {}))
    frame = await wire.next()
    await endpoint.on_message(json.dumps([3, frame[1], HEARTBEAT_OK]))
    assert await task == HEARTBEAT_OK


# --- incoming ------------------------------------------------------------------------------------


def _call(message_id: str, action: str, payload: Any) -> str:
    return json.dumps([2, message_id, action, payload])


async def test_handler_result_is_sent(endpoint: RpcEndpoint, wire: Wire) -> None:
    seen: list[dict[str, Any]] = []

    async def change(payload: dict[str, Any]) -> dict[str, Any]:
        seen.append(payload)
        return {"status": "Accepted"}

    endpoint.register("ChangeAvailability", change)

    await endpoint.on_message(_call("c1", "ChangeAvailability", {"operationalStatus": "Operative"}))
    assert await wire.next() == [3, "c1", {"status": "Accepted"}]
    assert seen == [{"operationalStatus": "Operative"}]


async def test_incoming_call_answered_while_own_call_in_flight(
    endpoint: RpcEndpoint, wire: Wire
) -> None:
    async def reset(payload: dict[str, Any]) -> dict[str, Any]:
        return {"status": "Accepted"}

    endpoint.register("Reset", reset)
    outgoing = asyncio.create_task(endpoint.call("Heartbeat", {}))
    ours = await wire.next()
    await endpoint.on_message(_call("r1", "Reset", {"type": "Immediate"}))
    assert await wire.next() == [3, "r1", {"status": "Accepted"}]
    await endpoint.on_message(json.dumps([3, ours[1], HEARTBEAT_OK]))
    assert await outgoing == HEARTBEAT_OK


async def test_slow_handler_does_not_block_receiving(endpoint: RpcEndpoint, wire: Wire) -> None:
    release = asyncio.Event()

    async def slow(payload: dict[str, Any]) -> dict[str, Any]:
        await release.wait()
        return {"status": "Accepted"}

    async def fast(payload: dict[str, Any]) -> dict[str, Any]:
        return {"status": "Accepted"}

    endpoint.register("Reset", slow)
    endpoint.register("ClearCache", fast)
    await endpoint.on_message(_call("s", "Reset", {"type": "Immediate"}))
    await endpoint.on_message(_call("f", "ClearCache", {}))
    assert (await wire.next())[1] == "f"
    release.set()
    assert (await wire.next())[1] == "s"


@pytest.mark.parametrize(
    "action, payload, code",
    [
        ("StartTransaction", {}, "NotImplemented"),  # OCPP 1.6 action
        ("ClearCache", {}, "NotSupported"),  # 2.0.1 action without a handler
        ("Reset", {"type": "Now"}, "TypeConstraintViolation"),
        ("Reset", {}, "OccurrenceConstraintViolation"),
        ("Reset", {"type": "Immediate", "connectorId": 1}, "FormatViolation"),
    ],
)
async def test_call_errors(
    endpoint: RpcEndpoint, wire: Wire, action: str, payload: dict[str, Any], code: str
) -> None:
    async def reset(payload: dict[str, Any]) -> dict[str, Any]:
        raise AssertionError("must not be called")

    endpoint.register("Reset", reset)
    await endpoint.on_message(_call("e1", action, payload))
    frame = await wire.next()
    assert frame[:3] == [4, "e1", code]
    assert frame[4] == {} or "field" in frame[4]


async def test_handler_raising_is_internal_error(
    endpoint: RpcEndpoint, wire: Wire, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(payload: dict[str, Any]) -> dict[str, Any]:
        raise KeyError("oops")

    endpoint.register("Reset", broken)
    with caplog.at_level(logging.ERROR):
        await endpoint.on_message(_call("h1", "Reset", {"type": "Immediate"}))
        frame = await wire.next()
    assert frame[:3] == [4, "h1", "InternalError"]
    assert "Traceback" in caplog.text and "oops" in caplog.text
    # the endpoint still works
    endpoint.register("Reset", _accepted)
    await endpoint.on_message(_call("h2", "Reset", {"type": "Immediate"}))
    assert await wire.next() == [3, "h2", {"status": "Accepted"}]


async def _accepted(payload: dict[str, Any]) -> dict[str, Any]:
    return {"status": "Accepted"}


async def test_handler_raising_ocpp_error_is_answered_with_it(
    endpoint: RpcEndpoint, wire: Wire
) -> None:
    async def refuse(payload: dict[str, Any]) -> dict[str, Any]:
        raise OCPPError(ErrorCode.PROPERTY_CONSTRAINT_VIOLATION, "evse.id: no EVSE 9", {"id": 9})

    endpoint.register("Reset", refuse)
    await endpoint.on_message(_call("p1", "Reset", {"type": "Immediate", "evseId": 9}))
    assert await wire.next() == [
        4,
        "p1",
        "PropertyConstraintViolation",
        "evse.id: no EVSE 9",
        {"id": 9},
    ]


async def test_invalid_handler_response_is_internal_error(
    endpoint: RpcEndpoint, wire: Wire, caplog: pytest.LogCaptureFixture
) -> None:
    async def bad(payload: dict[str, Any]) -> dict[str, Any]:
        return {"status": "Available"}  # not a ResetStatusEnumType

    endpoint.register("Reset", bad)
    with caplog.at_level(logging.ERROR):
        await endpoint.on_message(_call("b1", "Reset", {"type": "Immediate"}))
        frame = await wire.next()
    assert frame[:3] == [4, "b1", "InternalError"]
    assert "Reset response refused" in caplog.text


async def test_gate_refuses_valid_calls(endpoint: RpcEndpoint, wire: Wire) -> None:
    endpoint.register("Reset", _accepted)
    endpoint.gate = lambda action: OCPPError(ErrorCode.SECURITY_ERROR, f"{action}: not accepted")
    await endpoint.on_message(_call("g1", "Reset", {"type": "Immediate"}))
    assert await wire.next() == [4, "g1", "SecurityError", "Reset: not accepted", {}]
    endpoint.gate = lambda action: None
    await endpoint.on_message(_call("g2", "Reset", {"type": "Immediate"}))
    assert (await wire.next())[0] == 3


async def test_error_description_truncated_to_255(endpoint: RpcEndpoint, wire: Wire) -> None:
    async def wordy(payload: dict[str, Any]) -> dict[str, Any]:
        raise OCPPError(ErrorCode.GENERIC_ERROR, "x" * 1000)

    endpoint.register("Reset", wordy)
    await endpoint.on_message(_call("w1", "Reset", {"type": "Immediate"}))
    frame = await wire.next()
    assert len(frame[3]) == 255


async def test_reply_then_runs_after_result_is_sent(endpoint: RpcEndpoint, wire: Wire) -> None:
    order: list[str] = []

    async def follow_up() -> None:
        order.append(f"then after {len(wire.sent)} sent")

    async def change(payload: dict[str, Any]) -> Reply:
        order.append("handler")
        return Reply({"status": "Accepted"}, then=follow_up)

    endpoint.register("ChangeAvailability", change)
    await endpoint.on_message(_call("t1", "ChangeAvailability", {"operationalStatus": "Operative"}))
    assert await wire.next() == [3, "t1", {"status": "Accepted"}]
    await settle()
    assert order == ["handler", "then after 1 sent"]


async def test_reply_then_skipped_when_send_fails(endpoint: RpcEndpoint, wire: Wire) -> None:
    ran: list[bool] = []

    async def follow_up() -> None:
        ran.append(True)

    async def change(payload: dict[str, Any]) -> Reply:
        wire.fail = True
        return Reply({"status": "Accepted"}, then=follow_up)

    endpoint.register("ChangeAvailability", change)
    await endpoint.on_message(_call("t2", "ChangeAvailability", {"operationalStatus": "Operative"}))
    await settle()
    assert ran == []


async def test_answers_do_not_cross_connections(endpoint: RpcEndpoint, wire: Wire) -> None:
    release = asyncio.Event()

    async def slow(payload: dict[str, Any]) -> dict[str, Any]:
        await release.wait()
        return {"status": "Accepted"}

    endpoint.register("Reset", slow)
    await endpoint.on_message(_call("x1", "Reset", {"type": "Immediate"}))
    endpoint.connection_lost()
    release.set()
    await settle()
    assert wire.sent == []


async def test_duplicate_incoming_id_while_handling(endpoint: RpcEndpoint, wire: Wire) -> None:
    release = asyncio.Event()

    async def slow(payload: dict[str, Any]) -> dict[str, Any]:
        await release.wait()
        return {"status": "Accepted"}

    endpoint.register("Reset", slow)
    await endpoint.on_message(_call("d1", "Reset", {"type": "Immediate"}))
    await endpoint.on_message(_call("d1", "Reset", {"type": "Immediate"}))
    assert (await wire.next())[:3] == [4, "d1", "RpcFrameworkError"]
    release.set()
    assert await wire.next() == [3, "d1", {"status": "Accepted"}]


@pytest.mark.parametrize(
    "text, answer",
    [
        ("nonsense", [4, "-1", "RpcFrameworkError"]),
        ("[2]", [4, "-1", "RpcFrameworkError"]),
        ('[9,"m9",{}]', [4, "m9", "MessageTypeNotSupported"]),
        ('[2,"m2","Reset",[]]', [4, "m2", "FormatViolation"]),
    ],
)
async def test_malformed_frames_answered(
    endpoint: RpcEndpoint, wire: Wire, text: str, answer: list[Any]
) -> None:
    await endpoint.on_message(text)
    assert (await wire.next())[:3] == answer


@pytest.mark.parametrize("text", ['[3,"r1"]', '[4,"r1","X","y",[]]', '[3,"r1","str"]'])
async def test_malformed_responses_never_answered(
    endpoint: RpcEndpoint, wire: Wire, text: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        await endpoint.on_message(text)
    await settle()
    assert wire.sent == []
    assert "dropped" in caplog.text


async def test_on_message_never_raises(endpoint: RpcEndpoint, wire: Wire) -> None:
    wire.fail = True
    await endpoint.on_message("nonsense")  # answering fails: logged, not raised
    await endpoint.on_message(_call("n1", "ClearCache", {}))

    def broken_trace(direction: str, text: str) -> None:
        raise RuntimeError("trace sink broken")

    endpoint.on_frame = broken_trace
    await endpoint.on_message(b"\xff")


async def test_on_frame_sees_both_directions(endpoint: RpcEndpoint, wire: Wire) -> None:
    frames: list[tuple[str, str]] = []
    endpoint.on_frame = lambda direction, text: frames.append((direction, text))
    endpoint.register("ClearCache", _cleared)
    await endpoint.on_message(_call("o1", "ClearCache", {}))
    await wire.next()
    assert frames == [
        ("in", '[2, "o1", "ClearCache", {}]'),
        ("out", '[3,"o1",{"status":"Accepted"}]'),
    ]


async def _cleared(payload: dict[str, Any]) -> dict[str, Any]:
    return {"status": "Accepted"}


def test_register_rejects_unknown_action(endpoint: RpcEndpoint) -> None:
    with pytest.raises(ValueError, match="RemoteStartTransaction"):
        endpoint.register("RemoteStartTransaction", _cleared)


@pytest.mark.parametrize(
    "raw, field",
    [
        ('[2,"tc-2","Reset",{"type":"Immediate","evseId":"1"}]', "evseId"),
        ('[2,"fv-1","Reset",{"type":"Immediate","connectorId":1}]', "connectorId"),
    ],
)
async def test_callerror_description_names_the_field(
    endpoint: RpcEndpoint, wire: Wire, raw: str, field: str
) -> None:
    endpoint.register("Reset", _accepted)
    await endpoint.on_message(raw)
    frame = await wire.next()
    assert frame[3].startswith(f"{field}: ")
    assert frame[4]["field"] == field


async def test_unusable_results_are_internal_errors_and_then_skipped(
    endpoint: RpcEndpoint, wire: Wire, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[bool] = []

    async def follow_up() -> None:
        ran.append(True)

    async def unencodable(payload: dict[str, Any]) -> Reply:
        # DataTransfer's "data" may hold anything the schema allows, but JSON cannot carry a set
        return Reply({"status": "Accepted", "data": {1, 2}}, then=follow_up)

    async def not_a_dict(payload: dict[str, Any]) -> Any:
        return ["Accepted"]

    endpoint.register("DataTransfer", unencodable)
    endpoint.register("Reset", not_a_dict)
    with caplog.at_level(logging.ERROR):
        await endpoint.on_message(_call("u1", "Reset", {"type": "Immediate"}))
        assert (await wire.next())[:3] == [4, "u1", "InternalError"]
        await endpoint.on_message(_call("u2", "DataTransfer", {"vendorId": "v"}))
        assert await wire.next() == [4, "u2", "InternalError", "response not encodable", {}]
    await settle()
    assert ran == []
    assert "not a dict" in caplog.text and "not JSON-encodable" in caplog.text


# --- closing -------------------------------------------------------------------------------------


async def test_aclose_fails_calls_and_cancels_every_task(endpoint: RpcEndpoint, wire: Wire) -> None:
    before = asyncio.all_tasks()
    cancelled: list[str] = []
    release = asyncio.Event()

    async def follow_up() -> None:
        try:
            await release.wait()
        finally:
            cancelled.append("then")

    async def change(payload: dict[str, Any]) -> Reply:
        return Reply({"status": "Accepted"}, then=follow_up)

    async def slow(payload: dict[str, Any]) -> dict[str, Any]:
        try:
            await release.wait()
        finally:
            cancelled.append("handler")
        return {"status": "Accepted"}

    endpoint.register("ChangeAvailability", change)
    endpoint.register("Reset", slow)
    in_flight = asyncio.create_task(endpoint.call("Heartbeat", {}))
    queued = asyncio.create_task(endpoint.call("Heartbeat", {}))
    await wire.next()
    await endpoint.on_message(_call("a1", "ChangeAvailability", {"operationalStatus": "Operative"}))
    await wire.next()
    await endpoint.on_message(_call("a2", "Reset", {"type": "Immediate"}))
    await settle()

    await endpoint.aclose()
    assert sorted(cancelled) == ["handler", "then"]
    for task in (in_flight, queued):
        with pytest.raises(ConnectionLost, match="closed"):
            await task
    assert asyncio.all_tasks() == before  # nothing outlives the endpoint
    # closed for good: no new calls, nothing answered
    with pytest.raises(ConnectionLost):
        await endpoint.call("Heartbeat", {})
    await endpoint.on_message(_call("a3", "Reset", {"type": "Immediate"}))
    await settle()
    assert wire.empty()
    await endpoint.aclose()  # twice is fine


async def test_aclose_from_a_follow_up_does_not_cancel_it(
    endpoint: RpcEndpoint, wire: Wire
) -> None:
    finished: list[bool] = []

    async def shut_down() -> None:  # e.g. a station reset stopping the station from `then`
        await endpoint.aclose()
        finished.append(True)

    async def reset(payload: dict[str, Any]) -> Reply:
        return Reply({"status": "Accepted"}, then=shut_down)

    endpoint.register("Reset", reset)
    await endpoint.on_message(_call("s1", "Reset", {"type": "Immediate"}))
    await wire.next()
    await settle()
    assert finished == [True]
