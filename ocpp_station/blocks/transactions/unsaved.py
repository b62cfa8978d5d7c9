"""What an EVSE's inputs produced while the station store could not write (a full disk).

Pure bookkeeping for the transactions block: a TransactionEvent is never sent, and energy never
switched on, before it is committed with the engine state that produced it.  While the store
refuses, the events wait here in order (a later input's events go behind them: no seqNo gap) with
the outputs that must follow the commit (power on, the end of a transaction); switching energy
off never waits.  The block retries on every input and on its timer, so the EVSE goes on by
itself when space returns.
"""

from __future__ import annotations

from typing import Any

from ocpp_station.blocks.transactions.types import SetPower

Message = tuple[str, dict[str, Any]]


def powers_off(output: Any) -> bool:
    return isinstance(output, SetPower) and not output.allowed


class Unsaved:
    def __init__(self) -> None:
        self._events: dict[int, list[Message]] = {}
        self._outputs: dict[int, list[Any]] = {}

    def has(self, evse: int) -> bool:
        return evse in self._events

    def evses(self) -> list[int]:
        return list(self._events)

    def take(
        self, evse: int, events: list[Message], outputs: list[Any]
    ) -> tuple[list[Message], list[Any]]:
        """The held events and outputs of ``evse`` followed by the new ones (which this input
        produced); a new power-off cancels a held power-on."""
        held_events = self._events.pop(evse, [])
        held_outputs = self._outputs.pop(evse, [])
        if any(powers_off(out) for out in outputs):
            held_outputs = [out for out in held_outputs if not isinstance(out, SetPower)]
        return held_events + events, held_outputs + outputs

    def keep(self, evse: int, events: list[Message], outputs: list[Any]) -> None:
        """Hold what could not be committed; power-offs are carried out at once, not held."""
        self._events[evse] = events
        self._outputs[evse] = [out for out in outputs if not powers_off(out)]
