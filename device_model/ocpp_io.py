"""GetVariables / SetVariables item processing (OCPP 2.0.1 use cases B05 and B06).

Requirement ids are cited where the rule is applied.  A request item that is not even shaped like
a Get/SetVariableDataType raises :class:`MalformedRequest` carrying the OCPP-J CALLERROR code the
handler should answer with; everything else becomes a per-item status.
"""

from __future__ import annotations

import logging
from typing import Any

from device_model.definitions_loader import ATTRIBUTE_TYPES, AttributeDef, VariableDef
from device_model.station_values import Change, StationValues
from device_model.values import InvalidValue, check_value

log = logging.getLogger(__name__)


class MalformedRequest(ValueError):
    """A request item that does not follow the message schema; ``code`` is a CALLERROR code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _status_info(reason: str, info: str) -> dict[str, str]:
    return {"reasonCode": reason, "additionalInfo": info[:512]}


def _opt_str(obj: dict[str, Any], key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedRequest("TypeConstraintViolation", f"{where}.{key} must be a string")
    return value or None  # B06.FR.15: an empty instance counts as no instance


def _named(item: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    obj = item.get(key)
    if obj is None:
        raise MalformedRequest("OccurrenceConstraintViolation", f"{where}.{key} is missing")
    if not isinstance(obj, dict):
        raise MalformedRequest("TypeConstraintViolation", f"{where}.{key} must be an object")
    if not isinstance(obj.get("name"), str):
        raise MalformedRequest(
            "OccurrenceConstraintViolation", f"{where}.{key}.name is missing or not a string"
        )
    return obj


class _Target:
    """One resolved request item: either an error status or var/attr/evse/connector."""

    __slots__ = ("attr", "attr_type", "component", "connector", "evse", "var", "variable")

    def __init__(self, item: object, where: str) -> None:
        if not isinstance(item, dict):
            raise MalformedRequest("TypeConstraintViolation", f"{where} must be an object")
        self.component = _named(item, "component", where)
        self.variable = _named(item, "variable", where)
        attr_type = item.get("attributeType", "Actual")
        if not isinstance(attr_type, str):
            raise MalformedRequest(
                "TypeConstraintViolation", f"{where}.attributeType must be a string"
            )
        self.attr_type = attr_type
        self.evse: int | None = None
        self.connector: int | None = None
        evse = self.component.get("evse")
        if evse is not None:
            if not isinstance(evse, dict) or not isinstance(evse.get("id"), int):
                raise MalformedRequest(
                    "TypeConstraintViolation", f"{where}.component.evse.id must be an integer"
                )
            conn = evse.get("connectorId")
            if conn is not None and not isinstance(conn, int):
                raise MalformedRequest(
                    "TypeConstraintViolation",
                    f"{where}.component.evse.connectorId must be an integer",
                )
            self.evse, self.connector = evse["id"], conn
        _opt_str(self.component, "instance", f"{where}.component")
        _opt_str(self.variable, "instance", f"{where}.variable")
        self.var: VariableDef | None = None
        self.attr: AttributeDef | None = None

    def resolve(self, dm: StationValues) -> tuple[str, dict[str, str]] | None:
        """Find the variable (B05.FR.04-06, B06.FR.06-08, B06.FR.14/15); an error or None."""
        name: str = self.component["name"]
        cinst = self.component.get("instance") or None
        scope = dm.definitions.components.get((name, cinst))
        shown = name if cinst is None else f"{name} instance {cinst!r}"
        if scope is None:
            return "UnknownComponent", _status_info("NotFound", f"no component {shown}")
        if not dm.address_ok(scope, self.evse, self.connector):
            return "UnknownComponent", _status_info(
                "NotFound", _address_problem(dm, shown, scope, self)
            )
        vname: str = self.variable["name"]
        vinst = self.variable.get("instance") or None
        var = dm.definitions.by_key.get((name, cinst, vname, vinst))
        if var is None:
            vshown = vname if vinst is None else f"{vname} instance {vinst!r}"
            return "UnknownVariable", _status_info("NotFound", f"{shown} has no variable {vshown}")
        attr = var.attributes.get(self.attr_type)
        if attr is None:
            have = ", ".join(var.attributes)
            return "NotSupportedAttributeType", _status_info(
                "UnsupportedParam", f"{var.name} has no {self.attr_type} attribute (only {have})"
            )
        self.var, self.attr = var, attr
        return None

    def result(self, status: str) -> dict[str, Any]:
        out: dict[str, Any] = {"attributeStatus": status}
        if self.attr_type in ATTRIBUTE_TYPES:
            out["attributeType"] = self.attr_type  # B05.FR.03/12, B06.FR.03/11: default Actual
        out["component"] = self.component  # B05.FR.02, B06.FR.02: echo the request's pair
        out["variable"] = self.variable
        return out


def _address_problem(dm: StationValues, shown: str, scope: str, t: _Target) -> str:
    if scope == "station":
        return f"{shown} is a station-level component; it takes no evse"
    if t.evse is None:
        need = "evse.id" if scope == "evse" else "evse.id and evse.connectorId"
        return f"{shown} needs {need}"
    if t.evse not in dm.evses:
        return f"EVSE {t.evse} does not exist"
    if scope == "evse":
        return f"{shown} is EVSE-level; it takes no connectorId"
    if t.connector is None:
        return f"{shown} needs evse.connectorId"
    return f"connector {t.connector} does not exist on EVSE {t.evse}"


def _limit(dm: StationValues, *names: str) -> int | None:
    """Smallest positive DeviceDataCtrlr size limit among ``names`` (None if none set)."""
    found = [dm.get_int("DeviceDataCtrlr", n, default=0) for n in names]
    positive = [n for n in found if n > 0]
    return min(positive) if positive else None


def reporting_limit(dm: StationValues) -> int | None:
    return _limit(dm, "ReportingValueSize", "ValueSize")


def get_variables(dm: StationValues, data: list[dict[str, Any]]) -> list[dict[str, Any]]:
    limit = reporting_limit(dm)
    results: list[dict[str, Any]] = []  # B06.FR.01: one result per item, same order
    for i, item in enumerate(data):
        target = _Target(item, f"getVariableData[{i}]")
        error = target.resolve(dm)
        if error is not None:  # B06.FR.06/07/08: no attributeValue
            res = target.result(error[0])
            res["attributeStatusInfo"] = error[1]
        elif target.attr is not None and target.attr.mutability == "WriteOnly":
            res = target.result("Rejected")  # B06.FR.09
            res["attributeStatusInfo"] = _status_info(
                "WriteOnly", f"{target.variable['name']} is write-only"
            )
        else:
            assert target.var is not None
            value = dm.value_of(
                target.var, target.attr_type, target.evse or 0, target.connector or 0
            )
            res = target.result("Accepted")  # B06.FR.10
            text = value if value is not None else ""  # B06.FR.13: unset -> empty string
            res["attributeValue"] = text[:limit] if limit is not None else text
        results.append(res)
    return results


def set_variables(
    dm: StationValues, data: list[dict[str, Any]], source: str
) -> list[dict[str, Any]]:
    size_limit = _limit(dm, "ConfigurationValueSize", "ValueSize")
    results: list[dict[str, Any]] = []  # B05.FR.01: one result per item, same order
    changes: list[Change] = []
    accepted: list[int] = []
    pending: dict[tuple[int, int, int], str | None] = {}
    for i, item in enumerate(data):
        where = f"setVariableData[{i}]"
        target = _Target(item, where)
        value = item.get("attributeValue")
        if not isinstance(value, str):
            raise MalformedRequest(
                "OccurrenceConstraintViolation" if value is None else "TypeConstraintViolation",
                f"{where}.attributeValue is missing or not a string",
            )
        error = target.resolve(dm)
        if error is not None:  # B05.FR.04/05/06
            res = target.result(error[0])
            res["attributeStatusInfo"] = error[1]
            results.append(res)
            continue
        var, attr = target.var, target.attr
        assert var is not None and attr is not None
        status, info = _check_set(var, attr, value, size_limit)
        if status != "Accepted":
            res = target.result(status)
            res["attributeStatusInfo"] = info
            results.append(res)
            continue
        text = check_value(var, value)
        problem = dm.vet(var, attr.type, text)
        if problem is not None:  # a rule of the variable's owner (e.g. B10.FR.02)
            res = target.result("Rejected")
            res["attributeStatusInfo"] = _status_info(*problem)
            results.append(res)
            continue
        evse, conn = target.evse or 0, target.connector or 0
        key = (attr.slot, evse, conn)
        old = pending[key] if key in pending else dm.value_of(var, attr.type, evse, conn)
        pending[key] = text
        changes.append(Change(var, attr, evse, conn, old, text))
        accepted.append(len(results))
        if var.reboot_required and old != text:
            res = target.result("RebootRequired")
            res["attributeStatusInfo"] = _status_info(
                "NoError", f"{var.name} applies after a reboot"
            )
        else:
            res = target.result("Accepted")  # B05.FR.10
        results.append(res)
    try:
        dm.commit(changes, source)
    except Exception as exc:  # B05.FR.09: could not set it for a technical reason
        log.exception("SetVariables: storing %d change(s) failed", len(changes))
        for index in accepted:
            results[index]["attributeStatus"] = "Rejected"
            results[index]["attributeStatusInfo"] = _status_info(
                "InternalError", f"storing the value failed: {exc}"
            )
    return results


def _check_set(
    var: VariableDef, attr: AttributeDef, value: str, size_limit: int | None
) -> tuple[str, dict[str, str]]:
    if size_limit is not None and len(value) > size_limit:
        return "Rejected", _status_info(
            "TooLargeElement",
            f"value of {len(value)} characters exceeds ConfigurationValueSize/"
            f"ValueSize {size_limit}",
        )
    try:
        check_value(var, value)  # B05.FR.07 (format), B05.FR.08 (range)
    except InvalidValue as exc:
        return "Rejected", _status_info(exc.reason, f"{var.name}: {exc.message}")
    if attr.mutability == "ReadOnly" or attr.constant:  # B05.FR.09
        return "Rejected", _status_info("ReadOnly", f"{var.name} is read-only")
    return "Accepted", {}
