"""The ``[device_model]`` config table: parsing and checking seed values (pure).

Keys (values may be str, int, float, bool or a list of str; a list becomes comma-separated):

- ``"Component.Variable"`` and ``"Component.Variable[Instance]"`` for a variable instance,
- ``"EVSE[1].Power"`` for EVSE 1, ``"Connector[1,2].ConnectorType"`` for connector 2 of EVSE 1,
- ``"EVSE.Power"`` / ``"Connector.ConnectorType"`` (no index): every EVSE / every connector,
- ``"Component[name].Variable"`` (non-numeric index): component instance ``name``.

Only the ``Actual`` attribute is seeded.  Every problem is collected, none stops the check.
A key naming a variable the device model no longer has (:data:`RETIRED`) is logged and skipped,
so a config written for an older release still starts the station.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence

from device_model.definitions_loader import Definitions, VariableDef
from device_model.values import InvalidValue, check_value, to_text

_KEY = re.compile(
    r"^(?P<comp>[^.\[\]]+)(\[(?P<index>[^\]]*)\])?\.(?P<var>[^.\[\]]+)(\[(?P<vinst>[^\]]*)\])?$"
)
_EVSE_INDEX = re.compile(r"^\s*(\d+)\s*(,\s*(\d+)\s*)?$")

log = logging.getLogger(__name__)

# Variables an earlier release advertised without the behaviour OCPP gives them (their stored
# values are ignored by the merge; a seed for one is skipped with a warning).
RETIRED = frozenset(
    {
        ("ClockCtrlr", "TimeZone"),
        ("ClockCtrlr", "TimeOffset"),
        ("OCPPCommCtrlr", "PublicKeyWithSignedMeterValue"),
        ("SmartChargingCtrlr", "ExternalControlSignalsEnabled"),
        ("SmartChargingCtrlr", "NotifyChargingLimitWithSchedules"),
    }
)

SeedValues = dict[tuple[int, int, int], str]  # (slot, evse or 0, connector or 0) -> text


def _targets(
    scope: str, evse: int | None, connector: int | None, evses: Mapping[int, Sequence[int]]
) -> list[tuple[int, int]] | str:
    """The (evse, connector) instances a key addresses, or an error message."""
    if scope == "station":
        if evse is not None:
            return "is a station-level component; it takes no EVSE index"
        return [(0, 0)]
    if evse is not None and evse not in evses:
        return f"EVSE {evse} is not configured (configured: {sorted(evses) or 'none'})"
    if scope == "evse":
        if connector is not None:
            return "is an EVSE-level component; give only the EVSE id, e.g. EVSE[1]"
        return [(e, 0) for e in sorted(evses)] if evse is None else [(evse, 0)]
    if evse is None:
        return [(e, c) for e in sorted(evses) for c in sorted(evses[e])]
    if connector is None:
        return [(evse, c) for c in sorted(evses[evse])]
    if connector not in evses[evse]:
        return f"connector {connector} is not configured on EVSE {evse}"
    return [(evse, connector)]


def parse_seed(
    defs: Definitions, evses: Mapping[int, Sequence[int]], seed: Mapping[str, object]
) -> tuple[SeedValues, list[str]]:
    """Check every seed entry; return the values to seed and the list of all problems."""
    values: SeedValues = {}
    errors: list[str] = []
    shape = tuple((e, tuple(c)) for e, c in evses.items())
    for key, raw in seed.items():
        if not isinstance(key, str):
            errors.append(f"{key!r}: key must be a string like 'Component.Variable'")
            continue
        address = defs.seed_keys.get((key, shape), _UNKNOWN)
        if address is _UNKNOWN:
            address = _address(defs, evses, key)
            if len(defs.seed_keys) >= _KEEP:  # (a process runs one or a few configs)
                defs.seed_keys.clear()
            defs.seed_keys[(key, shape)] = address
        if isinstance(address, str):
            errors.append(address)
            continue
        if address is None:
            comp, var_name = _names(key)
            log.warning("%r: %s.%s is no longer in the device model; ignored", key, comp, var_name)
            continue
        var, slot, targets = address
        try:
            text = check_value(var, to_text(raw))
        except TypeError as exc:
            errors.append(f"{key!r}: wrong type for {var.data_type}: {exc}")
            continue
        except InvalidValue as exc:
            errors.append(f"{key!r}: invalid {var.data_type} value: {exc.message}")
            continue
        for e, c in targets:
            values[(slot, e, c)] = text
    return values, errors


_KEEP = 4096  # seed keys remembered per definitions
_UNKNOWN = object()  # a key not worked out yet
Address = tuple[VariableDef, int, list[tuple[int, int]]]


def _names(key: str) -> tuple[str, str]:
    """The component and variable names of a well-formed key."""
    m = _KEY.match(key.strip())
    assert m is not None
    return m["comp"].strip(), m["var"].strip()


def _address(
    defs: Definitions, evses: Mapping[int, Sequence[int]], key: str
) -> Address | str | None:
    """What ``key`` addresses: its variable, the Actual slot and the (evse, connector)
    instances; None for a :data:`RETIRED` variable; or the problem, as a message."""
    m = _KEY.match(key.strip())
    if m is None:
        return (
            f"{key!r}: not of the form 'Component.Variable', 'Component.Variable[Instance]', "
            "'EVSE[1].Variable' or 'Connector[1,1].Variable'"
        )
    comp = m["comp"].strip()
    index = m["index"]
    comp_inst: str | None = None
    evse: int | None = None
    connector: int | None = None
    if index is not None:
        im = _EVSE_INDEX.match(index)
        if im is not None:
            evse = int(im[1])
            connector = int(im[3]) if im[3] is not None else None
        elif index.strip():
            comp_inst = index.strip()
    var_name = m["var"].strip()
    var_inst = (m["vinst"] or "").strip() or None
    scope = defs.components.get((comp, comp_inst))
    if scope is None:
        known = sorted({name for name, _ in defs.components})
        label = comp if comp_inst is None else f"{comp}[{comp_inst}]"
        return f"{key!r}: unknown component {label!r} (known: {', '.join(known)})"
    var = defs.by_key.get((comp, comp_inst, var_name, var_inst))
    if var is None and (comp, var_name) in RETIRED:
        return None
    if var is None:
        label = var_name if var_inst is None else f"{var_name}[{var_inst}]"
        return f"{key!r}: component {comp} has no variable {label!r}"
    targets = _targets(scope, evse, connector, evses)
    if isinstance(targets, str):
        return f"{key!r}: {comp} {targets}"
    attr = var.attributes.get("Actual")
    if attr is None:
        return f"{key!r}: {comp}.{var_name} has no Actual attribute to seed"
    return var, attr.slot, targets
