"""The live picture of a fleet (issue 19), in-process: real stations against the ``ocpp``-package
CSMS, the monitor's snapshots checked against what each station reports of itself."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from support import queued, sim, station_config, transaction

from ocpp_station.csms import LocalCSMS
from ocpp_station.fleet import Fleet, run_fleet
from ocpp_station.fleet_live import Monitor
from ocpp_station.fleet_stats import Snapshot


async def until(predicate: Any, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_snapshot_counts_what_the_stations_report(csms: LocalCSMS, short_tmp: Path) -> None:
    monitor = Monitor(lambda _s: None, 0)
    fleet = Fleet(
        station_config(csms.url, short_tmp, station_id="LV"), 3, on_frame=monitor.on_frame
    )
    monitor.attach(fleet, asyncio.Event())
    try:
        report = await fleet.start()
        monitor.booted(report)
        assert await fleet.wait_accepted(timeout=20)
        s = monitor.snapshot("live")
        assert (s.stations, s.running, s.connected, s.registered, s.charging) == (3, 3, 3, 3, 0)
        assert s.rtt.count >= 3  # each BootNotification's round trip, at least
        assert s.messages_out >= 3 and s.messages_in >= 3

        one = fleet.stations[0]
        sim(one).plug_in(1, 1)
        sim(one).present_id_token(1, "LIVETOKEN01", "ISO14443")
        await until(lambda: (transaction(one) or {}).get("charging_state") == "Charging")
        await until(lambda: monitor.snapshot("live").charging == 1)
        chunked = Monitor(lambda _s: None, 0, chunk=1)  # one station between two yields
        chunked.attach(fleet, asyncio.Event())
        s = await chunked.live_snapshot()
        assert (s.running, s.connected, s.registered, s.charging) == (3, 3, 3, 1)

        # An unanswered TransactionEvent waits in the persistent queue: the summary sums them.
        csms.policy.silent = {"TransactionEvent"}
        sim(one).unplug(1)
        await until(lambda: monitor.snapshot("live").charging == 0)
        await until(lambda: queued(one) >= 1)
        s = monitor.snapshot("live")
        assert s.queued == sum(queued(st) for st in fleet.stations) >= 1
        final = monitor.snapshot("final")
        assert final.rtt.count >= s.rtt.count and final.boot_seconds == report.seconds
        assert final.collect_ms >= 0
    finally:
        await fleet.stop()


async def test_run_fleet_emits_live_snapshots_then_one_final(
    csms: LocalCSMS, short_tmp: Path
) -> None:
    seen: list[Snapshot] = []
    stop = asyncio.Event()
    monitor = Monitor(seen.append, 0.1)
    task = asyncio.create_task(
        run_fleet(station_config(csms.url, short_tmp, station_id="LR"), 2, stop=stop,
                  monitor=monitor)
    )  # fmt: skip
    await until(lambda: any(s.registered == 2 for s in seen))
    stop.set()
    assert await asyncio.wait_for(task, 20) == 0
    kinds = [s.kind for s in seen]
    assert kinds[-1] == "final" and kinds.count("final") == 1
    assert all(k == "live" for k in kinds[:-1])
    final = seen[-1]
    assert final.stations == 2 and final.registered == 2  # taken before the stations stop
    assert final.boot_seconds is not None and final.failed == 0
    assert final.rtt.count >= sum(s.rtt.count for s in seen[:-1])  # the run's, not an interval's
