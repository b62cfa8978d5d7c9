"""Who may charge: the pure authorization rules (OCPP 2.0.1 part 2, C01-C16).

* :func:`without_csms` - online, what the cache decides without an AuthorizeRequest: a cached
  Accepted token starts at once with ``LocalPreAuthorize`` (C10, C12.FR.02); a cached token that
  is not Accepted is sent to the CSMS again (C10.FR.03, C12.FR.05) unless
  ``AuthCacheCtrlr.DisablePostAuthorize`` is true, when the cached status stands;
  ``DisableRemoteAuthorization`` never asks the CSMS.
* :func:`listed_online` / :func:`listed_offline` - a token on the local authorization list is
  decided by the list, never by the cache (C13.FR.01, C14.FR.01): online a listed Accepted token
  starts at once with ``LocalPreAuthorize`` (C14.FR.02), a listed token that is not Accepted
  (Blocked, Expired...) is sent to the CSMS (C14.FR.03) unless
  ``LocalAuthListCtrlr.DisablePostAuthorize``; offline a listed Accepted token counts with
  ``LocalAuthorizeOffline`` and a listed refusal always counts (C13.FR.02).  The station has no
  ``LocalAuthListSupportsExpiryDateTime``: a listed entry's ``cacheExpiryDateTime`` is not checked
  (C13.FR.02, C14.FR.02).
* :func:`offline` - offline, a cached Accepted token counts with ``LocalAuthorizeOffline``
  (a cached refusal always counts), an unknown token with ``OfflineTxForUnknownIdEnabled``
  (C15.FR.08), and such a token is then kept out of the cache (C15.FR.01).
* :func:`allowed_on_evse` - an Accepted IdTokenInfo with an ``evseId`` list allows charging only
  on those EVSEs (C01.FR.19-21).
* :func:`is_master_pass` - an Accepted token whose ``groupIdToken`` is ``MasterPassGroupId``
  (C16): it stops transactions and starts none (C12.FR.09, C16.FR.03).
* :func:`cacheable` - NoAuthorization and Central tokens are never cached (C02.FR.03, C03.FR.02,
  C05.FR.02), and never sent in an AuthorizeRequest (:func:`needs_no_authorize`: C03.FR.01,
  C05.FR.01; a NoAuthorization token is by definition not authorized, C02).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ACCEPTED = "Accepted"
UNKNOWN: dict[str, Any] = {"status": "Unknown"}
# AuthCtrlr.Enabled = false: "idToken left empty and type NoAuthorization" (C02.FR.01)
NO_AUTHORIZATION: dict[str, Any] = {"idToken": "", "type": "NoAuthorization"}
UNCACHEABLE_TYPES = frozenset({"NoAuthorization", "Central"})


@dataclass(frozen=True)
class AuthSettings:
    """The AuthCtrlr / AuthCacheCtrlr switches the rules read."""

    local_pre_authorize: bool = False  # AuthCtrlr.LocalPreAuthorize
    local_authorize_offline: bool = True  # AuthCtrlr.LocalAuthorizeOffline
    offline_tx_for_unknown: bool = False  # AuthCtrlr.OfflineTxForUnknownIdEnabled
    disable_remote_authorization: bool = False  # AuthCtrlr.DisableRemoteAuthorization
    disable_post_authorize: bool = False  # AuthCacheCtrlr.DisablePostAuthorize
    list_disable_post_authorize: bool = False  # LocalAuthListCtrlr.DisablePostAuthorize


@dataclass(frozen=True)
class Decision:
    """An IdTokenInfo and whether it was let in as an unknown token offline (C15)."""

    info: dict[str, Any]
    unknown_offline: bool = False


def accepted(info: Mapping[str, Any] | None) -> bool:
    return info is not None and info.get("status") == ACCEPTED


def without_csms(cached: Mapping[str, Any] | None, settings: AuthSettings) -> dict[str, Any] | None:
    """Online: the IdTokenInfo the station uses without asking the CSMS, or None to send an
    AuthorizeRequest."""
    if cached is not None:
        if accepted(cached) and settings.local_pre_authorize:
            return dict(cached)  # C10 / C12.FR.02: the TransactionEvent tells the CSMS
        if not accepted(cached) and settings.disable_post_authorize:
            return dict(cached)  # DisablePostAuthorize switches C10.FR.03 / C12.FR.05 off
    if settings.disable_remote_authorization:
        return dict(cached) if cached is not None else dict(UNKNOWN)
    return None


def listed_online(listed: Mapping[str, Any], settings: AuthSettings) -> dict[str, Any] | None:
    """Online, a token on the local list: the IdTokenInfo the station uses without asking the
    CSMS, or None to send an AuthorizeRequest."""
    if accepted(listed) and settings.local_pre_authorize:
        return dict(listed)  # C14.FR.02
    if not accepted(listed) and settings.list_disable_post_authorize:
        return dict(listed)  # DisablePostAuthorize switches C14.FR.03 off
    if settings.disable_remote_authorization:
        return dict(listed)
    return None


def listed_offline(listed: Mapping[str, Any], settings: AuthSettings) -> dict[str, Any]:
    """Offline (or the AuthorizeRequest failed), a token on the local list (C13)."""
    if not accepted(listed) or settings.local_authorize_offline:
        return dict(listed)  # C13.FR.02: only a listed Accepted token starts
    return dict(UNKNOWN)


def offline(cached: Mapping[str, Any] | None, settings: AuthSettings) -> Decision:
    """Offline (or the AuthorizeRequest failed): the cache, then Unknown Offline Authorization."""
    if cached is not None:
        if not accepted(cached) or settings.local_authorize_offline:
            return Decision(dict(cached))
        return Decision(dict(UNKNOWN))
    if settings.offline_tx_for_unknown:
        return Decision({"status": ACCEPTED}, unknown_offline=True)  # C15.FR.08
    return Decision(dict(UNKNOWN))


def allowed_on_evse(info: Mapping[str, Any], evse: int) -> bool:
    """C01.FR.21: with an ``evseId`` list only those EVSEs may charge; no list (or an empty
    one, C01.FR.19) allows every EVSE.  Says nothing about the status."""
    evses = info.get("evseId")
    if not evses:
        return True
    return evse in evses


def is_master_pass(info: Mapping[str, Any], master_pass_group_id: str | None) -> bool:
    """C16: an Accepted token whose group is the configured ``AuthCtrlr.MasterPassGroupId``
    (compared like idTokens, ignoring case).  Unset or empty: no Master Pass."""
    if not master_pass_group_id or not accepted(info):
        return False
    group = info.get("groupIdToken")
    if not isinstance(group, Mapping):
        return False
    return str(group.get("idToken", "")).casefold() == master_pass_group_id.casefold()


def cacheable(id_token: Mapping[str, Any]) -> bool:
    return id_token.get("type") not in UNCACHEABLE_TYPES


def needs_no_authorize(id_token: Mapping[str, Any]) -> bool:
    """A Central token (generated by the CSMS) or NoAuthorization: Accepted as it is."""
    return id_token.get("type") in UNCACHEABLE_TYPES
