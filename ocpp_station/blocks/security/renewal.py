"""When to send (and resend) a SignCertificateRequest for the station certificate (A02/A03), and
when to give up: a pure state machine, time passed in (epoch seconds).

- ``start``: the CSMS triggered ``SignChargingStationCertificate`` (A02) or the station certificate
  expires within :data:`RENEW_BEFORE` (A03.FR.02: "in one month"); a new key and CSR are made.
- ``sent``: after every SignCertificateRequest.  The next resend is due ``CertSigningWaitMinimum``
  seconds after the first, the wait doubling after every resend (A02.FR.17/18, A03.FR.17/18).
  ``CertSigningRepeatTimes`` is the maximum number of those doublings (A02.FR.19: "the maximum
  number of increments"): the resend after CertSigningWaitMinimum always comes (A02.FR.17), then
  one per doubled wait, so ``CertSigningRepeatTimes + 1`` resends in all (TC_A_23: with 1, the
  first request and two resends, after W and 2W); then the station stops until the next trigger.
  A request the CSMS answered Rejected, or that got no answer, is treated like an accepted one
  that brought no certificate: resent on the same back-off, never more often.
- ``signed``: a CertificateSigned was Accepted: idle again.
- ``invalid``: a CertificateSigned was Rejected (A02.FR.07): no resend, no station-initiated
  renewal, until the CSMS triggers one (A02.FR.20).

The state is a small JSON object (``to_record``/``from_record``) saved in the station store, so a
pending renewal survives a restart.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

RENEW_BEFORE = 30 * 86400.0  # A03.FR.02: renew when the certificate expires within one month
IDLE, WAITING, GAVE_UP, BLOCKED = "Idle", "Waiting", "GaveUp", "Blocked"
PHASES = (IDLE, WAITING, GAVE_UP, BLOCKED)


@dataclass
class Renewal:
    phase: str = IDLE
    sends: int = 0  # SignCertificateRequests sent for the current CSR
    next_at: float | None = None  # when the next resend (or the give-up) is due
    csr: str | None = None  # the pending CSR, resent as it is (A02.FR.17)
    origin: str | None = None  # "A02" (triggered by the CSMS) or "A03" (the station's own)

    # -- persistence -------------------------------------------------------------------------------
    def to_record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any] | None) -> Renewal:
        if not record or record.get("phase") not in PHASES:
            return cls()
        return cls(
            phase=str(record["phase"]),
            sends=int(record.get("sends") or 0),
            next_at=None if record.get("next_at") is None else float(record["next_at"]),
            csr=record.get("csr"),
            origin=record.get("origin"),
        )

    # -- transitions -------------------------------------------------------------------------------
    def start(self, csr: str, origin: str) -> None:
        """A new CSR is to be sent now (a trigger always restarts, A02.FR.19/20)."""
        self.phase, self.sends, self.next_at, self.csr, self.origin = WAITING, 0, None, csr, origin

    def sent(self, now: float, wait_minimum: float) -> None:
        """One SignCertificateRequest went out (or was tried): when is the next one due?"""
        self.sends += 1
        # the first wait is CertSigningWaitMinimum, doubled after every resend (A02.FR.18)
        doublings = min(self.sends - 1, 62)
        self.next_at = now + max(0.0, wait_minimum) * 2**doublings
        self.phase = WAITING

    def due(self, now: float) -> bool:
        """Is it time to act (resend, or give up)?"""
        return self.phase == WAITING and self.next_at is not None and now >= self.next_at

    def expire(self, repeat_times: int) -> bool:
        """The wait expired without a certificate: True when a resend is due; False when the
        resends are used up (A02.FR.19: stop until the CSMS triggers again).  The wait that just
        expired was doubled ``sends - 1`` times; the resend after it is due while that is at
        most ``repeat_times`` (the maximum number of increments)."""
        if self.sends - 1 <= max(0, repeat_times):
            return True
        self.phase, self.next_at = GAVE_UP, None
        return False

    def signed(self) -> None:
        self.phase, self.sends, self.next_at, self.csr, self.origin = IDLE, 0, None, None, None

    def invalid(self) -> None:
        """A02.FR.07/20: the certificate was refused; wait for the CSMS to trigger again."""
        self.phase, self.next_at, self.csr = BLOCKED, None, None

    # -- questions ---------------------------------------------------------------------------------
    @property
    def pending(self) -> bool:
        return self.phase == WAITING

    def may_start_by_itself(self) -> bool:
        """A03 may start only from Idle: not while a CSR is pending, nor after the station gave
        up or a certificate was refused (then only a trigger restarts, A02.FR.19/20)."""
        return self.phase == IDLE


def expires_soon(not_after: float, now: float, before: float = RENEW_BEFORE) -> bool:
    """A03.FR.02: the certificate in use expires within ``before`` seconds (one month)."""
    return now >= not_after - before


def next_wake(
    renewal: Renewal, not_after: float | None, before: float = RENEW_BEFORE
) -> float | None:
    """When the renewal loop must look again: the resend deadline, or the moment the certificate
    enters its renewal window (None: nothing to wait for)."""
    times: list[float] = []
    if renewal.phase == WAITING and renewal.next_at is not None:
        times.append(renewal.next_at)
    if not_after is not None and renewal.may_start_by_itself():
        times.append(not_after - before)
    return min(times) if times else None


def use_previous_pair(unconfirmed: bool, failed_attempts: int, attempts: int) -> bool:
    """A02.FR.28/A03.FR.24 (2025-01 errata) with a single connection profile (B10.FR.07): the new
    pair has not worked yet and ``NetworkProfileConnectionAttempts`` attempts with it failed, so
    the station falls back to the pair that worked last."""
    return unconfirmed and failed_attempts >= max(1, attempts)
