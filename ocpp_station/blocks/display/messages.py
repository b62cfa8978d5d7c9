"""The display messages a CSMS set (O01-O06), as OCPP MessageInfoType dicts.  Pure.

* SetDisplayMessage (O01, O02, O06): checked in this order: DisplayMessageCtrlr disabled, a
  ``display`` component (the station has one display) or a window ending before it starts:
  Rejected; a format not in ``SupportedFormats``: NotSupportedMessageFormat; a priority not in
  ``SupportedPriorities``: NotSupportedPriority; a state the station cannot tell
  (:data:`SUPPORTED_STATES`): NotSupportedState; a ``transactionId`` of no running transaction:
  UnknownTransaction (O02); a new id while :data:`CAPACITY` messages are configured: Rejected.
  A message with the id of a configured one replaces it (O06).
* GetDisplayMessages (O03, O04): the messages matching every filter given (ids, priority,
  state); none: Unknown.  They go out in NotifyDisplayMessages parts of :data:`PART_SIZE`.
* ClearDisplayMessage (O05): Accepted, or Unknown for an id not configured.
* A message bound to a transaction ends with it (O02); one past its ``endDateTime`` is dropped.

What is shown (:func:`visible`): messages inside their validity window
(``startDateTime``/``endDateTime``) whose state matches the station's (``Charging`` while a
transaction runs, ``Idle`` otherwise), most urgent first (AlwaysFront, InFront, NormalCycle),
then by id.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from ocpp_station.clock import parse_iso

PRIORITIES = ("AlwaysFront", "InFront", "NormalCycle")
SUPPORTED_STATES = ("Charging", "Idle")  # Faulted/Unavailable: NotSupportedState
CAPACITY = 20  # DisplayMessageCtrlr.DisplayMessages maxLimit
PART_SIZE = 10  # MessageInfo per NotifyDisplayMessagesRequest


@dataclass(frozen=True)
class Capabilities:
    enabled: bool
    formats: Collection[str]
    priorities: Collection[str]


def _time(message: dict[str, Any], key: str) -> float | None:
    text = message.get(key)
    return None if text is None else parse_iso(text)


@dataclass(frozen=True)
class Verdict:
    status: str
    reason: str = ""  # the StatusInfo reasonCode when refused
    info: str = ""


ACCEPTED = Verdict("Accepted")


def check(
    message: dict[str, Any],
    caps: Capabilities,
    configured: Collection[int],
    running: Collection[str],
) -> Verdict:
    """The SetDisplayMessage status of ``message``, with the reason when refused."""
    if not caps.enabled:
        return Verdict("Rejected", "NotEnabled", "DisplayMessageCtrlr is disabled")
    if "display" in message:
        return Verdict("Rejected", "UnsupportedParam", "one display here: no display component")
    start, end = _time(message, "startDateTime"), _time(message, "endDateTime")
    if start is not None and end is not None and end <= start:
        return Verdict("Rejected", "InvalidValue", "endDateTime is not after startDateTime")
    fmt = message["message"]["format"]
    if fmt not in caps.formats:
        return Verdict("NotSupportedMessageFormat", "UnsupportedParam", f"format {fmt}")
    if message["priority"] not in caps.priorities:
        return Verdict("NotSupportedPriority", "UnsupportedParam", message["priority"])
    state = message.get("state")
    if state is not None and state not in SUPPORTED_STATES:
        return Verdict("NotSupportedState", "UnsupportedParam", f"state {state}")
    tx = message.get("transactionId")
    if tx is not None and tx not in running:
        return Verdict("UnknownTransaction", "TxNotFound", f"no transaction {tx} runs here")
    if message["id"] not in configured and len(configured) >= CAPACITY:
        return Verdict("Rejected", "OutOfStorage", f"{CAPACITY} messages are configured")
    return ACCEPTED


class MessageBook:
    """The configured messages by id."""

    def __init__(self, messages: Iterable[dict[str, Any]] = ()) -> None:
        self.messages: dict[int, dict[str, Any]] = {m["id"]: m for m in messages}

    def __len__(self) -> int:
        return len(self.messages)

    def put(self, message: dict[str, Any]) -> None:
        self.messages[message["id"]] = message  # O06: the same id replaces

    def clear(self, message_id: int) -> bool:
        return self.messages.pop(message_id, None) is not None

    def end_transaction(self, transaction_id: str) -> list[int]:
        """Drop the messages bound to this transaction; their ids."""
        gone = [i for i, m in self.messages.items() if m.get("transactionId") == transaction_id]
        for i in gone:
            del self.messages[i]
        return gone

    def expire(self, now: float) -> list[int]:
        """Drop the messages whose ``endDateTime`` has passed; their ids."""
        gone = [
            i for i, m in self.messages.items() if (end := _time(m, "endDateTime")) and end <= now
        ]
        for i in gone:
            del self.messages[i]
        return gone

    def select(
        self, ids: Collection[int] = (), priority: str | None = None, state: str | None = None
    ) -> list[dict[str, Any]]:
        """GetDisplayMessages: the messages matching every filter given, by id."""
        return [
            m
            for i, m in sorted(self.messages.items())
            if (not ids or i in ids)
            and (priority is None or m["priority"] == priority)
            and (state is None or m.get("state") == state)
        ]

    def visible(self, now: float, charging: bool) -> list[dict[str, Any]]:
        """The messages to show now, most urgent first."""
        state = "Charging" if charging else "Idle"
        shown = []
        for m in self.messages.values():
            start, end = _time(m, "startDateTime"), _time(m, "endDateTime")
            if (start is not None and now < start) or (end is not None and now >= end):
                continue
            if m.get("state") not in (None, state):
                continue
            shown.append(m)
        return sorted(shown, key=lambda m: (PRIORITIES.index(m["priority"]), m["id"]))

    def next_change(self, now: float) -> float | None:
        """The next start or end of a validity window after ``now`` (None: none)."""
        times = [
            t
            for m in self.messages.values()
            for t in (_time(m, "startDateTime"), _time(m, "endDateTime"))
            if t is not None and t > now
        ]
        return min(times, default=None)


def line(message: dict[str, Any]) -> dict[str, Any]:
    """A configured message as a line of the display interface."""
    content = message["message"]
    out: dict[str, Any] = {
        "id": message["id"],
        "source": "DisplayMessage",
        "priority": message["priority"],
        "format": content["format"],
        "content": content["content"],
    }
    if "language" in content:
        out["language"] = content["language"]
    if "transactionId" in message:
        out["transactionId"] = message["transactionId"]
    return out


def parts(messages: list[dict[str, Any]], request_id: int) -> list[dict[str, Any]]:
    """NotifyDisplayMessagesRequests for these messages: ``tbc`` on all but the last."""
    chunks = [messages[i : i + PART_SIZE] for i in range(0, len(messages), PART_SIZE)] or [[]]
    return [
        {"requestId": request_id, "messageInfo": chunk, "tbc": n < len(chunks) - 1}
        for n, chunk in enumerate(chunks)
    ]
