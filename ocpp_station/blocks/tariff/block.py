"""Tariff and cost (I01-I06): what the CSMS tells the driver about the tariff and the cost of a
transaction, put on the display through the display block (:mod:`.lines` says which lines).

Sources: the AuthorizeResponse's ``idTokenInfo.personalMessage`` (the authorization block's
answer hook, I01); the TransactionEventResponses the transactions block publishes on the bus
(``idTokenInfo.personalMessage`` and ``updatedPersonalMessage``: the tariff, I01/I06;
``totalCost``: the running cost, I02, and the total cost on the Ended event, I03); CostUpdated
(the running cost, I02); while offline the fallback messages of ``TariffCostCtrlr`` (I04, I05).
``TariffCostCtrlr.Enabled[Tariff]`` and ``Enabled[Cost]`` switch the two kinds of lines off.
"""

from __future__ import annotations

from typing import Any, Protocol

from ocpp_station.blocks.base import Block
from ocpp_station.blocks.tariff import lines
from ocpp_station.blocks.tariff.lines import TariffScreen
from ocpp_station.context import Context

CTRLR = "TariffCostCtrlr"
SOURCE = "tariff"


class Screen(Protocol):
    async def put(self, source: str, lines: list[dict[str, Any]]) -> None: ...


class TariffBlock(Block):
    def __init__(self, ctx: Context, screen: Screen) -> None:
        super().__init__(ctx)
        self._screen = screen
        self.screen = TariffScreen()
        self._unsubscribe: Any = None
        ctx.handlers.register("CostUpdated", self.on_cost_updated)

    async def start(self) -> None:
        self._unsubscribe = self.ctx.bus.subscribe(
            self._on_publication,
            topics=("ocpp_transaction_event", "ocpp_transaction_event_response"),
        )

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _enabled(self, kind: str) -> bool:
        return self.ctx.dm.get_bool(CTRLR, "Enabled", variable_instance=kind, default=True)

    def _currency(self) -> str:
        return self.ctx.dm.get_str(CTRLR, "Currency", default="EUR")

    async def _show(self) -> None:
        await self._screen.put(SOURCE, self.screen.lines())

    # -- sources ---------------------------------------------------------------------------------
    async def authorized(self, id_token: dict[str, Any], info: dict[str, Any]) -> None:
        """An AuthorizeResponse's IdTokenInfo (I01: its personal message is the tariff)."""
        message = info.get("personalMessage")
        if message is not None and self._enabled("Tariff"):
            self.screen.tariff[lines.AUTHORIZE] = lines.personal_line(lines.AUTHORIZE, message)
            await self._show()

    async def on_cost_updated(self, payload: dict[str, Any]) -> dict[str, Any]:
        """I02: the running cost of a transaction, pushed by the CSMS."""
        if self._enabled("Cost"):
            tx = payload["transactionId"]
            line = lines.cost_line(tx, payload["totalCost"], self._currency(), final=False)
            self.screen.cost[tx] = line
            await self._show()
        return {}

    async def _on_publication(self, topic: str, data: Any) -> None:
        if topic == "ocpp_transaction_event":
            await self._on_event(data)
        elif topic == "ocpp_transaction_event_response":
            await self._on_response(data["request"], data["response"])

    async def _on_event(self, event: dict[str, Any]) -> None:
        tx = event["transactionInfo"]["transactionId"]
        kind = event["eventType"]
        offline = not self.ctx.link.online
        if kind == "Started":
            self.screen.started(tx)
            text = self.ctx.dm.get_str(CTRLR, "TariffFallbackMessage", default="")
            if offline and text and self._enabled("Tariff") and tx not in self.screen.tariff:
                self.screen.tariff[tx] = lines.fallback_line(tx, "tariff", text)  # I04
        elif kind == "Ended":
            self.screen.finished(tx)
            text = self.ctx.dm.get_str(CTRLR, "TotalCostFallbackMessage", default="")
            if offline and text and self._enabled("Cost"):
                self.screen.cost[tx] = lines.fallback_line(tx, "cost", text)  # I05
        else:
            return
        await self._show()

    async def _on_response(self, request: dict[str, Any], response: dict[str, Any]) -> None:
        tx = request["transactionInfo"]["transactionId"]
        final = request["eventType"] == "Ended"
        message = response.get("updatedPersonalMessage") or (response.get("idTokenInfo") or {}).get(
            "personalMessage"
        )
        changed = False
        if message is not None and self._enabled("Tariff"):  # I01, I06
            self.screen.tariff[tx] = lines.personal_line(tx, message)
            changed = True
        if "totalCost" in response and self._enabled("Cost"):  # I02, I03
            self.screen.cost[tx] = lines.cost_line(
                tx, response["totalCost"], self._currency(), final=final
            )
            changed = True
        if changed:
            await self._show()
