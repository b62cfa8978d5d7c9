"""Reservations (OCPP 2.0.1 part 2, H01-H04, with the 2025 errata): the pure rules.

* :func:`decide` answers a ReserveNowRequest.  ``ReservationCtrlr.Enabled`` false: Rejected
  (H01.FR.01).  A request with the id of a held reservation replaces it (H01.FR.02).  On a named
  EVSE: Accepted when it is Available (H01.FR.23), else Occupied (Occupied or Reserved,
  H01.FR.11), Faulted (H01.FR.12) or Unavailable (H01.FR.14).  Without an EVSE (and optionally
  with a connector type): Rejected unless ``ReservationCtrlr.NonEvseSpecific`` (H01.FR.18/19),
  Accepted when more EVSEs are free than such reservations are held (H01.FR.04/06/07/09), else
  the status all candidate EVSEs share (Faulted, Unavailable) or Occupied.
* :func:`reserved_evses` - which EVSEs report Reserved: every EVSE reserved by id, and every free
  EVSE once the reservations without an EVSE take them all (H01.FR.20/24).
* :func:`admission` - may a token start on an EVSE?  A reserved EVSE only for the reservation's
  idToken or groupIdToken (H03.FR.01/04), which uses the reservation up (H03.FR.09, its id then
  goes into the TransactionEvent, H01.FR.15); a reservation without an EVSE is used by its token
  on any candidate EVSE (H03.FR.03/06); any other token may take an EVSE only while enough
  others stay free for the reservations without an EVSE (H01.FR.07).
* :func:`due` - reservations whose ``expiryDateTime`` has passed (H04.FR.01).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ocpp_station.clock import parse_iso

AVAILABLE = "Available"
RECORD_VERSION = 1


@dataclass(frozen=True)
class Reservation:
    id: int
    expiry: float  # epoch seconds
    id_token: dict[str, Any]
    group_id_token: dict[str, Any] | None = None
    evse: int | None = None  # None: any EVSE (NonEvseSpecific)
    connector_type: str | None = None

    def to_record(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "expiry": self.expiry,
            "id_token": self.id_token,
            "group_id_token": self.group_id_token,
            "evse": self.evse,
            "connector_type": self.connector_type,
        }

    @classmethod
    def from_record(cls, d: Mapping[str, Any]) -> Reservation:
        return cls(
            int(d["id"]),
            float(d["expiry"]),
            dict(d["id_token"]),
            dict(d["group_id_token"]) if d.get("group_id_token") else None,
            None if d.get("evse") is None else int(d["evse"]),
            d.get("connector_type"),
        )


@dataclass(frozen=True)
class Evses:
    """What the rules read of the station: each EVSE's condition (Available, Occupied, Faulted,
    Unavailable; a reservation left aside) and the connector types of its connectors."""

    conditions: Mapping[int, str]
    connector_types: Mapping[int, frozenset[str]]

    def candidates(self, connector_type: str | None) -> list[int]:
        return [
            e
            for e in sorted(self.conditions)
            if connector_type is None or connector_type in self.connector_types.get(e, ())
        ]


@dataclass(frozen=True)
class Answer:
    """A ReserveNowResponse; ``reservation`` is what to hold when Accepted."""

    status: str
    reason: str | None = None
    info: str | None = None
    reservation: Reservation | None = None


@dataclass(frozen=True)
class Admission:
    allowed: bool
    reservation_id: int | None = None  # the reservation the token uses up (H03.FR.09)


def same_token(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    """Equal IdTokens: the same idToken ignoring case and the same type."""
    if a is None or b is None:
        return False
    return str(a.get("idToken", "")).casefold() == str(b.get("idToken", "")).casefold() and a.get(
        "type"
    ) == b.get("type")


def matches(r: Reservation, id_token: Mapping[str, Any], group: Mapping[str, Any] | None) -> bool:
    """H03.FR.01-06: the reservation's idToken, or a token of its groupIdToken."""
    if same_token(r.id_token, id_token):
        return True
    if r.group_id_token is None or group is None:
        return False
    wanted = str(r.group_id_token.get("idToken", "")).casefold()
    return wanted == str(group.get("idToken", "")).casefold()


def _free(evses: Evses, held: Iterable[Reservation], exclude: int | None = None) -> list[int]:
    """Available EVSEs no reservation names."""
    named = {r.evse for r in held if r.evse is not None}
    return [
        e
        for e, condition in sorted(evses.conditions.items())
        if condition == AVAILABLE and e not in named and e != exclude
    ]


def _refusal(conditions: Sequence[str]) -> str:
    """The status of EVSEs that cannot be reserved: Faulted or Unavailable when all are so."""
    for status in ("Faulted", "Unavailable"):
        if conditions and all(c == status for c in conditions):
            return status
    return "Occupied"


def decide(
    request: Mapping[str, Any],
    held: Sequence[Reservation],
    evses: Evses,
    *,
    enabled: bool,
    non_evse_specific: bool,
    now: float,
) -> Answer:
    """A ReserveNowRequest against the reservations ``held`` (see the module docstring)."""
    if not enabled:
        return Answer("Rejected", "NotEnabled", "ReservationCtrlr.Enabled is false")  # H01.FR.01
    try:
        expiry = parse_iso(str(request["expiryDateTime"]))
    except ValueError:
        return Answer("Rejected", "InvalidValue", "expiryDateTime is not a date-time")
    if expiry <= now:
        return Answer("Rejected", "InvalidValue", "expiryDateTime has passed")
    others = [r for r in held if r.id != request["id"]]  # H01.FR.02: the same id is replaced
    evse = request.get("evseId")
    ctype = request.get("connectorType")
    reservation = Reservation(
        int(request["id"]),
        expiry,
        dict(request["idToken"]),
        dict(request["groupIdToken"]) if request.get("groupIdToken") else None,
        evse,
        ctype,
    )
    unspecific = sum(1 for r in others if r.evse is None)
    if evse is not None:
        if evse not in evses.conditions:
            return Answer("Rejected", "UnknownEvse", f"no EVSE {evse}")
        if ctype is not None and ctype not in evses.connector_types.get(evse, ()):
            return Answer("Rejected", "UnknownConnectorType", f"EVSE {evse} has no {ctype}")
        condition = evses.conditions[evse]
        if condition != AVAILABLE:
            return Answer(_refusal([condition]))
        if any(r.evse == evse for r in others):
            return Answer("Occupied", info=f"EVSE {evse} is reserved")  # H01.FR.11
        if unspecific > len(_free(evses, others, exclude=evse)):
            # H01.FR.07: the EVSE is kept free for a reservation without an EVSE
            return Answer("Occupied", info=f"EVSE {evse} is held for another reservation")
        return Answer("Accepted", reservation=reservation)
    if not non_evse_specific:  # H01.FR.19
        return Answer("Rejected", "UnsupportedParam", "ReservationCtrlr.NonEvseSpecific is false")
    candidates = evses.candidates(ctype)
    if not candidates:
        return Answer("Rejected", "UnknownConnectorType", f"no EVSE has a {ctype} connector")
    free = [e for e in _free(evses, others) if e in candidates]
    if len(free) > unspecific:  # H01.FR.04 / H01.FR.06
        return Answer("Accepted", reservation=reservation)
    return Answer(_refusal([evses.conditions[e] for e in candidates]))


def reserved_evses(held: Sequence[Reservation], evses: Evses) -> set[int]:
    """The EVSEs whose connectors report Reserved (H01.FR.20/23/24)."""
    out = {r.evse for r in held if r.evse is not None and r.evse in evses.conditions}
    unspecific = sum(1 for r in held if r.evse is None)
    free = _free(evses, held)
    if unspecific and unspecific >= len(free):
        out.update(free)
    return out


def admission(
    held: Sequence[Reservation],
    evse: int,
    id_token: Mapping[str, Any],
    group: Mapping[str, Any] | None,
    evses: Evses,
) -> Admission:
    """May ``id_token`` (of group ``group``) start charging on ``evse``?"""
    named = [r for r in held if r.evse == evse]
    if named:  # H03.FR.01 / H03.FR.04; anyone else is refused here
        r = named[0]
        return Admission(True, r.id) if matches(r, id_token, group) else Admission(False)
    unspecific = [r for r in held if r.evse is None]
    for r in unspecific:  # H03.FR.02/03/05/06
        if evse in evses.candidates(r.connector_type) and matches(r, id_token, group):
            return Admission(True, r.id)
    if len(unspecific) > len(_free(evses, held, exclude=evse)):
        return Admission(False)  # H01.FR.07: this EVSE is kept for a reservation
    return Admission(True)


def due(held: Sequence[Reservation], now: float) -> list[Reservation]:
    """Reservations whose expiryDateTime has passed (H04.FR.01)."""
    return [r for r in held if r.expiry <= now]


def next_expiry(held: Sequence[Reservation]) -> float | None:
    return min((r.expiry for r in held), default=None)


def to_record(held: Sequence[Reservation], pending: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The persisted form: the reservations and the ReservationStatusUpdates not yet sent."""
    return {
        "version": RECORD_VERSION,
        "reservations": [r.to_record() for r in held],
        "pending_updates": [dict(p) for p in pending],
    }


def from_record(
    d: Mapping[str, Any] | None,
) -> tuple[list[Reservation], list[dict[str, Any]]]:
    """The reservations and pending updates of a record (nothing from a missing or unreadable
    one)."""
    if not isinstance(d, Mapping) or d.get("version") != RECORD_VERSION:
        return [], []
    held = []
    for item in d.get("reservations") or ():
        try:
            held.append(Reservation.from_record(item))
        except (KeyError, TypeError, ValueError):
            continue
    pending = [dict(p) for p in d.get("pending_updates") or () if isinstance(p, Mapping)]
    return held, pending
