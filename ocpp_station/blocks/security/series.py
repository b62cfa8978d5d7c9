"""Repeated connection failures: one security event per failure series (A00.FR.316/419 note).

"A security event only needs to be sent once for repeated failed connection attempts, in order
to avoid overflow to the offline queue."  The rule, exactly: a *failure series* is the run of
failed connection attempts between two connections that opened.  Within one series each event
type (InvalidCsmsCertificate, InvalidTLSVersion, InvalidTLSCipherSuite,
FailedToAuthenticateAtCsms) is raised at its first occurrence only; a failure of another type in
the same series is raised once too (it is news: the CSMS changed).  A connection that opens ends
the series, so the next failure is raised again.  Pure: the block feeds it attempts.
"""

from __future__ import annotations


class FailureSeries:
    def __init__(self) -> None:
        self._raised: set[str] = set()
        self.suppressed = 0  # failures of this series not raised again

    def failed(self, kind: str) -> bool:
        """A failed attempt of type ``kind``: True when its event is to be raised."""
        if kind in self._raised:
            self.suppressed += 1
            return False
        self._raised.add(kind)
        return True

    def connected(self) -> None:
        """A connection opened: the series is over."""
        self._raised.clear()
        self.suppressed = 0

    @property
    def raised(self) -> frozenset[str]:
        return frozenset(self._raised)
