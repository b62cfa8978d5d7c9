"""Round-trip latency: a CSMS on loopback sends GetVariables (one variable) and ChangeAvailability
to one station and times each answer; ours, the ``ocpp``-package peer and the echo floor are
measured in the same run, taking turns, through the same raw CSMS code (:mod:`bench.wire`).
Each station is its own process, as a real one would be."""

from __future__ import annotations

import math
from typing import Any

from bench.common import Options, Result, summary_ms
from bench.procs import Target, spawn, stop_all
from bench.wire import RawCSMS

CALLS: dict[str, dict[str, Any]] = {
    "GetVariables": {
        "getVariableData": [
            {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
        ]
    },
    # Operative while already operative: Accepted, no status change follows (G03.FR.05).
    "ChangeAvailability": {"operationalStatus": "Operative", "evse": {"id": 1}},
}

IDS = {"ours": "BENCH-OURS", "peer": "BENCH-PEER", "echo": "BENCH-ECHO"}


async def wait_ready(csms: RawCSMS, target: Target, timeout: float = 30.0) -> float:
    """Wait until the station is serving: ours after its StatusNotifications (registered and
    online), the others after their BootNotification.  Returns the BootNotification's arrival
    (perf_counter)."""
    sid = target.station_id

    def ready() -> bool:
        if target.proc.poll() is not None:
            raise RuntimeError(
                f"{target.kind} station exited with {target.proc.returncode}: {target.stderr()}"
            )
        if target.kind == "ours":
            return csms.received[sid, "StatusNotification"] >= 2
        return (sid, "BootNotification") in csms.first and sid in csms.links

    try:
        await csms.wait_for(ready, timeout)
    except TimeoutError:
        raise RuntimeError(
            f"{target.kind} station not ready in {timeout:g} s: {target.stderr()}"
        ) from None
    return csms.first[sid, "BootNotification"]


def _check(kind: str, action: str, frame: list[Any]) -> str | None:
    """None when ``frame`` is the answer ``kind`` should give, else what is wrong."""
    if kind == "echo":
        return None if frame[0] == 2 and frame[2] == action else f"echo returned {frame!r}"
    if frame[0] != 3:
        return f"{action} answered {frame!r}"
    payload = frame[2]
    if action == "GetVariables":
        result = payload["getVariableResult"][0]
        if result.get("attributeStatus") != "Accepted":
            return f"GetVariables result {result!r}"
    elif payload.get("status") != "Accepted":
        return f"ChangeAvailability result {payload!r}"
    return None


async def run(opts: Options) -> Result:
    csms = await RawCSMS(heartbeat_interval=3600).start()
    targets = [spawn(kind, sid, csms.url) for kind, sid in IDS.items()]
    rtts: dict[str, dict[str, list[float]]] = {t.kind: {a: [] for a in CALLS} for t in targets}
    problems: list[str] = []
    try:
        for target in targets:
            await wait_ready(csms, target)
        for target in targets:  # warm-up: first-use compilation, caches, allocator
            for action, payload in CALLS.items():
                for _ in range(opts.warmup):
                    frame, _ = await csms.call(target.station_id, action, payload)
                    problem = _check(target.kind, action, frame)
                    if problem:
                        problems.append(f"{target.kind}: {problem}")
                        break
        per_round = max(1, opts.calls // opts.rounds)
        for round_no in range(opts.rounds):
            shift = round_no % len(targets)  # rotate who goes first
            for target in targets[shift:] + targets[:shift]:
                for action, payload in CALLS.items():
                    for _ in range(per_round):
                        _, seconds = await csms.call(target.station_id, action, payload)
                        rtts[target.kind][action].append(seconds)
    finally:
        await stop_all(targets)
        await csms.stop()

    stats = {kind: {a: summary_ms(v) for a, v in per.items()} for kind, per in rtts.items()}
    rows: list[list[Any]] = []
    for action in CALLS:
        for kind in IDS:
            s = stats[kind][action]
            rows.append([action, kind, s["n"], s["p50"], s["p90"], s["p99"], s["mean"]])
    ratios: dict[str, dict[str, float]] = {}
    for action in CALLS:
        ours = stats["ours"][action]
        peer = stats["peer"][action]
        echo = stats["echo"][action]
        ratios[action] = {
            "ours/peer p50": _ratio(ours["p50"], peer["p50"]),
            "ours/peer p99": _ratio(ours["p99"], peer["p99"]),
            "ours/echo p50": _ratio(ours["p50"], echo["p50"]),
            "ours/echo p99": _ratio(ours["p99"], echo["p99"]),
        }
        r = ratios[action]
        rows.append([action, "ours/peer (×)", "", r["ours/peer p50"], "", r["ours/peer p99"], ""])
        rows.append([action, "ours/echo (×)", "", r["ours/echo p50"], "", r["ours/echo p99"], ""])
    notes = [
        "round trip = raw CALL frame sent by the CSMS until the frame with its message id arrived",
        "targets take turns in rounds (order rotated) in one run; each station is a subprocess",
        "targets: ≤ 1.0× peer, ≤ 3× echo (p50)",
    ]
    notes += problems
    return Result(
        name="latency",
        title="Round-trip latency (ms)",
        columns=["call", "station", "n", "p50", "p90", "p99", "mean"],
        rows=rows,
        data={"stats": stats, "ratios": ratios, "problems": problems},
        notes=notes,
    )


def _ratio(a: float, b: float) -> float:
    if math.isnan(a) or math.isnan(b) or b == 0:
        return math.nan
    return a / b
