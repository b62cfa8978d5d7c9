"""The SendLocalList rules of D01 (pure): Full replaces, Differential updates and removes, the
version rules, the message and list limits."""

from __future__ import annotations

from typing import Any

from ocpp_station.blocks.authorization.cache import token_key
from ocpp_station.blocks.local_list.list import (
    ListLimits,
    Outcome,
    entry_bytes,
    list_bytes,
    lookup,
    plan_update,
)

LIMITS = ListLimits(items_per_message=3, bytes_per_message=2000, max_entries=4, max_bytes=100_000)
A = {"idToken": "AAA", "type": "ISO14443"}
B = {"idToken": "BBB", "type": "ISO14443"}
C = {"idToken": "CCC", "type": "ISO14443"}
ACCEPTED = {"status": "Accepted"}
BLOCKED = {"status": "Blocked"}


def request(update: str, version: int, *items: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = {"updateType": update, "versionNumber": version}
    if items:
        payload["localAuthorizationList"] = list(items)
    return payload


def entry(token: dict[str, Any], info: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"idToken": token} if info is None else {"idToken": token, "idTokenInfo": info}


def apply(entries: dict[str, dict[str, Any]], outcome: Outcome) -> dict[str, dict[str, Any]]:
    """What the store does with an Accepted outcome."""
    after = {} if outcome.replace else dict(entries)
    for key in outcome.removals:
        after.pop(key, None)
    after.update(outcome.upserts)
    return after


def test_full_replaces_the_list_and_sets_the_version() -> None:
    """D01.FR.15."""
    old = {token_key(C): ACCEPTED}
    outcome = plan_update(request("Full", 5, entry(A, ACCEPTED), entry(B, BLOCKED)), 3, old, LIMITS)
    assert outcome.status == "Accepted" and outcome.version == 5 and outcome.replace
    after = apply(old, outcome)
    assert lookup(after, A) == ACCEPTED and lookup(after, B) == BLOCKED and lookup(after, C) is None


def test_full_without_entries_empties_the_list() -> None:
    """D01.FR.04: the version still changes."""
    old = {token_key(A): ACCEPTED}
    outcome = plan_update(request("Full", 2), 1, old, LIMITS)
    assert outcome.accepted and outcome.version == 2 and apply(old, outcome) == {}


def test_full_with_a_lower_version_is_accepted() -> None:
    """D01.FR.19 is for Differential updates only: a Full one replaces whatever the version."""
    assert plan_update(request("Full", 1, entry(A, ACCEPTED)), 9, {}, LIMITS).accepted


def test_full_entry_without_info_fails() -> None:
    outcome = plan_update(request("Full", 1, entry(A)), 0, {}, LIMITS)
    assert (outcome.status, outcome.reason) == ("Failed", "MissingParam")


def test_differential_adds_updates_and_removes() -> None:
    """D01.FR.16 (add or update) and D01.FR.17 (no idTokenInfo: remove)."""
    old = {token_key(A): ACCEPTED, token_key(B): ACCEPTED}
    outcome = plan_update(
        request("Differential", 4, entry(A, BLOCKED), entry(B), entry(C, ACCEPTED)), 3, old, LIMITS
    )
    assert outcome.accepted and not outcome.replace and outcome.version == 4
    after = apply(old, outcome)
    assert lookup(after, A) == BLOCKED and lookup(after, B) is None and lookup(after, C) == ACCEPTED


def test_empty_differential_only_bumps_the_version() -> None:
    """D01.FR.05."""
    old = {token_key(A): ACCEPTED}
    outcome = plan_update(request("Differential", 8), 7, old, LIMITS)
    assert outcome.accepted and outcome.version == 8 and apply(old, outcome) == old


def test_differential_with_an_old_version_is_a_mismatch() -> None:
    """D01.FR.19: not greater than the installed version."""
    for version in (6, 7):
        outcome = plan_update(request("Differential", version, entry(A, ACCEPTED)), 7, {}, LIMITS)
        assert outcome.status == "VersionMismatch"
        assert not outcome.upserts


def test_version_zero_or_negative_fails() -> None:
    """D01.FR.18."""
    for update in ("Full", "Differential"):
        outcome = plan_update(request(update, 0), 0, {}, LIMITS)
        assert (outcome.status, outcome.reason) == ("Failed", "ValuePositiveOnly")


def test_duplicate_token_fails() -> None:
    """D01.FR.06: idTokens compare ignoring case."""
    twice = entry({"idToken": "aaa", "type": "ISO14443"}, BLOCKED)
    outcome = plan_update(request("Full", 1, entry(A, ACCEPTED), twice), 0, {}, LIMITS)
    assert (outcome.status, outcome.reason) == ("Failed", "InvalidValue")


def test_items_per_message() -> None:
    """D01.FR.11: ItemsPerMessage."""
    items = [entry({"idToken": f"T{i}", "type": "ISO14443"}, ACCEPTED) for i in range(4)]
    outcome = plan_update(request("Full", 1, *items), 0, {}, LIMITS)
    assert (outcome.status, outcome.reason) == ("Failed", "TooManyElements")


def test_bytes_per_message() -> None:
    """D01.FR.11: BytesPerMessage, the payload as compact JSON."""
    big = {"status": "Accepted", "personalMessage": {"format": "ASCII", "content": "x" * 512}}
    limits = ListLimits(3, 1000, 10, 100_000)
    items = [entry({"idToken": f"T{i}", "type": "ISO14443"}, big) for i in range(2)]
    outcome = plan_update(request("Full", 1, *items), 0, {}, limits)
    assert (outcome.status, outcome.reason) == ("Failed", "TooLargeElement")


def test_entries_limit_counts_the_list_after_the_update() -> None:
    """LocalAuthListCtrlr.Entries maxLimit (D01.FR.12): a Differential that would grow the list
    beyond it fails and changes nothing; one that removes as much as it adds fits."""
    old = {token_key({"idToken": f"O{i}", "type": "ISO14443"}): ACCEPTED for i in range(3)}
    grow = plan_update(
        request("Differential", 2, entry(A, ACCEPTED), entry(B, ACCEPTED)), 1, old, LIMITS
    )
    assert (grow.status, grow.reason) == ("Failed", "TooManyElements")
    swap = request(
        "Differential",
        2,
        entry(A, ACCEPTED),
        entry(B, ACCEPTED),
        entry({"idToken": "O0", "type": "ISO14443"}),
    )
    assert len(apply(old, plan_update(swap, 1, old, LIMITS))) == 4


def test_storage_limit() -> None:
    limits = ListLimits(3, 2000, 10, max_bytes=entry_bytes(token_key(A), ACCEPTED))
    outcome = plan_update(request("Full", 1, entry(A, ACCEPTED), entry(B, ACCEPTED)), 0, {}, limits)
    assert (outcome.status, outcome.reason) == ("Failed", "OutOfStorage")


def test_unknown_update_type_fails() -> None:
    assert plan_update(request("Partial", 1), 0, {}, LIMITS).status == "Failed"


def test_list_bytes_sums_the_entries() -> None:
    entries = {token_key(A): ACCEPTED, token_key(B): BLOCKED}
    assert list_bytes(entries) == entry_bytes(token_key(A), ACCEPTED) + entry_bytes(
        token_key(B), BLOCKED
    )
    assert list_bytes({}) == 0
