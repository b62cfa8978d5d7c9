"""Where a value lives: EVSE layouts, instances of a variable, and the names of one address (pure).

An address is ``(variable, evse, connector)`` with ``0`` for "no EVSE/connector" (OCPP ids start
at 1).  In memory a value is keyed by ``(slot, evse, connector)`` small ints (``slot`` indexes the
shared :class:`~device_model.definitions_loader.Definitions`); in SQLite by names
(:data:`RowKey`), so reordered definitions still find their rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from device_model.definitions_loader import VariableDef

Key = tuple[int, int, int]  # (slot, evse or 0, connector or 0)
# (component, component_instance, evse, connector, variable, variable_instance, attribute)
RowKey = tuple[str, str, int, int, str, str, str]
EvseLayout = dict[int, tuple[int, ...]]  # EVSE id -> sorted connector ids


def check_evses(evses: Mapping[int, Sequence[int]]) -> tuple[EvseLayout, list[str]]:
    """The EVSE layout with sorted connector ids, and every problem found in it."""
    out: EvseLayout = {}
    errors: list[str] = []
    for evse, connectors in evses.items():
        if isinstance(evse, bool) or not isinstance(evse, int) or evse < 1:
            errors.append(f"evses: EVSE id {evse!r} must be an integer >= 1")
            continue
        if isinstance(connectors, str | bytes) or not isinstance(connectors, Sequence):
            errors.append(f"evses: connectors of EVSE {evse} must be a list of integers")
            continue
        ids = list(connectors)
        bad = [c for c in ids if isinstance(c, bool) or not isinstance(c, int) or c < 1]
        if bad:
            errors.append(f"evses: EVSE {evse} connector ids {bad!r} must be integers >= 1")
        elif not ids:
            errors.append(f"evses: EVSE {evse} has no connectors")
        elif len(set(ids)) != len(ids):
            errors.append(f"evses: EVSE {evse} lists a connector id twice: {ids}")
        else:
            out[evse] = tuple(sorted(ids))
    return out, errors


def instances(scope: str, evses: Mapping[int, Sequence[int]]) -> list[tuple[int, int]]:
    """The (evse, connector) instances of a component scope on this layout (0 = none)."""
    if scope == "station":
        return [(0, 0)]
    if scope == "evse":
        return [(e, 0) for e in sorted(evses)]
    return [(e, c) for e in sorted(evses) for c in sorted(evses[e])]


def address_ok(
    scope: str, evses: Mapping[int, Sequence[int]], evse: int | None, connector: int | None
) -> bool:
    """Whether ``evse``/``connector`` (None = absent) address a component of ``scope``."""
    if scope == "station":
        return evse is None and connector is None
    if evse is None or evse not in evses:
        return False
    if scope == "evse":
        return connector is None
    return connector is not None and connector in evses[evse]


def row_key(var: VariableDef, attr: str, evse: int, connector: int) -> RowKey:
    """The SQLite key of one attribute value (absent instances stored as ``''``)."""
    return (
        var.component,
        var.component_instance or "",
        evse,
        connector,
        var.name,
        var.instance or "",
        attr,
    )


def component_dict(var: VariableDef, evse: int, connector: int) -> dict[str, Any]:
    """OCPP ComponentType of ``var`` at ``evse``/``connector``."""
    out: dict[str, Any] = {"name": var.component}
    if var.component_instance is not None:
        out["instance"] = var.component_instance
    if evse:
        out["evse"] = {"id": evse, "connectorId": connector} if connector else {"id": evse}
    return out


def variable_dict(var: VariableDef) -> dict[str, Any]:
    """OCPP VariableType of ``var``."""
    out: dict[str, Any] = {"name": var.name}
    if var.instance is not None:
        out["instance"] = var.instance
    return out


def label(var: VariableDef, evse: int, connector: int) -> str:
    """Human-readable address in the seed-key notation, e.g. ``Connector[1,2].ConnectorType``."""
    index = f"[{evse},{connector}]" if connector else (f"[{evse}]" if evse else "")
    if var.component_instance is not None and not index:
        index = f"[{var.component_instance}]"
    inst = f"[{var.instance}]" if var.instance is not None else ""
    return f"{var.component}{index}.{var.name}{inst}"
