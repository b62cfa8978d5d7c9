"""The device model of one station: values in memory, writes committed to SQLite.

Per station only the values are held: a dict keyed by ``(slot, evse, connector)`` small-int
tuples (``slot`` indexes the shared :class:`Definitions`, ``0`` means "no EVSE/connector").
Reads never touch the database.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from device_model import ocpp_io
from device_model.definitions_loader import (
    AttributeDef,
    DefinitionError,
    Definitions,
    VariableDef,
    load_definitions,
)
from device_model.seed import parse_seed
from device_model.store import RowKey, Store
from device_model.values import InvalidValue, check_value, to_text
from ocpp_station.clock import Clock, iso

log = logging.getLogger(__name__)

Key = tuple[int, int, int]  # (slot, evse or 0, connector or 0)
_DATETIME = ("ClockCtrlr", None, "DateTime", None)


class DeviceModelConfigError(Exception):
    """The station config does not fit the device model; ``errors`` lists every problem."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__(
            f"{len(errors)} problem(s) in the device-model configuration:\n"
            + "\n".join(f"  - {e}" for e in errors)
        )


@dataclass(frozen=True, slots=True)
class VariableChange:
    """One committed attribute change (``component``/``variable`` in OCPP ComponentType /
    VariableType shape)."""

    component: dict[str, Any]
    variable: dict[str, Any]
    attribute: str
    old: str | None
    new: str
    source: str


@dataclass(slots=True)
class Change:
    var: VariableDef
    attr: AttributeDef
    evse: int
    connector: int
    old: str | None
    new: str


def _check_evses(
    evses: Mapping[int, Sequence[int]],
) -> tuple[dict[int, tuple[int, ...]], list[str]]:
    out: dict[int, tuple[int, ...]] = {}
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


def row_key(var: VariableDef, attr: str, evse: int, connector: int) -> RowKey:
    return (
        var.component,
        var.component_instance or "",
        evse,
        connector,
        var.name,
        var.instance or "",
        attr,
    )


class DeviceModel:
    """Components, variables and attribute values of one station (see ``device_model``)."""

    def __init__(
        self,
        defs: Definitions,
        evses: dict[int, tuple[int, ...]],
        store: Store,
        values: dict[Key, str],
        clock: Clock | None,
    ) -> None:
        self.definitions = defs
        self.evses = evses
        self._store = store
        self._values = values
        self._clock = clock
        self._subscribers: list[Callable[[VariableChange], None]] = []

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        evses: Mapping[int, Sequence[int]],
        seed: Mapping[str, object] | None = None,
        *,
        definitions: Definitions | str | os.PathLike[str] | None = None,
        clock: Clock | None = None,
    ) -> DeviceModel:
        """Open (or create) the device model stored at ``path``.

        ``seed`` values apply to a persistent attribute only when it has no stored value yet (new
        database, new variable, or never set); constant and non-persistent attributes take the
        seed (else their default) at every open.  All config problems raise one
        :class:`DeviceModelConfigError`.  ``definitions``: a directory or a loaded
        :class:`Definitions` (default: the packaged ones).  ``clock``: when given,
        ``ClockCtrlr.DateTime`` reads the current time from it."""
        try:
            defs = (
                definitions
                if isinstance(definitions, Definitions)
                else load_definitions(definitions)
            )
        except DefinitionError as exc:
            raise DeviceModelConfigError(exc.errors) from exc
        checked, errors = _check_evses(evses)
        seeded, seed_errors = parse_seed(defs, checked, seed or {})
        errors += seed_errors
        if errors:
            raise DeviceModelConfigError(errors)
        store = Store(path)
        try:
            values, to_write = cls._merge(defs, checked, store.load(), seeded)
            store.write(to_write)
        except BaseException:
            store.close()
            raise
        return cls(defs, checked, store, values, clock)

    @staticmethod
    def _merge(
        defs: Definitions,
        evses: dict[int, tuple[int, ...]],
        stored: dict[RowKey, str | None],
        seeded: dict[Key, str],
    ) -> tuple[dict[Key, str], list[tuple[RowKey, str | None]]]:
        """Combine definitions, stored rows and seed values into the in-memory values and the
        rows to insert.  Stored rows of removed definitions (or removed EVSEs) are ignored and
        left in the file, so going back to an older release finds them again."""
        values: dict[Key, str] = {}
        to_write: list[tuple[RowKey, str | None]] = []
        for var, attr in defs.slots:
            for evse, connector in instances(var.scope, evses):
                key = (attr.slot, evse, connector)
                fresh = seeded.get(key, attr.default)
                value: str | None = fresh
                if attr.persistent and not attr.constant:
                    rk = row_key(var, attr.type, evse, connector)
                    old = stored.get(rk)
                    if old is not None:
                        try:
                            value = check_value(var, old)
                        except InvalidValue as exc:
                            log.warning(
                                "%s: stored value %r no longer valid (%s); using %r",
                                ocpp_io.label(var, evse, connector),
                                old,
                                exc.message,
                                fresh,
                            )
                            to_write.append((rk, fresh))
                    elif rk not in stored or fresh is not None:
                        to_write.append((rk, fresh))
                if value is not None:
                    values[key] = value
        return values, to_write

    def close(self) -> None:
        self._store.close()

    # ------------------------------------------------------------------ addressing
    def instances_of(self, var: VariableDef) -> list[tuple[int, int]]:
        """The (evse, connector) instances of ``var`` on this station (0 = none)."""
        return instances(var.scope, self.evses)

    def address_ok(self, scope: str, evse: int | None, connector: int | None) -> bool:
        if scope == "station":
            return evse is None and connector is None
        if evse is None or evse not in self.evses:
            return False
        if scope == "evse":
            return connector is None
        return connector is not None and connector in self.evses[evse]

    def value_of(self, var: VariableDef, attr: str, evse: int, connector: int) -> str | None:
        """Raw value by definition (evse/connector 0 = none); no address check."""
        a = var.attributes.get(attr)
        if a is None:
            return None
        if self._clock is not None and attr == "Actual" and var.key == _DATETIME:
            return iso(self._clock.time())
        return self._values.get((a.slot, evse, connector))

    def _lookup(
        self,
        component: str,
        variable: str,
        evse: int | None,
        connector: int | None,
        component_instance: str | None,
        variable_instance: str | None,
    ) -> VariableDef | None:
        var = self.definitions.by_key.get(
            (component, component_instance or None, variable, variable_instance or None)
        )
        if var is None or not self.address_ok(var.scope, evse, connector):
            return None
        return var

    # ------------------------------------------------------------------ reads
    def get(
        self,
        component: str,
        variable: str,
        *,
        evse: int | None = None,
        connector: int | None = None,
        component_instance: str | None = None,
        variable_instance: str | None = None,
        attribute: str = "Actual",
    ) -> str | None:
        """The raw value, or None if the variable/attribute is unknown or has no value."""
        var = self._lookup(
            component, variable, evse, connector, component_instance, variable_instance
        )
        if var is None:
            return None
        return self.value_of(var, attribute, evse or 0, connector or 0)

    def _typed(
        self,
        component: str,
        variable: str,
        addr: dict[str, Any],
        default: Any,
        conv: Callable[[str], Any],
    ) -> Any:
        raw = self.get(component, variable, **addr)
        if raw is not None:
            try:
                return conv(raw)
            except ValueError:
                log.warning("%s.%s: value %r is not a %s", component, variable, raw, conv.__name__)
        if default is not None:
            return default
        where = {k: v for k, v in addr.items() if v is not None and k != "attribute"}
        raise KeyError(f"{component}.{variable} {where or ''} has no value and no default")

    def get_int(
        self,
        component: str,
        variable: str,
        *,
        evse: int | None = None,
        connector: int | None = None,
        component_instance: str | None = None,
        variable_instance: str | None = None,
        attribute: str = "Actual",
        default: int | None = None,
    ) -> int:
        """``get`` as int; ``default`` when unknown, unset or not an integer; KeyError if no
        default.  ``get_float``, ``get_bool`` and ``get_str`` work the same way."""
        addr = _addr(evse, connector, component_instance, variable_instance, attribute)
        result: int = self._typed(component, variable, addr, default, int)
        return result

    def get_float(
        self,
        component: str,
        variable: str,
        *,
        evse: int | None = None,
        connector: int | None = None,
        component_instance: str | None = None,
        variable_instance: str | None = None,
        attribute: str = "Actual",
        default: float | None = None,
    ) -> float:
        addr = _addr(evse, connector, component_instance, variable_instance, attribute)
        result: float = self._typed(component, variable, addr, default, float)
        return result

    def get_bool(
        self,
        component: str,
        variable: str,
        *,
        evse: int | None = None,
        connector: int | None = None,
        component_instance: str | None = None,
        variable_instance: str | None = None,
        attribute: str = "Actual",
        default: bool | None = None,
    ) -> bool:
        addr = _addr(evse, connector, component_instance, variable_instance, attribute)
        result: bool = self._typed(component, variable, addr, default, _to_bool)
        return result

    def get_str(
        self,
        component: str,
        variable: str,
        *,
        evse: int | None = None,
        connector: int | None = None,
        component_instance: str | None = None,
        variable_instance: str | None = None,
        attribute: str = "Actual",
        default: str | None = None,
    ) -> str:
        addr = _addr(evse, connector, component_instance, variable_instance, attribute)
        result: str = self._typed(component, variable, addr, default, str)
        return result

    def get_list(
        self,
        component: str,
        variable: str,
        *,
        evse: int | None = None,
        connector: int | None = None,
        component_instance: str | None = None,
        variable_instance: str | None = None,
        attribute: str = "Actual",
    ) -> list[str]:
        """A comma-separated value as a list (empty if unknown or unset)."""
        addr = _addr(evse, connector, component_instance, variable_instance, attribute)
        raw = self.get(component, variable, **addr)
        return [item.strip() for item in raw.split(",") if item.strip()] if raw else []

    def variables(self) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """Every (ComponentType, VariableType) pair of this station, in definition order."""
        for var in self.definitions.variables:
            for evse, connector in self.instances_of(var):
                yield ocpp_io.component_dict(var, evse, connector), ocpp_io.variable_dict(var)

    # ------------------------------------------------------------------ writes
    def set(
        self,
        component: str,
        variable: str,
        value: str | int | float | bool | Sequence[str],
        *,
        evse: int | None = None,
        connector: int | None = None,
        component_instance: str | None = None,
        variable_instance: str | None = None,
        attribute: str = "Actual",
        source: str = "station",
    ) -> str:
        """Internal write by the station (mutability not checked; type and limits are).
        Returns a SetVariableStatusEnumType value; constant attributes are Rejected."""
        if (component, component_instance or None) not in self.definitions.components:
            return "UnknownComponent"
        var = self._lookup(
            component, variable, evse, connector, component_instance, variable_instance
        )
        if var is None:
            scope = self.definitions.components[(component, component_instance or None)]
            return (
                "UnknownComponent"
                if not self.address_ok(scope, evse, connector)
                else "UnknownVariable"
            )
        attr = var.attributes.get(attribute)
        if attr is None:
            return "NotSupportedAttributeType"
        label = ocpp_io.label(var, evse or 0, connector or 0)
        if attr.constant:
            log.warning("%s: constant, set by config only", label)
            return "Rejected"
        try:
            text = check_value(var, to_text(value))
        except (TypeError, InvalidValue) as exc:
            log.warning("%s: set(%r) rejected: %s", label, value, exc)
            return "Rejected"
        change = Change(
            var,
            attr,
            evse or 0,
            connector or 0,
            self.value_of(var, attribute, evse or 0, connector or 0),
            text,
        )
        try:
            self.commit([change], source)
        except Exception:
            log.exception("%s: could not store the new value", label)
            return "Rejected"
        return "RebootRequired" if var.reboot_required and change.old != text else "Accepted"

    def commit(self, changes: list[Change], source: str) -> None:
        """Store ``changes`` (one transaction), update memory, then notify subscribers."""
        real = [c for c in changes if c.old != c.new]
        self._store.write(
            (row_key(c.var, c.attr.type, c.evse, c.connector), c.new)
            for c in real
            if c.attr.persistent and not c.attr.constant
        )
        for c in real:
            self._values[(c.attr.slot, c.evse, c.connector)] = c.new
        for c in real:
            event = VariableChange(
                ocpp_io.component_dict(c.var, c.evse, c.connector),
                ocpp_io.variable_dict(c.var),
                c.attr.type,
                c.old,
                c.new,
                source,
            )
            for callback in list(self._subscribers):
                try:
                    callback(event)
                except Exception:
                    log.exception("device-model subscriber %r failed", callback)

    def subscribe(self, callback: Callable[[VariableChange], None]) -> Callable[[], None]:
        """Call ``callback`` after every committed value change; returns the unsubscribe."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    # ------------------------------------------------------------------ OCPP
    def get_variables(self, data: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """GetVariableDataType dicts → GetVariableResultType dicts, same order (B06)."""
        return ocpp_io.get_variables(self, data)

    def set_variables(
        self, data: list[dict[str, Any]], source: str = "csms"
    ) -> list[dict[str, Any]]:
        """SetVariableDataType dicts → SetVariableResultType dicts, same order (B05)."""
        return ocpp_io.set_variables(self, data, source)

    def report(
        self,
        *,
        base: str | None = None,
        criteria: Sequence[str] | None = None,
        component_variables: Sequence[dict[str, Any]] | None = None,
    ) -> list[dict[str, Any]]:
        """ReportDataType dicts: ``base`` for GetBaseReport (ConfigurationInventory,
        FullInventory, SummaryInventory), else the GetReport filters (B08)."""
        from device_model.report import build_report

        return build_report(
            self, base=base, criteria=criteria, component_variables=component_variables
        )


def _addr(
    evse: int | None,
    connector: int | None,
    component_instance: str | None,
    variable_instance: str | None,
    attribute: str,
) -> dict[str, Any]:
    return {
        "evse": evse,
        "connector": connector,
        "component_instance": component_instance,
        "variable_instance": variable_instance,
        "attribute": attribute,
    }


def _to_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered not in ("true", "false"):
        raise ValueError(text)
    return lowered == "true"


_to_bool.__name__ = "bool"


def instances(scope: str, evses: Mapping[int, Sequence[int]]) -> list[tuple[int, int]]:
    if scope == "station":
        return [(0, 0)]
    if scope == "evse":
        return [(e, 0) for e in sorted(evses)]
    return [(e, c) for e in sorted(evses) for c in sorted(evses[e])]
