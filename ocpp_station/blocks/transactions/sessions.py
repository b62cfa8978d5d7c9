"""The running sessions, as the other blocks see them: a read-only view of the transaction
engines, written by the transactions block alone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ocpp_station.blocks.transactions.engine import EvseTransaction

FinishedListener = Callable[[int], Awaitable[None]]


@dataclass(frozen=True)
class RunningTransaction:
    transaction_id: str
    started_at: float | None
    authorized: bool


@dataclass
class Sessions:
    engines: dict[int, EvseTransaction] = field(default_factory=dict)
    _finished: list[FinishedListener] = field(default_factory=list)

    def busy_evses(self) -> set[int]:
        """EVSEs with a transaction or an authorized session."""
        return {evse for evse, engine in self.engines.items() if engine.active()}

    def transactions(self) -> dict[int, str]:
        """The running transaction id per EVSE."""
        return {
            evse: engine.transaction_id
            for evse, engine in self.engines.items()
            if engine.active() and engine.transaction_id
        }

    def running(self, evse: int) -> RunningTransaction | None:
        engine = self.engines.get(evse)
        if engine is None or not engine.active() or engine.transaction_id is None:
            return None
        return RunningTransaction(
            engine.transaction_id, engine.started_at, engine.id_token is not None
        )

    def authorized(self, evse: int) -> bool:
        """An authorization is in force on this EVSE (with or without a transaction yet)."""
        engine = self.engines.get(evse)
        return engine is not None and engine.id_token is not None

    def add_finished_listener(self, listener: FinishedListener) -> None:
        """``listener(evse)`` after a transaction ended (and the blocks built before the
        transactions block, availability and smart charging, were told)."""
        self._finished.append(listener)

    async def notify_finished(self, evse: int) -> None:
        for listener in list(self._finished):
            await listener(evse)
