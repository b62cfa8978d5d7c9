"""The pure authorization rules (C01.FR.21, C10/C12 with DisablePostAuthorize, C15, C16)."""

from __future__ import annotations

from ocpp_station.blocks.authorization.decision import (
    NO_AUTHORIZATION,
    AuthSettings,
    Decision,
    allowed_on_evse,
    cacheable,
    is_master_pass,
    needs_no_authorize,
    offline,
    without_csms,
)

ACCEPTED = {"status": "Accepted"}
BLOCKED = {"status": "Blocked"}


def test_online_asks_the_csms_by_default() -> None:
    settings = AuthSettings()
    assert without_csms(None, settings) is None  # C01.FR.02
    assert without_csms(ACCEPTED, settings) is None  # C01.FR.05: MAY ask
    assert without_csms(BLOCKED, settings) is None  # C10.FR.03 / C12.FR.05


def test_local_pre_authorize_starts_from_the_cache() -> None:
    settings = AuthSettings(local_pre_authorize=True)
    assert without_csms(ACCEPTED, settings) == ACCEPTED  # C12.FR.02
    assert without_csms(BLOCKED, settings) is None  # C12.FR.05: a refusal is checked again


def test_disable_post_authorize_keeps_the_cached_refusal() -> None:
    """AuthCacheCtrlr.DisablePostAuthorize switches C10.FR.03 / C12.FR.05 off."""
    settings = AuthSettings(disable_post_authorize=True)
    assert without_csms(BLOCKED, settings) == BLOCKED
    assert without_csms(ACCEPTED, settings) is None  # only non-Accepted entries
    assert without_csms(None, settings) is None


def test_disable_remote_authorization_never_asks() -> None:
    settings = AuthSettings(disable_remote_authorization=True)
    assert without_csms(None, settings) == {"status": "Unknown"}
    assert without_csms(ACCEPTED, settings) == ACCEPTED
    assert without_csms(BLOCKED, settings) == BLOCKED


def test_offline_rules() -> None:
    default = AuthSettings()
    assert offline(ACCEPTED, default) == Decision(ACCEPTED)  # C12: LocalAuthorizeOffline
    assert offline(BLOCKED, default) == Decision(BLOCKED)
    assert offline(None, default) == Decision({"status": "Unknown"})
    no_local = AuthSettings(local_authorize_offline=False)
    assert offline(ACCEPTED, no_local) == Decision({"status": "Unknown"})
    assert offline(BLOCKED, no_local) == Decision(BLOCKED)


def test_unknown_offline_is_accepted_and_marked() -> None:
    """C15.FR.08 accepts an unknown token; the mark keeps it out of the cache (C15.FR.01).
    A cached refusal is not unknown (C13.FR.06 by analogy): it stays refused."""
    settings = AuthSettings(offline_tx_for_unknown=True)
    assert offline(None, settings) == Decision(ACCEPTED, unknown_offline=True)
    assert offline(BLOCKED, settings) == Decision(BLOCKED)
    assert offline(ACCEPTED, settings) == Decision(ACCEPTED)


def test_evse_restriction() -> None:
    """C01.FR.19-21."""
    assert allowed_on_evse(ACCEPTED, 2)
    assert allowed_on_evse({"status": "Accepted", "evseId": []}, 2)
    assert allowed_on_evse({"status": "Accepted", "evseId": [1, 2]}, 2)
    assert not allowed_on_evse({"status": "Accepted", "evseId": [1]}, 2)


def test_master_pass() -> None:
    group = {"idToken": "POLICE", "type": "Central"}
    info = {"status": "Accepted", "groupIdToken": group}
    assert is_master_pass(info, "POLICE")
    assert is_master_pass(info, "police")
    assert not is_master_pass(info, None)  # MasterPassGroupId unset
    assert not is_master_pass(info, "")
    assert not is_master_pass(info, "OTHER")
    assert not is_master_pass({"status": "Blocked", "groupIdToken": group}, "POLICE")
    assert not is_master_pass(ACCEPTED, "POLICE")


def test_never_cached_types() -> None:
    """C02.FR.03, C03.FR.02 / C05.FR.02."""
    assert not cacheable(NO_AUTHORIZATION)
    assert not cacheable({"idToken": "X", "type": "Central"})
    assert cacheable({"idToken": "1234", "type": "KeyCode"})  # C04.FR.03: MAY
    assert NO_AUTHORIZATION == {"idToken": "", "type": "NoAuthorization"}  # C02.FR.01


def test_central_and_no_authorization_are_never_authorized() -> None:
    """C03.FR.01 / C05.FR.01: no AuthorizeRequest for a Central token."""
    assert needs_no_authorize({"idToken": "X", "type": "Central"})
    assert needs_no_authorize(NO_AUTHORIZATION)
    assert not needs_no_authorize({"idToken": "X", "type": "ISO14443"})
    assert not needs_no_authorize({"idToken": "1234", "type": "KeyCode"})
