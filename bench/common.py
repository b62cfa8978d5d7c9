"""Shared pieces of the benchmarks: options, statistics, tables, results files, machine facts."""

from __future__ import annotations

import gc
import json
import math
import os
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"


@dataclass
class Options:
    """Sizes of every benchmark; :meth:`quick` gives the tiny ones (seconds in total)."""

    quick: bool = False
    results_dir: Path = RESULTS
    calls: int = 2000  # round trips per call type and target
    warmup: int = 200
    rounds: int = 5  # the targets take turns this many times (fair against drift)
    startup_repeats: int = 5
    # Fleet scale (issue 19): a real rig's steady state, heartbeats every 60 s and 10 % of the
    # stations charging with meter values every 15 s; the window covers a heartbeat interval.
    fleet_sizes: tuple[int, ...] = (1000, 5000, 10000)
    fleet_window: float = 75.0  # seconds of steady state measured per fleet size
    fleet_heartbeat: int = 60  # HeartbeatInterval during the fleet run (s)
    fleet_meter_interval: float = 15.0  # TxUpdatedInterval of the charging stations (s)
    fleet_charging_share: float = 0.10
    fleet_concurrency: int = 50
    fleet_warm: bool = False  # also start each fleet a second time on its data directories
    queue_messages: int = 10_000
    enqueue_messages: int = 1000  # single pushes timed (each one a durable SQLite commit)
    validation_iterations: int = 2000
    profile_calls: int = 2000
    profile_fleet: int = 200
    profile_window: float = 20.0

    @classmethod
    def quick_mode(cls, results_dir: Path = RESULTS) -> Options:
        return cls(
            quick=True,
            results_dir=results_dir,
            calls=100,
            warmup=20,
            rounds=2,
            startup_repeats=1,
            fleet_sizes=(10, 50),
            fleet_window=3.0,
            fleet_heartbeat=1,
            fleet_meter_interval=1.0,
            fleet_concurrency=20,
            queue_messages=300,
            enqueue_messages=50,
            validation_iterations=100,
            profile_calls=100,
            profile_fleet=10,
            profile_window=2.0,
        )


@dataclass
class Result:
    """One benchmark's outcome: a small table for people, ``data`` for the JSON file."""

    name: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    data: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def table(self) -> str:
        cells = [[_cell(v) for v in row] for row in self.rows]
        widths = [len(c) for c in self.columns]
        for row in cells:
            widths = [max(w, len(c)) for w, c in zip(widths, row)]
        lines = [
            "| " + " | ".join(c.ljust(w) for c, w in zip(self.columns, widths)) + " |",
            "|" + "|".join("-" * (w + 2) for w in widths) + "|",
        ]
        for row in cells:
            lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |")
        return "\n".join(lines)

    def render(self) -> str:
        text = f"## {self.title}\n\n{self.table()}\n"
        if self.notes:
            text += "\n" + "\n".join(f"- {n}" for n in self.notes) + "\n"
        return text

    def save(self, options: Options) -> Path:
        options.results_dir.mkdir(parents=True, exist_ok=True)
        path = options.results_dir / f"{self.name}.json"
        doc = {
            "name": self.name,
            "title": self.title,
            "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "quick": options.quick,
            "machine": machine(),
            "options": {
                k: str(v) if isinstance(v, Path) else v for k, v in asdict(options).items()
            },
            "columns": self.columns,
            "rows": self.rows,
            "notes": self.notes,
            "data": self.data,
        }
        path.write_text(json.dumps(doc, indent=2, default=str) + "\n", encoding="utf-8")
        return path


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    data = sorted(values)
    pos = (len(data) - 1) * q / 100
    low = math.floor(pos)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (pos - low)


def summary_ms(values: Sequence[float]) -> dict[str, float]:
    """p50/p90/p99/max/mean of durations in seconds, in milliseconds."""
    if not values:
        nan = math.nan
        return {"n": 0, "p50": nan, "p90": nan, "p99": nan, "max": nan, "mean": nan}
    return {
        "n": len(values),
        "p50": percentile(values, 50) * 1e3,
        "p90": percentile(values, 90) * 1e3,
        "p99": percentile(values, 99) * 1e3,
        "max": max(values) * 1e3,
        "mean": sum(values) / len(values) * 1e3,
    }


class GcPauses:
    """The cyclic garbage collector's pauses in this process while :attr:`recording` (through
    ``gc.callbacks``): a long full collection stops every task of the process, so a benchmark
    that sees a stall reports whether the collector made it.  A pause is wall time: it includes
    any time the collecting thread waited for a CPU meanwhile."""

    def __init__(self) -> None:
        self.recording = False
        self.pauses: list[tuple[int, float]] = []  # (generation, seconds)
        self._began = 0.0

    def install(self) -> GcPauses:
        gc.callbacks.append(self._callback)
        return self

    def remove(self) -> None:
        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        elif self.recording:
            self.pauses.append((info["generation"], time.perf_counter() - self._began))

    def summary(self) -> dict[str, Any]:
        """How many collections, their total and their longest pause (ms), and per generation
        how many and the longest."""
        by_gen: dict[str, dict[str, float]] = {}
        for gen, pause in self.pauses:
            entry = by_gen.setdefault(str(gen), {"collections": 0, "max_ms": 0.0})
            entry["collections"] += 1
            entry["max_ms"] = max(entry["max_ms"], pause * 1e3)
        return {
            "collections": len(self.pauses),
            "total_ms": sum(p for _, p in self.pauses) * 1e3,
            "max_ms": max((p for _, p in self.pauses), default=0.0) * 1e3,
            "generations": by_gen,
        }


def rss_kib(pid: int | None = None) -> dict[str, int]:
    """Resident memory (VmRSS) and its peak (VmHWM) in KiB, from /proc."""
    path = Path(f"/proc/{pid or 'self'}/status")
    out: dict[str, int] = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def open_fds(pid: int | None = None) -> int:
    return len(os.listdir(f"/proc/{pid or 'self'}/fd"))


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import websockets

        ws_version = websockets.__version__
    except ImportError:
        ws_version = "?"
    mem = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) // 1024} MiB"
    except OSError:
        pass
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "memory": mem,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "websockets": ws_version,
    }


def python_speed_ms() -> float:
    """The CPU time (ms) a fixed pure-Python loop takes in this process now, best of three.  A
    shared machine runs faster and slower phases (this one's moved every figure by up to a
    third): a result read beside this number can be told apart from a change of the code."""
    best = math.inf
    for _ in range(3):
        started, total = time.thread_time(), 0
        for i in range(1_000_000):
            total += i
        best = min(best, time.thread_time() - started)
    return best * 1e3


def python() -> str:
    """The interpreter to start subprocesses with (the venv's, as this one)."""
    return sys.executable


def subprocess_env() -> dict[str, str]:
    """Environment for benchmark subprocesses: the repository importable, output unbuffered."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env
