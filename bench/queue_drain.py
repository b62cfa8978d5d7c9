"""Queue drain: how fast a station delivers its persistent queue after a reconnect.

The station's queue (table ``messages`` of ``<data_dir>/station.db``) is filled with N
TransactionEvents (the periodic meter values of a long offline session) before ``ocpp-station
run`` starts; the station boots, goes online and sends them one at a time, in order, each
deleted when the CSMS answered.  Also timed: single durable pushes (one SQLite commit each, as
the station does for every event).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import Options, Result
from bench.procs import spawn
from bench.wire import RawCSMS
from ocpp_station.clock import iso
from ocpp_station.storage import StationStore

STATION = "BENCH-QUEUE"
TX_ID = "bench-offline-tx"


def meter_event(seq: int, t: float) -> dict[str, Any]:
    """A TransactionEvent Updated with one periodic energy reading (schema-valid)."""
    return {
        "eventType": "Updated",
        "timestamp": iso(t),
        "triggerReason": "MeterValuePeriodic",
        "seqNo": seq,
        "offline": True,
        "transactionInfo": {"transactionId": TX_ID, "chargingState": "Charging"},
        "meterValue": [
            {
                "timestamp": iso(t),
                "sampledValue": [
                    {
                        "value": round(seq * 30.5, 1),
                        "context": "Sample.Periodic",
                        "measurand": "Energy.Active.Import.Register",
                        "unitOfMeasure": {"unit": "Wh"},
                    }
                ],
            }
        ],
    }


def fill(data_dir: Path, count: int, t0: float) -> float:
    """Queue ``count`` events in batches of 1000; returns the seconds it took."""
    store = StationStore.open(data_dir)
    queue = store.messages
    start = time.perf_counter()
    try:
        for first in range(0, count, 1000):
            batch = [
                ("TransactionEvent", meter_event(seq, t0 + seq * 10))
                for seq in range(first, min(count, first + 1000))
            ]
            queue.push_batch(batch, t0)
    finally:
        store.close()
    return time.perf_counter() - start


def single_pushes(data_dir: Path, count: int) -> float:
    """Seconds per single durable push (one SQLite transaction with synchronous=FULL each)."""
    store = StationStore.open(data_dir)
    queue = store.messages
    try:
        start = time.perf_counter()
        for seq in range(count):
            queue.push("TransactionEvent", meter_event(seq, 1_767_225_600.0 + seq), 0.0)
        return (time.perf_counter() - start) / max(1, count)
    finally:
        store.close()


async def run(opts: Options) -> Result:
    n = opts.queue_messages
    work = Path(tempfile.mkdtemp(prefix="ocpp-bench-queue-"))
    arrivals: list[float] = []
    seqs: list[int] = []
    try:
        data_dir = work / STATION
        data_dir.mkdir()
        fill_s = fill(data_dir, n, time.time() - n * 10)
        push_s = single_pushes(work / "scratch", opts.enqueue_messages)
        csms = await RawCSMS(heartbeat_interval=3600).start()

        def on_call(station: str, action: str, payload: Any, t: float) -> None:
            if (
                action == "TransactionEvent"
                and payload.get("transactionInfo", {}).get("transactionId") == TX_ID
            ):
                arrivals.append(t)
                seqs.append(payload["seqNo"])

        csms.on_call = on_call
        target = spawn("ours", STATION, csms.url, workdir=work)
        try:
            await csms.wait_for(
                lambda: target.proc.poll() is not None or len(arrivals) >= n, 60 + n / 50
            )
            if len(arrivals) < n:
                raise RuntimeError(
                    f"station delivered {len(arrivals)} of {n} queued events: {target.stderr()}"
                )
            boot = csms.first[STATION, "BootNotification"]
        finally:
            await target.stop()
            await csms.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    drain = arrivals[-1] - arrivals[0]
    rate = (n - 1) / drain if drain > 0 else float("nan")
    from_boot = n / (arrivals[-1] - boot)
    in_order = seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    rows: list[list[Any]] = [
        ["queued messages", n],
        ["delivered in order, no duplicates", "yes" if in_order else "NO"],
        ["drain rate (msg/s, first to last)", rate],
        ["rate from BootNotification (msg/s)", from_boot],
        ["drain time (s)", drain],
        ["fill, batches of 1000 (s)", fill_s],
        ["single durable push (ms)", push_s * 1e3],
    ]
    return Result(
        name="queue",
        title="Queue drain after reconnect",
        columns=["measure", "value"],
        rows=rows,
        data={
            "messages": n,
            "in_order": in_order,
            "drain_s": drain,
            "rate_per_s": rate,
            "rate_from_boot_per_s": from_boot,
            "fill_s": fill_s,
            "single_push_s": push_s,
        },
        notes=[
            "one CALL in flight (OCPP-J): each message waits for the previous answer",
            "each answered message is deleted from SQLite (WAL, synchronous=FULL) before the next",
        ],
    )
