"""What a SendLocalListRequest does to the local authorization list (part 2, D01). Pure.

:func:`plan_update` checks a request against the installed list and the limits and returns an
:class:`Outcome`: either a refusal (nothing changes, D01 failure postcondition) or the complete
change — replace everything (Full) or add/update/remove entries (Differential) — with the new
version, which the store then applies in one transaction.

* Full: the list becomes exactly the entries of the request (D01.FR.15); without entries the
  list is emptied (D01.FR.04).  Every entry of a Full update needs an ``idTokenInfo``.
* Differential: an entry with ``idTokenInfo`` is added or updated (D01.FR.16), one without it is
  removed (D01.FR.17); no entries changes nothing but the version (D01.FR.05).
* Every idToken appears once (D01.FR.06): a request naming one twice is refused ``Failed``.
* Limits: at most ``LocalAuthListCtrlr.ItemsPerMessage`` entries and ``BytesPerMessage`` bytes per
  request (D01.FR.11, reasonCode TooManyElements / TooLargeElement), at most
  ``LocalAuthListCtrlr.Entries``' maxLimit entries and ``Storage``' maxLimit bytes in the list
  (TooManyElements / OutOfStorage).

Entries are keyed like the authorization cache (the token's type and its idToken ignoring case,
hashed): the list never holds a token in the clear.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ocpp_station.blocks.authorization.cache import token_key
from ocpp_station.blocks.local_list.versions import FULL, version_refusal


@dataclass(frozen=True)
class ListLimits:
    """The LocalAuthListCtrlr limits, read by the caller."""

    items_per_message: int  # ItemsPerMessage
    bytes_per_message: int  # BytesPerMessage
    max_entries: int  # Entries maxLimit
    max_bytes: int  # Storage maxLimit


@dataclass(frozen=True)
class Outcome:
    """The answer to a SendLocalListRequest and, when Accepted, the change to make."""

    status: str  # Accepted, Failed or VersionMismatch
    reason: str | None = None  # statusInfo.reasonCode when not Accepted
    info: str | None = None  # statusInfo.additionalInfo
    version: int = 0
    replace: bool = False  # Full: drop every entry first
    upserts: dict[str, dict[str, Any]] = field(default_factory=dict)
    removals: frozenset[str] = frozenset()

    @property
    def accepted(self) -> bool:
        return self.status == "Accepted"


def entry_bytes(key: str, info: Mapping[str, Any]) -> int:
    """The bytes one entry takes (the ``Storage`` variable is their sum)."""
    text = json.dumps(info, separators=(",", ":"), sort_keys=True)
    return len(key) + len(text.encode("utf-8"))


def list_bytes(entries: Mapping[str, Mapping[str, Any]]) -> int:
    return sum(entry_bytes(k, v) for k, v in entries.items())


def request_bytes(payload: Mapping[str, Any]) -> int:
    """The size of a SendLocalListRequest payload as compact JSON (what BytesPerMessage bounds)."""
    return len(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def _failed(reason: str, info: str) -> Outcome:
    return Outcome("Failed", reason, info)


def plan_update(
    payload: Mapping[str, Any],
    installed_version: int,
    entries: Mapping[str, Mapping[str, Any]],
    limits: ListLimits,
) -> Outcome:
    """Decide a SendLocalListRequest (see the module docstring)."""
    update_type = payload.get("updateType")
    version = payload.get("versionNumber")
    refusal = version_refusal(update_type, version, installed_version)
    if refusal is not None:
        return Outcome(refusal.status, refusal.reason, refusal.info)
    assert isinstance(version, int)
    items = list(payload.get("localAuthorizationList") or [])
    if len(items) > limits.items_per_message:  # D01.FR.11
        return _failed(
            "TooManyElements",
            f"{len(items)} entries; ItemsPerMessage allows {limits.items_per_message}",
        )
    size = request_bytes(payload)
    if size > limits.bytes_per_message:  # D01.FR.11
        return _failed(
            "TooLargeElement", f"{size} bytes; BytesPerMessage allows {limits.bytes_per_message}"
        )
    full = update_type == FULL
    upserts: dict[str, dict[str, Any]] = {}
    removals: set[str] = set()
    for item in items:
        key = token_key(item["idToken"])
        if key in upserts or key in removals:  # D01.FR.06
            return _failed("InvalidValue", "an idToken appears more than once in the list")
        info = item.get("idTokenInfo")
        if info is None:
            if full:
                return _failed("MissingParam", "every entry of a Full update needs idTokenInfo")
            removals.add(key)  # D01.FR.17
        else:
            upserts[key] = dict(info)  # D01.FR.15 / D01.FR.16
    after = {} if full else {k: v for k, v in entries.items() if k not in removals}
    after.update(upserts)
    if len(after) > limits.max_entries:
        return _failed(
            "TooManyElements",
            f"the list would hold {len(after)} entries; it holds at most {limits.max_entries}",
        )
    if list_bytes(after) > limits.max_bytes:
        return _failed("OutOfStorage", f"the list would exceed {limits.max_bytes} bytes")
    return Outcome(
        "Accepted",
        version=version,
        replace=full,
        upserts=upserts,
        removals=frozenset(removals),
    )


def lookup(
    entries: Mapping[str, Mapping[str, Any]], id_token: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The IdTokenInfo the list holds for ``id_token`` (None: not listed)."""
    info = entries.get(token_key(id_token))
    return None if info is None else dict(info)
