"""The renewal state machine (A02.FR.17-20, A03.FR.02/17-19), driven by a ManualClock."""

from __future__ import annotations

from ocpp_station.blocks.security.renewal import (
    BLOCKED,
    GAVE_UP,
    IDLE,
    RENEW_BEFORE,
    WAITING,
    Renewal,
    expires_soon,
    next_wake,
    use_previous_pair,
)
from ocpp_station.clock import ManualClock

WAIT = 60.0


async def _resends(renewal: Renewal, clock: ManualClock, repeat: int) -> list[float]:
    """Run the machine until it gives up; the times (since the start) of every send."""
    start = clock.time()
    sends = [0.0]
    renewal.sent(clock.time(), WAIT)
    while renewal.phase == WAITING:
        assert renewal.next_at is not None
        assert not renewal.due(renewal.next_at - 0.001)
        await clock.advance(renewal.next_at - clock.time())
        assert renewal.due(clock.time())
        if renewal.expire(repeat):
            sends.append(clock.time() - start)
            renewal.sent(clock.time(), WAIT)
    return sends


async def test_resends_double_the_wait_and_stop_after_repeat_times_a02_fr_17_19() -> None:
    clock = ManualClock()
    renewal = Renewal()
    renewal.start("CSR", "A02")
    sends = await _resends(renewal, clock, repeat=3)
    # first wait CertSigningWaitMinimum, then doubled after every resend (A02.FR.18), at most
    # CertSigningRepeatTimes doublings (A02.FR.19: the maximum number of increments)
    assert sends == [0.0, 60.0, 180.0, 420.0, 900.0]
    assert renewal.phase == GAVE_UP  # A02.FR.19: stop until the next trigger
    assert not renewal.may_start_by_itself()
    assert renewal.next_at is None


async def test_repeat_times_zero_resends_once_without_doubling() -> None:
    clock = ManualClock()
    renewal = Renewal()
    renewal.start("CSR", "A03")
    # A02.FR.17: the resend after CertSigningWaitMinimum always comes; no doubled wait follows
    assert await _resends(renewal, clock, repeat=0) == [0.0, 60.0]
    assert renewal.phase == GAVE_UP


async def test_repeat_times_one_is_three_requests_tc_a_23() -> None:
    clock = ManualClock()
    renewal = Renewal()
    renewal.start("CSR", "A02")
    # TC_A_23: CertSigningRepeatTimes 1: resent after W, then after W times 2
    assert await _resends(renewal, clock, repeat=1) == [0.0, 60.0, 180.0]
    assert renewal.phase == GAVE_UP


async def test_a_trigger_restarts_after_giving_up() -> None:
    clock = ManualClock()
    renewal = Renewal()
    renewal.start("CSR", "A02")
    await _resends(renewal, clock, repeat=1)
    renewal.start("CSR2", "A02")
    assert renewal.phase == WAITING and renewal.sends == 0 and renewal.csr == "CSR2"
    assert await _resends(renewal, clock, repeat=1) == [0.0, 60.0, 180.0]


def test_signed_goes_idle_and_invalid_blocks_until_a_trigger_a02_fr_20() -> None:
    renewal = Renewal()
    renewal.start("CSR", "A02")
    renewal.sent(1000.0, WAIT)
    renewal.signed()
    assert renewal.phase == IDLE and renewal.csr is None and renewal.may_start_by_itself()
    renewal.start("CSR", "A03")
    renewal.sent(1000.0, WAIT)
    renewal.invalid()
    assert renewal.phase == BLOCKED
    assert not renewal.due(10**12)  # no resend (A02.FR.20)
    assert not renewal.may_start_by_itself()  # nor a renewal of its own
    renewal.start("CSR3", "A02")  # only a trigger
    assert renewal.phase == WAITING


def test_state_survives_a_restart_as_a_record() -> None:
    renewal = Renewal()
    renewal.start("CSR", "A02")
    renewal.sent(1000.0, WAIT)
    again = Renewal.from_record(renewal.to_record())
    assert again == renewal
    assert Renewal.from_record(None) == Renewal()
    assert Renewal.from_record({"phase": "nonsense"}) == Renewal()


def test_renewal_window_is_one_month_before_expiry_a03_fr_02() -> None:
    not_after = 10 * 86400.0 + RENEW_BEFORE
    assert not expires_soon(not_after, 0.0)
    assert not expires_soon(not_after, 10 * 86400.0 - 1)
    assert expires_soon(not_after, 10 * 86400.0)
    assert expires_soon(not_after, not_after + 1)  # already expired: renew too


def test_next_wake_is_the_deadline_or_the_renewal_window() -> None:
    renewal = Renewal()
    not_after = 100 * 86400.0
    assert next_wake(renewal, not_after) == not_after - RENEW_BEFORE
    assert next_wake(renewal, None) is None
    renewal.start("CSR", "A03")
    renewal.sent(500.0, WAIT)
    assert next_wake(renewal, not_after) == 560.0  # the window does not count while waiting
    renewal.invalid()
    assert next_wake(renewal, not_after) is None


def test_previous_pair_after_the_connection_attempts_fail_a02_fr_28() -> None:
    assert not use_previous_pair(unconfirmed=True, failed_attempts=2, attempts=3)
    assert use_previous_pair(unconfirmed=True, failed_attempts=3, attempts=3)
    assert not use_previous_pair(unconfirmed=False, failed_attempts=30, attempts=3)
