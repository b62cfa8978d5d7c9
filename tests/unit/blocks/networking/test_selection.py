"""The slot of each connection attempt (B10.FR.03/04/07, A05.FR.05)."""

from __future__ import annotations

from ocpp_station.blocks.networking.selection import SlotSelector


class Plan:
    def __init__(self, order: list[int], attempts: int = 2) -> None:
        self.order = order
        self.attempts = attempts

    def selector(self, last_good: int | None = None) -> SlotSelector:
        return SlotSelector(lambda: list(self.order), lambda: self.attempts, last_good)


def fail(selector: SlotSelector, times: int) -> list[int | None]:
    """The slots of ``times`` failed attempts."""
    out = []
    for _ in range(times):
        out.append(selector.choose())
        selector.failed()
    return out


def test_attempts_per_slot_in_priority_order_then_the_last_good_one_b10_fr_03_07() -> None:
    selector = Plan([2, 1], attempts=2).selector(last_good=1)
    # B10.FR.04: the first entry first; two attempts on each, then the fallback to slot 1
    assert fail(selector, 6) == [2, 2, 1, 1, 1, 1]
    assert fail(selector, 2) == [2, 2]


def test_no_last_good_slot_means_rounds_from_the_top() -> None:
    selector = Plan([1, 0], attempts=1).selector()
    assert fail(selector, 5) == [1, 0, 1, 0, 1]


def test_success_keeps_the_slot_and_a_lost_connection_starts_a_round() -> None:
    plan = Plan([2, 0], attempts=3)
    selector = plan.selector(last_good=0)
    assert fail(selector, 3) == [2, 2, 2]
    assert selector.choose() == 0
    assert selector.succeeded(0) is False  # the first connection of this run
    assert selector.last_good == 0
    # the connection is lost: B10.FR.03 (2025-06 errata) the priority from the top again
    assert selector.choose() == 2
    assert selector.succeeded(2) is True  # another slot than before: register again (B10.FR.10)
    assert selector.choose() == 2
    assert selector.succeeded(2) is False


def test_a_new_priority_applies_from_the_next_round() -> None:
    plan = Plan([0], attempts=2)
    selector = plan.selector(last_good=0)
    assert selector.choose() == 0
    plan.order = [1, 0]
    selector.failed()
    assert selector.choose() == 0  # this round still has its attempts on slot 0
    selector.failed()
    assert fail(selector, 2) == [0, 0]  # the fallback to the last good slot
    assert fail(selector, 1) == [1]  # the new round, in the new order


def test_attempts_are_read_when_counted_and_at_least_one() -> None:
    plan = Plan([1, 0], attempts=0)
    selector = plan.selector()
    assert fail(selector, 3) == [1, 0, 1]
    plan.attempts = 3
    assert fail(selector, 4) == [0, 0, 0, 1]


def test_nothing_usable() -> None:
    selector = Plan([]).selector(last_good=1)
    assert selector.choose() is None
    selector.failed()
    assert selector.choose() is None
