"""Authorization (use cases C01-C06, C09-C12, C15, C16): Authorize, the cache, the offline rules.

A token on the local authorization list (C13, C14: the local list block, through
:class:`ListLookup`) is decided by the list and never by the cache (C13.FR.01/C14.FR.01).
Otherwise, online, a presented token is authorized by the CSMS (``Authorize``, C01), unless the
cache decides first (:func:`~.decision.without_csms`: ``LocalPreAuthorize``, ``AuthCacheCtrlr.
DisablePostAuthorize``, ``DisableRemoteAuthorization``).  Offline, or when the Authorize fails,
:func:`~.decision.offline` applies (``LocalAuthorizeOffline`` C12, ``OfflineTxForUnknownIdEnabled``
C15).  ``AuthCtrlr.Enabled`` false means no authorization at all: every token is Accepted without
an Authorize, and the transactions block charges a plugged EV with the NoAuthorization token.

Every IdTokenInfo the CSMS returns (Authorize or TransactionEventResponse) updates the cache when
``AuthCacheCtrlr.Enabled`` (C10.FR.01/04/05), except for NoAuthorization and Central tokens, for
a token let in as unknown while offline (C15.FR.01) and for a listed token (the list decides
it).  The cache (:mod:`.cache`) is bounded by ``AuthCacheCtrlr.Storage`` (maxLimit, or the
MaxSet attribute), evicts by ``AuthCacheCtrlr.Policy`` (C10.FR.07), reports the bytes it uses as
``Storage``'s Actual value and lives in the station's SQLite state store, so it survives restarts
(C10.FR.02).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from device_model import VariableChange
from ocpp_station.blocks.authorization import decision
from ocpp_station.blocks.authorization.cache import AuthCache, CacheLimits, token_key
from ocpp_station.blocks.base import Block
from ocpp_station.context import Context
from ocpp_station.dispatch.dispatcher import NotReady
from ocpp_station.ocpp_types import status_info
from ocpp_station.redact import token_text
from ocpp_station.rpc.endpoint import CallTimeout, ConnectionLost
from ocpp_station.rpc.errors import OCPPError
from ocpp_station.rpc.frames import lone_surrogate_path
from ocpp_station.storage import StorageUnavailable

CACHE_KEY = "auth.cache"
CACHE = "AuthCacheCtrlr"
DEFAULT_MAX_BYTES = 1_048_576

__all__ = ["CACHE_KEY", "AuthorizationBlock", "token_key"]


class ListLookup(Protocol):
    """The local authorization list as authorization reads it."""

    def lookup(self, id_token: dict[str, Any]) -> dict[str, Any] | None:
        """The listed IdTokenInfo (None: not listed, or the list is disabled)."""
        ...

    def disable_post_authorize(self) -> bool: ...


AnswerHook = Callable[[dict[str, Any], dict[str, Any]], Awaitable[None]]


class AuthorizationBlock(Block):
    def __init__(self, ctx: Context, local_list: ListLookup | None = None) -> None:
        super().__init__(ctx)
        self._list = local_list
        ctx.handlers.register("ClearCache", self.on_clear_cache)
        self.cache = AuthCache()
        self._unknown_offline: set[str] = set()  # keys let in by C15, kept out of the cache
        self._unsubscribe = lambda: None
        self._answer_hooks: list[AnswerHook] = []

    def on_answer(self, hook: AnswerHook) -> None:
        """Call ``hook(id_token, id_token_info)`` with every AuthorizeResponse (the tariff block
        shows its personal message, I01)."""
        self._answer_hooks.append(hook)

    async def start(self) -> None:
        record = self.ctx.state.load(CACHE_KEY)
        if not isinstance(record, dict):
            record = {}
        self.cache = AuthCache(record)
        self._unknown_offline = set(record.get("unknown_offline") or ())
        self._unsubscribe = self.ctx.dm.subscribe(self._on_change)
        if self.cache.shrink(self.ctx.now(), self.limits()):
            self._save()
        self._report_storage()

    async def stop(self) -> None:
        self._unsubscribe()

    # -- settings ------------------------------------------------------------------------------
    def _flag(self, component: str, variable: str, default: bool) -> bool:
        return self.ctx.dm.get_bool(component, variable, default=default)

    def required(self) -> bool:
        """``AuthCtrlr.Enabled``: false means nobody needs a token to charge."""
        return self._flag("AuthCtrlr", "Enabled", True)

    def settings(self) -> decision.AuthSettings:
        return decision.AuthSettings(
            local_pre_authorize=self._flag("AuthCtrlr", "LocalPreAuthorize", False),
            local_authorize_offline=self._flag("AuthCtrlr", "LocalAuthorizeOffline", True),
            offline_tx_for_unknown=self._flag("AuthCtrlr", "OfflineTxForUnknownIdEnabled", False),
            disable_remote_authorization=self._flag(
                "AuthCtrlr", "DisableRemoteAuthorization", False
            ),
            disable_post_authorize=self._flag(CACHE, "DisablePostAuthorize", False),
            list_disable_post_authorize=(
                self._list is not None and self._list.disable_post_authorize()
            ),
        )

    def limits(self) -> CacheLimits:
        dm = self.ctx.dm
        var = dm.definitions.by_key.get((CACHE, None, "Storage", None))
        ceiling = int(var.max_limit) if var is not None and var.max_limit else DEFAULT_MAX_BYTES
        max_set = dm.get_int(CACHE, "Storage", default=ceiling, attribute="MaxSet")
        return CacheLimits(
            lifetime=dm.get_float(CACHE, "LifeTime", default=86400.0),
            max_bytes=max(0, min(ceiling, max_set)),
            policy=dm.get_str(CACHE, "Policy", default="LRU"),
        )

    def master_pass(self, info: dict[str, Any]) -> bool:
        """Whether ``info`` is of a Master Pass token (C16, ``AuthCtrlr.MasterPassGroupId``)."""
        group = self.ctx.dm.get("AuthCtrlr", "MasterPassGroupId")
        return decision.is_master_pass(info, group)

    # -- deciding ------------------------------------------------------------------------------
    async def authorize(self, id_token: dict[str, Any]) -> dict[str, Any]:
        """Decide on a presented token; returns an IdTokenInfo (``status`` Accepted or not)."""
        if lone_surrogate_path(id_token) is not None:
            # No valid OCPP string (Part 4 section 4.1.2): refused here, never sent on.
            self.ctx.log.warning("id token refused: it is not valid UTF-8 text")
            return {"status": "Invalid"}
        if not self.required():
            return {"status": decision.ACCEPTED}  # AuthCtrlr.Enabled false: no authorization
        if decision.needs_no_authorize(id_token):
            return {"status": decision.ACCEPTED}  # C03.FR.01 / C05.FR.01: never an Authorize
        settings = self.settings()
        listed = self.listed(id_token)
        if listed is not None:  # C13.FR.01 / C14.FR.01: the list, not the cache
            local = decision.listed_online(listed, settings) if self.ctx.link.online else None
            if local is not None:
                return local
            answer = await self._ask_csms(id_token) if self.ctx.link.online else None
            return answer if answer is not None else decision.listed_offline(listed, settings)
        cached = self.cached(id_token)
        if self.ctx.link.online:
            local = decision.without_csms(cached, settings)
            if local is not None:
                return local
            answer = await self._ask_csms(id_token)
            if answer is not None:
                return answer
        result = decision.offline(cached, settings)
        if result.unknown_offline:  # C15.FR.01: not cached, not even from the later answer
            self._unknown_offline.add(token_key(id_token))
            self._save()
            self.ctx.log.info("%s let in offline as unknown", token_text(id_token))
        return result.info

    async def _ask_csms(self, id_token: dict[str, Any]) -> dict[str, Any] | None:
        """An AuthorizeRequest; the IdTokenInfo, or None when it failed (decide offline)."""
        try:
            response = await self.ctx.dispatcher.call("Authorize", {"idToken": id_token})
        except (CallTimeout, OCPPError, ConnectionLost) as exc:
            self.ctx.log.warning("Authorize failed (%s): deciding offline", exc)
            return None
        except NotReady as exc:  # the connection went between check and call
            self.ctx.log.info("Authorize not sent (%s): deciding offline", exc)
            return None
        info: dict[str, Any] = response["idTokenInfo"]
        self._unknown_offline.discard(token_key(id_token))
        self._store(id_token, info)
        for hook in self._answer_hooks:
            try:
                await hook(id_token, info)
            except Exception:  # a faulty listener must not change the decision
                self.ctx.log.exception("an AuthorizeResponse listener failed")
        return info

    def listed(self, id_token: dict[str, Any]) -> dict[str, Any] | None:
        """The local list's IdTokenInfo of ``id_token`` (None: not listed or no enabled list)."""
        return None if self._list is None else self._list.lookup(id_token)

    # -- the cache -----------------------------------------------------------------------------
    def cached(self, id_token: dict[str, Any]) -> dict[str, Any] | None:
        """The cached IdTokenInfo of ``id_token`` (None when the cache is disabled, or the token
        is absent or expired); a hit counts as a use for the Policy."""
        if not self._flag(CACHE, "Enabled", True):
            return None
        key = token_key(id_token)
        if key not in self.cache:
            return None
        info = self.cache.lookup(key, self.ctx.now(), self.limits())
        self._save()
        if info is None:
            self._report_storage()
        return info

    def remember(self, id_token: dict[str, Any], info: dict[str, Any]) -> None:
        """An IdTokenInfo from a TransactionEventResponse (C10.FR.05).  A token let in as unknown
        while offline stays out of the cache (C15.FR.01), so the next offline swipe is decided
        the same way."""
        key = token_key(id_token)
        if key in self._unknown_offline:
            self._unknown_offline.discard(key)
            self._save()
            return
        self._store(id_token, info)

    def _store(self, id_token: dict[str, Any], info: dict[str, Any]) -> None:
        if not self._flag(CACHE, "Enabled", True) or not decision.cacheable(id_token):
            return
        if self.listed(id_token) is not None:
            return  # the list decides this token: the cache never holds a second opinion
        stored = self.cache.store(token_key(id_token), info, self.ctx.now(), self.limits())
        if not stored:
            self.ctx.log.info("%s not cached (expired or too large)", token_text(id_token))
        self._save()
        self._report_storage()

    def _save(self) -> None:
        record = self.cache.to_record()
        record["unknown_offline"] = sorted(self._unknown_offline)
        try:
            self.ctx.state.save(CACHE_KEY, record)
        except StorageUnavailable:
            pass  # the cache is kept in memory; the store logged why it could not write

    def _report_storage(self) -> None:
        """``AuthCacheCtrlr.Storage`` Actual: the bytes the cache uses now."""
        used = self.cache.used_bytes
        if self.ctx.dm.get(CACHE, "Storage") != str(used):
            self.ctx.dm.set(CACHE, "Storage", used)

    def _on_change(self, change: VariableChange) -> None:
        """A lower Storage MaxSet, a shorter LifeTime or another Policy applies at once."""
        if change.component.get("name") != CACHE:
            return
        if change.variable.get("name") == "Storage" and change.attribute != "MaxSet":
            return  # the station's own report of the bytes used
        if self.cache.shrink(self.ctx.now(), self.limits()):
            self._save()
            self._report_storage()

    # CustomerInformation (N09/N10, the customer block) reads and clears what the cache holds
    # about one token, whether or not the cache is enabled now.
    def customer_records(self, id_token: dict[str, Any]) -> list[dict[str, Any]]:
        info = self.cache.peek(token_key(id_token))
        if info is None:
            return []
        return [{"source": "AuthorizationCache", "idToken": id_token, "idTokenInfo": info}]

    def clear_customer(self, id_token: dict[str, Any]) -> int:
        if not self.cache.remove(token_key(id_token)):
            return 0
        self._save()
        self._report_storage()
        return 1

    async def on_clear_cache(self, payload: dict[str, Any]) -> dict[str, Any]:
        # C11: Rejected when the cache is disabled (C11.FR.04), else emptied and Accepted.
        if not self._flag(CACHE, "Enabled", True):
            return {"status": "Rejected", "statusInfo": status_info("Disabled")}
        self.cache.clear()
        self._save()
        self._report_storage()
        return {"status": "Accepted"}
