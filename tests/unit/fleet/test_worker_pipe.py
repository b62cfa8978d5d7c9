"""The parent's side of the worker pipe (issue 19): what a worker process writes on its report
descriptor is merged into one summary; lines that are not summaries are counted and named, never
fatal; a worker's exit code decides the fleet's.  The workers here are small real processes that
write given lines (the whole path with real stations: tests/integration/process/)."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import pytest

from ocpp_station.fleet_stats import Histogram, Snapshot, to_json
from ocpp_station.fleet_workers import parse_slice, run_workers

WRITER = """
import os, sys
fd = int(sys.argv[1])
for line in sys.argv[3:]:
    os.write(fd, (line + "\\n").encode())
sys.exit(int(sys.argv[2]))
"""


def wire(kind: str, stations: int, rtts: list[float], **kw: Any) -> str:
    h = Histogram()
    for v in rtts:
        h.add(v)
    snap = Snapshot(kind=kind, elapsed=1.0, stations=stations, rtt=h, **kw)
    return json.dumps(to_json(snap, wire=True))


async def test_summaries_of_two_workers_merge_and_bad_lines_are_named(
    capsys: pytest.CaptureFixture[str],
) -> None:
    lines = {
        0: [wire("live", 2, [0.01], registered=2), "garbage", wire("final", 2, [0.01] * 3,
            registered=2, messages_in=5)],
        1: ['{"kind": "live", "stations": -4}', wire("final", 3, [0.2], registered=1,
            messages_in=7)],
    }  # fmt: skip
    codes = {0: 0, 1: 3}
    seen: list[Snapshot] = []

    def argv(indices: range, fd: int) -> list[str]:
        k = 0 if indices.start == 1 else 1  # slice 1..2 is worker 0, 3..5 worker 1
        return [sys.executable, "-c", WRITER, str(fd), str(codes[k]), *lines[k]]

    code = await asyncio.wait_for(run_workers(argv, [range(1, 3), range(3, 6)], seen.append, 0), 60)
    assert code == 1  # worker 1 ended with 3
    (final,) = seen
    assert final.kind == "final" and final.workers == 2 and final.stations == 5
    assert (final.registered, final.messages_in, final.dead_workers) == (3, 12, 1)
    assert final.rtt.count == 4
    err = capsys.readouterr().err
    assert "worker 1 (stations 3..5) exited with code 3" in err
    assert "worker 0 (stations 1..2) sent 1 line(s) that were not summaries" in err
    assert "worker 1 (stations 3..5) sent 1 line(s) that were not summaries" in err


def test_parse_slice() -> None:
    assert parse_slice("3:5") == range(3, 5)
    for bad in ("5:3", "3:3", "3", "a:b", "-1:2"):
        with pytest.raises(ValueError, match="A:B"):
            parse_slice(bad)
