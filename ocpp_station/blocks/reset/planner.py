"""Reset scheduling: the pure decision behind ResetRequest (OCPP 2.0.1 use cases B11 and B12).

The planner answers a ResetRequest from the set of EVSEs with a running transaction and keeps the
reset that has to wait.  The station core carries the decision out: it stops the transactions
listed (TransactionEvent Ended with triggerReason ResetCommand, stoppedReason ImmediateReset,
B12.FR.04/08), reports every transaction end to :meth:`ResetPlanner.transaction_ended`, and resets
when that (or the decision itself) says so.

Rules
-----
* Whole station or one EVSE (``evse`` None, or 0 as ChangeAvailability treats it).  An EVSE reset
  when the station cannot reset single EVSEs is Rejected (B11.FR.09, B12.FR.09); an unknown EVSE is
  Rejected with reasonCode ``UnknownEvse``.
* Nothing running on the target: Accepted, reset now (B11).
* ``OnIdle`` with a transaction running on the target: Scheduled (B12.FR.01); the reset follows
  when the last of those transactions has ended normally (B12.FR.03/07).  Meanwhile the target's
  EVSEs must not start new transactions and report Available connectors as Unavailable (B12
  scenario 3a): see :meth:`ResetPlanner.held_evses` and ``Availability.hold``.
* ``Immediate`` with a transaction running: Accepted (B12.FR.02); the transactions on the target
  are stopped first (``stop_transactions``), the reset follows once they have ended.
* A later request replaces the pending one, except that a pending station reset already covers
  any single EVSE: an EVSE request is then answered on its own terms (stopping that EVSE's
  transaction for Immediate) while the station reset stays pending.
* Not persisted: a restart is itself the reset that was waiting.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from ocpp_station.layout import EvseLayout, layout_problems

ResetType = Literal["Immediate", "OnIdle"]

REASON_UNKNOWN_EVSE = "UnknownEvse"
REASON_UNSUPPORTED = "UnsupportedParam"
REASON_TX_IN_PROGRESS = "TxInProgress"


@dataclass(frozen=True)
class ResetDecision:
    """The answer to a ResetRequest and what to do now.

    ``reset_now``: reset the target at once.  Otherwise, for Accepted/Scheduled, stop the EVSEs in
    ``stop_transactions`` (Immediate) and wait for :meth:`ResetPlanner.transaction_ended`.
    ``reason``/``info`` map to ``statusInfo.reasonCode``/``additionalInfo``."""

    status: Literal["Accepted", "Scheduled", "Rejected"]
    stop_transactions: tuple[int, ...] = ()
    reset_now: bool = False
    reason: str | None = None
    info: str | None = None
    evse: int | None = None
    """The reset's target: None = the whole station."""


@dataclass(frozen=True)
class PendingReset:
    type: ResetType
    evse: int | None  # None = the whole station


@dataclass(frozen=True)
class ResetNow:
    """Returned by :meth:`ResetPlanner.transaction_ended` when the waiting reset is due."""

    evse: int | None  # None = reboot the whole station (B11.FR.03/B12 step 4), else reset one EVSE


class ResetPlanner:
    def __init__(self, evse_ids: Collection[int] | EvseLayout) -> None:
        """``evse_ids``: the station's EVSE ids, or its layout (checked already)."""
        if isinstance(evse_ids, EvseLayout):
            self._evses = frozenset(evse_ids.evses)
        else:
            ids = list(evse_ids)
            problems = layout_problems({e: [1] for e in ids}) if len(set(ids)) == len(ids) else []
            if problems or len(set(ids)) != len(ids):
                raise ValueError("; ".join(problems) or f"EVSE ids repeat: {ids!r}")
            self._evses = frozenset(ids)
        self._station: PendingReset | None = None
        self._per_evse: dict[int, PendingReset] = {}

    def request(
        self,
        type: ResetType,
        evse: int | None,
        busy_evses: Collection[int],
        evse_reset_supported: bool = True,
    ) -> ResetDecision:
        if type not in ("Immediate", "OnIdle"):
            raise ValueError(f"reset type {type!r} is not Immediate or OnIdle")
        busy = self._check_busy(busy_evses)
        if evse is not None and not isinstance(evse, bool) and evse == 0:
            evse = None
        if evse is not None:
            if not evse_reset_supported:
                return ResetDecision(
                    "Rejected",
                    reason=REASON_UNSUPPORTED,
                    info="this station cannot reset a single EVSE; omit evseId to reset the "
                    "whole station",
                    evse=evse,
                )
            if isinstance(evse, bool) or not isinstance(evse, int) or evse not in self._evses:
                known = ", ".join(str(e) for e in sorted(self._evses))
                return ResetDecision(
                    "Rejected",
                    reason=REASON_UNKNOWN_EVSE,
                    info=f"EVSE {evse!r} is not known; known EVSEs: {known}",
                    evse=evse,
                )
        running = tuple(sorted(busy if evse is None else busy & {evse}))
        if evse is None:
            self._per_evse.clear()  # a station reset covers every EVSE reset
            self._station = PendingReset(type, None) if running else None
        elif self._station is None:
            if running:
                self._per_evse[evse] = PendingReset(type, evse)
            else:
                self._per_evse.pop(evse, None)
        if not running:
            return ResetDecision("Accepted", reset_now=True, evse=evse)
        if type == "Immediate":  # B12.FR.02, B12.FR.04/08
            return ResetDecision("Accepted", stop_transactions=running, evse=evse)
        where = "the station" if evse is None else f"EVSE {evse}"
        return ResetDecision(  # B12.FR.01
            "Scheduled",
            reason=REASON_TX_IN_PROGRESS,
            info=f"{where} resets when the transactions on EVSE "
            f"{', '.join(str(e) for e in running)} have ended",
            evse=evse,
        )

    def transaction_ended(self, evse: int, busy_evses: Collection[int]) -> ResetNow | None:
        """A transaction on ``evse`` ended; ``busy_evses`` is what still runs.  Returns the reset
        that is now due (it is then no longer pending), or None."""
        if isinstance(evse, bool) or not isinstance(evse, int) or evse not in self._evses:
            raise ValueError(f"EVSE {evse!r} is not known")
        busy = self._check_busy(busy_evses)
        if self._station is not None:
            if busy:
                return None
            self._station = None
            return ResetNow(None)
        if evse in self._per_evse and evse not in busy:
            del self._per_evse[evse]
            return ResetNow(evse)
        return None

    def pending(self) -> tuple[PendingReset, ...]:
        """The resets waiting for transactions to end (station first, then EVSEs by id)."""
        if self._station is not None:
            return (self._station,)
        return tuple(self._per_evse[e] for e in sorted(self._per_evse))

    def held_evses(self) -> frozenset[int]:
        """EVSEs where no new transaction may start while a reset waits; their Available
        connectors report Unavailable (B12 scenario 3a)."""
        if self._station is not None:
            return self._evses
        return frozenset(self._per_evse)

    def cancel(self) -> None:
        """Drop every waiting reset (the caller releases the holds it set)."""
        self._station = None
        self._per_evse.clear()

    def _check_busy(self, busy_evses: Collection[int]) -> set[int]:
        busy = set(busy_evses)
        unknown = sorted(repr(e) for e in busy if isinstance(e, bool) or e not in self._evses)
        if unknown:
            raise ValueError(f"busy_evses names unknown EVSEs {', '.join(unknown)}")
        return busy
