"""The version rules of the local authorization list (OCPP 2.0.1 part 2, D01/D02). Pure.

* A SendLocalListRequest carries the version the list has after the update (D01.FR.01); it must
  be greater than 0 (D01.FR.18: 0 means "no list").
* A Differential update whose version is not greater than the installed one is refused with
  ``VersionMismatch`` (D01.FR.19); a Full update replaces the list whatever its version
  (D01.FR.15).
* GetLocalListVersion answers the installed version, or 0 when the list is disabled
  (D02.FR.03) or the CSMS never sent one (D02.FR.02).  A list emptied by an update keeps the
  version of that update (D02 remark).
"""

from __future__ import annotations

from dataclasses import dataclass

NO_LIST = 0  # GetLocalListVersion: no list installed (or the list is disabled)
FULL = "Full"
DIFFERENTIAL = "Differential"
UPDATE_TYPES = (FULL, DIFFERENTIAL)


@dataclass(frozen=True)
class Refusal:
    """A SendLocalListResponse that is not Accepted: ``status`` Failed or VersionMismatch, with
    ``statusInfo.reasonCode`` / ``additionalInfo``."""

    status: str
    reason: str
    info: str


def version_refusal(update_type: object, version: object, installed: int) -> Refusal | None:
    """Why the version of an update is refused (None: it may be applied)."""
    if update_type not in UPDATE_TYPES:
        return Refusal("Failed", "InvalidValue", f"updateType {update_type!r} is not known")
    if isinstance(version, bool) or not isinstance(version, int) or version <= NO_LIST:
        return Refusal("Failed", "ValuePositiveOnly", "versionNumber must be greater than 0")
    if update_type == DIFFERENTIAL and version <= installed:
        return Refusal(
            "VersionMismatch",
            "InvalidValue",
            f"versionNumber {version} is not greater than the installed version {installed}",
        )
    return None


def reported_version(enabled: bool, installed: int) -> int:
    """The versionNumber of a GetLocalListVersionResponse (D02.FR.01-03)."""
    return installed if enabled else NO_LIST
