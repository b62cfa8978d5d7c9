"""The persistent message queue (SQLite) and its sender (E04, E11-E13)."""

from __future__ import annotations

import asyncio
import logging
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ocpp_station.clock import ManualClock
from ocpp_station.queue import MessageQueue, QueuedMessage, QueueSender, RetryPolicy
from ocpp_station.rpc.endpoint import CallTimeout, ConnectionLost
from ocpp_station.rpc.errors import ErrorCode, OCPPError

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
def queue(tmp_path: Path) -> Any:
    q = MessageQueue(tmp_path / "queue.db")
    yield q
    q.close()


# -- the queue -------------------------------------------------------------------------------


def test_order_ack_and_len(queue: MessageQueue) -> None:
    assert queue.head() is None and len(queue) == 0
    ids = [queue.push("TransactionEvent", tx_event(i), T0 + i) for i in range(3)]
    assert ids == sorted(ids) and len(queue) == 3
    head = queue.head()
    assert head == QueuedMessage(ids[0], "TransactionEvent", tx_event(0), 0, T0)
    queue.ack(ids[0])
    queue.ack(ids[0])  # a second ack is harmless
    assert len(queue) == 2
    head = queue.head()
    assert head is not None and head.payload["seqNo"] == 1


def test_persistence_across_reopen(tmp_path: Path) -> None:
    q = MessageQueue(tmp_path / "q.db")
    first = q.push("TransactionEvent", tx_event(0), T0)
    q.push("MeterValues", {"evseId": 1, "meterValue": []}, T0)
    assert q.record_attempt(first) == 1
    q.save_state("evse/1", {"seq_no": 2})
    q.close()
    q = MessageQueue(tmp_path / "q.db")
    assert len(q) == 2
    head = q.head()
    assert head is not None and (head.id, head.attempts) == (first, 1)
    assert q.load_state("evse/1") == {"seq_no": 2}
    q.ack(first)
    q.ack(first + 1)
    q.close()
    q = MessageQueue(tmp_path / "q.db")
    assert q.push("TransactionEvent", tx_event(3), T0) > first + 1  # ids are never reused
    q.close()


def test_message_survives_sigkill_right_after_push(tmp_path: Path) -> None:
    db = tmp_path / "killed.db"
    script = textwrap.dedent(
        f"""
        import os, signal
        from ocpp_station.queue import MessageQueue
        q = MessageQueue({str(db)!r})
        q.push_atomic("TransactionEvent", {{"seqNo": 7}}, 1.0, "evse/1", {{"seq_no": 8}})
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=30)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    q = MessageQueue(db)
    head = q.head()
    assert head is not None and head.payload == {"seqNo": 7}
    assert q.load_state("evse/1") == {"seq_no": 8}
    q.close()


def test_push_atomic_keeps_message_and_state_together(queue: MessageQueue) -> None:
    queue.push_atomic("TransactionEvent", tx_event(0), T0, "evse/1", {"seq_no": 1})
    assert len(queue) == 1 and queue.load_state("evse/1") == {"seq_no": 1}
    # a failure inside the SQLite transaction rolls the message back too
    queue._db.execute(
        "CREATE TRIGGER boom BEFORE INSERT ON state WHEN NEW.key = 'evse/2' "
        "BEGIN SELECT RAISE(ABORT, 'disk says no'); END"
    )
    with pytest.raises(sqlite3.IntegrityError):
        queue.push_atomic("TransactionEvent", tx_event(0, "tx-2"), T0, "evse/2", {"seq_no": 1})
    assert len(queue) == 1 and queue.load_state("evse/2") is None
    assert not queue.has_messages_for("tx-2")
    # bad input is refused before anything is written
    with pytest.raises(ValueError, match="not JSON-serialisable"):
        queue.push_atomic("TransactionEvent", tx_event(1), T0, "evse/1", {"bad": {1, 2}})
    with pytest.raises(ValueError, match="payload must be a dict"):
        queue.push("TransactionEvent", [], T0)  # type: ignore[arg-type]
    assert len(queue) == 1 and queue.load_state("evse/1") == {"seq_no": 1}
    ids = queue.push_batch(
        [("TransactionEvent", tx_event(1)), ("TransactionEvent", tx_event(2))],
        T0,
        "evse/1",
        {"seq_no": 3},
    )
    assert len(ids) == 2 and len(queue) == 3 and queue.load_state("evse/1") == {"seq_no": 3}


def test_state_store(queue: MessageQueue) -> None:
    queue.save_state("a", {"x": 1})
    queue.save_state("b", {"y": 2})
    queue.save_state("a", {"x": 3})
    assert queue.states() == {"a": {"x": 3}, "b": {"y": 2}}
    queue.delete_state("a")
    assert queue.load_state("a") is None and list(queue.states()) == ["b"]


def test_drop_logs_and_offline_marking(
    queue: MessageQueue, caplog: pytest.LogCaptureFixture
) -> None:
    first = queue.push("TransactionEvent", tx_event(0), T0)
    queue.push("MeterValues", {"evseId": 1}, T0)
    assert queue.mark_offline() == 1  # only TransactionEvents carry the flag (E11.FR.07)
    head = queue.head()
    assert head is not None and head.payload["offline"] is True
    queue.offline = True
    original = tx_event(1)
    queue.push("TransactionEvent", original, T0)
    assert "offline" not in original  # the caller's dict is untouched
    assert queue.has_messages_for("tx-1") and not queue.has_messages_for("tx-9")
    with caplog.at_level(logging.WARNING, logger="ocpp_station.queue"):
        queue.drop(first, "CALLERROR: GenericError")
    assert "dropped queued TransactionEvent message" in caplog.text
    assert len(queue) == 2
    rest = []
    while (m := queue.head()) is not None:
        rest.append((m.action, m.payload.get("offline")))
        queue.ack(m.id)
    assert rest == [("MeterValues", None), ("TransactionEvent", True)]


def test_damaged_row_is_dropped_not_blocking(queue: MessageQueue) -> None:
    queue.push("TransactionEvent", tx_event(0), T0)
    queue._db.execute("UPDATE messages SET payload = '{broken'")
    queue.push("TransactionEvent", tx_event(1), T0)
    head = queue.head()
    assert head is not None and head.payload["seqNo"] == 1 and len(queue) == 1


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
        with caplog.at_level(logging.WARNING, logger="ocpp_station.queue"):
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
        with caplog.at_level(logging.ERROR, logger="ocpp_station.queue"):
            await settle(lambda: len(queue) == 0)
        assert "on_response failed" in caplog.text  # the sender keeps going
        assert not task.done()
    finally:
        task.cancel()
