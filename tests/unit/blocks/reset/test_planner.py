"""Reset scheduling (OCPP 2.0.1 B11 without, B12 with ongoing transactions)."""

from __future__ import annotations

import pytest

from ocpp_station.blocks.availability.state import Availability, StatusChange
from ocpp_station.blocks.reset.planner import PendingReset, ResetDecision, ResetNow, ResetPlanner


def planner() -> ResetPlanner:
    return ResetPlanner([1, 2])


@pytest.mark.parametrize("kind", ["OnIdle", "Immediate"])
def test_idle_station_resets_at_once(kind: str) -> None:
    p = planner()
    decision = p.request(kind, None, busy_evses=())  # type: ignore[arg-type]
    assert decision == ResetDecision("Accepted", reset_now=True)  # B11
    assert p.pending() == ()
    assert p.held_evses() == frozenset()


def test_on_idle_with_transactions_is_scheduled_until_the_last_one_ends() -> None:
    p = planner()
    decision = p.request("OnIdle", None, busy_evses=[1, 2])
    assert decision.status == "Scheduled"  # B12.FR.01
    assert decision.reason == "TxInProgress"
    assert decision.stop_transactions == ()  # OnIdle never stops a transaction (B12.FR.03)
    assert not decision.reset_now
    assert decision.info is not None and "1, 2" in decision.info
    assert p.pending() == (PendingReset("OnIdle", None),)
    assert p.held_evses() == frozenset({1, 2})  # no new transactions (B12 scenario 3a)

    assert p.transaction_ended(1, busy_evses=[2]) is None
    assert p.pending() == (PendingReset("OnIdle", None),)
    assert p.transaction_ended(2, busy_evses=[]) == ResetNow(None)
    assert p.pending() == ()
    assert p.held_evses() == frozenset()
    assert p.transaction_ended(1, busy_evses=[]) is None  # nothing left to do


def test_immediate_with_transactions_stops_them_then_resets() -> None:
    p = planner()
    decision = p.request("Immediate", None, busy_evses=[2])
    # B12.FR.02/04: Accepted; the station stops EVSE 2's transaction (stoppedReason ImmediateReset).
    assert decision == ResetDecision("Accepted", stop_transactions=(2,))
    assert p.pending() == (PendingReset("Immediate", None),)
    assert p.transaction_ended(2, busy_evses=()) == ResetNow(None)


def test_evse_reset_on_idle_waits_only_for_that_evse() -> None:
    p = planner()
    decision = p.request("OnIdle", 2, busy_evses=[1, 2])
    assert decision.status == "Scheduled"  # B12.FR.01 for an EVSE
    assert decision.evse == 2
    assert p.held_evses() == frozenset({2})
    assert p.transaction_ended(1, busy_evses=[2]) is None  # EVSE 1 is not the target
    assert p.transaction_ended(2, busy_evses=[]) == ResetNow(2)
    assert p.pending() == ()


def test_evse_reset_ignores_transactions_on_other_evses() -> None:
    p = planner()
    assert p.request("OnIdle", 1, busy_evses=[2]) == ResetDecision(
        "Accepted", reset_now=True, evse=1
    )  # B11.FR.08
    assert p.request("Immediate", 2, busy_evses=[1, 2]) == ResetDecision(
        "Accepted", stop_transactions=(2,), evse=2
    )  # B12.FR.08: only EVSE 2's transaction is stopped
    assert p.transaction_ended(2, busy_evses=[1]) == ResetNow(2)


def test_evse_reset_not_supported_is_rejected() -> None:
    p = planner()
    decision = p.request("OnIdle", 1, busy_evses=(), evse_reset_supported=False)
    assert decision.status == "Rejected"  # B11.FR.09
    assert decision.reason == "UnsupportedParam"
    decision = p.request("Immediate", 1, busy_evses=[1], evse_reset_supported=False)
    assert decision.status == "Rejected"  # B12.FR.09
    assert decision.stop_transactions == () and not decision.reset_now
    assert p.pending() == ()
    # The whole station can still be reset.
    assert p.request("OnIdle", None, (), evse_reset_supported=False).reset_now


def test_unknown_evse_is_rejected_with_reason() -> None:
    p = planner()
    decision = p.request("Immediate", 5, busy_evses=[1])
    assert decision.status == "Rejected"
    assert decision.reason == "UnknownEvse"
    assert decision.info is not None and "EVSE 5" in decision.info and "1, 2" in decision.info
    assert decision.stop_transactions == () and not decision.reset_now
    assert p.request("OnIdle", -3, busy_evses=()).reason == "UnknownEvse"


def test_evse_zero_means_the_whole_station() -> None:
    p = planner()
    decision = p.request("OnIdle", 0, busy_evses=[1])
    assert decision.status == "Scheduled"
    assert decision.evse is None
    assert p.pending() == (PendingReset("OnIdle", None),)


def test_a_later_request_replaces_the_pending_one() -> None:
    p = planner()
    p.request("OnIdle", None, busy_evses=[1, 2])
    # The operator loses patience: Immediate replaces the waiting OnIdle.
    decision = p.request("Immediate", None, busy_evses=[1, 2])
    assert decision.stop_transactions == (1, 2)
    assert p.pending() == (PendingReset("Immediate", None),)
    # A station reset covers any EVSE reset waiting before it.
    p.cancel()
    p.request("OnIdle", 1, busy_evses=[1])
    p.request("OnIdle", 2, busy_evses=[1, 2])
    assert p.pending() == (PendingReset("OnIdle", 1), PendingReset("OnIdle", 2))
    p.request("OnIdle", None, busy_evses=[1, 2])
    assert p.pending() == (PendingReset("OnIdle", None),)


def test_evse_request_while_a_station_reset_waits() -> None:
    p = planner()
    p.request("OnIdle", None, busy_evses=[1, 2])
    # Answered on its own terms; the station reset keeps waiting and covers EVSE 1.
    assert p.request("Immediate", 1, busy_evses=[1, 2]).stop_transactions == (1,)
    assert p.pending() == (PendingReset("OnIdle", None),)
    assert p.transaction_ended(1, busy_evses=[2]) is None
    assert p.transaction_ended(2, busy_evses=[]) == ResetNow(None)


def test_cancel_drops_everything() -> None:
    p = planner()
    p.request("OnIdle", None, busy_evses=[1])
    p.cancel()
    assert p.pending() == ()
    assert p.transaction_ended(1, busy_evses=[]) is None


def test_bad_arguments_raise_precise_errors() -> None:
    with pytest.raises(ValueError, match="at least one EVSE"):
        ResetPlanner([])
    with pytest.raises(ValueError, match=r"EVSE ids must be 1\.\.2 without gaps, got \[0, 1\]"):
        ResetPlanner([0, 1])
    p = planner()
    with pytest.raises(ValueError, match="'Soft' is not Immediate or OnIdle"):
        p.request("Soft", None, ())  # type: ignore[arg-type]  # the OCPP 1.6 word
    with pytest.raises(ValueError, match="busy_evses names unknown EVSEs 7"):
        p.request("OnIdle", None, [7])
    with pytest.raises(ValueError, match="EVSE 9 is not known"):
        p.transaction_ended(9, ())


def test_on_idle_reset_holds_evses_unavailable_in_the_availability_machine() -> None:
    """How the station core wires the two: B12 scenario 3a, Available EVSEs go Unavailable while
    the reset waits, the busy one keeps charging and goes Unavailable when the car leaves."""
    av = Availability({1: [1], 2: [1]})
    p = ResetPlanner([1, 2])
    av.plug(2, 1, True)
    av.take_changes()
    assert p.request("OnIdle", None, busy_evses=[2]).status == "Scheduled"
    for evse in p.held_evses():
        av.hold(evse, True)
    assert av.take_changes() == [StatusChange(1, 1, "Unavailable")]
    assert av.status(2, 1) == "Occupied" and av.usable(2)
    av.plug(2, 1, False)
    assert p.transaction_ended(2, busy_evses=[]) == ResetNow(None)
    assert av.take_changes() == [StatusChange(2, 1, "Unavailable")]
