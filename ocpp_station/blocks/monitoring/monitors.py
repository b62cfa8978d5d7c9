"""Variable monitors and the rules for setting, replacing, clearing them (N03, N04, N06).

A :class:`Monitor` watches the Actual value of one variable instance (an :class:`Address`).  Its
``kind`` is the EventNotificationEnumType value its events carry: ``HardWiredMonitor`` (firmware,
always active, never replaced or cleared), ``PreconfiguredMonitor`` (active under the monitoring
bases All and, for the factory-default ones, FactoryDefault) or ``CustomMonitor`` (set by the
CSMS).  :class:`MonitorSet` holds the monitors in force and applies SetVariableMonitoring,
ClearVariableMonitoring and SetMonitoringBase to them; it does no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from device_model import Definitions, VariableDef
from ocpp_station.ocpp_types import status_info

HARD_WIRED = "HardWiredMonitor"
PRECONFIGURED = "PreconfiguredMonitor"
CUSTOM = "CustomMonitor"

THRESHOLDS = ("UpperThreshold", "LowerThreshold")
PERIODIC = ("Periodic", "PeriodicClockAligned")
MONITOR_TYPES = (*THRESHOLDS, "Delta", *PERIODIC)
NUMERIC = ("integer", "decimal")
BASES = ("All", "FactoryDefault", "HardWiredOnly")
SEVERITIES = range(10)  # 0 Danger ... 9 Debug

# Part 1 4.4: which monitor types a dataType allows (dateTime: Delta only).
_ALLOWED: dict[str, tuple[str, ...]] = {
    "integer": MONITOR_TYPES,
    "decimal": MONITOR_TYPES,
    "dateTime": ("Delta",),
}
_NON_NUMERIC = ("Delta", *PERIODIC)


@dataclass(frozen=True, slots=True)
class Address:
    """One variable instance: component (name, instance, evse, connector; 0 = none) and
    variable (name, instance)."""

    component: str
    component_instance: str | None
    evse: int
    connector: int
    variable: str
    variable_instance: str | None

    @classmethod
    def of(cls, component: dict[str, Any], variable: dict[str, Any]) -> Address:
        """From OCPP ComponentType / VariableType."""
        evse = component.get("evse") or {}
        return cls(
            component["name"],
            component.get("instance") or None,
            int(evse.get("id") or 0),
            int(evse.get("connectorId") or 0),
            variable["name"],
            variable.get("instance") or None,
        )

    @property
    def variable_key(self) -> tuple[str, str | None, str, str | None]:
        return (self.component, self.component_instance, self.variable, self.variable_instance)

    def component_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.component}
        if self.component_instance is not None:
            out["instance"] = self.component_instance
        if self.evse:
            out["evse"] = {"id": self.evse}
            if self.connector:
                out["evse"]["connectorId"] = self.connector
        return out

    def variable_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.variable}
        if self.variable_instance is not None:
            out["instance"] = self.variable_instance
        return out


@dataclass(slots=True)
class Monitor:
    id: int
    kind: str
    address: Address
    type: str
    value: float
    severity: int
    transaction: bool = False
    factory_default: bool = False  # preconfigured monitors only
    # runtime state (see rules.py): a threshold exceeded now (persisted, N07.FR.14), the Delta
    # reference value, the next periodic event
    tripped: bool = False
    reference: str | None = None
    due: float | None = None

    def copy(self) -> Monitor:
        """A copy, runtime state included (``dataclasses.replace(self)``, at a fifth of its
        cost: a station's start copies its predefined monitors)."""
        return Monitor(
            self.id,
            self.kind,
            self.address,
            self.type,
            self.value,
            self.severity,
            self.transaction,
            self.factory_default,
            self.tripped,
            self.reference,
            self.due,
        )

    def describe(self) -> dict[str, Any]:
        """OCPP VariableMonitoringType."""
        value: float | int = int(self.value) if self.value == int(self.value) else self.value
        return {
            "id": self.id,
            "transaction": self.transaction,
            "value": value,
            "type": self.type,
            "severity": self.severity,
        }

    def same_slot(self, other: Monitor) -> bool:
        """N04.FR.10: one monitor per variable instance, type and severity."""
        return (
            self.address == other.address
            and self.type == other.type
            and self.severity == other.severity
        )


def supported_types(var: VariableDef) -> tuple[str, ...]:
    """The monitor types a variable allows (none when it does not support monitoring)."""
    if not var.supports_monitoring:
        return ()
    return _ALLOWED.get(var.data_type, _NON_NUMERIC)


def resolve(defs: Definitions, layout: Any, address: Address) -> tuple[str, VariableDef | None]:
    """The definition of ``address``: ("", var), or the SetMonitoringStatus that refuses it
    (UnknownComponent for a component, or an EVSE/connector, the station does not have: N04.FR.03;
    UnknownVariable: N04.FR.04).  ``layout`` has ``address_ok(scope, evse, connector)``."""
    scope = defs.components.get((address.component, address.component_instance))
    if scope is None or not layout.address_ok(
        scope, address.evse or None, address.connector or None
    ):
        return "UnknownComponent", None
    var = defs.by_key.get(address.variable_key)
    if var is None:
        return "UnknownVariable", None
    return "", var


def still_valid(
    defs: Definitions, layout: Any, monitors: Iterable[Monitor]
) -> tuple[list[Monitor], list[Monitor]]:
    """(kept, gone): stored monitors whose variable still exists here and allows their type,
    and the others (N04 remark: after a firmware update they are removed)."""
    kept: list[Monitor] = []
    gone: list[Monitor] = []
    for monitor in monitors:
        _, var = resolve(defs, layout, monitor.address)
        ok = var is not None and monitor.type in supported_types(var)
        (kept if ok else gone).append(monitor)
    return kept, gone


def write_only(var: VariableDef) -> bool:
    actual = var.attributes.get("Actual")
    return actual is not None and actual.mutability == "WriteOnly"


@dataclass(frozen=True)
class Outcome:
    """The result of one SetMonitoringData: the status, a StatusInfoType when refused, and the
    monitor put in force (and the one it replaced) when Accepted."""

    status: str
    info: dict[str, Any] | None = None
    monitor: Monitor | None = None
    replaced: Monitor | None = None


def _refuse(status: str, reason: str, text: str) -> Outcome:
    return Outcome(status, status_info(reason, text))


class MonitorSet:
    """The monitors in force, by id."""

    def __init__(self, monitors: Iterable[Monitor] = ()) -> None:
        self.by_id: dict[int, Monitor] = {m.id: m for m in monitors}

    def __iter__(self) -> Iterator[Monitor]:
        return iter(sorted(self.by_id.values(), key=lambda m: m.id))

    def __len__(self) -> int:
        return len(self.by_id)

    def on(self, address: Address) -> list[Monitor]:
        found = [m for m in self.by_id.values() if m.address == address]
        return sorted(found, key=lambda m: m.id) if len(found) > 1 else found

    def next_id(self, reserved: Iterable[int] = ()) -> int:
        """N04.FR.11: a new id, above every id in force or reserved by a predefined monitor."""
        return max([0, *self.by_id, *reserved]) + 1

    # -- N04 ------------------------------------------------------------------------------------
    def check(
        self, item: dict[str, Any], var: VariableDef, *, reserved: Iterable[int] = ()
    ) -> Outcome:
        """One SetMonitoringData whose variable exists (``var``): the outcome, without applying
        it (see :meth:`apply`)."""
        kind, value, severity = item["type"], float(item["value"]), int(item["severity"])
        if severity not in SEVERITIES:
            return _refuse("Rejected", "ValueOutOfRange", f"severity {severity} is not 0-9")
        if kind not in supported_types(var):  # N04.FR.05
            why = (
                "the variable does not support monitoring"
                if not var.supports_monitoring
                else f"{kind} is not supported on a {var.data_type} variable"
            )
            return _refuse("UnsupportedMonitorType", "UnsupportedParam", why)
        if kind in THRESHOLDS:  # N04.FR.06 (errata 2025-01: outside minLimit..maxLimit)
            low, high = var.min_limit, var.max_limit
            if (low is not None and value < low) or (high is not None and value > high):
                return _refuse(
                    "Rejected",
                    "ValueOutOfRange",
                    f"{value:g} is outside the variable's range {low}..{high}",
                )
        elif kind == "Delta" and value < 0:  # N04.FR.14
            return _refuse("Rejected", "ValueOutOfRange", "a Delta value must not be negative")
        elif kind in PERIODIC and value <= 0:
            return _refuse("Rejected", "ValuePositiveOnly", "the interval must be > 0 seconds")
        address = Address.of(item["component"], item["variable"])
        wanted_id = item.get("id")
        old: Monitor | None = None
        if wanted_id is not None:
            old = self.by_id.get(wanted_id)
            if old is None:  # N04.FR.13
                return _refuse("Rejected", "NotFound", f"no monitor with id {wanted_id}")
            if old.address != address:  # N04.FR.16
                return _refuse(
                    "Rejected", "InvalidValue", "a monitor's component/variable cannot change"
                )
            if old.kind == HARD_WIRED:  # N04.FR.18
                return _refuse("Rejected", "ReadOnly", f"monitor {old.id} is hard-wired")
        monitor = Monitor(
            id=old.id if old is not None else self.next_id(reserved),
            kind=CUSTOM,  # N04.FR.15: a replaced preconfigured monitor becomes custom
            address=address,
            type=kind,
            value=value,
            severity=severity,
            transaction=bool(item.get("transaction", False)),
        )
        if any(m.same_slot(monitor) and m.id != monitor.id for m in self):  # N04.FR.10
            return _refuse(
                "Duplicate",
                "InvalidValue",
                f"a {kind} monitor with severity {severity} exists on this variable",
            )
        if old is not None and old.type == monitor.type:
            # N07.FR.11: a modified threshold is checked against the state it had
            monitor.tripped, monitor.reference = old.tripped, old.reference
        return Outcome("Accepted", monitor=monitor, replaced=old)

    def apply(self, outcome: Outcome) -> None:
        if outcome.monitor is not None:
            self.by_id[outcome.monitor.id] = outcome.monitor

    # -- N06 ------------------------------------------------------------------------------------
    def clear(self, monitor_id: int) -> dict[str, Any]:
        """One ClearMonitoringResultType; the monitor is removed when Accepted (N06.FR.01-03)."""
        monitor = self.by_id.get(monitor_id)
        if monitor is None:
            return {
                "status": "NotFound",
                "id": monitor_id,
                "statusInfo": status_info("NotFound", f"no monitor with id {monitor_id}"),
            }
        if monitor.kind == HARD_WIRED:
            return {
                "status": "Rejected",
                "id": monitor_id,
                "statusInfo": status_info("ReadOnly", f"monitor {monitor_id} is hard-wired"),
            }
        del self.by_id[monitor_id]  # N07.FR.12: no cleared event for a removed threshold
        return {"status": "Accepted", "id": monitor_id}

    # -- N03 ------------------------------------------------------------------------------------
    def set_base(self, base: str, predefined: Iterable[Monitor]) -> None:
        """HardWiredOnly: the hard-wired monitors only (N03.FR.05).  FactoryDefault: those and the
        factory-default preconfigured monitors, every custom monitor removed (N03.FR.04).  All:
        every preconfigured monitor activated, custom monitors (also those that replaced a
        preconfigured one) left as they are (N03.FR.03); a preconfigured monitor whose id or
        slot a custom monitor took stays out."""
        fresh = [m.copy() for m in predefined]
        wired = [m for m in fresh if m.kind == HARD_WIRED]
        if base == "HardWiredOnly":
            self.by_id = {m.id: m for m in wired}
        elif base == "FactoryDefault":
            chosen = [m for m in fresh if m.kind == PRECONFIGURED and m.factory_default]
            self.by_id = {m.id: m for m in (*wired, *chosen)}
        elif base == "All":
            for m in wired:
                self.by_id[m.id] = m
            for m in fresh:
                if m.kind != PRECONFIGURED or m.id in self.by_id:
                    continue
                if not any(other.same_slot(m) for other in self):
                    self.by_id[m.id] = m
        else:
            raise ValueError(f"unknown monitoring base {base!r}")
