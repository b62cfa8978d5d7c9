"""Report selection for GetBaseReport (B07) and GetReport (B08): ReportDataType dicts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from device_model.addressing import component_dict, variable_dict
from device_model.definitions_loader import VariableDef
from device_model.ocpp_io import reporting_limit
from device_model.station_values import StationValues

BASES = ("ConfigurationInventory", "FullInventory", "SummaryInventory")
CRITERIA = ("Active", "Available", "Enabled", "Problem")
# B07.FR.09: Active/problem-type variables reported in a summary when true.
_PROBLEM_VARIABLES = frozenset({"Problem", "Tripped", "Overload", "Fallback"})

Instance = tuple[VariableDef, int, int]


def report_data(dm: StationValues, var: VariableDef, evse: int, connector: int) -> dict[str, Any]:
    """One ReportDataType: every supported attribute, even unset ones (B07.FR.11), and the
    characteristics (B07.FR.07/08, B08.FR.12).  WriteOnly values are never reported."""
    limit = reporting_limit(dm)
    attributes: list[dict[str, Any]] = []
    for attr in var.attributes.values():
        entry: dict[str, Any] = {"type": attr.type}
        value = dm.value_of(var, attr.type, evse, connector)
        if value is not None and attr.mutability != "WriteOnly":
            entry["value"] = value[:limit] if limit is not None else value
        entry["mutability"] = attr.mutability
        entry["persistent"] = attr.persistent
        entry["constant"] = attr.constant
        attributes.append(entry)
    return {
        "component": component_dict(var, evse, connector),
        "variable": variable_dict(var),
        "variableAttribute": attributes,
        "variableCharacteristics": var.characteristics(),
    }


def _all(dm: StationValues) -> list[Instance]:
    return [(var, e, c) for var in dm.definitions.variables for e, c in dm.instances_of(var)]


def _base(dm: StationValues, base: str) -> list[Instance]:
    everything = _all(dm)
    if base == "FullInventory":  # B07.FR.08
        return everything
    if base == "ConfigurationInventory":  # B07.FR.07: what the operator can set
        return [
            (v, e, c)
            for v, e, c in everything
            if any(a.mutability != "ReadOnly" and not a.constant for a in v.attributes.values())
        ]
    if base == "SummaryInventory":  # B07.FR.09
        return [
            (v, e, c)
            for v, e, c in everything
            if v.name == "AvailabilityState"
            or (v.name in _PROBLEM_VARIABLES and dm.value_of(v, "Actual", e, c) == "true")
        ]
    raise ValueError(f"unknown reportBase {base!r}; expected one of {', '.join(BASES)}")


def _criteria_match(
    dm: StationValues, var: VariableDef, evse: int, connector: int, criteria: Sequence[str]
) -> bool:
    """B08.FR.07-10, B08.FR.13 (any criterion matches)."""
    for criterion in criteria:
        flag = dm.definitions.by_key.get((var.component, var.component_instance, criterion, None))
        value = None if flag is None else dm.value_of(flag, "Actual", evse, connector)
        if criterion == "Problem":
            if value == "true":
                return True
        elif flag is None or value == "true":
            return True
    return False


def _cv_match(var: VariableDef, evse: int, connector: int, cv: dict[str, Any]) -> bool:
    comp = cv.get("component") or {}
    if comp.get("name") != var.component:
        return False
    if comp.get("instance") and comp["instance"] != var.component_instance:  # B08.FR.24/25
        return False
    want_evse = comp.get("evse")
    if isinstance(want_evse, dict):
        if want_evse.get("id") != evse:  # B08.FR.23: no evse means every evse
            return False
        conn = want_evse.get("connectorId")
        if conn is not None and conn != connector:  # B08.FR.22
            return False
    variable = cv.get("variable")
    if not isinstance(variable, dict):  # B08.FR.20: every variable of the component
        return True
    if variable.get("name") != var.name:
        return False
    inst = variable.get("instance")
    return not inst or inst == var.instance  # B08.FR.21: every instance if none given


def build_report(
    dm: StationValues,
    *,
    base: str | None = None,
    criteria: Sequence[str] | None = None,
    component_variables: Sequence[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    if base is not None:
        selected = _base(dm, base)
    else:
        crit = list(criteria or [])
        unknown = [c for c in crit if c not in CRITERIA]
        if unknown:
            raise ValueError(f"unknown componentCriteria {unknown}; expected {', '.join(CRITERIA)}")
        cvs = list(component_variables or [])
        selected = [
            (v, e, c)
            for v, e, c in _all(dm)
            if (not crit or _criteria_match(dm, v, e, c, crit))  # B08.FR.05: both filters apply
            and (not cvs or any(_cv_match(v, e, c, cv) for cv in cvs))  # B08.FR.11
        ]
    return [report_data(dm, v, e, c) for v, e, c in selected]
