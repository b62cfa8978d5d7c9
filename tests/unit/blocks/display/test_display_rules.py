"""The pure rules of display messages (O01-O06): checks, the book, what is visible, parts."""

from __future__ import annotations

import json
from typing import Any

from support import REPO

from ocpp_station.blocks.display import messages
from ocpp_station.blocks.display.interface import NoDisplay, display_of
from ocpp_station.blocks.display.messages import Capabilities, MessageBook
from ocpp_station.clock import iso

CAPS = Capabilities(
    enabled=True, formats=("ASCII", "UTF8"), priorities=("AlwaysFront", "InFront", "NormalCycle")
)
T0 = 1_800_000_000.0


def msg(mid: int, priority: str = "NormalCycle", **more: Any) -> dict[str, Any]:
    return {"id": mid, "priority": priority, "message": {"format": "UTF8", "content": "x"}, **more}


def test_check_order_and_statuses() -> None:
    assert messages.check(msg(1), CAPS, {}, ()) == messages.ACCEPTED
    off = Capabilities(False, CAPS.formats, CAPS.priorities)
    assert messages.check(msg(1), off, {}, ()).status == "Rejected"
    html = {**msg(1), "message": {"format": "HTML", "content": "<b>x</b>"}}
    assert messages.check(html, CAPS, {}, ()).status == "NotSupportedMessageFormat"
    no_front = Capabilities(True, CAPS.formats, ("NormalCycle",))
    assert messages.check(msg(1, "InFront"), no_front, {}, ()).status == "NotSupportedPriority"
    assert messages.check(msg(1, state="Unavailable"), CAPS, {}, ()).status == "NotSupportedState"
    assert messages.check(msg(1, state="Charging"), CAPS, {}, ()).status == "Accepted"
    bound = msg(1, transactionId="T1")
    assert messages.check(bound, CAPS, {}, ()).status == "UnknownTransaction"
    assert messages.check(bound, CAPS, {}, {"T1"}).status == "Accepted"


def test_capacity_rejects_new_ids_but_replaces_known_o06() -> None:
    full = {i: msg(i) for i in range(messages.CAPACITY)}
    verdict = messages.check(msg(99), CAPS, full, ())
    assert (verdict.status, verdict.reason) == ("Rejected", "OutOfStorage")
    assert messages.check(msg(3), CAPS, full, ()).status == "Accepted"


def test_capacity_is_the_advertised_max_limit() -> None:
    path = REPO / "device_model" / "definitions" / "display_message_ctrlr.json"
    variables = {v["name"]: v for v in json.loads(path.read_text())["variables"]}
    assert variables["DisplayMessages"]["characteristics"]["maxLimit"] == messages.CAPACITY


def test_visible_window_state_and_priority_order() -> None:
    book = MessageBook(
        [
            msg(5),
            msg(4, "AlwaysFront"),
            msg(3, "InFront", state="Charging"),
            msg(2, startDateTime=iso(T0 + 10), endDateTime=iso(T0 + 20)),
        ]
    )
    assert [m["id"] for m in book.visible(T0, charging=False)] == [4, 5]
    assert [m["id"] for m in book.visible(T0, charging=True)] == [4, 3, 5]
    assert [m["id"] for m in book.visible(T0 + 10, charging=False)] == [4, 2, 5]
    assert [m["id"] for m in book.visible(T0 + 20, charging=False)] == [4, 5]
    assert book.next_change(T0) == T0 + 10
    assert book.next_change(T0 + 10) == T0 + 20
    assert book.expire(T0 + 20) == [2]
    assert book.next_change(T0) is None


def test_transaction_end_and_clear() -> None:
    book = MessageBook([msg(1, transactionId="T1"), msg(2, transactionId="T2"), msg(3)])
    assert book.end_transaction("T1") == [1]
    assert sorted(book.messages) == [2, 3]
    assert book.clear(3) and not book.clear(3)


def test_select_filters_all_apply() -> None:
    book = MessageBook([msg(1, "InFront"), msg(2, state="Idle"), msg(3, "InFront", state="Idle")])
    assert [m["id"] for m in book.select()] == [1, 2, 3]
    assert [m["id"] for m in book.select(priority="InFront")] == [1, 3]
    assert [m["id"] for m in book.select(ids=[1, 2], state="Idle")] == [2]
    assert book.select(ids=[7]) == []


def test_parts_and_line() -> None:
    many = [msg(i) for i in range(23)]
    parts = messages.parts(many, 4)
    assert [(len(p["messageInfo"]), p["tbc"], p["requestId"]) for p in parts] == [
        (10, True, 4),
        (10, True, 4),
        (3, False, 4),
    ]
    line = messages.line(
        {**msg(1), "message": {"format": "ASCII", "language": "de", "content": "Hallo"}}
    )
    assert line == {
        "id": 1,
        "source": "DisplayMessage",
        "priority": "NormalCycle",
        "format": "ASCII",
        "language": "de",
        "content": "Hallo",
    }


def test_display_of_falls_back_to_no_display() -> None:
    class Shows:
        def __init__(self) -> None:
            self.lines: list[dict[str, Any]] = []

        def show(self, lines: list[dict[str, Any]]) -> None:
            self.lines = lines

    class Controller:
        display = Shows()

    assert display_of(Controller()) is Controller.display
    assert isinstance(display_of(object()), NoDisplay)
