"""Component definitions: parsed once per process and shared by every DeviceModel.

The packaged files in ``device_model.definitions`` or the files of a directory given to
:func:`load_definitions` are checked for consistency (duplicates, defaults that their own
characteristics refuse, list types without a valuesList).  The files of a directory are also
validated with jsonschema against ``device_model_definitions.schema.json`` (``ocpp_station.schemas``
resources); the packaged files are part of the release and are validated against that schema by
the unit tests (tests/unit/device_model/test_definitions_schema.py), so a station's start does not
import jsonschema for them (~40 ms, ~4 MiB).  All problems are reported together in one
:class:`DefinitionError`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from device_model.values import InvalidValue, check_value

ATTRIBUTE_TYPES = ("Actual", "Target", "MinSet", "MaxSet")
_LIST_TYPES = frozenset({"OptionList", "MemberList", "SequenceList"})

ComponentKey = tuple[str, str | None]  # (name, instance)
VariableKey = tuple[str, str | None, str, str | None]  # (component, instance, variable, instance)


class DefinitionError(Exception):
    """Definition files that are invalid; ``errors`` lists every problem found."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__(
            f"{len(errors)} problem(s) in device-model definitions:\n"
            + "\n".join(f"  - {e}" for e in errors)
        )


@dataclass(frozen=True, slots=True)
class AttributeDef:
    type: str
    mutability: str  # ReadOnly | WriteOnly | ReadWrite
    persistent: bool
    constant: bool
    default: str | None
    slot: int  # index into Definitions.slots, a compact key for values


@dataclass(frozen=True, slots=True, eq=False)
class VariableDef:
    component: str
    component_instance: str | None
    scope: str  # station | evse | connector
    name: str
    instance: str | None
    data_type: str
    unit: str | None
    min_limit: float | None
    max_limit: float | None
    values: tuple[str, ...]
    supports_monitoring: bool
    pattern: re.Pattern[str] | None
    required: bool
    reboot_required: bool
    description: str
    attributes: Mapping[str, AttributeDef]

    @property
    def key(self) -> VariableKey:
        return (self.component, self.component_instance, self.name, self.instance)

    def characteristics(self) -> dict[str, Any]:
        """OCPP VariableCharacteristicsType."""
        out: dict[str, Any] = {"dataType": self.data_type}
        if self.unit is not None:
            out["unit"] = self.unit
        if self.min_limit is not None:
            out["minLimit"] = self.min_limit
        if self.max_limit is not None:
            out["maxLimit"] = self.max_limit
        if self.values:
            out["valuesList"] = ",".join(self.values)
        out["supportsMonitoring"] = self.supports_monitoring
        return out


class Definitions:
    """Every component and variable the station supports (immutable, shared)."""

    def __init__(self, variables: list[VariableDef]) -> None:
        self.variables: tuple[VariableDef, ...] = tuple(variables)
        self.by_key: dict[VariableKey, VariableDef] = {v.key: v for v in variables}
        self.components: dict[ComponentKey, str] = {
            (v.component, v.component_instance): v.scope for v in variables
        }
        slots: list[tuple[VariableDef, AttributeDef]] = []
        for var in variables:
            for attr in var.attributes.values():
                slots.append((var, attr))
        self.slots: tuple[tuple[VariableDef, AttributeDef], ...] = tuple(slots)
        # (component, variable) -> the slot of the Actual value, for the station-wide variables
        # without instances: what most reads ask for (``StationValues.get``'s shortcut).  The
        # clock's DateTime is left out: its value is the clock's, not a stored one.
        self.plain: dict[tuple[str, str], int] = {
            (v.component, v.name): v.attributes["Actual"].slot
            for v in variables
            if v.scope == "station"
            and v.component_instance is None
            and v.instance is None
            and "Actual" in v.attributes
            and (v.component, v.name) != ("ClockCtrlr", "DateTime")
        }
        # What a new database of each EVSE layout holds before its seed (device_model.model)
        self.fresh: dict[tuple[tuple[int, tuple[int, ...]], ...], Any] = {}
        # What each seed key of each EVSE layout addresses (device_model.seed: a fleet checks
        # the same keys for thousands of stations)
        self.seed_keys: dict[tuple[str, tuple[tuple[int, tuple[int, ...]], ...]], Any] = {}

    def component_variables(self, component: str, instance: str | None) -> list[VariableDef]:
        return [
            v
            for v in self.variables
            if v.component == component and v.component_instance == instance
        ]


def definitions_schema() -> dict[str, Any]:
    """The JSON Schema of one definitions file."""
    text = (
        resources.files("ocpp_station.schemas") / "device_model_definitions.schema.json"
    ).read_text(encoding="utf-8")
    result: dict[str, Any] = json.loads(text)
    return result


def _num(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def _parse_file(name: str, data: dict[str, Any], errors: list[str]) -> list[VariableDef]:
    out: list[VariableDef] = []
    comp_name: str = data["name"]
    comp_inst: str | None = data.get("instance")
    for raw in data["variables"]:
        ch = raw["characteristics"]
        label = f"{name}: {comp_name}.{raw['name']}" + (
            f"[{raw['instance']}]" if raw.get("instance") else ""
        )
        attrs: dict[str, AttributeDef] = {}
        for a in raw["attributes"]:
            if a["type"] in attrs:
                errors.append(f"{label}: attribute {a['type']} defined twice")
                continue
            attrs[a["type"]] = AttributeDef(
                type=a["type"],
                mutability=a["mutability"],
                persistent=a.get("persistent", True),
                constant=a.get("constant", False),
                default=a.get("default"),
                slot=-1,  # numbered once all files are read
            )
        values = (
            tuple(x.strip() for x in ch["valuesList"].split(",")) if ch.get("valuesList") else ()
        )
        try:
            pattern = re.compile(ch["pattern"]) if "pattern" in ch else None
        except re.error as exc:
            errors.append(f"{label}: bad pattern: {exc}")
            pattern = None
        var = VariableDef(
            component=comp_name,
            component_instance=comp_inst,
            scope=data["scope"],
            name=raw["name"],
            instance=raw.get("instance"),
            data_type=ch["dataType"],
            unit=ch.get("unit"),
            min_limit=_num(ch.get("minLimit")),
            max_limit=_num(ch.get("maxLimit")),
            values=values,
            supports_monitoring=ch.get("supportsMonitoring", False),
            pattern=pattern,
            required=raw.get("required", False),
            reboot_required=raw.get("rebootRequired", False),
            description=raw.get("description", ""),
            attributes=attrs,
        )
        if var.data_type in _LIST_TYPES and not values:
            errors.append(f"{label}: {var.data_type} needs a valuesList")
        for attr in attrs.values():
            if attr.default is None:
                continue
            try:
                check_value(var, attr.default)
            except InvalidValue as exc:
                errors.append(f"{label}: default {attr.default!r} of {attr.type}: {exc.message}")
        out.append(var)
    return out


def _load(files: list[tuple[str, Traversable | Path]], *, validate: bool) -> Definitions:
    validator = None
    if validate:
        import jsonschema  # lazy: only for definitions from a directory (see the docstring)

        validator = jsonschema.Draft7Validator(definitions_schema())
    errors: list[str] = []
    variables: list[VariableDef] = []
    seen: dict[VariableKey, str] = {}
    scopes: dict[ComponentKey, tuple[str, str]] = {}
    for name, path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            errors.append(f"{name}: cannot read: {exc}")
            continue
        problems = (
            []
            if validator is None
            else sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
        )
        if problems:
            for p in problems:
                where = "/".join(str(x) for x in p.absolute_path) or "(top)"
                errors.append(f"{name}: {where}: {p.message}")
            continue
        ckey = (data["name"], data.get("instance"))
        if ckey in scopes and scopes[ckey][0] != data["scope"]:
            errors.append(
                f"{name}: component {data['name']} has scope {data['scope']} here but "
                f"{scopes[ckey][0]} in {scopes[ckey][1]}"
            )
        scopes.setdefault(ckey, (data["scope"], name))
        for var in _parse_file(name, data, errors):
            if var.key in seen:
                errors.append(
                    f"{name}: {var.component}.{var.name} already defined in {seen[var.key]}"
                )
                continue
            seen[var.key] = name
            variables.append(var)
    if errors:
        raise DefinitionError(errors)
    # Number the slots densely in final order.
    renumbered: list[VariableDef] = []
    n = 0
    for var in variables:
        attrs = {}
        for t in ATTRIBUTE_TYPES:
            if t in var.attributes:
                a = var.attributes[t]
                attrs[t] = AttributeDef(
                    a.type, a.mutability, a.persistent, a.constant, a.default, n
                )
                n += 1
        renumbered.append(dataclasses.replace(var, attributes=attrs))
    return Definitions(renumbered)


_cache: dict[str, Definitions] = {}
_cache_lock = threading.Lock()


def load_definitions(directory: str | os.PathLike[str] | None = None) -> Definitions:
    """The definitions in ``directory`` (default: the packaged ``device_model/definitions``).

    Parsed once per process and directory; every later call returns the same object."""
    key = "<package>" if directory is None else str(Path(directory).resolve())
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None:
            return cached
        files: list[tuple[str, Traversable | Path]]
        if directory is None:
            root = resources.files("device_model.definitions")
            files = sorted(
                ((p.name, p) for p in root.iterdir() if p.name.endswith(".json")),
                key=lambda item: item[0],
            )
        else:
            files = sorted(
                ((p.name, p) for p in Path(directory).glob("*.json")), key=lambda i: i[0]
            )
            if not files:
                raise DefinitionError([f"{directory}: no *.json definition files"])
        defs = _load(files, validate=directory is not None)
        _cache[key] = defs
        return defs
