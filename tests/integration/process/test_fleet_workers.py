"""A fleet over processes and hosts (issue 19): ``ocpp-station fleet --workers N`` and
``--shard I/N`` as real processes against one CSMS built on the ``ocpp`` package; every station id
boots exactly once, none is missing; the live summary and the final report add up the workers."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from support import REPO, fleet_toml

from ocpp_station.csms import LocalCSMS


def write_config(csms: LocalCSMS, folder: Path) -> Path:
    path = folder / "fleet.toml"
    path.write_text(fleet_toml("SH", csms.url, folder / "data"))
    return path


async def fleet(*args: str, env: dict[str, str] | None = None) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ocpp_station.cli",
        "fleet",
        *args,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


def boots(csms: LocalCSMS) -> Counter[str]:
    return Counter(f.station for f in csms.frames if f.kind == 2 and f.action == "BootNotification")


async def stop(proc: asyncio.subprocess.Process, sig: int = signal.SIGTERM) -> tuple[str, str]:
    proc.send_signal(sig)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return out.decode(), err.decode()


def json_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_text().split("\0")


async def kill_all(*procs: asyncio.subprocess.Process) -> None:
    for proc in procs:
        if proc.returncode is None:
            for child in children(proc.pid):
                os.kill(child, signal.SIGKILL)
            proc.kill()
            await proc.wait()


async def test_shards_on_several_processes_boot_every_station_exactly_once(
    csms: LocalCSMS, short_tmp: Path
) -> None:
    config = write_config(csms, short_tmp)
    total, shards = 11, 3
    common = ["--config", str(config), "--count", str(total), "--stats-interval", "0", "--json"]
    procs = [
        await fleet(*common, "--shard", "0/3", "--workers", "1"),
        await fleet(*common, "--shard", "1/3", "--workers", "2"),  # a shard over two workers
        await fleet(
            *common, "--shard", "auto/3", "--workers", "1", env={"JOB_COMPLETION_INDEX": "2"}
        ),
    ]
    try:
        expected = {f"SH-{i:04d}" for i in range(1, total + 1)}
        await csms.wait_for(lambda: set(boots(csms)) == expected, timeout=60)
        await csms.wait_for(lambda: len(list(csms.stations())) == total, timeout=30)
        await asyncio.sleep(0.5)  # a station run twice would have booted by now
        assert boots(csms) == Counter(expected)  # each exactly once, none missing
        results = [await stop(p) for p in procs]
    finally:
        await kill_all(*procs)
    assert [p.returncode for p in procs] == [0, 0, 0], [err for _, err in results]
    finals = [json_lines(out)[-1] for out, _ in results]
    assert [f["kind"] for f in finals] == ["final"] * shards
    assert [f["stations"] for f in finals] == [4, 4, 3]  # contiguous slices of 11
    assert [f["workers"] for f in finals] == [1, 2, 1]
    assert all(f["registered"] == f["stations"] and f["dead_workers"] == 0 for f in finals)
    await csms.wait_for(lambda: not list(csms.stations()), timeout=10)


async def test_workers_give_one_live_summary_and_one_final_report(
    csms: LocalCSMS, short_tmp: Path
) -> None:
    config = write_config(csms, short_tmp)
    proc = await fleet(
        "--config", str(config), "--count", "6", "--workers", "2",
        "--stats-interval", "0.3", "--json",
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        while True:  # live lines until all six (over two workers) are registered
            line = await asyncio.wait_for(proc.stdout.readline(), 60)
            assert line, "the fleet ended before its stations registered"
            live = json.loads(line)
            assert live["kind"] == "live" and live["workers"] == 2 and live["stations"] == 6
            if live["registered"] == 6:
                break
        assert live["connected"] == 6 and live["queued"] == 0
        assert len(children(proc.pid)) == 2
        out, err = await stop(proc)
    finally:
        await kill_all(proc)
    assert proc.returncode == 0, err
    final = json_lines(out)[-1]
    assert final["kind"] == "final" and final["workers"] == 2 and final["registered"] == 6
    # Every station's BootNotification and StatusNotification were CALLs answered by the CSMS.
    assert final["rtt_ms"]["samples"] >= 12 and final["rtt_ms"]["p50"] > 0
    assert final["messages_out"] >= 12 and final["messages_in"] >= 12
    assert set(boots(csms)) == {f"SH-{i:04d}" for i in range(1, 7)}
    await csms.wait_for(lambda: not list(csms.stations()), timeout=10)


async def test_a_dead_worker_is_reported_and_fails_the_fleet(
    csms: LocalCSMS, short_tmp: Path
) -> None:
    config = write_config(csms, short_tmp)
    proc = await fleet(
        "--config", str(config), "--count", "4", "--workers", "2", "--stats-interval", "0"
    )  # fmt: skip
    try:
        await csms.wait_for(lambda: len(list(csms.stations())) == 4, timeout=60)
        (second,) = [pid for pid in children(proc.pid) if "3:5" in cmdline(pid)]
        os.kill(second, signal.SIGKILL)  # worker 1: stations 3 and 4
        assert proc.stderr is not None
        while True:  # the parent reports it at once
            line = (await asyncio.wait_for(proc.stderr.readline(), 30)).decode()
            assert line, "the parent ended"
            if "was killed by signal 9" in line:
                break
        assert line.startswith("ocpp-station fleet: worker 1 (stations 3..4) was killed")
        assert line.rstrip().endswith("while the fleet ran")
        await csms.wait_for(lambda: len(list(csms.stations())) == 2, timeout=20)
        assert proc.returncode is None  # the other worker's stations go on serving
        assert set(csms.stations()) == {"SH-0001", "SH-0002"}
        _, err = await stop(proc)
    finally:
        await kill_all(proc)
    assert proc.returncode == 1
    assert "fleet final" in err and "1 worker(s) died" in err
    await csms.wait_for(lambda: not list(csms.stations()), timeout=10)


async def test_workers_stop_by_themselves_when_the_parent_is_killed(
    csms: LocalCSMS, short_tmp: Path
) -> None:
    config = write_config(csms, short_tmp)
    proc = await fleet(
        "--config", str(config), "--count", "2", "--workers", "2", "--stats-interval", "0.2"
    )  # fmt: skip
    try:
        await csms.wait_for(lambda: len(list(csms.stations())) == 2, timeout=60)
        workers = children(proc.pid)
        assert len(workers) == 2
        proc.kill()  # no chance to forward anything
        await proc.wait()
        # The orphans notice (pipe gone, parent changed) and close their stations cleanly.
        await csms.wait_for(lambda: not list(csms.stations()), timeout=30)
        for pid in workers:
            for _ in range(300):
                if _gone(pid):
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError(f"worker {pid} still runs")
    finally:
        await kill_all(proc)


def _gone(pid: int) -> bool:
    """Ended: no such process, or a zombie waiting for its (dead) parent's reaper."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    return "zombie" in status.split("State:")[1].splitlines()[0]


async def test_single_process_summary_lines_on_stderr(csms: LocalCSMS, short_tmp: Path) -> None:
    config = write_config(csms, short_tmp)
    proc = await fleet(
        "--config", str(config), "--count", "2", "--workers", "1", "--stats-interval", "0.3"
    )  # fmt: skip
    assert proc.stderr is not None
    try:
        while True:
            line = (await asyncio.wait_for(proc.stderr.readline(), 60)).decode()
            assert line, "the fleet ended early"
            if line.startswith("fleet ") and "2/2 connected, 2 registered" in line:
                break
        assert " msg/s | rtt p50 " in line and "| queued 0" in line
        out, err = await stop(proc, signal.SIGINT)
    finally:
        await kill_all(proc)
    assert proc.returncode == 0, err
    assert out == ""  # people's lines go to stderr; stdout stays for --json
    assert err.splitlines()[-1].startswith("fleet final ")


async def test_bad_shard_and_worker_options_are_named(short_tmp: Path) -> None:
    config = short_tmp / "fleet.toml"
    config.write_text(fleet_toml("SH", "ws://127.0.0.1:9/ocpp", short_tmp))
    cases = [
        (["--shard", "3/3"], "--shard: shard index 3 is out of range for 3 shards (0..2)"),
        (["--shard", "auto/3"], "JOB_COMPLETION_INDEX is not set"),
        (["--workers", "0"], "--workers must be >= 1, got 0"),
        (["--workers", "2", "--http", "127.0.0.1:0"], "use --workers 1"),
        (["--stats-interval", "-1"], "--stats-interval must be 0..86400 seconds"),
    ]
    env = {k: v for k, v in os.environ.items() if k != "JOB_COMPLETION_INDEX"}
    for extra, message in cases:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "ocpp_station.cli", "fleet", "--config", str(config),
            "--count", "3", *extra,
            env={**env, "PYTHONPATH": str(REPO)}, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, err = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 2, (extra, err)
        assert message in err.decode(), (extra, err)
    # More shards than stations: an empty shard has nothing to do and says so.
    proc = await fleet("--config", str(config), "--count", "2", "--shard", "2/3")
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0
    assert "shard 2/3 of 2 stations is empty" in err.decode()
