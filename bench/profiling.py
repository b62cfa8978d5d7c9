"""Where the time goes: cProfile of the round trip (our station and the raw CSMS in one process,
so both sides show) and of a fleet (boot storm plus a charging window; the CSMS in its own
process).  Reported per area of the code and as the top functions by own time; time spent idle in
``epoll`` is left out of the percentages."""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import Options, Result
from bench.fleet_scale import CsmsProcess, Probe, start_charging, template
from bench.latency import CALLS
from bench.wire import RawCSMS
from ocpp_station import Station
from ocpp_station.config import config_from_dict
from ocpp_station.fleet import Fleet, raise_fd_limit

Key = tuple[str, int, str]

AREAS = (  # (label, substring of the file name); the first match wins
    ("our RPC + validation", "ocpp_station/rpc/"),
    ("our transport", "ocpp_station/transport.py"),
    ("our store + queue", "ocpp_station/storage/"),
    ("our dispatcher", "ocpp_station/dispatch/"),
    ("device model", "device_model/"),
    ("sim HAL", "/hal/"),
    ("our station + blocks", "ocpp_station/"),
    ("benchmark CSMS/probe", "/bench/"),
    ("websockets", "/websockets/"),
    ("jsonschema", "/jsonschema/"),
    ("asyncio", "/asyncio/"),
    ("json", "/json/"),
    ("logging", "/logging/"),
)


def area(key: Key) -> str:
    filename, _, name = key
    if filename == "~":  # a built-in: name it by what it does
        if "sqlite3" in name:
            return "SQLite (C, incl. fsync)"
        if "poll" in name or "select" in name:
            return "idle (epoll wait)"
        if "zlib" in name or "Compress" in name or "Decompress" in name:
            return "zlib (permessage-deflate)"
        if "json" in name or "encode" in name or "scanner" in name:
            return "json (C)"
        if "socket" in name or "send" in name or "recv" in name:
            return "socket I/O (C)"
        return "other built-ins"
    path = filename.replace("\\", "/")
    for label, fragment in AREAS:
        if fragment in path:
            return label
    return "other Python"


def breakdown(profile: cProfile.Profile, top: int = 12) -> dict[str, Any]:
    stats = pstats.Stats(profile)
    table: dict[Key, Any] = stats.stats  # type: ignore[attr-defined]
    areas: dict[str, float] = {}
    functions = []
    for key, (_, _, tottime, cumtime, _) in table.items():
        label = area(key)
        areas[label] = areas.get(label, 0.0) + tottime
        if label != "idle (epoll wait)":
            functions.append((tottime, cumtime, key))
    idle = areas.pop("idle (epoll wait)", 0.0)
    busy = sum(areas.values()) or 1.0
    functions.sort(reverse=True)
    return {
        "busy_s": busy,
        "idle_s": idle,
        "areas": sorted(
            ({"area": k, "s": v, "pct": 100 * v / busy} for k, v in areas.items()),
            key=lambda a: -a["s"],
        ),
        "top": [
            {
                "function": _name(key),
                "tottime_s": tot,
                "cumtime_s": cum,
                "pct": 100 * tot / busy,
            }
            for tot, cum, key in functions[:top]
        ],
    }


def _name(key: Key) -> str:
    filename, line, name = key
    if filename == "~":
        return name
    parts = Path(filename).parts
    short = "/".join(parts[-2:])
    return f"{short}:{line}({name})"


async def profile_round_trip(opts: Options) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="ocpp-bench-prof-"))
    csms = await RawCSMS(heartbeat_interval=3600).start()
    config = config_from_dict(
        {
            "station": {
                "id": "PROF",
                "csms_url": csms.url,
                "data_dir": str(work / "PROF"),
                "password": "bench-password-0123456",
                "log_level": "WARNING",
            },
            "evse": [{"id": 1, "connectors": [1]}, {"id": 2, "connectors": [1]}],
            "hal": {"backend": "sim", "tick": 1.0},
        },
        source="bench-profile",
    )
    station = Station(config)
    profile = cProfile.Profile()
    try:
        await station.start()
        await csms.wait_for(lambda: csms.received["PROF", "StatusNotification"] >= 2, 30)
        for action, payload in CALLS.items():  # warm-up outside the profile
            for _ in range(20):
                await csms.call("PROF", action, payload)
        profile.enable()
        t0 = time.perf_counter()
        for action, payload in CALLS.items():
            for _ in range(opts.profile_calls):
                await csms.call("PROF", action, payload)
        wall = time.perf_counter() - t0
        profile.disable()
    finally:
        await station.stop()
        await csms.stop()
        shutil.rmtree(work, ignore_errors=True)
    result = breakdown(profile)
    result["wall_s"] = wall
    result["calls"] = opts.profile_calls * len(CALLS)
    return result


async def profile_fleet(opts: Options) -> dict[str, Any]:
    n = opts.profile_fleet
    raise_fd_limit(n * 16 + 1024)
    work = Path(tempfile.mkdtemp(prefix="ocpp-bench-prof-fleet-"))
    csms = await CsmsProcess.start(opts.fleet_heartbeat)
    probe = Probe()
    fleet = Fleet(template(csms.url, work, opts), n, on_frame=probe.on_frame)
    storm = cProfile.Profile()
    steady = cProfile.Profile()
    try:
        storm.enable()
        t0 = time.perf_counter()
        await fleet.start()
        await fleet.wait_accepted(60.0)
        storm_wall = time.perf_counter() - t0
        storm.disable()
        probe.stations = {s.config.id: s for s in fleet.stations}
        steady.enable()
        start_charging(fleet, probe, opts.fleet_charging_share)
        await asyncio.sleep(opts.profile_window)
        steady.disable()
    finally:
        storm.disable()
        steady.disable()
        await fleet.stop()
        await csms.stop()
        shutil.rmtree(work, ignore_errors=True)
    return {
        "stations": n,
        "storm": {**breakdown(storm), "wall_s": storm_wall},
        "steady": {**breakdown(steady), "wall_s": opts.profile_window},
    }


async def run(opts: Options) -> Result:
    rt = await profile_round_trip(opts)
    fl = await profile_fleet(opts)
    scenarios = {
        f"round trip ({rt['calls']} calls)": rt,
        f"fleet boot storm ({fl['stations']} stations)": fl["storm"],
        f"fleet steady ({fl['stations']} stations, {opts.profile_window:g} s)": fl["steady"],
    }
    rows: list[list[Any]] = []
    for label, data in scenarios.items():
        busy_pct = 100 * data["busy_s"] / max(data["wall_s"], 1e-9)
        rows.append([label, "(busy share of wall time)", busy_pct, data["busy_s"]])
        for a in data["areas"][:8]:
            rows.append([label, a["area"], a["pct"], a["s"]])
    notes = []
    for label, data in scenarios.items():
        top = ", ".join(f"{f['function']} {f['pct']:.0f}%" for f in data["top"][:5])
        notes.append(f"{label}, top functions by own time: {top}")
    return Result(
        name="profile",
        title="Profile: where the busy time goes (cProfile, % of busy time)",
        columns=["scenario", "area", "%", "seconds"],
        rows=rows,
        data=scenarios,
        notes=notes,
    )
