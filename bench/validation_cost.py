"""Schema validation cost per message: the validator in use (``ocpp_station/rpc/validation.py``,
schemas compiled to closures with jsonschema behind them for errors) against plain jsonschema,
the ``ocpp`` package's own check (the synchronous part of what the peer runs for every message)
and, when it is installed, fastjsonschema."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from importlib import resources
from typing import Any

from bench.common import Options, Result
from ocpp_station.rpc.errors import OCPPError
from ocpp_station.rpc.validation import Kind, SchemaRegistry

T = "2026-01-01T12:00:00.000Z"


def _sampled(measurand: str, value: float, unit: str, phase: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "value": value,
        "context": "Sample.Periodic",
        "measurand": measurand,
        "unitOfMeasure": {"unit": unit},
    }
    if phase:
        item["phase"] = phase
    return item


TX_EVENT = {
    "eventType": "Updated",
    "timestamp": T,
    "triggerReason": "MeterValuePeriodic",
    "seqNo": 12,
    "transactionInfo": {"transactionId": "tx-0001", "chargingState": "Charging"},
    "evse": {"id": 1, "connectorId": 1},
    "meterValue": [
        {
            "timestamp": T,
            "sampledValue": [
                _sampled("Energy.Active.Import.Register", 1234.5, "Wh"),
                _sampled("Power.Active.Import", 11040, "W"),
                *(_sampled("Current.Import", 16.0, "A", p) for p in ("L1", "L2", "L3")),
                *(_sampled("Voltage", 230.0, "V", p) for p in ("L1-N", "L2-N", "L3-N")),
            ],
        }
    ],
}

SET_PROFILE = {
    "evseId": 1,
    "chargingProfile": {
        "id": 7,
        "stackLevel": 1,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "validFrom": T,
        "chargingSchedule": [
            {
                "id": 1,
                "startSchedule": T,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [
                    {"startPeriod": i * 900, "limit": 32.0 - i, "numberPhases": 3}
                    for i in range(12)
                ],
            }
        ],
    },
}

NOTIFY_REPORT = {
    "requestId": 1,
    "generatedAt": T,
    "seqNo": 0,
    "tbc": False,
    "reportData": [
        {
            "component": {"name": "OCPPCommCtrlr"},
            "variable": {"name": f"Variable{i}"},
            "variableAttribute": [{"type": "Actual", "value": str(i), "mutability": "ReadWrite"}],
            "variableCharacteristics": {"dataType": "integer", "supportsMonitoring": False},
        }
        for i in range(20)
    ],
}

MESSAGES: list[tuple[str, Kind, dict[str, Any]]] = [
    ("Heartbeat", "request", {}),
    (
        "StatusNotification",
        "request",
        {
            "timestamp": T,
            "connectorStatus": "Available",
            "evseId": 1,
            "connectorId": 1,
        },
    ),
    (
        "BootNotification",
        "request",
        {
            "reason": "PowerUp",
            "chargingStation": {"model": "M", "vendorName": "V", "serialNumber": "SN-1"},
        },
    ),
    (
        "GetVariables",
        "request",
        {
            "getVariableData": [
                {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
            ]
        },
    ),
    ("TransactionEvent", "request", TX_EVENT),
    ("SetChargingProfile", "request", SET_PROFILE),
    ("NotifyReport", "request", NOTIFY_REPORT),
]
INVALID: tuple[str, Kind, dict[str, Any]] = (
    "TransactionEvent",
    "request",
    {**TX_EVENT, "triggerReason": "NoSuchReason"},
)


def _per_call(fn: Callable[[], Any], iterations: int, budget: float = 0.05) -> float:
    """Seconds per call: the best of 3 timed loops (the least disturbed), each at most
    ``iterations`` calls and about ``budget`` seconds long."""
    t0 = time.perf_counter()
    fn()
    estimate = max(time.perf_counter() - t0, 1e-7)
    count = max(5, min(iterations, int(budget / estimate)))
    best = math.inf
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(count):
            fn()
        best = min(best, (time.perf_counter() - t0) / count)
    return best


def _schema(action: str, kind: Kind) -> dict[str, Any]:
    name = f"{action}{'Request' if kind == 'request' else 'Response'}.json"
    text = (resources.files("ocpp") / "v201" / "schemas" / name).read_text(encoding="utf-8-sig")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _fastjsonschema(action: str, kind: Kind) -> Callable[[Any], Any] | None:
    try:
        import fastjsonschema
    except ImportError:
        return None
    schema = dict(_schema(action, kind))
    schema.pop("$id", None)  # fastjsonschema resolves $id as a base URI; the refs are local
    # use_default=False: by default it writes the schemas' "default" values into the payload.
    validate: Callable[[Any], Any] = fastjsonschema.compile(schema, use_default=False)
    return validate


def _ours_invalid(registry: SchemaRegistry, action: str, kind: Kind, payload: Any) -> None:
    try:
        registry.validate(action, kind, payload)
    except OCPPError:
        return
    raise AssertionError("the invalid payload was accepted")


def measure(
    registry: SchemaRegistry,
    action: str,
    kind: Kind,
    payload: dict[str, Any],
    invalid: bool,
    iterations: int,
    budget: float,
) -> dict[str, float]:
    """Seconds per validation of one payload with each validator (NaN: not installed)."""
    from ocpp.messages import Call, _validate_payload

    plain = registry.validator(action, kind)
    if invalid:

        def ours() -> None:
            _ours_invalid(registry, action, kind, payload)
    else:
        registry.validate(action, kind, payload)  # the sample is valid: raises otherwise
        if not plain.is_valid(payload):
            raise AssertionError(f"{action} sample is not valid per jsonschema")

        def ours() -> None:
            registry.validate(action, kind, payload)

    call = Call(unique_id="1", action=action, payload=payload)

    def package() -> None:
        try:
            _validate_payload(call, "2.0.1")
        except Exception:  # the invalid sample: the package raises its own error
            pass

    fast = _fastjsonschema(action, kind)

    def fast_call() -> None:
        assert fast is not None
        try:
            fast(payload)
        except Exception:  # JsonSchemaException for the invalid sample
            pass

    return {
        "ours": _per_call(ours, iterations, budget),
        "jsonschema": _per_call(lambda: plain.is_valid(payload), iterations, budget),
        "ocpp_package": _per_call(package, iterations, budget),
        "fastjsonschema": math.nan if fast is None else _per_call(fast_call, iterations, budget),
    }


async def run(opts: Options) -> Result:
    registry = SchemaRegistry()
    budget = 0.002 if opts.quick else 0.05
    rows: list[list[Any]] = []
    data: dict[str, Any] = {}
    have_fast = _fastjsonschema("Heartbeat", "request") is not None
    for action, kind, payload in [*MESSAGES, INVALID]:
        invalid = (action, kind, payload) == INVALID
        size = len(json.dumps(payload, separators=(",", ":")))
        t = measure(registry, action, kind, payload, invalid, opts.validation_iterations, budget)
        label = f"{action}{' (invalid)' if invalid else ''}"
        us = {k: v * 1e6 for k, v in t.items()}
        rows.append(
            [
                label,
                size,
                us["ours"],
                us["jsonschema"],
                us["ocpp_package"],
                us["fastjsonschema"],
                t["jsonschema"] / t["ours"],
            ]
        )
        data[label] = {
            "bytes": size,
            **{f"{k}_us": None if math.isnan(v) else v for k, v in us.items()},
        }
    notes = [
        "µs per message, best of 3 loops; ours = SchemaRegistry.validate (compiled fast path, "
        "jsonschema only to describe errors)",
        "jsonschema = Draft-6 validator .is_valid with the date-time format checker",
        "ocpp package = ocpp.messages._validate_payload (Draft-4 .validate; the package runs it "
        "in a thread executor, so the peer also pays a thread hop per message)",
    ]
    if not have_fast:
        notes.append("fastjsonschema is not installed: its column is empty")
    return Result(
        name="validation",
        title="Schema validation cost (µs per message)",
        columns=["message", "bytes", "ours", "jsonschema", "ocpp pkg", "fastjsonschema", "js/ours"],
        rows=rows,
        data=data,
        notes=notes,
    )
