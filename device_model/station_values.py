"""The attribute values of one station: addressing, typed reads, writes and change events.

Per station only the values are held: a dict keyed by ``(slot, evse, connector)`` small-int
tuples (``slot`` indexes the shared :class:`Definitions`, ``0`` means "no EVSE/connector").
Reads never touch the database; a write is committed to the store before memory changes and
before subscribers hear of it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypedDict, TypeVar, Unpack

from device_model import addressing
from device_model.addressing import EvseLayout, Key, component_dict, label, variable_dict
from device_model.clock import Clock, iso
from device_model.definitions_loader import AttributeDef, Definitions, VariableDef
from device_model.store import Store
from device_model.values import InvalidValue, check_value, to_text

log = logging.getLogger(__name__)

T = TypeVar("T")
_DATETIME = ("ClockCtrlr", None, "DateTime", None)


class Where(TypedDict, total=False):
    """The optional address of a read: EVSE/connector ids, instances and the attribute type
    (``Actual`` unless given).  Absent and ``None`` mean the same."""

    evse: int | None
    connector: int | None
    component_instance: str | None
    variable_instance: str | None
    attribute: str


_WHERE_KEYS = frozenset(Where.__annotations__)


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
    """One attribute write to commit: the definition, the instance, old and new text."""

    var: VariableDef
    attr: AttributeDef
    evse: int
    connector: int
    old: str | None
    new: str


@dataclass(frozen=True, slots=True)
class _Kind(Generic[T]):
    """How the typed getters read text: ``parse`` raises ValueError on text that does not fit."""

    name: str
    parse: Callable[[str], T]


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered not in ("true", "false"):
        raise ValueError(text)
    return lowered == "true"


def _parse_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


_INT = _Kind("an integer", int)
_FLOAT = _Kind("a number", float)
_BOOL = _Kind("a boolean", _parse_bool)
Guard = Callable[[str], tuple[str, str] | None]  # (reasonCode, additionalInfo) or None

_STR = _Kind("a string", str)
_LIST = _Kind("a list", _parse_list)


class StationValues:
    """Components, variables and attribute values of one station (see ``device_model``)."""

    def __init__(
        self,
        defs: Definitions,
        evses: EvseLayout,
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
        self._guards: dict[tuple[str, str], Guard] = {}

    def close(self) -> None:
        """Stop using the store (its file is closed only when the device model opened it)."""
        self._store.close()

    # ------------------------------------------------------------------ addressing
    def instances_of(self, var: VariableDef) -> list[tuple[int, int]]:
        """The (evse, connector) instances of ``var`` on this station (0 = none)."""
        return addressing.instances(var.scope, self.evses)

    def address_ok(self, scope: str, evse: int | None, connector: int | None) -> bool:
        return addressing.address_ok(scope, self.evses, evse, connector)

    def value_of(self, var: VariableDef, attr: str, evse: int, connector: int) -> str | None:
        """Raw value by definition (evse/connector 0 = none); no address check."""
        a = var.attributes.get(attr)
        if a is None:
            return None
        if self._clock is not None and attr == "Actual" and var.key == _DATETIME:
            return iso(self._clock.time())
        return self._values.get((a.slot, evse, connector))

    def _lookup(self, component: str, variable: str, where: Where) -> VariableDef | None:
        if not where.keys() <= _WHERE_KEYS:  # (a check that allocates nothing: reads are many)
            unknown = where.keys() - _WHERE_KEYS
            raise TypeError(f"unexpected keyword argument(s): {', '.join(sorted(unknown))}")
        var = self.definitions.by_key.get(
            (
                component,
                where.get("component_instance") or None,
                variable,
                where.get("variable_instance") or None,
            )
        )
        if var is None or not self.address_ok(var.scope, where.get("evse"), where.get("connector")):
            return None
        return var

    # ------------------------------------------------------------------ reads
    def get(self, component: str, variable: str, **where: Unpack[Where]) -> str | None:
        """The raw value, or None if the variable/attribute is unknown or has no value.

        ``where``: ``evse``, ``connector``, ``component_instance``, ``variable_instance``,
        ``attribute`` (default ``"Actual"``)."""
        if not where:  # a station-wide variable's Actual value: most reads, one dict look-up
            slot = self.definitions.plain.get((component, variable))
            if slot is not None:
                return self._values.get((slot, 0, 0))
        var = self._lookup(component, variable, where)
        if var is None:
            return None
        return self.value_of(
            var,
            where.get("attribute", "Actual"),
            where.get("evse") or 0,
            where.get("connector") or 0,
        )

    def _read(
        self, kind: _Kind[T], component: str, variable: str, default: T | None, where: Where
    ) -> T:
        """The one typed read behind ``get_int``, ``get_float``, ``get_bool``, ``get_str`` and
        ``get_list``."""
        raw = self.get(component, variable, **where)
        if raw is not None:
            try:
                return kind.parse(raw)
            except ValueError:
                log.warning("%s.%s: value %r is not %s", component, variable, raw, kind.name)
        if default is not None:
            return default
        shown = {k: v for k, v in where.items() if v is not None and k != "attribute"}
        raise KeyError(f"{component}.{variable} {shown or ''} has no value and no default")

    def get_int(
        self, component: str, variable: str, *, default: int | None = None, **where: Unpack[Where]
    ) -> int:
        """``get`` as int; ``default`` when unknown, unset or not an integer; KeyError if no
        default.  ``get_float``, ``get_bool`` and ``get_str`` work the same way."""
        return self._read(_INT, component, variable, default, where)

    def get_float(
        self,
        component: str,
        variable: str,
        *,
        default: float | None = None,
        **where: Unpack[Where],
    ) -> float:
        return self._read(_FLOAT, component, variable, default, where)

    def get_bool(
        self, component: str, variable: str, *, default: bool | None = None, **where: Unpack[Where]
    ) -> bool:
        return self._read(_BOOL, component, variable, default, where)

    def get_str(
        self, component: str, variable: str, *, default: str | None = None, **where: Unpack[Where]
    ) -> str:
        return self._read(_STR, component, variable, default, where)

    def get_list(self, component: str, variable: str, **where: Unpack[Where]) -> list[str]:
        """A comma-separated value as a list (empty if unknown or unset)."""
        return self._read(_LIST, component, variable, [], where)

    def variables(self) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """Every (ComponentType, VariableType) pair of this station, in definition order."""
        for var in self.definitions.variables:
            for evse, connector in self.instances_of(var):
                yield component_dict(var, evse, connector), variable_dict(var)

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
        synced: bool = True,
    ) -> str:
        """Internal write by the station (mutability not checked; type and limits are).
        Returns a SetVariableStatusEnumType value; constant attributes are Rejected.

        ``synced=False``: committed without a sync of its own, only for a value the next start
        gets again before it matters (the HeartbeatInterval of a BootNotification answer); the
        store's next synced commit syncs it."""
        if (component, component_instance or None) not in self.definitions.components:
            return "UnknownComponent"
        where = Where(
            evse=evse,
            connector=connector,
            component_instance=component_instance,
            variable_instance=variable_instance,
        )
        var = self._lookup(component, variable, where)
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
        if attr.constant:
            log.warning("%s: constant, set by config only", label(var, evse or 0, connector or 0))
            return "Rejected"
        old = self.value_of(var, attribute, evse or 0, connector or 0)
        try:
            raw = to_text(value)
            if raw == old and (var.component, var.name) not in self._guards:
                # the value it holds (checked when it was stored): nothing to check, store or
                # report (most of a start's writes)
                return "Accepted"
            text = check_value(var, raw)
        except (TypeError, InvalidValue) as exc:
            shown = label(var, evse or 0, connector or 0)
            log.warning("%s: set(%r) rejected: %s", shown, value, exc)
            return "Rejected"
        problem = self.vet(var, attribute, text)
        if problem is not None:
            shown = label(var, evse or 0, connector or 0)
            log.warning("%s: set(%r) rejected: %s", shown, value, problem[1])
            return "Rejected"
        if old == text:  # nothing to store and no change to report (most of a start's writes)
            return "Accepted"
        change = Change(var, attr, evse or 0, connector or 0, old, text)
        try:
            self.commit([change], source, synced=synced)
        except Exception:
            log.exception(
                "%s: could not store the new value", label(var, evse or 0, connector or 0)
            )
            return "Rejected"
        return "RebootRequired" if var.reboot_required and old != text else "Accepted"

    def commit(self, changes: list[Change], source: str, *, synced: bool = True) -> None:
        """Store ``changes`` (one transaction), update memory, then notify subscribers."""
        real = [c for c in changes if c.old != c.new]
        self._store.write(
            (
                (addressing.row_key(c.var, c.attr.type, c.evse, c.connector), c.new)
                for c in real
                if c.attr.persistent and not c.attr.constant
            ),
            synced=synced,
        )
        for c in real:
            self._values[(c.attr.slot, c.evse, c.connector)] = c.new
        for c in real:
            event = VariableChange(
                component_dict(c.var, c.evse, c.connector),
                variable_dict(c.var),
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

    def guard(self, component: str, variable: str, check: Guard) -> Callable[[], None]:
        """Let ``check`` refuse a new Actual value of ``component.variable`` that passed the
        definition's checks (a rule only its owner knows, e.g. a priority naming empty network
        slots): it returns ``(reasonCode, additionalInfo)`` to refuse, None to allow.  One guard
        per variable; returns the removal."""
        key = (component, variable)
        self._guards[key] = check

        def remove() -> None:
            if self._guards.get(key) is check:
                del self._guards[key]

        return remove

    def vet(self, var: VariableDef, attribute: str, text: str) -> tuple[str, str] | None:
        """What the guard of ``var`` says of the new value (None: allowed, or no guard)."""
        check = self._guards.get((var.component, var.name))
        if check is None or attribute != "Actual":
            return None
        return check(text)

    def subscribe(self, callback: Callable[[VariableChange], None]) -> Callable[[], None]:
        """Call ``callback`` after every committed value change; returns the unsubscribe."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe
