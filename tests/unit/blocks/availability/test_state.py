"""The connector availability state machine (OCPP 2.0.1 G01, G03, G04)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocpp_station.blocks.availability.state import (
    Availability,
    AvailabilityError,
    ChangeResult,
    StatusChange,
)


def two_evses() -> Availability:
    """EVSE 1 with one connector, EVSE 2 with two."""
    return Availability({1: [1], 2: [1, 2]})


def statuses(av: Availability) -> dict[tuple[int, int], str]:
    return {(s.evse, s.connector): s.status for s in av.all_statuses()}


# ---- construction -----------------------------------------------------------------------------


def test_fresh_station_is_operative_and_available_with_nothing_to_report() -> None:
    av = two_evses()
    assert statuses(av) == {(1, 1): "Available", (2, 1): "Available", (2, 2): "Available"}
    assert av.take_changes() == []
    assert av.operational() == "Operative"
    assert av.operational(2) == "Operative"
    assert av.operational(2, 2) == "Operative"
    assert av.usable(1) and av.usable(2)
    assert av.pending() == {}


@pytest.mark.parametrize(
    ("evses", "msg"),
    [
        ({}, "at least one EVSE"),
        ({0: [1]}, r"EVSE ids must be 1\.\.1 without gaps, got \[0\]"),
        ({1: []}, "EVSE 1 has no connectors"),
        ({1: [1, 1]}, r"EVSE 1: connector ids must be 1\.\.2, got \[1, 1\]"),
        ({1: [0]}, r"EVSE 1: connector ids must be 1\.\.1"),
    ],
)
def test_bad_layout_is_refused_with_a_precise_error(evses: dict[int, list[int]], msg: str) -> None:
    with pytest.raises(AvailabilityError, match=msg):
        Availability(evses)


# ---- ChangeAvailability on an EVSE -----------------------------------------------------------


def test_idle_evse_inoperative_then_operative_again() -> None:
    av = two_evses()
    assert av.change("Inoperative", evse=1) == ChangeResult("Accepted")
    assert av.take_changes() == [StatusChange(1, 1, "Unavailable")]  # G03.FR.04
    assert av.operational(1) == "Inoperative"
    assert not av.usable(1)
    assert av.status(2, 1) == "Available"  # other EVSEs untouched

    assert av.change("Operative", evse=1) == ChangeResult("Accepted")
    assert av.take_changes() == [StatusChange(1, 1, "Available")]  # G03.FR.07
    assert av.usable(1)


def test_request_for_the_state_already_in_force_is_accepted_without_a_notification() -> None:
    av = two_evses()
    assert av.change("Operative", evse=2).status == "Accepted"  # G03.FR.03
    assert av.change("Operative", evse=2, connector=1).status == "Accepted"
    assert av.change("Operative").status == "Accepted"  # G04.FR.04
    assert av.take_changes() == []
    av.change("Inoperative", evse=2)
    av.take_changes()
    # Already Inoperative: Accepted, even while a transaction runs there.
    assert av.change("Inoperative", evse=2, busy_evses=[2]).status == "Accepted"
    assert av.take_changes() == []


def test_inoperative_on_busy_evse_is_scheduled_until_the_transaction_ends() -> None:
    av = two_evses()
    av.plug(1, 1, True)
    assert av.take_changes() == [StatusChange(1, 1, "Occupied")]

    result = av.change("Inoperative", evse=1, busy_evses={1})
    assert result.status == "Scheduled"  # G03.FR.05
    assert result.reason == "TxInProgress"
    assert result.info is not None and "EVSE 1" in result.info
    assert av.pending() == {1: {"evse": "Inoperative"}}
    # Nothing changes while the transaction runs: still Occupied, still usable.
    assert av.status(1, 1) == "Occupied"
    assert av.operational(1) == "Operative"
    assert av.usable(1)
    assert av.take_changes() == []

    # TxStopPoint EVConnected: the unplug ends the transaction; the CSMS sees only Unavailable
    # (G01.FR.05), never an intermediate Available.
    av.plug(1, 1, False)
    av.transaction_ended(1)
    assert av.take_changes() == [StatusChange(1, 1, "Unavailable")]
    assert av.pending() == {}
    assert av.operational(1) == "Inoperative"
    assert not av.usable(1)


def test_scheduled_change_applies_at_transaction_end_even_with_the_cable_still_in() -> None:
    av = two_evses()
    av.plug(1, 1, True)
    av.change("Inoperative", evse=1, busy_evses=[1])
    av.take_changes()
    av.transaction_ended(1)  # e.g. stopped by IdToken, cable still plugged
    # G03.FR.06: every operative connector (Occupied too) becomes Unavailable.
    assert av.take_changes() == [StatusChange(1, 1, "Unavailable")]
    av.plug(1, 1, False)
    assert av.take_changes() == []  # still Unavailable


def test_transaction_end_without_anything_scheduled_changes_nothing() -> None:
    av = two_evses()
    av.plug(2, 1, True)
    av.take_changes()
    av.transaction_ended(2)
    assert av.take_changes() == []
    assert av.status(2, 1) == "Occupied"


def test_operative_cancels_a_scheduled_inoperative() -> None:
    av = two_evses()
    av.plug(2, 1, True)
    assert av.change("Inoperative", evse=2, busy_evses=[2]).status == "Scheduled"
    assert av.change("Operative", evse=2, busy_evses=[2]) == ChangeResult("Accepted")
    assert av.pending() == {}
    av.plug(2, 1, False)
    av.transaction_ended(2)
    assert av.status(2, 1) == "Available"
    assert av.operational(2) == "Operative"


def test_a_repeated_inoperative_replaces_the_scheduled_one() -> None:
    av = two_evses()
    av.change("Inoperative", evse=2, busy_evses=[2])
    assert av.change("Inoperative", evse=2, busy_evses=[2]).status == "Scheduled"
    assert av.pending() == {2: {"evse": "Inoperative"}}
    # The transaction ended in the meantime: a newer request applies at once.
    assert av.change("Inoperative", evse=2).status == "Accepted"
    assert av.pending() == {}
    assert av.operational(2) == "Inoperative"


# ---- the whole station ----------------------------------------------------------------------


@pytest.mark.parametrize("station", [None, 0])  # evse omitted (G04.FR.01) or evse.id 0 (seed 000)
def test_station_inoperative_takes_idle_evses_now_and_busy_ones_later(station: int | None) -> None:
    av = two_evses()
    av.plug(2, 2, True)
    av.take_changes()

    result = av.change("Inoperative", evse=station, busy_evses=[2])
    assert result.status == "Scheduled"  # G04.FR.06
    assert result.reason == "TxInProgress"
    assert av.take_changes() == [StatusChange(1, 1, "Unavailable")]  # idle EVSE at once
    assert av.pending() == {2: {"station": "Inoperative"}}
    assert not av.usable(1) and av.usable(2)
    # Still charging on EVSE 2: the station as a whole is not yet Inoperative.
    assert av.operational(station) == "Operative"
    assert av.operational(2) == "Operative"  # EVSE level itself was never changed

    av.transaction_ended(2)
    assert av.take_changes() == [
        StatusChange(2, 1, "Unavailable"),
        StatusChange(2, 2, "Unavailable"),
    ]
    assert av.operational(station) == "Inoperative"
    assert av.pending() == {}

    assert av.change("Operative", evse=station).status == "Accepted"  # G04.FR.08
    assert av.take_changes() == [
        StatusChange(1, 1, "Available"),
        StatusChange(2, 1, "Available"),
        StatusChange(2, 2, "Occupied"),  # reverts to the original status: still plugged
    ]


def test_station_inoperative_with_nothing_running_is_accepted() -> None:
    av = two_evses()
    assert av.change("Inoperative", evse=0) == ChangeResult("Accepted")
    assert av.operational() == "Inoperative"
    assert [s.status for s in av.take_changes()] == ["Unavailable"] * 3


def test_levels_are_independent() -> None:
    # G03 Note 1: connector Inoperative, EVSE Inoperative, EVSE Operative -> connector stays out.
    av = two_evses()
    av.change("Inoperative", evse=2, connector=2)
    av.change("Inoperative", evse=2)
    av.change("Inoperative")
    av.change("Operative")
    av.change("Operative", evse=2)
    assert statuses(av) == {(1, 1): "Available", (2, 1): "Available", (2, 2): "Unavailable"}
    assert av.operational(2, 2) == "Inoperative"
    # An EVSE-level Operative while the station is Inoperative leaves it Unavailable.
    av.change("Inoperative")
    assert av.change("Operative", evse=1).status == "Accepted"
    assert av.status(1, 1) == "Unavailable"


# ---- connectors ------------------------------------------------------------------------------


def test_one_connector_of_a_two_connector_evse() -> None:
    av = two_evses()
    assert av.change("Inoperative", evse=2, connector=2) == ChangeResult("Accepted")
    assert av.take_changes() == [StatusChange(2, 2, "Unavailable")]
    assert av.status(2, 1) == "Available"  # the other connector stays Available
    assert av.operational(2) == "Operative"
    assert av.usable(2)  # one operative connector left
    av.change("Inoperative", evse=2, connector=1)
    assert not av.usable(2)
    av.change("Operative", evse=2, connector=2)
    assert av.take_changes() == [
        StatusChange(2, 1, "Unavailable"),
        StatusChange(2, 2, "Available"),
    ]


def test_connector_inoperative_on_busy_evse_is_scheduled_per_evse() -> None:
    av = two_evses()
    av.plug(2, 1, True)
    result = av.change("Inoperative", evse=2, connector=2, busy_evses=[2])
    assert result.status == "Scheduled"
    assert av.pending() == {2: {"connector:2": "Inoperative"}}
    assert av.status(2, 2) == "Available"
    av.transaction_ended(2)
    assert av.status(2, 2) == "Unavailable"
    assert av.status(2, 1) == "Occupied"


def test_plug_on_one_connector_leaves_the_other_connectors_alone() -> None:
    av = two_evses()
    av.plug(2, 1, True)
    # G01.FR.08: no StatusNotification for the sibling connector.
    assert av.take_changes() == [StatusChange(2, 1, "Occupied")]
    assert av.status(2, 2) == "Available"


# ---- rejected requests and bad input ---------------------------------------------------------


def test_unknown_evse_and_connector_are_rejected_with_reason() -> None:
    av = two_evses()
    result = av.change("Inoperative", evse=7)
    assert result.status == "Rejected"
    assert result.reason == "UnknownEvse"
    assert result.info is not None and "EVSE 7" in result.info and "1, 2" in result.info
    result = av.change("Inoperative", evse=1, connector=2)
    assert result.status == "Rejected"
    assert result.reason == "UnknownConnectorId"
    assert result.info is not None and "connector 2" in result.info
    result = av.change("Inoperative", evse=0, connector=1)
    assert (result.status, result.reason) == ("Rejected", "UnknownConnectorId")
    assert av.change("Inoperative", evse=-1).reason == "UnknownEvse"
    assert av.take_changes() == []
    assert av.to_persist() == two_evses().to_persist()  # nothing changed


def test_bad_arguments_raise_precise_errors() -> None:
    av = two_evses()
    with pytest.raises(AvailabilityError, match="'Unavailable' is not an operational status"):
        av.change("Unavailable", evse=1)  # the OCPP 1.6 word
    with pytest.raises(AvailabilityError, match="busy_evses names unknown EVSEs 9"):
        av.change("Inoperative", evse=1, busy_evses=[9])
    with pytest.raises(AvailabilityError, match="EVSE 3 is not known"):
        av.plug(3, 1, True)
    with pytest.raises(AvailabilityError, match="connector 5 is not known on EVSE 2"):
        av.status(2, 5)
    with pytest.raises(AvailabilityError, match="EVSE 4"):
        av.fault(4, "X", True)
    with pytest.raises(AvailabilityError, match="EVSE 4"):
        av.transaction_ended(4)
    with pytest.raises(AvailabilityError, match="without an EVSE"):
        av.operational(None, 1)


# ---- faults -----------------------------------------------------------------------------------


def test_evse_fault_wins_over_unavailable_and_clears_back_to_the_right_status() -> None:
    av = two_evses()
    av.change("Inoperative", evse=2, connector=2)
    av.plug(2, 1, True)
    av.take_changes()

    av.fault(2, "GroundFailure", True)
    assert av.take_changes() == [
        StatusChange(2, 1, "Faulted"),
        StatusChange(2, 2, "Faulted"),
    ]
    assert not av.usable(2)
    assert av.status(1, 1) == "Available"
    av.fault(2, "OverVoltage", True)
    av.fault(2, "GroundFailure", False)
    assert av.take_changes() == []  # one fault still active
    av.fault(2, "OverVoltage", False)
    assert av.take_changes() == [
        StatusChange(2, 1, "Occupied"),
        StatusChange(2, 2, "Unavailable"),
    ]
    assert av.usable(2)
    av.fault(2, "NeverRaised", False)  # clearing an unknown code is harmless
    assert av.take_changes() == []


def test_controller_wide_fault_faults_every_connector() -> None:
    av = two_evses()
    av.change("Inoperative", evse=1)
    av.take_changes()
    av.fault(0, "CommunicationLost", True)
    assert statuses(av) == {(1, 1): "Faulted", (2, 1): "Faulted", (2, 2): "Faulted"}
    assert not av.usable(2)
    assert av.take_changes() == []  # all_statuses() above already reported the Faulted ones
    av.fault(0, "CommunicationLost", False)
    assert av.take_changes() == [
        StatusChange(1, 1, "Unavailable"),  # back to what it was before the fault
        StatusChange(2, 1, "Available"),
        StatusChange(2, 2, "Available"),
    ]


def test_fault_raised_and_cleared_before_take_changes_reports_nothing() -> None:
    av = two_evses()
    av.fault(1, "X", True)
    av.fault(1, "X", False)
    assert av.take_changes() == []


# ---- occupied, reserved, held -------------------------------------------------------------


def test_unavailable_connector_stays_unavailable_when_plugged() -> None:
    av = two_evses()
    av.change("Inoperative", evse=1)
    av.take_changes()
    av.plug(1, 1, True)  # G01 state table: no change for an Unavailable connector
    assert av.take_changes() == []
    av.change("Operative", evse=1)
    assert av.take_changes() == [StatusChange(1, 1, "Occupied")]


def test_inoperative_on_an_idle_evse_with_a_car_plugged_is_immediate() -> None:
    av = two_evses()
    av.plug(1, 1, True)
    av.take_changes()
    assert av.change("Inoperative", evse=1).status == "Accepted"  # no transaction running
    assert av.take_changes() == [StatusChange(1, 1, "Unavailable")]


def test_hold_turns_only_available_connectors_unavailable() -> None:
    av = two_evses()
    av.plug(2, 1, True)
    av.take_changes()
    av.hold(2, True)  # e.g. a Reset OnIdle waiting (B12 scenario 3a)
    assert av.take_changes() == [StatusChange(2, 2, "Unavailable")]
    assert av.usable(2)  # the running transaction keeps its power
    av.plug(2, 1, False)
    assert av.take_changes() == [StatusChange(2, 1, "Unavailable")]
    assert av.operational(2) == "Operative"  # a hold is not an operational status
    av.hold(2, False)
    assert [s.status for s in av.take_changes()] == ["Available", "Available"]


# ---- take_changes / all_statuses ----------------------------------------------------------


def test_take_changes_reports_each_change_exactly_once_and_only_the_final_state() -> None:
    av = two_evses()
    av.plug(1, 1, True)
    av.plug(1, 1, False)
    av.plug(1, 1, True)
    av.plug(2, 2, True)
    assert av.take_changes() == [StatusChange(1, 1, "Occupied"), StatusChange(2, 2, "Occupied")]
    assert av.take_changes() == []
    av.plug(1, 1, False)
    av.change("Inoperative", evse=1)
    av.change("Operative", evse=1)
    assert av.take_changes() == [StatusChange(1, 1, "Available")]


def test_all_statuses_is_a_full_report_and_resets_the_baseline() -> None:
    av = two_evses()
    av.plug(2, 1, True)
    full = av.all_statuses()
    assert full == [
        StatusChange(1, 1, "Available"),
        StatusChange(2, 1, "Occupied"),
        StatusChange(2, 2, "Available"),
    ]
    assert av.take_changes() == []  # the full report already told the CSMS


# ---- persistence ------------------------------------------------------------------------------


def test_persistence_round_trip_restores_inoperative_at_every_level() -> None:
    av = two_evses()
    av.change("Inoperative", evse=1)
    av.change("Inoperative", evse=2, connector=2)
    data = json.loads(json.dumps(av.to_persist()))  # JSON-able
    back = Availability({1: [1], 2: [1, 2]}, persisted=data)
    assert back.operational(1) == "Inoperative"  # G03.FR.08, B11.FR.02
    assert back.operational(2, 2) == "Inoperative"
    assert statuses(back) == {(1, 1): "Unavailable", (2, 1): "Available", (2, 2): "Unavailable"}
    assert back.restore_notes == []
    assert back.to_persist() == av.to_persist()

    station = two_evses()
    station.change("Inoperative")
    back = Availability({1: [1], 2: [1, 2]}, persisted=station.to_persist())
    assert back.operational() == "Inoperative"  # G04.FR.09


def test_scheduled_change_is_persisted_and_applied_at_restore() -> None:
    av = two_evses()
    av.plug(2, 1, True)
    av.change("Inoperative", busy_evses=[2])
    av.change("Inoperative", evse=2, connector=2, busy_evses=[2])
    data = av.to_persist()
    assert data["scheduled"] == {
        "station": {"2": "Inoperative"},
        "evses": {},
        "connectors": {"2": {"2": "Inoperative"}},
    }
    # Power loss: the transaction on EVSE 2 did not survive, so what waited for it applies.
    back = Availability({1: [1], 2: [1, 2]}, persisted=json.loads(json.dumps(data)))
    assert back.pending() == {}
    assert back.operational() == "Inoperative"
    assert back.operational(2, 2) == "Inoperative"
    assert len(back.restore_notes) == 2
    assert all("applied scheduled" in note for note in back.restore_notes)
    assert back.take_changes() == []  # the restored state is the baseline; boot sends all_statuses


def test_restore_skips_targets_no_longer_configured() -> None:
    av = two_evses()
    av.change("Inoperative", evse=2, connector=2)
    back = Availability({1: [1], 2: [1]}, persisted=av.to_persist())
    assert back.restore_notes == [
        "skipped connector-level Inoperative for unknown connector 2 of EVSE 2"
    ]
    assert statuses(back) == {(1, 1): "Available", (2, 1): "Available"}


@pytest.mark.parametrize(
    ("data", "msg"),
    [
        ({"version": 99}, "version 99 is not supported"),
        ({"version": 1, "evses": {"x": "Operative"}}, "'evses' key 'x' is not an integer id"),
        ({"version": 1, "evses": {"1": "Available"}}, "'Available' is not an operational status"),
        ({"version": 1, "connectors": {"1": "Inoperative"}}, "'connectors.1' must be an object"),
        ({"version": 1, "scheduled": []}, "'scheduled' must be an object"),
        ({"version": 1, "station": None}, "'station' must be an object"),
    ],
)
def test_corrupt_persisted_state_is_refused_precisely(data: dict[str, object], msg: str) -> None:
    with pytest.raises(AvailabilityError, match=msg):
        Availability({1: [1]}, persisted=data)


# ---- property: reporting always converges on the true state -----------------------------------

_OPS = st.one_of(
    st.tuples(
        st.just("change"),
        st.sampled_from(["Operative", "Inoperative"]),
        st.sampled_from([None, 0, 1, 2, 3]),
        st.sampled_from([None, 1, 2]),
        st.sets(st.sampled_from([1, 2])),
    ),
    st.tuples(st.just("plug"), st.sampled_from([(1, 1), (2, 1), (2, 2)]), st.booleans()),
    st.tuples(
        st.just("fault"), st.sampled_from([0, 1, 2]), st.sampled_from(["A", "B"]), st.booleans()
    ),
    st.tuples(st.just("hold"), st.sampled_from([1, 2]), st.booleans()),
    st.tuples(st.just("ended"), st.sampled_from([1, 2])),
    st.just(("take",)),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_OPS, max_size=40))
def test_reported_changes_always_track_the_effective_state(ops: list[tuple[Any, ...]]) -> None:
    av = two_evses()
    shadow = statuses(av)  # what the CSMS believes
    for op in ops:
        if op[0] == "change":
            result = av.change(op[1], evse=op[2], connector=op[3], busy_evses=op[4])
            assert result.status in ("Accepted", "Scheduled", "Rejected")
            assert (result.status == "Rejected") == (
                result.reason in ("UnknownEvse", "UnknownConnectorId")
            )
        elif op[0] == "plug":
            av.plug(op[1][0], op[1][1], op[2])
        elif op[0] == "fault":
            av.fault(op[1], op[2], op[3])
        elif op[0] == "hold":
            av.hold(op[1], op[2])
        elif op[0] == "ended":
            av.transaction_ended(op[1])
        else:
            for change in av.take_changes():
                assert shadow[(change.evse, change.connector)] != change.status  # no duplicates
                shadow[(change.evse, change.connector)] = change.status
    for change in av.take_changes():
        shadow[(change.evse, change.connector)] = change.status
    truth = {(s.evse, s.connector): s.status for s in av.all_statuses()}
    assert shadow == truth
    # Operational statuses (in force and scheduled) survive a restart; scheduled ones apply.
    back = Availability({1: [1], 2: [1, 2]}, persisted=json.loads(json.dumps(av.to_persist())))
    for e in (1, 2):
        for t in av.pending().get(e, {}).values():
            assert t == "Inoperative"  # only Inoperative ever waits
    assert back.pending() == {}
    for e, cs in ((1, (1,)), (2, (1, 2))):
        later = av.pending().get(e, {})
        assert back.operational(e) == later.get("evse", av.operational(e))
        for c in cs:
            assert back.operational(e, c) == later.get(f"connector:{c}", av.operational(e, c))
