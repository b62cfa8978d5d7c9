"""Network connection profiles (B09 Setting a new NetworkConnectionProfile, B10 Migrate to new
CSMS, A05 Upgrade Charging Station Security Profile).

SetNetworkProfile stores a validated profile in a slot (:mod:`.profiles`, :mod:`.store`); it
never touches the open connection (B09 remark).  ``OCPPCommCtrlr.NetworkConfigurationPriority``
orders the slots; a value naming an empty slot, a lower security profile or a higher one without
its credentials is Rejected (B10.FR.02, A05.FR.02/03) by a device-model guard.  Before every
connection attempt the station asks :meth:`NetworkingBlock.next_connection` which profile to use
and reports the result (:mod:`.selection`: ``NetworkProfileConnectionAttempts`` attempts per slot,
then the next, then the last slot that worked).  After a connection on another slot than the one
before, the registration starts again with a BootNotification (B10.FR.10); after a connection
with a higher security profile, ``SecurityCtrlr.SecurityProfile`` becomes it and the slots of a
lower one are removed (A05.FR.06).  ``OCPPCommCtrlr.ActiveNetworkProfile`` is the slot in use.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Callable
from typing import Any

from ocpp_station.blocks.base import Block
from ocpp_station.blocks.interfaces import Registration, SecurityEvents
from ocpp_station.blocks.networking import profiles
from ocpp_station.blocks.networking.profiles import NetworkProfile
from ocpp_station.blocks.networking.selection import SlotSelector
from ocpp_station.blocks.networking.store import SEED_SLOT, SlotStore
from ocpp_station.context import Context
from ocpp_station.ocpp_types import status_info
from ocpp_station.transport import TransportConfig

COMM = "OCPPCommCtrlr"
PRIORITY = "NetworkConfigurationPriority"
ATTEMPTS = "NetworkProfileConnectionAttempts"

MissingCredentials = Callable[[int], str | None]


class NetworkingBlock(Block):
    def __init__(
        self,
        ctx: Context,
        *,
        registration: Registration,
        security: SecurityEvents,
        missing_credentials: MissingCredentials,
    ) -> None:
        super().__init__(ctx)
        self._registration = registration
        self._security = security
        self._missing_credentials = missing_credentials
        cfg = ctx.config
        self.seed = NetworkProfile(cfg.csms_url, cfg.security_profile)
        self.store: SlotStore | None = None
        self.selector = SlotSelector(self._plan, self.attempts)
        self._trying: tuple[int, NetworkProfile] | None = None
        self.active: tuple[int, NetworkProfile] | None = None
        self._unguard: Callable[[], None] = lambda: None
        self._booted_with: dict[int, NetworkProfile] = {SEED_SLOT: self.seed}
        ctx.handlers.register("SetNetworkProfile", self.on_set_network_profile)

    async def start(self) -> None:
        store, reseeded = SlotStore.open(self.ctx.state, self.seed)
        self.store = store
        if reseeded:
            self._apply_new_seed()
        # B09 remark: a profile stored while running, even in the slot in use, is used after
        # the next reboot: the connections of this run use the slots as they are now.
        self._booted_with = store.profiles()
        self.selector = SlotSelector(self._plan, self.attempts, store.last_good)
        self._unguard = self.ctx.dm.guard(COMM, PRIORITY, self._vet_priority)

    async def stop(self) -> None:
        self._unguard()

    def _apply_new_seed(self) -> None:
        """The config file's connection changed since the last start (an operator on site): it
        is tried first, and its security profile is the station's again."""
        dm, log = self.ctx.dm, self.ctx.log
        log.warning(
            "the configured CSMS connection changed: slot %s holds it again and is tried first",
            SEED_SLOT,
        )
        dm.set("SecurityCtrlr", "SecurityProfile", self.seed.security_profile)
        order = [SEED_SLOT] + [s for s in self.priority() if s != SEED_SLOT]
        usable = self.profiles()
        order = [s for s in order if s in usable and self._usable(usable[s])]
        dm.set(COMM, PRIORITY, ",".join(map(str, order)))

    # -- reads -----------------------------------------------------------------------------------
    def slots(self) -> tuple[int, ...]:
        """The slot numbers: the valuesList of NetworkConfigurationPriority (B09.FR.05/06)."""
        var = self.ctx.dm.definitions.by_key.get((COMM, None, PRIORITY, None))
        values = var.values if var is not None else (str(SEED_SLOT),)
        return tuple(int(v) for v in values)

    def security_profile(self) -> int:
        return self.ctx.dm.get_int("SecurityCtrlr", "SecurityProfile", default=1)

    def attempts(self) -> int:
        return self.ctx.dm.get_int(COMM, ATTEMPTS, default=3)

    def priority(self) -> list[int]:
        try:
            return profiles.parse_priority(self.ctx.dm.get(COMM, PRIORITY) or "")
        except ValueError:
            return []

    def profiles(self) -> dict[int, NetworkProfile]:
        return self.store.profiles() if self.store is not None else {SEED_SLOT: self.seed}

    def _usable(self, profile: NetworkProfile) -> bool:
        return profile.security_profile >= self.security_profile()  # never a downgrade

    def _plan(self) -> list[int]:
        held = self._booted_with
        return [s for s in self.priority() if s in held and self._usable(held[s])]

    def migrating(self) -> bool:
        """Is the attempt in progress on another slot than the last connection that worked (a
        migration to another CSMS, B10)?  Its server certificate is verified without the
        fallback CSMS root (M05.FR.15); back on the slot that worked, with it (M05.FR.16)."""
        trying, last_good = self._trying, self.selector.last_good
        return trying is not None and last_good is not None and trying[0] != last_good

    # -- the transport's questions ---------------------------------------------------------------
    def next_connection(self) -> NetworkProfile:
        """The profile of the next connection attempt.  With no usable slot at all (it takes a
        damaged store), the config file's connection, logged as an error."""
        slot = self.selector.choose()
        held = self._booted_with
        if slot is None or slot not in held:
            self.ctx.log.error("no usable network configuration slot: using the config file's")
            self._trying = None
            return self.seed
        self._trying = (slot, held[slot])
        return held[slot]

    def config_for(self, current: TransportConfig, password: str | None) -> TransportConfig:
        """The transport configuration of the next attempt: :meth:`next_connection`'s URL and
        security profile, with the credentials and TLS trust of ``current``."""
        profile = self.next_connection()
        return dataclasses.replace(
            current,
            csms_url=profile.url,
            security_profile=profile.security_profile,
            password=password,
        )

    def attempt_done(self, connected: bool) -> None:
        """The attempt with the last :meth:`next_connection` failed or opened a connection."""
        trying = self._trying
        if trying is None:
            return
        if not connected:
            self.selector.failed()
            return
        slot, profile = trying
        self.active = trying
        switched = self.selector.succeeded(slot)
        dm = self.ctx.dm
        dm.set(COMM, "ActiveNetworkProfile", slot)
        if profile.message_timeout is not None:  # the CSMS's profile brings its own timeout
            dm.set(COMM, "MessageTimeout", profile.message_timeout, variable_instance="Default")
        try:
            assert self.store is not None
            self.store.connected_on(slot)
        except sqlite3.Error as exc:
            self.ctx.log.warning("the last working network slot was not stored: %s", exc)
        if profile.security_profile > self.security_profile():
            self._upgraded(slot, profile.security_profile)
        if switched:
            # B10.FR.10: another CSMS may be at the other end: register there again
            self.ctx.log.info("connected on network slot %s: BootNotification again", slot)
            self._registration.forget_registration()

    def _upgraded(self, slot: int, level: int) -> None:
        """A05.FR.06: the new security profile is the station's; the slots of a lower one go,
        and NetworkConfigurationPriority with them."""
        dm, store = self.ctx.dm, self.store
        assert store is not None
        previous = self.security_profile()
        dm.set("SecurityCtrlr", "SecurityProfile", level)
        lower = {s for s, p in store.profiles().items() if p.security_profile < level}
        try:
            store.remove(lower)
        except sqlite3.Error as exc:
            self.ctx.log.warning("the lower-profile network slots were not removed: %s", exc)
        order = [s for s in self.priority() if s not in lower] or [slot]
        dm.set(COMM, PRIORITY, ",".join(map(str, order)))
        self.ctx.log.info("security profile %s -> %s (network slot %s)", previous, level, slot)
        self.ctx.spawn(
            self._security.raise_event(
                "ReconfigurationOfSecurityParameters",
                tech_info=f"SecurityCtrlr.SecurityProfile {previous} -> {level}",
            ),
            "security-event",
        )

    # -- device model guard ----------------------------------------------------------------------
    def _vet_priority(self, text: str) -> tuple[str, str] | None:
        return profiles.check_priority(
            text, self.profiles(), self.security_profile(), self._missing_credentials
        )

    # -- CSMS ------------------------------------------------------------------------------------
    async def on_set_network_profile(self, payload: dict[str, Any]) -> dict[str, Any]:
        verdict = profiles.check_set_network_profile(payload, self.slots(), self.security_profile())
        if not verdict.accepted or verdict.profile is None:  # B09.FR.02/04/05
            return _answer(verdict.status, verdict.reason, verdict.info)
        slot = int(payload["configurationSlot"])
        try:
            assert self.store is not None
            self.store.put(slot, verdict.profile)  # durable before the answer (B09.FR.01)
        except sqlite3.Error as exc:  # B09.FR.03
            self.ctx.log.warning("network profile for slot %s not stored: %s", slot, exc)
            return _answer("Failed", "InternalError", "the profile could not be stored")
        self.ctx.log.info(
            "network slot %s: %s, security profile %s (used from the next connection round)",
            slot,
            verdict.profile.url,
            verdict.profile.security_profile,
        )
        return {"status": "Accepted"}


def _answer(status: str, reason: str | None, info: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"status": status}
    if reason:
        out["statusInfo"] = status_info(reason, info)
    return out
