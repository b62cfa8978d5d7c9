"""The persisted form of the availability state (G01.FR.02, G03.FR.08, G04.FR.09, B11.FR.02,
B12.FR.06): the operational statuses in force and the scheduled ones, by level, as one JSON record
with a version.  Written by the availability block whenever it changed; read at every start."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ocpp_station.blocks.availability.types import (
    PERSIST_VERSION,
    AvailabilityError,
    Conn,
    OperationalStatus,
    _operational,
)

if TYPE_CHECKING:  # typing only: the state machine calls these functions with itself
    from ocpp_station.blocks.availability.state import Availability


def dump(sm: Availability) -> dict[str, Any]:
    """JSON-able operational statuses in force and scheduled (the record the station stores)."""

    def conns(table: Mapping[Conn, str]) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        for (e, c), v in sorted(table.items()):
            out.setdefault(str(e), {})[str(c)] = v
        return out

    return {
        "version": PERSIST_VERSION,
        "station": {str(e): v for e, v in sorted(sm._station.items())},
        "evses": {str(e): v for e, v in sorted(sm._evse.items())},
        "connectors": conns(sm._conn),
        "scheduled": {
            "station": {str(e): v for e, v in sorted(sm._sched_station.items())},
            "evses": {str(e): v for e, v in sorted(sm._sched_evse.items())},
            "connectors": conns(sm._sched_conn),
        },
    }


def restore(sm: Availability, data: Mapping[str, Any]) -> None:
    """Load a record written by :func:`dump` into ``sm`` (targets no longer configured are
    skipped, scheduled changes applied: see ``Availability.restore_notes``)."""
    if not isinstance(data, Mapping):
        raise AvailabilityError(f"persisted availability: expected an object, got {data!r}")
    if data.get("version") != PERSIST_VERSION:
        raise AvailabilityError(
            f"persisted availability: version {data.get('version')!r} is not supported "
            f"(expected {PERSIST_VERSION})"
        )
    sched = data.get("scheduled", {})
    if not isinstance(sched, Mapping):
        raise AvailabilityError("persisted availability: 'scheduled' must be an object")
    for section, note in ((data, ""), (sched, "scheduled ")):
        where = "scheduled." if note else ""
        for e, value in _entries(section.get("station", {}), f"{where}station"):
            _restore_one(sm, e, None, value, "station", note)
        for e, value in _entries(section.get("evses", {}), f"{where}evses"):
            _restore_one(sm, e, None, value, "evse", note)
        conns = section.get("connectors", {})
        if not isinstance(conns, Mapping):
            raise AvailabilityError(f"persisted availability: '{where}connectors' not an object")
        for e, inner in _entries(conns, f"{where}connectors", values=False):
            for c, value in _entries(inner, f"{where}connectors.{e}"):
                _restore_one(sm, e, c, value, "connector", note)


def _entries(table: object, where: str, values: bool = True) -> list[tuple[int, Any]]:
    if not isinstance(table, Mapping):
        raise AvailabilityError(f"persisted availability: '{where}' must be an object")
    out = []
    for key, value in table.items():
        try:
            ident = int(key)
        except (TypeError, ValueError):
            raise AvailabilityError(
                f"persisted availability: '{where}' key {key!r} is not an integer id"
            ) from None
        out.append((ident, _operational(value, f"persisted '{where}.{key}'") if values else value))
    return out


def _restore_one(
    sm: Availability,
    evse: int,
    connector: int | None,
    value: OperationalStatus,
    level: str,
    note: str,
) -> None:
    target = f"EVSE {evse}" if connector is None else f"connector {connector} of EVSE {evse}"
    if evse not in sm._connectors or (
        connector is not None and connector not in sm._connectors[evse]
    ):
        sm.restore_notes.append(f"skipped {note}{level}-level {value} for unknown {target}")
        return
    if level == "station":
        sm._station[evse] = value
    elif level == "evse":
        sm._evse[evse] = value
    else:
        assert connector is not None
        sm._conn[(evse, connector)] = value
    if note:
        sm.restore_notes.append(
            f"applied scheduled {level}-level {value} for {target}: its transaction ended "
            "with the restart"
        )
