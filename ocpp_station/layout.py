"""The station's EVSEs and their connectors: one rule, checked in one place.

OCPP 2.0.1 Part 1 numbers EVSEs 1..n and each EVSE's connectors 1..m, without gaps.  The config
loader reports a broken layout (with every other config problem); the pure cores that take a
layout (availability, reset) build an :class:`EvseLayout` with :meth:`EvseLayout.of`, which
applies the same rule, so no part keeps a check of its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def layout_problems(evses: Mapping[Any, Sequence[Any]]) -> list[str]:
    """Every problem of an EVSE layout ``{evse id: [connector ids]}`` (empty when it is fine)."""
    if not evses:
        return ["a station needs at least one EVSE"]
    problems: list[str] = []
    ids = list(evses)
    if any(not _is_id(e) for e in ids):
        return [f"EVSE ids must be integers, got {ids!r}"]
    if sorted(ids) != list(range(1, len(ids) + 1)):
        problems.append(f"EVSE ids must be 1..{len(ids)} without gaps, got {sorted(ids)!r}")
    for evse, connectors in evses.items():
        conns = list(connectors)
        if not conns:
            problems.append(f"EVSE {evse} has no connectors")
        elif any(not _is_id(c) for c in conns) or sorted(conns) != list(range(1, len(conns) + 1)):
            problems.append(f"EVSE {evse}: connector ids must be 1..{len(conns)}, got {conns!r}")
    return problems


@dataclass(frozen=True)
class EvseLayout:
    """A checked layout (build it with :meth:`of`)."""

    evses: Mapping[int, tuple[int, ...]]

    @classmethod
    def of(cls, evses: Mapping[int, Sequence[int]] | EvseLayout) -> EvseLayout:
        """The layout of ``evses``; ValueError naming every problem of a broken one."""
        if isinstance(evses, EvseLayout):
            return evses
        problems = layout_problems(evses)
        if problems:
            raise ValueError("; ".join(problems))
        return cls({e: tuple(c) for e, c in sorted(evses.items())})

    def ids(self) -> list[int]:
        return list(self.evses)

    def connectors(self, evse: int) -> list[int]:
        return list(self.evses.get(evse, ()))

    def has(self, evse: int, connector: int | None = None) -> bool:
        if evse not in self.evses:
            return False
        return connector is None or connector in self.evses[evse]
