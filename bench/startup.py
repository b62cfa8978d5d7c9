"""Start-up and footprint: time from process start to the BootNotification arriving at the CSMS,
resident memory of the idle booted station (2 EVSEs), and the time a SIGTERM takes to stop it.

Ours runs as ``ocpp-station run --config`` (a cold start with an empty data_dir, then a warm one
reusing it); the ``ocpp``-package peer and the echo floor run as :mod:`bench.targets`.  Two more
rows put the numbers in proportion: the bare interpreter, and importing our station modules.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import Options, Result, python, subprocess_env
from bench.procs import Target, spawn
from bench.wire import RawCSMS

IMPORTS = "import ocpp_station.cli, ocpp_station.station, ocpp_station.blocks, device_model, hal"


async def _measure(
    csms: RawCSMS, target: Target, settle: float, timeout: float = 30.0
) -> dict[str, Any]:
    sid = target.station_id
    statuses = csms.received[sid, "StatusNotification"]

    def booted() -> bool:
        if target.proc.poll() is not None:
            raise RuntimeError(
                f"{target.kind} exited with {target.proc.returncode}: {target.stderr()}"
            )
        return (sid, "BootNotification") in csms.first

    def ready() -> bool:
        if target.kind != "ours":
            return True
        return csms.received[sid, "StatusNotification"] >= statuses + 2

    try:
        await csms.wait_for(booted, timeout)
        await csms.wait_for(ready, timeout)
    except TimeoutError:
        await target.stop()
        raise RuntimeError(
            f"{target.kind} did not boot in {timeout:g} s: {target.stderr()}"
        ) from None
    boot = csms.first[sid, "BootNotification"] - target.t_spawn
    await asyncio.sleep(settle)
    memory = target.rss()
    stop_s = await target.stop()
    return {
        "boot_s": boot,
        "rss_kib": memory.get("VmRSS", 0),
        "peak_kib": memory.get("VmHWM", 0),
        "stop_s": stop_s,
        "exit_code": target.exit_code,
    }


def _time_command(code: str, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run([python(), "-c", code], check=True, env=subprocess_env())
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


async def run(opts: Options) -> Result:
    csms = await RawCSMS(heartbeat_interval=3600).start()
    settle = 0.2 if opts.quick else 1.0
    runs: dict[str, list[dict[str, Any]]] = {"ours (cold)": [], "ours (warm)": [], "peer": []}
    runs["echo"] = []
    try:
        for i in range(opts.startup_repeats):
            work = Path(tempfile.mkdtemp(prefix="ocpp-bench-start-"))
            try:
                sid = f"START-{i}"
                runs["ours (cold)"].append(
                    await _measure(csms, spawn("ours", sid, csms.url, workdir=work), settle)
                )
                del csms.first[sid, "BootNotification"]
                runs["ours (warm)"].append(
                    await _measure(csms, spawn("ours", sid, csms.url, workdir=work), settle)
                )
            finally:
                shutil.rmtree(work, ignore_errors=True)
            for kind in ("peer", "echo"):
                target = spawn(kind, f"START-{kind}-{i}", csms.url)
                runs[kind].append(await _measure(csms, target, settle))
    finally:
        await csms.stop()
    repeats = max(1, opts.startup_repeats)
    interpreter = _time_command("pass", repeats)
    imports = _time_command(IMPORTS, repeats)

    rows: list[list[Any]] = []
    summary: dict[str, dict[str, float]] = {}
    for kind, samples in runs.items():
        s = {
            "boot_ms": statistics.median(r["boot_s"] for r in samples) * 1e3,
            "boot_min_ms": min(r["boot_s"] for r in samples) * 1e3,
            "rss_mib": statistics.median(r["rss_kib"] for r in samples) / 1024,
            "peak_mib": max(r["peak_kib"] for r in samples) / 1024,
            "stop_ms": statistics.median(r["stop_s"] for r in samples) * 1e3,
        }
        summary[kind] = s
        codes = sorted({r["exit_code"] for r in samples})
        rows.append(
            [
                kind,
                s["boot_ms"],
                s["boot_min_ms"],
                s["rss_mib"],
                s["peak_mib"],
                s["stop_ms"],
                ",".join(map(str, codes)),
            ]
        )
    rows.append(["python -c pass", interpreter * 1e3, "", "", "", "", ""])
    rows.append(["import our modules", imports * 1e3, "", "", "", "", ""])
    return Result(
        name="startup",
        title="Start-up to BootNotification and footprint (one station, 2 EVSEs)",
        columns=["station", "boot ms", "min ms", "RSS MiB", "peak MiB", "stop ms", "exit"],
        rows=rows,
        data={
            "runs": runs,
            "summary": summary,
            "interpreter_s": interpreter,
            "imports_s": imports,
        },
        notes=[
            "boot = process spawned until its BootNotification arrived at the CSMS (median)",
            "RSS = VmRSS of the idle, booted station; stop = SIGTERM until the process exited",
            "the last two rows are processes that only start Python / only import our modules",
            "targets: ≤ 500 ms to BootNotification, ≤ 40 MiB RSS",
        ],
    )
