"""The rules of a firmware update (L01 secure, L02 non-secure), without I/O.

* An UpdateFirmwareRequest with a ``signingCertificate`` (or a ``signature``) is a secure update
  (L01): the certificate is checked against the manufacturer root before the request is accepted
  (L01.FR.21/22), the signature over the whole file after the download (L01.FR.04).  Without
  either it is a non-secure update (L02): no signature step.
* A new request while one runs cancels it (``AcceptedCanceled``, L01.FR.24/L02.FR.15), unless the
  install step already runs: that cannot be cancelled (``Rejected``, L01.FR.27/L02.FR.18).
* Downloads are tried ``1 + retries`` times, ``retryInterval`` seconds apart; after the last
  failure the status is ``DownloadFailed`` (L01.FR.30).
* TriggerMessage(FirmwareStatusNotification) reports the last status sent, or ``Idle`` when that
  was ``Installed`` or nothing was ever sent (L01.FR.25/26); ``requestId`` goes with every status
  but ``Idle`` (L01.FR.20).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ocpp_station.clock import parse_iso

DEFAULT_RETRIES = 2  # the request leaves it to the station when absent
DEFAULT_RETRY_INTERVAL = 30.0  # seconds
SLACK = 1.0  # seconds

# The phases of a running update, as far as a new request is concerned.
IDLE = "idle"
PREPARING = "preparing"  # scheduled, downloading, verifying, waiting to install: cancellable
INSTALLING = "installing"  # the install step runs: not cancellable (L01.FR.27)

# FirmwareStatusEnumType values a finished update ends in (the job is over after them).
FINAL_STATUSES = frozenset(
    {
        "Installed",
        "DownloadFailed",
        "InvalidSignature",
        "InstallationFailed",
        "InstallVerificationFailed",
    }
)


@dataclass(frozen=True)
class UpdateRequest:
    request_id: int
    location: str
    retrieve_at: float
    install_at: float | None
    retries: int
    retry_interval: float
    signing_certificate: str | None
    signature: str | None

    @property
    def secure(self) -> bool:
        """L01 (signed) rather than L02."""
        return self.signing_certificate is not None or self.signature is not None

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> UpdateRequest:
        firmware = payload["firmware"]
        install = firmware.get("installDateTime")
        retries = payload.get("retries")
        interval = payload.get("retryInterval")
        return cls(
            request_id=int(payload["requestId"]),
            location=str(firmware["location"]),
            retrieve_at=parse_iso(firmware["retrieveDateTime"]),
            install_at=parse_iso(install) if install else None,
            retries=DEFAULT_RETRIES if retries is None else max(0, int(retries)),
            retry_interval=DEFAULT_RETRY_INTERVAL if interval is None else max(0.0, interval),
            signing_certificate=firmware.get("signingCertificate"),
            signature=firmware.get("signature"),
        )


def due_in(at: float | None, now: float) -> float:
    """Seconds until ``at`` (``retrieveDateTime``, ``installDateTime``); 0 when it is due.  Less
    than :data:`SLACK` ahead counts as due: the CSMS's clock and the station's differ by that
    much after a synchronisation with millisecond timestamps."""
    if at is None or at - now < SLACK:
        return 0.0
    return at - now


def interrupted_status(last: str | None) -> str | None:
    """The failure to report when the station starts with an update that a power loss (or a
    stop) cut short: before the image was complete, ``DownloadFailed``; after, before it ran,
    ``InstallationFailed`` (the statuses L01.FR.24 names for an update that did not finish).
    None when nothing was running (or the update ended in a reboot it asked for)."""
    if last in ("DownloadScheduled", "Downloading", "DownloadPaused"):
        return "DownloadFailed"
    if last in ("Downloaded", "SignatureVerified", "InstallScheduled", "Installing"):
        return "InstallationFailed"
    return None


def answer_new_request(phase: str) -> str:
    """The UpdateFirmwareResponse status for a (certificate-checked) request, given the phase of
    the update already running."""
    if phase == IDLE:
        return "Accepted"
    if phase == INSTALLING:
        return "Rejected"  # L01.FR.27: the installation cannot be cancelled
    return "AcceptedCanceled"  # L01.FR.24: the running update is cancelled


def retry_delays(retries: int, interval: float) -> list[float]:
    """The wait before each download attempt: none before the first, ``interval`` before each of
    the ``retries`` further ones."""
    return [0.0] + [interval] * retries


def triggered_status(last: dict[str, Any] | None) -> dict[str, Any]:
    """The FirmwareStatusNotification payload a TriggerMessage asks for (L01.FR.25/26)."""
    if last is None or last.get("status") in (None, "Installed", "Idle"):
        return {"status": "Idle"}
    return {"status": last["status"], "requestId": last["requestId"]}


def status_payload(status: str, request_id: int) -> dict[str, Any]:
    """A FirmwareStatusNotificationRequest: every status of an update carries its requestId
    (L01.FR.10/L01.FR.20)."""
    return {"status": status, "requestId": request_id}
