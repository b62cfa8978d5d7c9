"""The one documented leniency towards a CSMS answer that breaks its schema (pure).

Several CSMSs send ``BootNotificationResponse.currentTime`` as local time without a UTC offset
(``2026-01-01T10:00:00``).  OCPP 2.0.1 wants an RFC 3339 date-time with ``Z`` or an offset (Part 2,
section 2.1.3), so the schema check would discard the answer and the station would retry its
BootNotification for ever without registering.  :func:`repair_response` reads such a time as UTC
before the answer is validated, and says so (the caller logs it as a warning).  Nothing else is
repaired: every other field, and every other message, is validated strictly.
"""

from __future__ import annotations

import re
from typing import Any

# An RFC 3339 date-time that lacks only the offset.
_NO_OFFSET = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?\Z", re.ASCII)

# action -> the top-level date-time fields of its response read as UTC when they have no offset
LENIENT_DATE_TIMES: dict[str, tuple[str, ...]] = {"BootNotification": ("currentTime",)}


def repair_response(action: str, payload: Any) -> tuple[Any, str | None]:
    """``payload`` with a date-time field of :data:`LENIENT_DATE_TIMES` that has no UTC offset
    read as UTC (``Z`` appended), and a warning naming it; ``(payload, None)`` when nothing was
    repaired (the payload object is then returned untouched)."""
    fields = LENIENT_DATE_TIMES.get(action)
    if not fields or not isinstance(payload, dict):
        return payload, None
    repaired = dict(payload)
    notes = []
    for name in fields:
        value = payload.get(name)
        if isinstance(value, str) and _NO_OFFSET.match(value):
            repaired[name] = value + "Z"
            notes.append(f"{action}Response.{name} {value!r}")
    if not notes:
        return payload, None
    warning = (
        f"{', '.join(notes)} has no UTC offset: read as UTC (the CSMS should send RFC 3339 "
        "time with Z or an offset)"
    )
    return repaired, warning
