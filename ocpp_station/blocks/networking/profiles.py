"""Network connection profiles, pure: the content of a slot, and the checks of SetNetworkProfile
(B09) and of ``OCPPCommCtrlr.NetworkConfigurationPriority`` (B10, A05).

A :class:`NetworkProfile` is what one configuration slot holds (the NetworkConnectionProfileType
fields the station uses).  :func:`check_set_network_profile` answers a SetNetworkProfileRequest
with a :class:`Verdict`; :func:`check_priority` decides a new priority value.  No I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard
from urllib.parse import urlsplit

URL_MAX = 512  # NetworkConnectionProfileType.ocppCsmsUrl: string[0..512]
INTERFACES = frozenset(
    f"{kind}{n}" for kind in ("Wired", "Wireless") for n in range(4)
)  # OCPPInterfaceEnumType
MESSAGE_TIMEOUT_MAX = 3600  # seconds; longer than any CSMS should take (a sanity bound)


@dataclass(frozen=True)
class NetworkProfile:
    """What a configuration slot holds.  ``message_timeout`` None: the slot seeded from the
    config file, which uses ``OCPPCommCtrlr.MessageTimeout[Default]``."""

    url: str
    security_profile: int
    interface: str = "Wired0"
    message_timeout: int | None = None

    def to_record(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "url": self.url,
            "securityProfile": self.security_profile,
            "interface": self.interface,
        }
        if self.message_timeout is not None:
            out["messageTimeout"] = self.message_timeout
        return out

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> NetworkProfile | None:
        """The profile a stored record holds; None when the record is damaged."""
        url, level = record.get("url"), record.get("securityProfile")
        interface = record.get("interface", "Wired0")
        timeout = record.get("messageTimeout")
        if not isinstance(url, str) or not _is_int(level) or not isinstance(interface, str):
            return None
        if timeout is not None and not _is_int(timeout):
            return None
        if url_problem(url, level) is not None:
            return None
        return cls(url, level, interface, timeout)


@dataclass(frozen=True)
class Verdict:
    """The answer to a request: ``status`` plus, when not Accepted, a StatusInfo reason."""

    status: str
    reason: str | None = None
    info: str | None = None
    profile: NetworkProfile | None = None

    @property
    def accepted(self) -> bool:
        return self.status == "Accepted"


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def url_problem(url: str, security_profile: int) -> str | None:
    """Why ``url`` cannot be used under ``security_profile``; None when it can.  Profiles 2 and
    3 need TLS (``wss://``); profile 1 sends its password in the clear and 0 (test rigs only)
    has none, so both use ``ws://`` (Part 2 A, 1.3)."""
    if len(url) > URL_MAX:
        return f"ocppCsmsUrl is longer than {URL_MAX} characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"ocppCsmsUrl {url!r} is not a URL: {exc}"
    scheme = parts.scheme.lower()
    if scheme not in ("ws", "wss") or not parts.hostname:
        return f"ocppCsmsUrl must be a ws:// or wss:// URL with a host, got {url!r}"
    if port == 0:
        return f"ocppCsmsUrl {url!r} has port 0"
    if parts.query or parts.fragment:
        return f"ocppCsmsUrl {url!r} must not have a query or fragment"
    if security_profile >= 2 and scheme != "wss":
        return f"security profile {security_profile} needs a wss:// URL (TLS), got {url!r}"
    if security_profile <= 1 and scheme != "ws":
        return f"security profile {security_profile} uses ws://, got {url!r}"
    return None


def check_set_network_profile(
    payload: Mapping[str, Any], slots: tuple[int, ...], current_security_profile: int
) -> Verdict:
    """B09: validate a SetNetworkProfileRequest (schema-valid already) against what the station
    can do.  Rejected (B09.FR.02) with a reason for: a slot outside the valuesList of
    NetworkConfigurationPriority (B09.FR.05), a lower security profile than the current
    SecurityCtrlr.SecurityProfile (B09.FR.04), another OCPP version or transport than OCPP 2.0.1
    over JSON, a URL that does not fit the security profile, an APN or VPN (the station has no
    modem or VPN client of its own to set up)."""
    slot = payload.get("configurationSlot")
    if not _is_int(slot) or slot not in slots:
        return Verdict(
            "Rejected",
            "InvalidConfSlot",
            f"configurationSlot {slot} is not one of {','.join(map(str, slots))}",
        )
    data = payload.get("connectionData")
    if not isinstance(data, Mapping):
        return Verdict("Rejected", "InvalidNetworkConf", "connectionData is missing")
    level = data.get("securityProfile")
    if not _is_int(level) or not 0 <= level <= 3:
        return Verdict("Rejected", "InvalidNetworkConf", f"securityProfile {level} is not 0..3")
    if level < current_security_profile:  # B09.FR.04, A05 remark: no downgrade through OCPP
        return Verdict(
            "Rejected",
            "NoSecurityDowngrade",
            f"securityProfile {level} is lower than the current {current_security_profile}",
        )
    if data.get("ocppVersion") != "OCPP20":
        return Verdict(
            "Rejected", "InvalidNetworkConf", f"ocppVersion {data.get('ocppVersion')}: OCPP20 only"
        )
    if data.get("ocppTransport") != "JSON":
        return Verdict(
            "Rejected",
            "InvalidNetworkConf",
            f"ocppTransport {data.get('ocppTransport')}: JSON only",
        )
    interface = data.get("ocppInterface")
    if interface not in INTERFACES:
        return Verdict("Rejected", "InvalidNetworkConf", f"ocppInterface {interface!r}")
    for field in ("apn", "vpn"):
        if data.get(field) is not None:
            return Verdict(
                "Rejected",
                "InvalidNetworkConf",
                f"{field}: this station sets up no {field.upper()} (the host's network is used)",
            )
    timeout = data.get("messageTimeout")
    if not _is_int(timeout) or not 1 <= timeout <= MESSAGE_TIMEOUT_MAX:
        return Verdict(
            "Rejected",
            "InvalidNetworkConf",
            f"messageTimeout {timeout} is not 1..{MESSAGE_TIMEOUT_MAX} seconds",
        )
    url = data.get("ocppCsmsUrl")
    problem = "ocppCsmsUrl is missing" if not isinstance(url, str) else url_problem(url, level)
    if problem is not None:
        return Verdict("Rejected", "InvalidNetworkConf", problem)
    assert isinstance(url, str)
    return Verdict("Accepted", profile=NetworkProfile(url, level, interface, timeout))


def parse_priority(text: str) -> list[int]:
    """The slot numbers of a NetworkConfigurationPriority value (the device model has checked
    its format against the valuesList)."""
    return [int(item) for item in text.split(",") if item.strip()]


def check_priority(
    text: str,
    profiles: Mapping[int, NetworkProfile],
    current_security_profile: int,
    missing_credentials: Callable[[int], str | None],
) -> tuple[str, str] | None:
    """Why a new NetworkConfigurationPriority value is Rejected; None when it may be stored.

    Every slot it names must hold a profile (B10.FR.02) of at least the current security
    profile (A05 remark), and a slot of a higher profile needs what that profile needs
    (``missing_credentials``: A05.FR.02 a CSMS root certificate for 2 and 3, A05.FR.03 a station
    certificate for 3).  Returns ``(reasonCode, additionalInfo)``."""
    try:
        order = parse_priority(text)
    except ValueError:
        return "InvalidValue", f"{text!r} is not a list of slot numbers"
    for slot in order:
        profile = profiles.get(slot)
        if profile is None:
            return "InvalidNetworkConf", f"slot {slot} holds no network connection profile"
        if profile.security_profile < current_security_profile:
            return (
                "NoSecurityDowngrade",
                f"slot {slot} has security profile {profile.security_profile}, lower than the "
                f"current {current_security_profile}",
            )
        if profile.security_profile > current_security_profile:
            missing = missing_credentials(profile.security_profile)
            if missing is not None:
                return "InvalidNetworkConf", f"slot {slot}: {missing}"
    return None
