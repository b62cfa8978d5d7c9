"""Authorization (use cases C01–C12): Authorize, the authorization cache, offline rules.

Online, a presented token is authorized by the CSMS (``Authorize``), unless
``AuthCtrlr.LocalPreAuthorize`` lets an Accepted, unexpired cache entry start at once (C10).
Offline, a cached Accepted token is accepted when ``AuthCtrlr.LocalAuthorizeOffline`` is true
(C12), and an unknown token when ``AuthCtrlr.OfflineTxForUnknownIdEnabled`` is true (C15).  Every
IdTokenInfo the CSMS returns (from Authorize or TransactionEventResponse) updates the cache when
``AuthCacheCtrlr.Enabled`` (C10.FR.01); entries expire after ``AuthCacheCtrlr.LifeTime`` or the
CSMS's ``cacheExpiryDateTime``.  The cache lives in the station's SQLite state store, so it
survives restarts."""

from __future__ import annotations

from typing import Any

from ocpp_station.blocks.base import Block
from ocpp_station.clock import parse_iso
from ocpp_station.context import Context
from ocpp_station.dispatch.dispatcher import NotReady
from ocpp_station.rpc.endpoint import CallTimeout, ConnectionLost
from ocpp_station.rpc.errors import OCPPError

CACHE_KEY = "auth.cache"


def token_key(id_token: dict[str, Any]) -> str:
    return f"{id_token.get('type', '')}:{id_token.get('idToken', '')}"


class AuthorizationBlock(Block):
    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        ctx.handlers.register("ClearCache", self.on_clear_cache)
        self.cache: dict[str, dict[str, Any]] = {}

    async def start(self) -> None:
        self.cache = dict(self.ctx.state.load(CACHE_KEY) or {})

    def _flag(self, component: str, variable: str, default: bool) -> bool:
        return self.ctx.dm.get_bool(component, variable, default=default)

    async def authorize(self, id_token: dict[str, Any]) -> dict[str, Any]:
        """Decide on a presented token; returns an IdTokenInfo (``status`` Accepted or not)."""
        if not self._flag("AuthCtrlr", "Enabled", True):
            return {"status": "Accepted"}  # C01: authorization disabled, every token may charge
        cached = self.cached(id_token)
        if self.ctx.link.online:
            if (
                cached is not None
                and cached.get("status") == "Accepted"
                and self._flag("AuthCtrlr", "LocalPreAuthorize", False)
            ):
                return cached  # C10.FR.03: start at once, the TransactionEvent tells the CSMS
            if self._flag("AuthCtrlr", "DisableRemoteAuthorization", False):
                return cached if cached is not None else {"status": "Unknown"}
            try:
                response = await self.ctx.dispatcher.call("Authorize", {"idToken": id_token})
            except (CallTimeout, OCPPError, ConnectionLost) as exc:
                self.ctx.log.warning("Authorize failed (%s): deciding offline", exc)
            except NotReady as exc:  # the connection went between check and call
                self.ctx.log.info("Authorize not sent (%s): deciding offline", exc)
            else:
                info: dict[str, Any] = response["idTokenInfo"]
                self.remember(id_token, info)
                return info
        return self._offline_decision(cached)

    def _offline_decision(self, cached: dict[str, Any] | None) -> dict[str, Any]:
        """C12/C15: offline, a cached token counts only with LocalAuthorizeOffline (a cached
        refusal always counts); an unknown one only with OfflineTxForUnknownIdEnabled."""
        if cached is not None:
            if cached.get("status") != "Accepted":
                return cached
            if self._flag("AuthCtrlr", "LocalAuthorizeOffline", True):
                return cached
            return {"status": "Unknown"}
        if self._flag("AuthCtrlr", "OfflineTxForUnknownIdEnabled", False):
            return {"status": "Accepted"}
        return {"status": "Unknown"}

    def cached(self, id_token: dict[str, Any]) -> dict[str, Any] | None:
        if not self._flag("AuthCacheCtrlr", "Enabled", True):
            return None
        entry = self.cache.get(token_key(id_token))
        if entry is None:
            return None
        if entry.get("expires", float("inf")) <= self.ctx.now():
            del self.cache[token_key(id_token)]
            self._save()
            return None
        info: dict[str, Any] = entry["info"]
        return info

    def remember(self, id_token: dict[str, Any], info: dict[str, Any]) -> None:
        if not self._flag("AuthCacheCtrlr", "Enabled", True):
            return
        if id_token.get("type") in ("NoAuthorization", "Central"):
            return
        lifetime = self.ctx.dm.get_int("AuthCacheCtrlr", "LifeTime", default=86400)
        expires = self.ctx.now() + lifetime
        if "cacheExpiryDateTime" in info:
            try:
                expires = parse_iso(info["cacheExpiryDateTime"])
            except ValueError:
                pass
        self.cache[token_key(id_token)] = {"info": info, "expires": expires}
        self._save()

    def _save(self) -> None:
        self.ctx.state.save(CACHE_KEY, self.cache)

    # CustomerInformation (N09/N10, the customer block) reads and clears what the cache holds
    # about one token, whether or not the cache is enabled now.
    def customer_records(self, id_token: dict[str, Any]) -> list[dict[str, Any]]:
        entry = self.cache.get(token_key(id_token))
        if entry is None:
            return []
        record = {"source": "AuthorizationCache", "idToken": id_token, "idTokenInfo": entry["info"]}
        return [record]

    def clear_customer(self, id_token: dict[str, Any]) -> int:
        if self.cache.pop(token_key(id_token), None) is None:
            return 0
        self._save()
        return 1

    async def on_clear_cache(self, payload: dict[str, Any]) -> dict[str, Any]:
        # C11: Rejected when the cache is disabled, else emptied and Accepted.
        if not self._flag("AuthCacheCtrlr", "Enabled", True):
            return {"status": "Rejected", "statusInfo": {"reasonCode": "Disabled"}}
        self.cache.clear()
        self._save()
        return {"status": "Accepted"}
