"""The reservation rules of H01-H04 (pure)."""

from __future__ import annotations

from typing import Any

from ocpp_station.blocks.reservation.rules import (
    Evses,
    Reservation,
    admission,
    decide,
    due,
    from_record,
    next_expiry,
    reserved_evses,
    to_record,
)
from ocpp_station.clock import iso

NOW = 1_700_000_000.0
ALICE = {"idToken": "ALICE", "type": "ISO14443"}
BOB = {"idToken": "BOB", "type": "ISO14443"}
FLEET = {"idToken": "FLEET", "type": "Central"}


def evses(*conditions: str, types: tuple[str, ...] = ()) -> Evses:
    return Evses(
        conditions={i + 1: c for i, c in enumerate(conditions)},
        connector_types={
            i + 1: frozenset({types[i] if i < len(types) else "cType2"})
            for i in range(len(conditions))
        },
    )


def ask(evse: int | None = None, rid: int = 1, **more: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {"id": rid, "expiryDateTime": iso(NOW + 600), "idToken": ALICE}
    if evse is not None:
        payload["evseId"] = evse
    payload.update(more)
    return payload


def run(payload: dict[str, Any], held: list[Reservation], station: Evses, **flags: bool) -> Any:
    return decide(
        payload,
        held,
        station,
        enabled=flags.get("enabled", True),
        non_evse_specific=flags.get("non_evse_specific", False),
        now=NOW,
    )


def test_reserve_an_available_evse() -> None:
    """H01.FR.23."""
    answer = run(ask(1), [], evses("Available", "Available"))
    assert answer.status == "Accepted"
    assert answer.reservation == Reservation(1, NOW + 600, ALICE, None, 1, None)


def test_disabled_rejects() -> None:
    """H01.FR.01."""
    assert run(ask(1), [], evses("Available"), enabled=False).status == "Rejected"


def test_the_evse_condition_decides_the_answer() -> None:
    """H01.FR.11/12/14."""
    for condition in ("Occupied", "Faulted", "Unavailable"):
        assert run(ask(1), [], evses(condition)).status == condition


def test_an_evse_reserved_by_another_is_occupied() -> None:
    """H01.FR.11: Reserved counts as Occupied."""
    other = Reservation(7, NOW + 60, BOB, None, 1)
    assert run(ask(1), [other], evses("Available")).status == "Occupied"


def test_the_same_id_replaces() -> None:
    """H01.FR.02: a reservation with the same id is replaced, so its EVSE is no obstacle."""
    old = Reservation(1, NOW + 60, BOB, None, 1)
    assert run(ask(1), [old], evses("Available")).status == "Accepted"


def test_unknown_evse_and_past_expiry_are_rejected() -> None:
    unknown = run(ask(3), [], evses("Available"))
    assert (unknown.status, unknown.reason) == ("Rejected", "UnknownEvse")
    past = run(ask(1, expiryDateTime=iso(NOW - 1)), [], evses("Available"))
    assert past.status == "Rejected"


def test_unspecified_evse_needs_non_evse_specific() -> None:
    """H01.FR.19 / H01.FR.18 / H01.FR.04."""
    assert run(ask(), [], evses("Available")).status == "Rejected"
    assert run(ask(), [], evses("Available"), non_evse_specific=True).status == "Accepted"


def test_unspecified_evse_keeps_one_free_per_reservation() -> None:
    """H01.FR.07: two EVSEs, one Occupied: one reservation without an EVSE fits, a second one
    does not; nor does a reservation of the last free EVSE by id."""
    station = evses("Available", "Occupied")
    first = Reservation(1, NOW + 60, BOB)
    assert run(ask(rid=2), [first], station, non_evse_specific=True).status == "Occupied"
    assert run(ask(1, rid=2), [first], station).status == "Occupied"
    assert (
        run(ask(rid=2), [first], evses("Available", "Available"), non_evse_specific=True).status
        == "Accepted"
    )


def test_unspecified_evse_all_faulted_or_unavailable() -> None:
    assert run(ask(), [], evses("Faulted", "Faulted"), non_evse_specific=True).status == "Faulted"
    answer = run(ask(), [], evses("Unavailable", "Unavailable"), non_evse_specific=True)
    assert answer.status == "Unavailable"
    assert run(ask(), [], evses("Faulted", "Occupied"), non_evse_specific=True).status == "Occupied"


def test_connector_type() -> None:
    """H01.FR.06: only EVSEs with a connector of that type count."""
    station = evses("Occupied", "Available", types=("cCCS2", "cType2"))
    ok = run(ask(connectorType="cType2"), [], station, non_evse_specific=True)
    assert ok.status == "Accepted"
    busy = run(ask(connectorType="cCCS2"), [], station, non_evse_specific=True)
    assert busy.status == "Occupied"
    none = run(ask(connectorType="cG105"), [], station, non_evse_specific=True)
    assert (none.status, none.reason) == ("Rejected", "UnknownConnectorType")
    wrong = run(ask(1, connectorType="cType2"), [], station)
    assert (wrong.status, wrong.reason) == ("Rejected", "UnknownConnectorType")


def test_reserved_evses() -> None:
    """H01.FR.23: an EVSE reserved by id; H01.FR.20: every free EVSE once the reservations
    without an EVSE take them all."""
    station = evses("Available", "Available", "Occupied")
    assert reserved_evses([Reservation(1, NOW, ALICE, None, 2)], station) == {2}
    one = [Reservation(1, NOW, ALICE)]
    assert reserved_evses(one, station) == set()
    two = [*one, Reservation(2, NOW, BOB)]
    assert reserved_evses(two, station) == {1, 2}
    mixed = [Reservation(1, NOW, ALICE, None, 1), Reservation(2, NOW, BOB)]
    assert reserved_evses(mixed, station) == {1, 2}


def test_admission_on_a_reserved_evse() -> None:
    """H03.FR.01/04: the reservation's token or group, nobody else."""
    held = [Reservation(5, NOW, ALICE, FLEET, 1)]
    station = evses("Available", "Available")
    assert admission(held, 1, ALICE, None, station).reservation_id == 5
    assert admission(held, 1, {"idToken": "alice", "type": "ISO14443"}, None, station).allowed
    assert admission(held, 1, BOB, FLEET, station).reservation_id == 5
    assert not admission(held, 1, BOB, None, station).allowed
    assert not admission(held, 1, BOB, {"idToken": "OTHER", "type": "Central"}, station).allowed
    other = admission(held, 2, BOB, None, station)
    assert other.allowed and other.reservation_id is None


def test_admission_with_a_reservation_without_evse() -> None:
    """H03.FR.03 (the token uses it anywhere) and H01.FR.07 (the last free EVSE stays free)."""
    held = [Reservation(5, NOW, ALICE)]
    station = evses("Available", "Available")
    assert admission(held, 2, ALICE, None, station).reservation_id == 5
    assert admission(held, 2, BOB, None, station).allowed  # EVSE 1 stays free
    one_left = evses("Available", "Occupied")
    assert not admission(held, 1, BOB, None, one_left).allowed
    assert admission(held, 1, ALICE, None, one_left).reservation_id == 5


def test_expiry_and_record() -> None:
    held = [Reservation(1, NOW - 1, ALICE, None, 1), Reservation(2, NOW + 5, BOB, FLEET)]
    assert due(held, NOW) == [held[0]]
    assert next_expiry(held) == NOW - 1
    assert next_expiry([]) is None
    pending = [{"reservationId": 9, "reservationUpdateStatus": "Expired"}]
    assert from_record(to_record(held, pending)) == (held, pending)
    assert from_record(None) == ([], [])
    assert from_record({"version": 99}) == ([], [])
    assert from_record({"version": 1, "reservations": [{"id": "x"}]}) == ([], [])
