"""The rules of a log upload (N01), without I/O.

* GetLog names one log, ``DiagnosticsLog`` or ``SecurityLog`` (N01.FR.03/04), a time window
  (``oldestTimestamp``/``latestTimestamp``) and where to upload it; the answer names the file
  (N01.FR.01).  A location whose protocol the station does not speak is ``Rejected``.
* A new GetLog while an upload is assembled or under way cancels it (``AcceptedCanceled``,
  N01.FR.12) and the cancelled upload reports ``AcceptedCanceled`` (N01.FR.20).
* An upload is tried ``1 + retries`` times, ``retryInterval`` seconds apart; a failure status is
  reported only after the last attempt (N01.FR.10 note).  A refusal that a retry cannot cure
  (permission, a bad request, an unsupported method) ends the attempts at once.
* TriggerMessage(LogStatusNotification): ``Uploading`` with the requestId while an upload runs,
  else ``Idle`` without one (N01.FR.13).
* The log's lines are selected by the time window: each record starts with its RFC 3339
  timestamp; continuation lines (a traceback) belong to the record above them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ocpp_station.clock import parse_iso

DEFAULT_RETRIES = 1
DEFAULT_RETRY_INTERVAL = 30.0
LOG_TYPES = ("DiagnosticsLog", "SecurityLog")
FILENAME_MAX = 255  # GetLogResponse.filename: string[0..255]

_STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d))\s")


@dataclass(frozen=True)
class LogRequest:
    request_id: int
    log_type: str
    location: str
    oldest: float | None
    latest: float | None
    retries: int
    retry_interval: float

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> LogRequest:
        log = payload["log"]
        oldest = log.get("oldestTimestamp")
        latest = log.get("latestTimestamp")
        retries = payload.get("retries")
        interval = payload.get("retryInterval")
        return cls(
            request_id=int(payload["requestId"]),
            log_type=str(payload["logType"]),
            location=str(log["remoteLocation"]),
            oldest=parse_iso(oldest) if oldest else None,
            latest=parse_iso(latest) if latest else None,
            retries=DEFAULT_RETRIES if retries is None else max(0, int(retries)),
            retry_interval=DEFAULT_RETRY_INTERVAL if interval is None else max(0.0, interval),
        )

    def filename(self, station_id: str, stamp: str) -> str:
        """The uploaded file's name, e.g. ``CS001-DiagnosticsLog-7-20260101T000000Z.log``."""
        compact = stamp.replace("-", "").replace(":", "").split(".")[0]
        safe_id = re.sub(r"[^A-Za-z0-9_.-]", "_", station_id)
        name = f"{safe_id}-{self.log_type}-{self.request_id}-{compact}Z.log"
        return name[-FILENAME_MAX:]


def answer_new_request(uploading: bool) -> str:
    return "AcceptedCanceled" if uploading else "Accepted"


def failure_status(http_status: int | None) -> str:
    """The LogStatusNotification status for a failed upload (N01.FR.10)."""
    if http_status in (401, 403):
        return "PermissionDenied"
    if http_status in (405, 501):
        return "NotSupportedOperation"
    if http_status == 400:
        return "BadMessage"
    return "UploadFailure"


def retryable(status: str) -> bool:
    """Only a plain failure (no answer, a server error) may go better on the next attempt."""
    return status == "UploadFailure"


def triggered_status(uploading_request: int | None) -> dict[str, Any]:
    if uploading_request is None:
        return {"status": "Idle"}
    return {"status": "Uploading", "requestId": uploading_request}


def select_lines(lines: Iterable[str], oldest: float | None, latest: float | None) -> Iterator[str]:
    """The lines of the records whose timestamp lies in [oldest, latest]."""
    keep = False
    for line in lines:
        match = _STAMP.match(line)
        if match is not None:
            try:
                stamp = parse_iso(match.group(1))
            except ValueError:
                stamp = None
            if stamp is not None:
                keep = (oldest is None or stamp >= oldest) and (latest is None or stamp <= latest)
        if keep:
            yield line
