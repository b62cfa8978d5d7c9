"""The rules of CustomerInformation (N09 report, N10 clear), without I/O.

* Exactly one customer reference (``idToken``, ``customerCertificate`` or
  ``customerIdentifier``), else ``Invalid`` (N09.FR.09); neither ``report`` nor ``clear``:
  ``Rejected`` (N09.FR.07/N10.FR.07); otherwise ``Accepted`` (N09.FR.02/N10.FR.01).
* Report: what the station holds about the customer, in one or more NotifyCustomerInformation
  parts (N09.FR.05); nothing held: one part saying so (N09.FR.06/N10.FR.04).  Clear and report:
  the cleared data (N10.FR.03); clear only: one part saying it was cleared (N10.FR.06).
* Parts: ``data`` at most 512 characters, ``seqNo`` from 0, ``tbc`` true on all but the last,
  the request's ``requestId`` and the report's ``generatedAt`` on each.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

REFERENCES = ("idToken", "customerCertificate", "customerIdentifier")
DATA_MAX = 512  # NotifyCustomerInformationRequest.data: string[0..512]
NO_DATA = "No customer data found"


def decide(payload: dict[str, Any]) -> str:
    """The CustomerInformationResponse status."""
    given = [name for name in REFERENCES if payload.get(name) is not None]
    if len(given) != 1:
        return "Invalid"
    if not payload.get("report") and not payload.get("clear"):
        return "Rejected"
    return "Accepted"


def describe(records: Sequence[dict[str, Any]]) -> list[str]:
    """One line of text per record (compact JSON, keys sorted)."""
    return [json.dumps(record, sort_keys=True, separators=(",", ":")) for record in records]


def report_text(lines: Sequence[str], *, report: bool, cleared: int) -> str:
    if not report:
        return f"Customer data cleared: {cleared} record(s)"
    if not lines:
        return NO_DATA
    return "\n".join(lines)


def split(text: str, limit: int = DATA_MAX) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters (at least one piece)."""
    return [text[i : i + limit] for i in range(0, len(text), limit)] or [""]


def notifications(text: str, request_id: int, generated_at: str) -> list[dict[str, Any]]:
    """The NotifyCustomerInformationRequest payloads carrying ``text``."""
    pieces = split(text)
    return [
        {
            "data": piece,
            "seqNo": seq,
            "tbc": seq < len(pieces) - 1,
            "generatedAt": generated_at,
            "requestId": request_id,
        }
        for seq, piece in enumerate(pieces)
    ]
