"""The tariff and cost lines of the display (I01-I06).  Pure.

Per transaction the station keeps at most one personal-message line (the tariff, I01, updated
during the transaction, I06) and one cost line: the running cost (a TransactionEventResponse
``totalCost`` while the transaction runs, or a CostUpdated, I02) and then the total cost (the
``totalCost`` answering the Ended event, I03).  The AuthorizeResponse's personal message is kept
under the token until a transaction starts, then under that transaction.  The fallback messages
of ``TariffCostCtrlr`` stand in while offline: ``TariffFallbackMessage`` when a transaction
starts (I04), ``TotalCostFallbackMessage`` when it ends (I05).  The lines of ended transactions
stay up until the next transaction starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PRIORITY = "InFront"
AUTHORIZE = "authorize"


def personal_line(key: str, message: dict[str, Any]) -> dict[str, Any]:
    """A MessageContentType as the tariff line of ``key``."""
    out: dict[str, Any] = {
        "id": f"tariff:{key}",
        "source": "PersonalMessage",
        "priority": PRIORITY,
        "format": message["format"],
        "content": message["content"],
    }
    if "language" in message:
        out["language"] = message["language"]
    if key != AUTHORIZE:
        out["transactionId"] = key
    return out


def cost_line(tx: str, cost: float, currency: str, final: bool) -> dict[str, Any]:
    label = "Total cost" if final else "Cost so far"
    return {
        "id": f"cost:{tx}",
        "source": "Cost",
        "priority": PRIORITY,
        "format": "UTF8",
        "content": f"{label}: {cost:.2f} {currency}",
        "transactionId": tx,
        "totalCost": cost,
        "currency": currency,
        "final": final,
    }


def fallback_line(tx: str, kind: str, text: str) -> dict[str, Any]:
    """``kind``: ``tariff`` or ``cost``."""
    return {
        "id": f"{kind}:{tx}",
        "source": "Fallback",
        "priority": PRIORITY,
        "format": "UTF8",
        "content": text,
        "transactionId": tx,
    }


@dataclass
class TariffScreen:
    tariff: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> line
    cost: dict[str, dict[str, Any]] = field(default_factory=dict)  # transaction id -> line
    ended: set[str] = field(default_factory=set)

    def lines(self) -> list[dict[str, Any]]:
        return [*self.tariff.values(), *self.cost.values()]

    def started(self, tx: str) -> None:
        """A transaction started: the lines of ended ones go, the token's message moves to it."""
        for old in self.ended:
            self.tariff.pop(old, None)
            self.cost.pop(old, None)
        self.ended.clear()
        line = self.tariff.pop(AUTHORIZE, None)
        if line is not None:
            self.tariff[tx] = {**line, "id": f"tariff:{tx}", "transactionId": tx}

    def finished(self, tx: str) -> None:
        self.ended.add(tx)
