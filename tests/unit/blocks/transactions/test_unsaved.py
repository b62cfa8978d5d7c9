"""While the store cannot write, a transaction's events wait in order and energy stays off."""

from __future__ import annotations

from ocpp_station.blocks.transactions.types import SendTransactionEvent, SetPower
from ocpp_station.blocks.transactions.unsaved import Unsaved

STARTED = ("TransactionEvent", {"seqNo": 0})
UPDATED = ("TransactionEvent", {"seqNo": 1})


def test_held_events_go_first_and_power_on_waits_for_the_commit() -> None:
    unsaved = Unsaved()
    on = SetPower(True)
    events, outputs = unsaved.take(1, [STARTED], [SendTransactionEvent({}), on])
    unsaved.keep(1, events, outputs)  # the commit failed
    assert unsaved.has(1) and unsaved.evses() == [1]
    events, outputs = unsaved.take(1, [UPDATED], [])
    assert events == [STARTED, UPDATED]  # no seqNo gap, nothing reordered
    assert on in outputs  # carried out only once these are committed
    assert not unsaved.has(1)


def test_power_off_is_never_held_and_cancels_a_held_power_on() -> None:
    unsaved = Unsaved()
    unsaved.keep(1, [STARTED], [SetPower(True)])
    events, outputs = unsaved.take(1, [UPDATED], [SetPower(False)])
    assert outputs == [SetPower(False)]
    unsaved.keep(1, events, outputs)  # failed again: the off is carried out at once, not kept
    assert unsaved.take(1, [], [])[1] == []
