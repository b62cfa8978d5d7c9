"""The Reserved flag of the availability state machine (H01.FR.20/23, G01.FR.09, H03.FR.10)."""

from __future__ import annotations

import pytest

from ocpp_station.blocks.availability.state import Availability, AvailabilityError, StatusChange


def two_evses() -> Availability:
    return Availability({1: [1], 2: [1, 2]})


def test_a_reserved_evse_reports_every_connector_reserved_once() -> None:
    av = two_evses()
    av.reserve(2, True)
    assert av.is_reserved(2) and not av.is_reserved(1)
    assert av.take_changes() == [StatusChange(2, 1, "Reserved"), StatusChange(2, 2, "Reserved")]
    assert av.take_changes() == []
    av.reserve(2, False)
    assert av.take_changes() == [StatusChange(2, 1, "Available"), StatusChange(2, 2, "Available")]


def test_a_plug_in_does_not_change_a_reserved_connector() -> None:
    """G01.FR.09; once the reservation is used the connector is Occupied (H03.FR.10)."""
    av = two_evses()
    av.reserve(1, True)
    av.take_changes()
    av.plug(1, 1, True)
    assert av.take_changes() == []
    assert av.status(1, 1) == "Reserved"
    av.reserve(1, False)
    assert av.take_changes() == [StatusChange(1, 1, "Occupied")]


def test_faulted_and_unavailable_win_over_reserved() -> None:
    av = two_evses()
    av.reserve(1, True)
    av.fault(1, "X", True)
    assert av.status(1, 1) == "Faulted"
    av.fault(1, "X", False)
    av.change("Inoperative", evse=1)
    assert av.status(1, 1) == "Unavailable"
    av.change("Operative", evse=1)
    assert av.status(1, 1) == "Reserved"


def test_reserved_wins_over_the_station_hold() -> None:
    """A hold (a pending reset) turns only would-be Available connectors Unavailable: a
    reservation stays visible, so it survives an OnIdle reset."""
    av = two_evses()
    av.reserve(1, True)
    av.hold(1, True)
    assert av.status(1, 1) == "Reserved"
    assert av.usable(1)


def test_evse_condition_ignores_the_reservation() -> None:
    av = two_evses()
    av.reserve(1, True)
    assert av.evse_condition(1, busy=False) == "Available"
    assert av.evse_condition(1, busy=True) == "Occupied"
    av.plug(2, 2, True)
    assert av.evse_condition(2, busy=False) == "Occupied"
    av.hold(2, True)
    assert av.evse_condition(2, busy=False) == "Unavailable"
    av.fault(0, "controller", True)
    assert av.evse_condition(1, busy=False) == "Faulted"


def test_the_flag_is_not_persisted_and_checks_the_evse() -> None:
    av = two_evses()
    av.reserve(1, True)
    assert not Availability({1: [1], 2: [1, 2]}, persisted=av.to_persist()).is_reserved(1)
    with pytest.raises(AvailabilityError):
        av.reserve(3, True)
