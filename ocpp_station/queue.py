"""The persistent outbound queue for transaction-related messages, and its thin async sender.

A message is written to SQLite (WAL, ``synchronous=FULL``: a committed push survives a power
loss) BEFORE it is sent and deleted only when the CSMS answered it (E04.FR.01, E11.FR.01,
E12.FR.01).  The sender sends the oldest message, one at a time, strictly in order.  A message the
CSMS does not accept (CALLERROR, no answer in time) is retried after ``interval * failures``
seconds and discarded after ``MessageAttemptsTransactionEvent`` failures (E13.FR.02-04).  A lost
connection is not a failure: the sender waits for :meth:`QueueSender.resume`.

While the station is offline (:attr:`MessageQueue.offline`), TransactionEvent messages are marked
``offline: true``: those pushed then, and every one still queued when the connection drops
(E04.FR.03, E11.FR.07).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import math
import os
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ocpp_station.clock import Clock
from ocpp_station.rpc.errors import OCPPError

TRANSACTION_EVENT = "TransactionEvent"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    action TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class QueuedMessage:
    id: int
    action: str
    payload: dict[str, Any]
    attempts: int  # failed transmissions so far
    created: float


class MessageQueue:
    """SQLite-backed FIFO of outbound CALLs plus a small key/value store for the state that must
    change together with them (a transaction's seqNo)."""

    def __init__(self, path: str | os.PathLike[str], *, logger: logging.Logger | None = None):
        self._log = logger or logging.getLogger("ocpp_station.queue")
        self._db = sqlite3.connect(os.fspath(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        (self._count,) = self._db.execute("SELECT COUNT(*) FROM messages").fetchone()
        self.offline = False

    # -- messages ------------------------------------------------------------------------------

    def push(self, action: str, payload: dict[str, Any], now: float) -> int:
        """Append a message; returns its id (ids only grow, never reused)."""
        return self.push_batch([(action, payload)], now)[0]

    def push_atomic(
        self,
        action: str,
        payload: dict[str, Any],
        now: float,
        state_key: str,
        state: dict[str, Any],
    ) -> int:
        """Append a message AND save ``state`` under ``state_key`` in one SQLite transaction: a
        crash keeps both or neither (no seqNo gap, no message without its state)."""
        return self.push_batch([(action, payload)], now, state_key, state)[0]

    def push_batch(
        self,
        messages: Sequence[tuple[str, dict[str, Any]]],
        now: float,
        state_key: str | None = None,
        state: dict[str, Any] | None = None,
    ) -> list[int]:
        """Append several messages (in order), optionally with a state, in one transaction."""
        rows = [(self._check_action(a), self._encode(a, p)) for a, p in messages]
        state_text = None if state_key is None else self._dump_state(state_key, state)
        ids: list[int] = []
        with self._transaction():
            for action, text in rows:
                cur = self._db.execute(
                    "INSERT INTO messages (action, payload, created) VALUES (?, ?, ?)",
                    (action, text, float(now)),
                )
                ids.append(int(cur.lastrowid or 0))
            if state_key is not None:
                self._db.execute(
                    "INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)",
                    (state_key, state_text),
                )
        self._count += len(ids)
        return ids

    def head(self) -> QueuedMessage | None:
        """The oldest message (by primary key: no scan), or None when empty."""
        while True:
            row = self._db.execute(
                "SELECT id, action, payload, attempts, created FROM messages ORDER BY id LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            try:
                payload = json.loads(row[2])
                if not isinstance(payload, dict):
                    raise ValueError("payload is not an object")
            except ValueError as exc:  # a damaged row must not block the queue forever
                self.drop(row[0], f"stored payload is unreadable: {exc}")
                continue
            return QueuedMessage(row[0], row[1], payload, row[3], row[4])

    def ack(self, message_id: int) -> None:
        """The CSMS answered: delete the message (one DELETE)."""
        cur = self._db.execute("DELETE FROM messages WHERE id = ?", (message_id,))
        self._count -= cur.rowcount

    def record_attempt(self, message_id: int) -> int:
        """Count a failed transmission; returns the failures so far (persisted)."""
        row = self._db.execute(
            "UPDATE messages SET attempts = attempts + 1 WHERE id = ? RETURNING attempts",
            (message_id,),
        ).fetchone()
        if row is None:
            raise KeyError(f"no queued message with id {message_id}")
        return int(row[0])

    def drop(self, message_id: int, reason: str) -> None:
        """Discard a message (E13.FR.04) with a log line saying why."""
        row = self._db.execute(
            "DELETE FROM messages WHERE id = ? RETURNING action, attempts", (message_id,)
        ).fetchone()
        if row is not None:
            self._count -= 1
            self._log.warning(
                "dropped queued %s message %d after %d failed attempt(s): %s",
                row[0],
                message_id,
                row[1],
                reason,
            )

    def mark_offline(self) -> int:
        """Set ``offline: true`` in every queued TransactionEvent (E11.FR.07); returns how many."""
        cur = self._db.execute(
            "UPDATE messages SET payload = json_set(payload, '$.offline', json('true')) "
            "WHERE action = ? AND json_extract(payload, '$.offline') IS NOT 1",
            (TRANSACTION_EVENT,),
        )
        return cur.rowcount

    def has_messages_for(self, transaction_id: str) -> bool:
        """Whether TransactionEvents of ``transaction_id`` still wait (E14.FR.04/05)."""
        row = self._db.execute(
            "SELECT 1 FROM messages WHERE action = ? AND "
            "json_extract(payload, '$.transactionInfo.transactionId') = ? LIMIT 1",
            (TRANSACTION_EVENT, transaction_id),
        ).fetchone()
        return row is not None

    def __len__(self) -> int:
        return self._count

    # -- state ---------------------------------------------------------------------------------

    def save_state(self, key: str, state: dict[str, Any]) -> None:
        text = self._dump_state(key, state)
        self._db.execute("INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)", (key, text))

    def load_state(self, key: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        value = json.loads(row[0])
        return value if isinstance(value, dict) else None

    def delete_state(self, key: str) -> None:
        self._db.execute("DELETE FROM state WHERE key = ?", (key,))

    def states(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for key, text in self._db.execute("SELECT key, value FROM state ORDER BY key"):
            value = json.loads(text)
            if isinstance(value, dict):
                out[key] = value
        return out

    def close(self) -> None:
        self._db.close()

    # -- internals -----------------------------------------------------------------------------

    def _transaction(self) -> _Tx:
        return _Tx(self._db)

    @staticmethod
    def _check_action(action: str) -> str:
        if not isinstance(action, str) or not action:
            raise ValueError(f"action must be a non-empty string, not {action!r}")
        return action

    def _encode(self, action: str, payload: dict[str, Any]) -> str:
        if not isinstance(payload, dict):
            raise ValueError(f"{action} payload must be a dict, not {type(payload).__name__}")
        if self.offline and action == TRANSACTION_EVENT and payload.get("offline") is not True:
            payload = {**payload, "offline": True}  # E04.FR.03 (the caller's dict is not changed)
        try:
            return json.dumps(payload, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{action} payload is not JSON-serialisable: {exc}") from exc

    @staticmethod
    def _dump_state(key: str, state: dict[str, Any] | None) -> str:
        if not isinstance(key, str) or not key:
            raise ValueError(f"state key must be a non-empty string, not {key!r}")
        if not isinstance(state, dict):
            raise ValueError(f"state for {key!r} must be a dict, not {type(state).__name__}")
        try:
            return json.dumps(state, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"state for {key!r} is not JSON-serialisable: {exc}") from exc


class _Tx:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._db.execute("COMMIT" if exc_type is None else "ROLLBACK")


@dataclass(frozen=True)
class RetryPolicy:
    """OCPPCommCtrlr.MessageAttempts / MessageAttemptInterval for TransactionEvent."""

    attempts: int  # transmissions in total before a message is discarded (at least 1)
    interval: float  # seconds

    def __post_init__(self) -> None:
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int):
            raise ValueError(f"RetryPolicy.attempts must be an integer, not {self.attempts!r}")
        if self.attempts < 0:
            raise ValueError(f"RetryPolicy.attempts must be >= 0, not {self.attempts}")
        if not math.isfinite(self.interval) or self.interval < 0:
            raise ValueError(f"RetryPolicy.interval must be >= 0, not {self.interval!r}")

    def delay(self, attempt: int) -> float:
        """Seconds to wait before resending after ``attempt`` failed transmissions: the interval
        times the number of preceding transmissions (E13.FR.03; 3 x 60 s: 60 s, then 120 s)."""
        return self.interval * max(0, attempt)

    def exhausted(self, failures: int) -> bool:
        """True when ``failures`` failed transmissions mean: discard (E13.FR.02/04)."""
        return failures >= max(1, self.attempts)


def _named(exc: BaseException, names: frozenset[str]) -> bool:
    return any(cls.__name__ in names for cls in type(exc).__mro__)


_CONNECTION_ERRORS = frozenset({"ConnectionLost", "NotConnected"})


class QueueSender:
    """Sends the queue's messages through ``call`` (``RpcEndpoint.call``), one at a time.

    ``call`` raising an ``OCPPError`` (CALLERROR, invalid answer), ``CallTimeout`` or any other
    exception counts as a failed transmission; ``ConnectionLost``/``NotConnected`` (matched by
    class name) or a ``connection_errors`` type pauses the sender until :meth:`resume`.
    """

    def __init__(
        self,
        queue: MessageQueue,
        call: Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]],
        policy: Callable[[], RetryPolicy],
        clock: Clock,
        *,
        on_response: Callable[[QueuedMessage, dict[str, Any]], Awaitable[None] | None]
        | None = None,
        logger: logging.Logger | None = None,
        connection_errors: tuple[type[BaseException], ...] = (),
    ) -> None:
        self._queue = queue
        self._call = call
        self._policy = policy
        self._clock = clock
        self._on_response = on_response
        self._log = logger or logging.getLogger("ocpp_station.queue")
        self._connection_errors = connection_errors
        self._changed = asyncio.Event()
        self._paused = False
        self._resumes = 0
        self.in_flight: QueuedMessage | None = None
        self.sent = 0  # messages answered since start

    @property
    def paused(self) -> bool:
        return self._paused

    def wake(self) -> None:
        """Something was pushed (or the connection came back): look at the queue again."""
        self._changed.set()

    def pause(self) -> None:
        """The connection is down: stop sending; queued TransactionEvents become offline."""
        self._paused = True
        self._queue.offline = True
        self._queue.mark_offline()
        self._changed.set()

    def resume(self) -> None:
        """The connection is back (and accepted): send again."""
        self._paused = False
        self._queue.offline = False
        self._resumes += 1
        self._changed.set()

    async def run(self) -> None:
        """Send until cancelled."""
        while True:
            if self._paused:
                await self._wait_change()
                continue
            message = self._queue.head()
            if message is None:
                await self._wait_change()
                continue
            await self._send(message)

    async def _wait_change(self) -> None:
        self._changed.clear()
        await self._changed.wait()

    async def _send(self, message: QueuedMessage) -> None:
        resumes = self._resumes
        self.in_flight = message
        try:
            result = await self._call(message.action, message.payload)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if isinstance(exc, self._connection_errors) or _named(exc, _CONNECTION_ERRORS):
                # not an attempt (E13 is about a CSMS that does not accept the message)
                if self._resumes == resumes:  # no resume() since the call began
                    self._paused = True
                    self._queue.offline = True
                    self._queue.mark_offline()
                return
            await self._failed(message, exc)
            return
        finally:
            self.in_flight = None
        self._queue.ack(message.id)
        self.sent += 1
        if self._on_response is not None:
            try:
                done = self._on_response(message, result)
                if inspect.isawaitable(done):
                    await done
            except asyncio.CancelledError:
                raise
            except Exception:
                self._log.exception("on_response failed for %s %d", message.action, message.id)

    async def _failed(self, message: QueuedMessage, exc: Exception) -> None:
        failures = self._queue.record_attempt(message.id)
        policy = self._policy()
        kind = "CALLERROR" if isinstance(exc, OCPPError) else type(exc).__name__
        if policy.exhausted(failures):
            self._queue.drop(message.id, f"{kind}: {exc}")
            return
        delay = policy.delay(failures)
        self._log.info(
            "%s %d not accepted (%s: %s); retry %d in %g s",
            message.action,
            message.id,
            kind,
            exc,
            failures,
            delay,
        )
        await self._clock.sleep(delay)
