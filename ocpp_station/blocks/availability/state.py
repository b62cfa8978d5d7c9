"""Connector availability: the pure state machine behind StatusNotification and ChangeAvailability.

OCPP 2.0.1 use cases G01 (status notification), G03 (change availability of an EVSE or connector)
and G04 (change availability of the station).  No I/O: the station core feeds in HAL events
(plug, fault), the station's own holds and ChangeAvailability requests, and reads back the effective
connector statuses and the changes to report.

Model
-----
* Operational status (``Operative``/``Inoperative``) is kept separately at three levels: station,
  EVSE and connector (G03 Note 1: setting a connector Inoperative, then its EVSE Inoperative, then
  the EVSE Operative again leaves the connector Inoperative).  The station level is tracked per
  EVSE, because a station-wide Inoperative takes idle EVSEs out at once and busy ones only when
  their transaction ends (G04.FR.06).
* The effective status of a connector, strongest first:
  ``Faulted`` (a fault on its EVSE or a controller-wide fault, evse 0) >
  ``Unavailable`` (Inoperative at any level; G03.FR.06/G04.FR.07 turn every operative connector,
  Occupied ones included, Unavailable, and a plug-in does not change an Unavailable connector,
  G01 state table) >
  ``Reserved`` (the reservation block reserved the EVSE, H01.FR.20/23: every connector of it;
  a plug-in does not change a Reserved connector, G01.FR.09, until the reservation is used,
  H03.FR.10) >
  ``Occupied`` (plugged) >
  ``Unavailable`` (the station's own hold, e.g. a pending Reset OnIdle, B12 scenario 3a; it only
  turns connectors that would be Available) > ``Available``.
* Other connectors of an EVSE keep their own status when one is plugged (G01.FR.08: no
  StatusNotification for them, although they are no longer usable).
* Only a change to ``Inoperative`` waits for a running transaction (``Scheduled``, G03.FR.05,
  G04.FR.06); a change to ``Operative`` never disturbs a transaction and applies at once.  A
  newer request for the same target replaces a scheduled one.  A request for the state the target
  already has is ``Accepted`` (G03.FR.03, G04.FR.04).
* Persistence (G01.FR.02, G03.FR.08, G04.FR.09, B11.FR.02, B12.FR.06): :meth:`to_persist` holds
  the operational statuses in force and the scheduled ones.  On restore the scheduled changes are
  applied at once: OCPP 2.0.1 has no transaction resumption, so the transaction a change waited
  for ended with the restart (the station reports it with stoppedReason PowerLoss or a reset
  reason).  Plug, fault and hold state are not persisted: the HAL reports its full state on open;
  the reservation block keeps its reservations and sets the Reserved flags again at start.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from ocpp_station.blocks.availability import persist
from ocpp_station.blocks.availability.types import (
    INOPERATIVE,
    OPERATIVE,
    REASON_TX_IN_PROGRESS,
    REASON_UNKNOWN_CONNECTOR,
    REASON_UNKNOWN_EVSE,
    AvailabilityError,
    ChangeResult,
    Conn,
    ConnectorStatus,
    OperationalStatus,
    StatusChange,
    _is_id,
    _operational,
)
from ocpp_station.layout import EvseLayout


class Availability:
    def __init__(
        self,
        evses: Mapping[int, Sequence[int]] | EvseLayout,
        persisted: Mapping[str, Any] | None = None,
    ) -> None:
        """``evses``: the layout (a checked :class:`EvseLayout` is not checked again)."""
        try:
            layout = EvseLayout.of(evses)
        except ValueError as exc:
            raise AvailabilityError(str(exc)) from None
        self._connectors: dict[int, tuple[int, ...]] = dict(layout.evses)
        self._station: dict[int, OperationalStatus] = {e: OPERATIVE for e in self._connectors}
        self._evse: dict[int, OperationalStatus] = {e: OPERATIVE for e in self._connectors}
        self._conn: dict[Conn, OperationalStatus] = {k: OPERATIVE for k in self._all_conns()}
        self._sched_station: dict[int, OperationalStatus] = {}
        self._sched_evse: dict[int, OperationalStatus] = {}
        self._sched_conn: dict[Conn, OperationalStatus] = {}
        self._plugged: set[Conn] = set()
        self._faults: dict[int, set[str]] = {}
        self._held: set[int] = set()
        self._reserved: set[int] = set()
        self._delivered: dict[Conn, ConnectorStatus] = {}
        self.restore_notes: list[str] = []
        """What a restore skipped (targets no longer configured) or applied (scheduled changes)."""
        if persisted is not None:
            persist.restore(self, persisted)
        self._reported: dict[Conn, ConnectorStatus] = {
            k: self._status(k) for k in self._all_conns()
        }

    # ---- ChangeAvailability --------------------------------------------------------------------

    def change(
        self,
        operational_status: str,
        evse: int | None = None,
        connector: int | None = None,
        busy_evses: Collection[int] = (),
    ) -> ChangeResult:
        """Apply a ChangeAvailabilityRequest.  ``evse`` None or 0 targets the whole station (G04),
        ``connector`` None the whole EVSE.  ``busy_evses``: EVSEs with a transaction running."""
        wanted = _operational(operational_status, "operationalStatus")
        busy = self._check_busy(busy_evses)
        if evse is None or (evse == 0 and _is_id(evse)):
            if connector is not None:
                return ChangeResult(
                    "Rejected",
                    REASON_UNKNOWN_CONNECTOR,
                    f"connector {connector} given for the whole station (evse 0); "
                    "a connector needs an EVSE id",
                )
            scheduled = [
                e
                for e in sorted(self._connectors)
                if self._set(self._station, self._sched_station, e, wanted, e in busy)
            ]
            return self._result(scheduled, wanted, "the station")
        if not _is_id(evse) or evse not in self._connectors:
            return ChangeResult(
                "Rejected", REASON_UNKNOWN_EVSE, f"EVSE {evse!r} is not known; {self._known()}"
            )
        if connector is None:
            late = self._set(self._evse, self._sched_evse, evse, wanted, evse in busy)
            return self._result([evse] if late else [], wanted, f"EVSE {evse}")
        if not _is_id(connector) or connector not in self._connectors[evse]:
            known = ", ".join(str(c) for c in self._connectors[evse])
            return ChangeResult(
                "Rejected",
                REASON_UNKNOWN_CONNECTOR,
                f"connector {connector!r} is not known on EVSE {evse}; its connectors: {known}",
            )
        late = self._set(self._conn, self._sched_conn, (evse, connector), wanted, evse in busy)
        return self._result([evse] if late else [], wanted, f"connector {connector} of EVSE {evse}")

    def transaction_ended(self, evse: int) -> None:
        """The transaction on ``evse`` is over: apply what was scheduled for that EVSE."""
        self._check_evse(evse)
        if evse in self._sched_station:
            self._station[evse] = self._sched_station.pop(evse)
        if evse in self._sched_evse:
            self._evse[evse] = self._sched_evse.pop(evse)
        for key in [k for k in self._sched_conn if k[0] == evse]:
            self._conn[key] = self._sched_conn.pop(key)

    # ---- inputs from the HAL and the station itself ---------------------------

    def plug(self, evse: int, connector: int, plugged: bool) -> None:
        key = self._check_conn(evse, connector)
        if plugged:
            self._plugged.add(key)
        else:
            self._plugged.discard(key)

    def is_plugged(self, evse: int, connector: int) -> bool:
        """The one record of what is plugged: the HAL's last PlugChanged for this connector."""
        return self._check_conn(evse, connector) in self._plugged

    def fault(self, evse: int, code: str, active: bool) -> None:
        """A fault raised or cleared; ``evse`` 0 is controller-wide (every connector Faulted)."""
        if evse != 0:
            self._check_evse(evse)
        codes = self._faults.setdefault(evse, set())
        if active:
            codes.add(code)
        else:
            codes.discard(code)
            if not codes:
                del self._faults[evse]

    def defer_unplug(self, evse: int, busy_evses: Collection[int]) -> bool:
        """The unplug rule: the car leaves an EVSE whose change is scheduled while its transaction
        is still ending.  Report nothing now: the end of the transaction applies the change, so the
        CSMS sees Occupied → Unavailable and never an Available in between (G03.FR.05)."""
        return evse in self.pending() and evse in busy_evses

    def apply_due(self, busy_evses: Collection[int]) -> list[int]:
        """Scheduled changes whose EVSE has no transaction (any more) are due: apply them now.
        Returns the EVSEs that changed (the caller persists the new state)."""
        busy = self._check_busy(busy_evses)
        due = [evse for evse in self.pending() if evse not in busy]
        for evse in due:
            self.transaction_ended(evse)
        return due

    def hold(self, evse: int, held: bool) -> None:
        """The station's own, non-persistent Unavailable for an EVSE (a Reset OnIdle waiting for
        transactions, B12 scenario 3a; a firmware update): Available connectors report
        Unavailable, Occupied ones keep their status until they would become Available."""
        self._check_evse(evse)
        if held:
            self._held.add(evse)
        else:
            self._held.discard(evse)

    def reserve(self, evse: int, reserved: bool) -> None:
        """The reservation block's flag: the EVSE is held for a reservation (not persisted
        here).  Its connectors report Reserved unless Faulted or Unavailable."""
        self._check_evse(evse)
        if reserved:
            self._reserved.add(evse)
        else:
            self._reserved.discard(evse)

    def is_reserved(self, evse: int) -> bool:
        return self._check_evse(evse) in self._reserved

    # ---- queries --------------------------------------------------------------------------------

    def status(self, evse: int, connector: int) -> ConnectorStatus:
        """The effective connector status now."""
        return self._status(self._check_conn(evse, connector))

    def operational(self, evse: int | None = None, connector: int | None = None) -> str:
        """The operational status in force at one level (scheduled changes not yet counted).
        The station level (evse None/0) is Inoperative once a station-wide Inoperative is in force
        on every EVSE: until then it still charges somewhere (G04 description)."""
        if evse is None or evse == 0:
            if connector is not None:
                raise AvailabilityError(f"connector {connector} given without an EVSE id")
            return (
                INOPERATIVE if all(v == INOPERATIVE for v in self._station.values()) else OPERATIVE
            )
        if connector is None:
            return self._evse[self._check_evse(evse)]
        return self._conn[self._check_conn(evse, connector)]

    def usable(self, evse: int) -> bool:
        """Whether the EVSE may be enabled in the HAL: not faulted, Operative at station and EVSE
        level and at least one Operative connector.  Holds do not disable it, and
        a scheduled Inoperative leaves a busy EVSE usable until its transaction ends."""
        self._check_evse(evse)
        if self._faults.get(evse) or self._faults.get(0):
            return False
        if self._station[evse] == INOPERATIVE or self._evse[evse] == INOPERATIVE:
            return False
        return any(self._conn[(evse, c)] == OPERATIVE for c in self._connectors[evse])

    def evse_condition(self, evse: int, busy: bool) -> ConnectorStatus:
        """What a ReserveNow finds on an EVSE, its Reserved flag left aside (H01.FR.11/12/14):
        Faulted, Unavailable (Inoperative, no Operative connector, or held by the station),
        Occupied (plugged, or ``busy``: a transaction runs), else Available."""
        self._check_evse(evse)
        if self._faults.get(evse) or self._faults.get(0):
            return "Faulted"
        if not self.usable(evse) or evse in self._held:
            return "Unavailable"
        if busy or any((evse, c) in self._plugged for c in self._connectors[evse]):
            return "Occupied"
        return "Available"

    def pending(self) -> dict[int, dict[str, str]]:
        """Scheduled changes per EVSE: ``{evse: {"station"|"evse"|"connector:<id>": status}}``."""
        out: dict[int, dict[str, str]] = {}
        for e, v in self._sched_station.items():
            out.setdefault(e, {})["station"] = v
        for e, v in self._sched_evse.items():
            out.setdefault(e, {})["evse"] = v
        for (e, c), v in self._sched_conn.items():
            out.setdefault(e, {})[f"connector:{c}"] = v
        return {e: out[e] for e in sorted(out)}

    def take_changes(self) -> list[StatusChange]:
        """Connectors whose effective status differs from the last one reported, each once, in
        (evse, connector) order.  A change undone before this call yields nothing: the CSMS only
        needs the final state and never gets a duplicate of an unchanged status."""
        changes = []
        for key in self._all_conns():
            now = self._status(key)
            if self._reported[key] != now:
                self._reported[key] = now
                changes.append(StatusChange(key[0], key[1], now))
        return changes

    def delivered(self, change: StatusChange) -> None:
        """The CSMS acknowledged this StatusNotification."""
        self._delivered[(change.evse, change.connector)] = change.status

    def undelivered(self) -> list[StatusChange]:
        """Connectors whose status the CSMS has not acknowledged (B04: after an offline period,
        only those that changed are reported)."""
        return [
            c for c in self.all_statuses() if self._delivered.get((c.evse, c.connector)) != c.status
        ]

    def all_statuses(self) -> list[StatusChange]:
        """Every connector's current status (boot, full report).  The CSMS is then up to date, so
        this also resets the baseline of :meth:`take_changes`."""
        out = []
        for key in self._all_conns():
            now = self._status(key)
            self._reported[key] = now
            out.append(StatusChange(key[0], key[1], now))
        return out

    # ---- persistence ----------------------------------------------------------------------------

    def to_persist(self) -> dict[str, Any]:
        """JSON-able operational statuses in force and scheduled, for ``persisted=``."""
        return persist.dump(self)

    # ---- internals ------------------------------------------------------------------------------

    def _status(self, key: Conn) -> ConnectorStatus:
        evse = key[0]
        if self._faults.get(evse) or self._faults.get(0):
            return "Faulted"
        if INOPERATIVE in (self._station[evse], self._evse[evse], self._conn[key]):
            return "Unavailable"
        if evse in self._reserved:
            return "Reserved"
        if key in self._plugged:
            return "Occupied"
        if evse in self._held:
            return "Unavailable"
        return "Available"

    @staticmethod
    def _set(
        table: dict[Any, OperationalStatus],
        sched: dict[Any, OperationalStatus],
        key: Any,
        wanted: OperationalStatus,
        busy: bool,
    ) -> bool:
        """Set one level of one target now or schedule it; True when scheduled."""
        sched.pop(key, None)  # a newer request replaces a scheduled one
        if table[key] == wanted:
            return False  # G03.FR.03 / G04.FR.04
        if wanted == INOPERATIVE and busy:
            sched[key] = wanted  # G03.FR.05 / G04.FR.06
            return True
        table[key] = wanted
        return False

    @staticmethod
    def _result(scheduled: list[int], wanted: str, target: str) -> ChangeResult:
        if not scheduled:
            return ChangeResult("Accepted")
        evses = ", ".join(str(e) for e in scheduled)
        return ChangeResult(
            "Scheduled",
            REASON_TX_IN_PROGRESS,
            f"{target} becomes {wanted} on EVSE {evses} when the transaction there ends",
        )

    def _all_conns(self) -> list[Conn]:
        return [(e, c) for e in sorted(self._connectors) for c in self._connectors[e]]

    def _known(self) -> str:
        return "known EVSEs: " + ", ".join(str(e) for e in sorted(self._connectors))

    def _check_evse(self, evse: int) -> int:
        if type(evse) is int and evse in self._connectors:  # (the common case, first)
            return evse
        if not _is_id(evse) or evse not in self._connectors:
            raise AvailabilityError(f"EVSE {evse!r} is not known; {self._known()}")
        return evse

    def _check_conn(self, evse: int, connector: int) -> Conn:
        self._check_evse(evse)
        if not _is_id(connector) or connector not in self._connectors[evse]:
            raise AvailabilityError(f"connector {connector!r} is not known on EVSE {evse}")
        return (evse, connector)

    def _check_busy(self, busy_evses: Collection[int]) -> set[int]:
        busy = set(busy_evses)
        unknown = sorted(str(e) for e in busy if not _is_id(e) or e not in self._connectors)
        if unknown:
            raise AvailabilityError(f"busy_evses names unknown EVSEs {', '.join(unknown)}")
        return busy
