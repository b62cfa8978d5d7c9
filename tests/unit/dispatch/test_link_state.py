"""LinkState records how long the last outage lasted (B04: OfflineThreshold decides what the
reconnect reports); time is passed in."""

from __future__ import annotations

from ocpp_station.dispatch.policy import LinkState


def test_first_connection_is_no_outage() -> None:
    link = LinkState()
    link.came_up(100.0)
    assert link.connected and link.last_outage == 0.0 and link.down_since is None


def test_outage_is_measured_from_down_to_up() -> None:
    link = LinkState()
    link.came_up(100.0)
    link.went_down(150.0)
    assert not link.connected and link.down_since == 150.0
    link.came_up(900.5)
    assert link.connected and link.last_outage == 750.5 and link.down_since is None


def test_failed_attempts_do_not_move_the_start_of_the_outage() -> None:
    link = LinkState()
    link.came_up(0.0)
    link.went_down(10.0)
    link.went_down(20.0)  # reported again while already down: the outage began at 10
    link.came_up(30.0)
    assert link.last_outage == 20.0


def test_a_clock_that_went_back_gives_no_negative_outage() -> None:
    link = LinkState()
    link.came_up(0.0)
    link.went_down(50.0)
    link.came_up(40.0)
    assert link.last_outage == 0.0
