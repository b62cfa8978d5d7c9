"""The hard-wired and preconfigured monitors: data beside the component definitions.

The files ``device_model/definitions/monitors/*.json`` (JSON Schema ``monitors.schema.json`` of
the ``ocpp_station.schemas`` resources) list them; a monitor on a component of scope ``evse`` or
``connector`` given without ``evse`` applies to every instance of this station, with the ids
``id``, ``id + 1`` ... in EVSE/connector order.  Every problem (schema, unknown variable, a type
the variable does not allow, ids used twice) is reported at once in a :class:`ValueError`.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from importlib import resources
from typing import Any

from device_model import Definitions
from ocpp_station.blocks.monitoring.monitors import (
    PRECONFIGURED,
    Address,
    Monitor,
    supported_types,
)
from ocpp_station.layout import EvseLayout
from ocpp_station.schema_fast import UnsupportedSchema, compile_fast

_lock = threading.Lock()


def _never(data: Any) -> bool:
    return False


_entries: list[dict[str, Any]] | None = None


def _read() -> list[dict[str, Any]]:
    """The packaged entries, parsed and schema-checked once per process."""
    global _entries
    with _lock:
        if _entries is None:
            schema = json.loads(
                (resources.files("ocpp_station.schemas") / "monitors.schema.json").read_text(
                    encoding="utf-8"
                )
            )
            try:
                valid = compile_fast(schema)
            except UnsupportedSchema:
                valid = _never
            root = resources.files("device_model.definitions") / "monitors"
            entries: list[dict[str, Any]] = []
            errors: list[str] = []
            for path in sorted(root.iterdir(), key=lambda p: p.name):
                if not path.name.endswith(".json"):
                    continue
                data = json.loads(path.read_text(encoding="utf-8"))
                if not valid(data):  # jsonschema only describes what the fast check refused
                    import jsonschema  # lazy: only for a file that fails the fast check

                    validator = jsonschema.Draft7Validator(schema)
                    errors += [f"{path.name}: {e.message}" for e in validator.iter_errors(data)]
                entries += data.get("monitors", [])
            if errors:
                raise ValueError("predefined monitors: " + "; ".join(errors))
            _entries = entries
        return _entries


def instances(
    entry: dict[str, Any], defs: Definitions, layout: EvseLayout
) -> list[tuple[int, int]]:
    comp = entry["component"]
    scope = defs.components.get((comp["name"], comp.get("instance")))
    if "evse" in comp:
        return [(comp["evse"]["id"], comp["evse"].get("connectorId", 0))]
    if scope == "evse":
        return [(e, 0) for e in sorted(layout.evses)]
    if scope == "connector":
        return [(e, c) for e in sorted(layout.evses) for c in sorted(layout.evses[e])]
    return [(0, 0)]


# The monitors' fields by definitions and layout, for the files' entries: worked out once (the
# stations of a fleet share both), each station then gets its own Monitor objects.
_made: dict[tuple[Definitions, tuple[tuple[int, tuple[int, ...]], ...]], list[tuple[Any, ...]]] = {}


def predefined(
    defs: Definitions, layout: EvseLayout, entries: list[dict[str, Any]] | None = None
) -> list[Monitor]:
    """The station's predefined monitors (fresh objects)."""
    if entries is not None:
        return [Monitor(*fields) for fields in _fields(defs, layout, entries)]
    key = (defs, tuple(layout.evses.items()))
    made = _made.get(key)
    if made is None:
        made = _fields(defs, layout, _read())
        with _lock:
            if len(_made) >= 8:  # (a process runs one or a few layouts)
                _made.clear()
            _made[key] = made
    return [Monitor(*fields) for fields in made]


def _fields(
    defs: Definitions, layout: EvseLayout, entries: list[dict[str, Any]]
) -> list[tuple[Any, ...]]:
    """Each monitor's fields, in :class:`Monitor`'s order (checked: ValueError)."""
    errors: list[str] = []
    out: list[Monitor] = []
    for entry in entries:
        comp, var_ref = entry["component"], entry["variable"]
        key = (comp["name"], comp.get("instance"), var_ref["name"], var_ref.get("instance"))
        var = defs.by_key.get(key)
        where = f"monitor {entry['id']} on {comp['name']}.{var_ref['name']}"
        if var is None:
            errors.append(f"{where}: no such variable")
            continue
        if entry["type"] not in supported_types(var):
            errors.append(f"{where}: {entry['type']} not supported by the variable")
            continue
        for n, (evse, connector) in enumerate(instances(entry, defs, layout)):
            out.append(
                Monitor(
                    id=entry["id"] + n,
                    kind=entry["kind"],
                    address=Address(
                        comp["name"],
                        comp.get("instance"),
                        evse,
                        connector,
                        var_ref["name"],
                        var_ref.get("instance"),
                    ),
                    type=entry["type"],
                    value=float(entry["value"]),
                    severity=entry["severity"],
                    transaction=entry.get("transaction", False),
                    factory_default=entry["kind"] == PRECONFIGURED
                    and entry.get("factoryDefault", False),
                )
            )
    ids = [m.id for m in out]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        errors.append(f"monitor ids used twice: {twice}")
    if errors:
        raise ValueError("predefined monitors: " + "; ".join(errors))
    # (every field, in order: the runtime state's are its starting values; an Address is frozen)
    return [tuple(getattr(m, f.name) for f in dataclasses.fields(m)) for m in out]
