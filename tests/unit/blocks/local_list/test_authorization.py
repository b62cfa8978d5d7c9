"""Authorization with the local list (pure, C13/C14): the list decides a listed token."""

from __future__ import annotations

from ocpp_station.blocks.authorization.decision import (
    UNKNOWN,
    AuthSettings,
    listed_offline,
    listed_online,
)

ACCEPTED = {"status": "Accepted", "groupIdToken": {"idToken": "G", "type": "Central"}}
BLOCKED = {"status": "Blocked"}
EXPIRED = {"status": "Expired"}


def test_online_listed_accepted_starts_at_once_with_local_pre_authorize() -> None:
    """C14.FR.02 (the group id comes from the list); without LocalPreAuthorize the CSMS is
    asked."""
    assert listed_online(ACCEPTED, AuthSettings(local_pre_authorize=True)) == ACCEPTED
    assert listed_online(ACCEPTED, AuthSettings()) is None


def test_online_listed_refusal_asks_the_csms_unless_disable_post_authorize() -> None:
    """C14.FR.03; LocalAuthListCtrlr.DisablePostAuthorize keeps the listed status."""
    for info in (BLOCKED, EXPIRED):
        assert listed_online(info, AuthSettings(local_pre_authorize=True)) is None
        assert listed_online(info, AuthSettings(list_disable_post_authorize=True)) == info
    # the cache's DisablePostAuthorize is not the list's
    assert listed_online(BLOCKED, AuthSettings(disable_post_authorize=True)) is None


def test_online_without_remote_authorization_the_list_decides() -> None:
    settings = AuthSettings(disable_remote_authorization=True)
    assert listed_online(ACCEPTED, settings) == ACCEPTED
    assert listed_online(BLOCKED, settings) == BLOCKED


def test_offline() -> None:
    """C13.FR.02: a listed Accepted token with LocalAuthorizeOffline; refusals always count,
    also with OfflineTxForUnknownIdEnabled (a listed token is not unknown, C13.FR.04)."""
    assert listed_offline(ACCEPTED, AuthSettings()) == ACCEPTED
    assert listed_offline(ACCEPTED, AuthSettings(local_authorize_offline=False)) == UNKNOWN
    unknown_ok = AuthSettings(offline_tx_for_unknown=True)
    assert listed_offline(BLOCKED, unknown_ok) == BLOCKED
    assert listed_offline(EXPIRED, unknown_ok) == EXPIRED
