"""Local authorization list management (use cases D01, D02) and the list lookup of C13/C14.

The CSMS installs and updates the list with SendLocalList (rules in :mod:`.list` and
:mod:`.versions`) and reads its version with GetLocalListVersion.  The list lives in the station
store (:mod:`.store`, one transaction per update) and in memory for lookups.  The authorization
block asks :meth:`LocalListBlock.lookup` before the cache and the CSMS; a disabled list
(``LocalAuthListCtrlr.Enabled`` false) holds nothing for it and reports version 0, but keeps its
entries: only a SendLocalList changes the list (D01.FR.09).

Live variables: ``LocalAuthListCtrlr.Entries`` (the number of entries; its maxLimit is the most the
list holds, D01.FR.12) and ``Storage`` (the bytes the entries take; its maxLimit the most they
may take).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ocpp_station.blocks.base import Block
from ocpp_station.blocks.local_list.store import ListStore
from ocpp_station.blocks.local_list.versions import reported_version
from ocpp_station.context import Context
from ocpp_station.ocpp_types import status_info

if TYPE_CHECKING:
    from ocpp_station.blocks.local_list import list as rules

COMPONENT = "LocalAuthListCtrlr"
DEFAULTS = {"ItemsPerMessage": 250, "BytesPerMessage": 65000, "Entries": 10000, "Storage": 4194304}


class LocalListBlock(Block):
    def __init__(self, ctx: Context, open_store: Callable[[], ListStore]) -> None:
        super().__init__(ctx)
        self._open_store = open_store
        self._store: ListStore | None = None
        self.version = 0
        self._entries: dict[str, dict[str, Any]] = {}
        ctx.handlers.register("SendLocalList", self.on_send_local_list)
        ctx.handlers.register("GetLocalListVersion", self.on_get_local_list_version)

    async def start(self) -> None:
        self._store = self._open_store()
        self.version, self._entries = self._store.load()
        self._report()

    # -- settings ------------------------------------------------------------------------------
    def enabled(self) -> bool:
        """``LocalAuthListCtrlr.Enabled`` (D01.FR.13)."""
        return self.ctx.dm.get_bool(COMPONENT, "Enabled", default=True)

    def disable_post_authorize(self) -> bool:
        """``LocalAuthListCtrlr.DisablePostAuthorize``: a listed token that is not Accepted is
        refused without an AuthorizeRequest (switches C14.FR.03 off)."""
        return self.ctx.dm.get_bool(COMPONENT, "DisablePostAuthorize", default=False)

    def limits(self) -> rules.ListLimits:
        from ocpp_station.blocks.local_list import list as rules  # lazy: a list in use

        dm = self.ctx.dm

        def max_limit(name: str) -> int:
            var = dm.definitions.by_key.get((COMPONENT, None, name, None))
            return int(var.max_limit) if var is not None and var.max_limit else DEFAULTS[name]

        return rules.ListLimits(
            items_per_message=dm.get_int(
                COMPONENT, "ItemsPerMessage", default=DEFAULTS["ItemsPerMessage"]
            ),
            bytes_per_message=dm.get_int(
                COMPONENT, "BytesPerMessage", default=DEFAULTS["BytesPerMessage"]
            ),
            max_entries=max_limit("Entries"),
            max_bytes=max_limit("Storage"),
        )

    # -- the view of the authorization block ---------------------------------------------------
    def lookup(self, id_token: dict[str, Any]) -> dict[str, Any] | None:
        """The IdTokenInfo the enabled list holds for ``id_token`` (None: not listed, or the
        list is disabled)."""
        if not self._entries or not self.enabled():
            return None  # (an empty list does not load its rules)
        from ocpp_station.blocks.local_list import list as rules  # lazy: a list in use

        return rules.lookup(self._entries, id_token)

    # -- customer information (N09/N10, the customer block) --------------------------------------
    def customer_records(self, id_token: dict[str, Any]) -> list[dict[str, Any]]:
        """What the list holds about this token (N09), enabled or not."""
        if not self._entries:
            return []
        from ocpp_station.blocks.local_list import list as rules  # lazy: a list in use

        info = rules.lookup(self._entries, id_token)
        if info is None:
            return []
        return [{"source": "LocalAuthorizationList", "idToken": id_token, "idTokenInfo": info}]

    def clear_customer(self, id_token: dict[str, Any]) -> int:
        """N10.FR.03: a clear leaves the local authorization list alone (the CSMS owns it and its
        version); nothing is removed here."""
        return 0

    # -- CSMS ----------------------------------------------------------------------------------
    async def on_get_local_list_version(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {"versionNumber": reported_version(self.enabled(), self.version)}

    async def on_send_local_list(self, payload: dict[str, Any]) -> dict[str, Any]:
        if not self.enabled():
            return _answer("Failed", "NotEnabled", "LocalAuthListCtrlr.Enabled is false")
        from ocpp_station.blocks.local_list import list as rules  # lazy: a list in use

        outcome = rules.plan_update(payload, self.version, self._entries, self.limits())
        if not outcome.accepted:
            return _answer(outcome.status, outcome.reason, outcome.info)
        assert self._store is not None
        try:
            self._store.apply(outcome)  # one transaction, durable before the answer
        except sqlite3.Error as exc:
            self.ctx.log.warning("local authorization list not updated: %s", exc)
            return _answer("Failed", "OutOfStorage", "the list could not be stored")
        if outcome.replace:
            self._entries = {}
        for key in outcome.removals:
            self._entries.pop(key, None)
        self._entries.update(outcome.upserts)
        self.version = outcome.version
        self._report()
        return {"status": "Accepted"}

    def _report(self) -> None:
        """Entries and Storage Actual: what the list holds now."""
        dm = self.ctx.dm
        size = 0
        if self._entries:  # (an empty list holds no bytes: its rules are not loaded)
            from ocpp_station.blocks.local_list import list as rules  # lazy: a list in use

            size = rules.list_bytes(self._entries)
        for name, value in (("Entries", len(self._entries)), ("Storage", size)):
            if dm.get(COMPONENT, name) != str(value):
                dm.set(COMPONENT, name, value)


def _answer(status: str, reason: str | None, info: str | None) -> dict[str, Any]:
    response: dict[str, Any] = {"status": status}
    if reason:
        response["statusInfo"] = status_info(reason, info)
    return response
