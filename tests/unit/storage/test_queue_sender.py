"""The sender of the persistent queue: order, retries, discard, offline pause (E11-E13)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ocpp_station.clock import ManualClock
from ocpp_station.dispatch.sender import QueueSender, RetryPolicy
from ocpp_station.rpc.endpoint import CallTimeout, ConnectionLost
from ocpp_station.rpc.errors import ErrorCode, OCPPError
from ocpp_station.storage import MessageQueue, QueuedMessage, StationStore

T0 = 1_767_225_600.0


def tx_event(seq: int, tid: str = "tx-1") -> dict[str, Any]:
    return {
        "eventType": "Updated",
        "timestamp": "2026-01-01T00:00:00.000Z",
        "triggerReason": "MeterValuePeriodic",
        "seqNo": seq,
        "transactionInfo": {"transactionId": tid},
    }


@pytest.fixture
def queue(tmp_path: Path) -> Iterator[MessageQueue]:
    store = StationStore.open(tmp_path)
    yield store.messages
    store.close()


def test_retry_policy_numbers() -> None:
    p = RetryPolicy(attempts=3, interval=60)  # the E13 example
    assert [p.delay(n) for n in (1, 2)] == [60, 120]
    assert [p.exhausted(n) for n in (1, 2, 3)] == [False, False, True]
    assert RetryPolicy(0, 10).exhausted(1)  # at least the one transmission
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy(-1, 10)
    with pytest.raises(ValueError, match="interval"):
        RetryPolicy(3, float("nan"))


# -- the sender ------------------------------------------------------------------------------


async def settle(cond: Callable[[], bool]) -> None:
    for _ in range(200):
        if cond():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition not reached")


class FakeCsms:
    """An async ``call`` answering from a script of outcomes (dict = answer, exception = raise)."""

    def __init__(self, *script: Any) -> None:
        self.script = list(script)
        self.calls: list[tuple[str, int]] = []

    async def __call__(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((action, payload.get("seqNo", -1)))
        outcome = self.script.pop(0) if self.script else {}
        if isinstance(outcome, BaseException):
            raise outcome
        return dict(outcome)


async def test_sender_sends_in_order_and_acks(queue: MessageQueue) -> None:
    clock = ManualClock(T0)
    csms = FakeCsms({"idTokenInfo": {"status": "Accepted"}})
    answers: list[tuple[int, dict[str, Any]]] = []

    async def on_response(msg: QueuedMessage, answer: dict[str, Any]) -> None:
        answers.append((msg.payload["seqNo"], answer))

    sender = QueueSender(queue, csms, lambda: RetryPolicy(3, 10), clock, on_response=on_response)
    for i in range(3):
        queue.push("TransactionEvent", tx_event(i), T0)
    task = asyncio.create_task(sender.run())
    try:
        await settle(lambda: len(queue) == 0)
        assert csms.calls == [
            ("TransactionEvent", 0),
            ("TransactionEvent", 1),
            ("TransactionEvent", 2),
        ]
        assert answers[0] == (0, {"idTokenInfo": {"status": "Accepted"}}) and len(answers) == 3
        queue.push("TransactionEvent", tx_event(3), T0)
        sender.wake()
        await settle(lambda: len(queue) == 0)
        assert csms.calls[-1] == ("TransactionEvent", 3) and sender.sent == 4
    finally:
        task.cancel()


async def test_sender_retries_callerror_then_drops(
    queue: MessageQueue, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock(T0)
    err = OCPPError(ErrorCode.INTERNAL_ERROR, "CSMS broken")
    csms = FakeCsms(err, CallTimeout("no answer"), err, {})
    sender = QueueSender(queue, csms, lambda: RetryPolicy(3, 10), clock)
    queue.push("TransactionEvent", tx_event(0), T0)
    queue.push("TransactionEvent", tx_event(1), T0)
    task = asyncio.create_task(sender.run())
    try:
        await settle(lambda: len(csms.calls) == 1)
        head = queue.head()
        assert head is not None and head.attempts == 1
        await clock.advance(9.9)
        assert len(csms.calls) == 1  # E13.FR.03: 10 s after the first failure
        await clock.advance(0.1)
        await settle(lambda: len(csms.calls) == 2)  # the timeout is a failure too
        await clock.advance(19.9)
        assert len(csms.calls) == 2  # 20 s after the second
        with caplog.at_level(logging.WARNING, logger="ocpp_station.dispatch.sender"):
            await clock.advance(0.1)
            await settle(lambda: len(queue) == 0)
        assert csms.calls == [("TransactionEvent", 0)] * 3 + [("TransactionEvent", 1)]
        assert "after 3 failed attempt(s)" in caplog.text  # E13.FR.04: discarded
    finally:
        task.cancel()


async def test_sender_waits_for_resume_after_connection_loss(queue: MessageQueue) -> None:
    clock = ManualClock(T0)
    csms = FakeCsms(ConnectionLost("socket closed"), {})
    sender = QueueSender(queue, csms, lambda: RetryPolicy(1, 10), clock)
    queue.push("TransactionEvent", tx_event(0), T0)
    task = asyncio.create_task(sender.run())
    try:
        await settle(lambda: sender.paused)
        head = queue.head()
        assert head is not None
        assert head.attempts == 0  # not an attempt: with 1 attempt it would have been dropped
        assert head.payload["offline"] is True  # E11.FR.07
        queue.push("TransactionEvent", tx_event(1), T0)
        sender.wake()
        await clock.advance(100)
        assert len(csms.calls) == 1  # nothing is sent while paused
        sender.resume()
        await settle(lambda: len(queue) == 0)
        assert [c[1] for c in csms.calls] == [0, 0, 1]
    finally:
        task.cancel()


async def test_pause_before_connection_error_and_on_response_failure(
    queue: MessageQueue, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock(T0)
    csms = FakeCsms({}, {})

    def on_response(msg: QueuedMessage, answer: dict[str, Any]) -> None:
        raise RuntimeError("handler bug")

    sender = QueueSender(queue, csms, lambda: RetryPolicy(3, 1), clock, on_response=on_response)
    sender.pause()
    queue.push("TransactionEvent", tx_event(0), T0)
    sender.wake()
    task = asyncio.create_task(sender.run())
    try:
        for _ in range(10):
            await asyncio.sleep(0)
        assert csms.calls == []
        sender.resume()
        with caplog.at_level(logging.ERROR, logger="ocpp_station.dispatch.sender"):
            await settle(lambda: len(queue) == 0)
        assert "on_response failed" in caplog.text  # the sender keeps going
        assert not task.done()
    finally:
        task.cancel()


class ServerGone(Exception):
    """A connection error type of some other transport."""


class ConnectionLostLookalike(Exception):
    """Not a connection error, whatever its name says: only types passed in count."""


ConnectionLostLookalike.__name__ = "ConnectionLost"


async def test_connection_errors_are_the_types_passed_in(queue: MessageQueue) -> None:
    clock = ManualClock(T0)
    csms = FakeCsms(ConnectionLostLookalike("named like it"), ServerGone("gone"), {})
    sender = QueueSender(
        queue, csms, lambda: RetryPolicy(3, 10), clock, connection_errors=(ServerGone,)
    )
    queue.push("TransactionEvent", tx_event(0), T0)
    task = asyncio.create_task(sender.run())
    try:
        await settle(lambda: len(csms.calls) == 1)
        head = queue.head()
        assert head is not None and head.attempts == 1  # a failed transmission, not a pause
        assert not sender.paused
        await clock.advance(10)
        await settle(lambda: sender.paused)
        head = queue.head()
        assert head is not None and head.attempts == 1  # the connection error is no attempt
        sender.resume()
        await settle(lambda: len(queue) == 0)
        assert len(csms.calls) == 3
    finally:
        task.cancel()
