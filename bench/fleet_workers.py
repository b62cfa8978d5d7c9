"""Fleet over processes: ``ocpp-station fleet --workers W`` for W = 1 and 2, the same N stations
against one raw CSMS process (:mod:`bench.wire`) on the same machine.

Each run is the real command (``python -m ocpp_station.cli fleet ... --json``), read through its
own live summary (JSON lines on stdout, every 0.5 s) and /proc:

- boot storm: from the command's start until its summary shows every station registered, and the
  slowest worker's own boot-storm time (``boot_seconds`` of the final report);
- steady state: every station heartbeats every ``HEARTBEAT`` seconds (a load, not an idle rig:
  N/HEARTBEAT CALLs per second); over a window, messages per second as the summary counts them,
  the round trips' p99 of the window's summaries, and the CPU each process used (utime + stime from
  /proc, % of one core) — the parent's (it only supervises) and each worker's;
- the summary's own cost: ``collect_ms`` (CPU time reading every station for one snapshot;
  the median of the window's summaries, per station of the slowest worker),
  and, timed here, the per-frame cost of the round-trip counter; both projected to 10,000
  stations with the issue's steady state (heartbeat 60 s, 10 % charging with meter values every
  15 s: ~233 CALLs/s, ~467 frames/s).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import timeit
from pathlib import Path
from typing import Any

from bench.common import Options, Result, subprocess_env
from bench.fleet_scale import CsmsProcess

INTERVAL = 0.5  # seconds between two live summaries of the measured fleet
TICKS = os.sysconf("SC_CLK_TCK")
FRAMES_AT_10K = 2 * (10_000 / 60 + 1_000 / 15)  # frames/s in the steady state


def sizes(opts: Options) -> tuple[int, int, float]:
    """(stations, heartbeat interval s, window s)."""
    return (20, 1, 2.0) if opts.quick else (1500, 1, 20.0)


def template(url: str, data_dir: Path) -> str:
    return f"""\
[station]
id = "WK"
csms_url = "{url}"
data_dir = "{data_dir}"
password = "bench-password-0123456"
log_level = "WARNING"
[[evse]]
id = 1
connectors = [1]
[hal]
backend = "sim"
tick = 1.0
"""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


async def next_summary(proc: asyncio.subprocess.Process, timeout: float) -> dict[str, Any]:
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), timeout)
    if not line:
        raise RuntimeError(f"the fleet ended early (exit {await proc.wait()})")
    data: dict[str, Any] = json.loads(line)
    return data


async def measure(workers: int, n: int, window: float, csms_url: str) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="ocpp-bench-workers-"))
    config = work / "fleet.toml"
    config.write_text(template(csms_url, work / "data"))
    t0 = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ocpp_station.cli", "fleet", "--config", str(config),
        "--count", str(n), "--workers", str(workers), "--stats-interval", str(INTERVAL), "--json",
        stdout=asyncio.subprocess.PIPE, env=subprocess_env(),
    )  # fmt: skip
    out: dict[str, Any] = {"workers": workers, "n": n}
    try:
        while (await next_summary(proc, 300))["registered"] < n:
            pass
        out["boot_storm_s"] = time.perf_counter() - t0
        await asyncio.sleep(1.0)  # the first heartbeats after the boot storm
        pids = [proc.pid, *children(proc.pid)]
        cpu0 = {pid: cpu_seconds(pid) for pid in pids}
        w0 = time.perf_counter()
        window_summaries = []
        while time.perf_counter() - w0 < window:
            window_summaries.append(await next_summary(proc, 60))
        span = time.perf_counter() - w0
        cpu = {pid: (cpu_seconds(pid) - cpu0[pid]) / span * 100 for pid in pids}
        out["parent_cpu_pct"] = round(cpu[proc.pid], 1)
        out["worker_cpu_pct"] = [round(cpu[pid], 1) for pid in pids[1:]] or [out["parent_cpu_pct"]]
        rates = [x["messages_per_second"] for x in window_summaries]
        p99s = [x["rtt_ms"]["p99"] for x in window_summaries if x["rtt_ms"]["p99"] is not None]
        out["messages_per_second"] = round(sum(rates) / len(rates), 1)
        out["rtt_p99_ms_worst_interval"] = max(p99s) if p99s else None
        p50s = sorted(x["rtt_ms"]["p50"] for x in window_summaries if x["rtt_ms"]["p50"])
        out["rtt_p50_ms_median"] = p50s[len(p50s) // 2] if p50s else None
        collects = sorted(x["collect_ms"] for x in window_summaries)
        out["collect_ms_max"] = collects[-1]
        out["collect_ms_median"] = collects[len(collects) // 2]
        out["summaries"] = len(window_summaries)
        proc.send_signal(signal.SIGTERM)
        rest, _ = await asyncio.wait_for(proc.communicate(), 120)
        final = json.loads(rest.decode().strip().splitlines()[-1])
        out["final"] = final
        out["boot_seconds_slowest_worker"] = final["boot_seconds"]
        out["exit_code"] = proc.returncode
    finally:
        if proc.returncode is None:
            for pid in children(proc.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            proc.kill()
            await proc.wait()
        shutil.rmtree(work, ignore_errors=True)
    return out


def frame_cost_us() -> float:
    """Microseconds the round-trip counter spends per frame (a CALL out and its answer in)."""
    from ocpp_station.fleet_stats import RoundTrips

    rt = RoundTrips()
    ids = [f"{i:08x}-0000-4000-8000-000000000000" for i in range(1000)]
    calls = [f'[2,"{m}","Heartbeat",{{}}]' for m in ids]
    answers = [f'[3,"{m}",{{"currentTime":"2026-12-01T14:00:00.000Z"}}]' for m in ids]

    def pairs() -> None:
        for i in range(1000):
            rt.frame("WK-0001", "out", calls[i], 1.0)
            rt.frame("WK-0001", "in", answers[i], 1.01)

    best = min(timeit.repeat(pairs, number=5, repeat=5)) / 5
    return best / 2000 * 1e6


async def run(opts: Options) -> Result:
    n, heartbeat, window = sizes(opts)
    csms = await CsmsProcess.start(heartbeat)
    runs = []
    try:
        for workers in (1, 2):
            runs.append(await measure(workers, n, window, csms.url))
    finally:
        csms_stats = await csms.stop()
    per_frame = frame_cost_us()
    # The slowest worker's read of its stations (merged collect_ms is the max over workers),
    # per station of that worker; the median over the window's summaries.
    collect_per_station_us = max(r["collect_ms_median"] * 1000 / (n / r["workers"]) for r in runs)
    monitor_at_10k = (
        collect_per_station_us * 10_000 / 5.0 + per_frame * FRAMES_AT_10K
    ) / 1e4  # % of a core: a 5 s summary interval, the steady state's frames
    rows = [
        [
            r["workers"],
            r["n"],
            r["boot_storm_s"],
            r["boot_seconds_slowest_worker"],
            r["messages_per_second"],
            r["rtt_p50_ms_median"],
            r["rtt_p99_ms_worst_interval"],
            r["parent_cpu_pct"] if r["workers"] > 1 else "-",
            " + ".join(f"{c:.1f}" for c in r["worker_cpu_pct"]),
            r["exit_code"],
        ]
        for r in runs
    ]
    one, two = runs
    return Result(
        name="workers",
        title=f"Fleet over worker processes ({n} stations, heartbeat every {heartbeat} s)",
        columns=[
            "workers",
            "N",
            "boot storm s",
            "slowest worker boot s",
            "msg/s",
            "rtt p50 ms",
            "rtt p99 ms (worst 0.5 s)",
            "parent CPU %",
            "worker CPU %",
            "exit",
        ],
        rows=rows,
        data={
            "runs": runs,
            "csms": csms_stats,
            "frame_cost_us": per_frame,
            "collect_us_per_station": collect_per_station_us,
            "monitor_pct_of_core_at_10k": monitor_at_10k,
        },
        notes=[
            f"2 workers vs 1: boot storm {two['boot_storm_s'] / one['boot_storm_s']:.2f}x the "
            f"time, {two['messages_per_second'] / max(one['messages_per_second'], 1e-9):.2f}x "
            "the messages per second",
            f"the live summary's cost: {per_frame:.2f} µs per frame, "
            f"{collect_per_station_us:.2f} µs per station per snapshot; at 10,000 stations "
            f"(5 s interval, ~{FRAMES_AT_10K:.0f} frames/s) {monitor_at_10k:.2f} % of a core",
            f"window {window:g} s after every station registered; the CSMS (bench.wire) is "
            "another process on the same cores; CPU % is of one core",
        ],
    )
