"""How fast a station drains its persistent queue to the local CSMS after a reconnect.

``python -m bench.tx_reconnect_drain [N ...]`` (default 500 2000).  In one process: a station
(sim HAL) registers with ``LocalCSMS`` (the ``ocpp`` package's ChargePoint), the CSMS goes away,
N schema-valid TransactionEvents (the periodic meter values of an offline session) are queued
while the station is offline, the CSMS comes back on the same port, and the time from the
station being online again to an empty queue is measured.  Each message is sent, validated on
both sides, answered and deleted before the next one goes (strictly in order, one in flight).
"""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ocpp_station.clock import iso
from ocpp_station.config import config_from_dict
from ocpp_station.csms import LocalCSMS
from ocpp_station.station import Station

TX_ID = "bench-reconnect-tx"


def meter_event(seq: int, t: float) -> dict[str, Any]:
    return {
        "eventType": "Updated",
        "timestamp": iso(t),
        "triggerReason": "MeterValuePeriodic",
        "seqNo": seq,
        "offline": True,
        "transactionInfo": {"transactionId": TX_ID},
        "meterValue": [
            {
                "timestamp": iso(t),
                "sampledValue": [
                    {
                        "value": seq * 30.5,
                        "context": "Sample.Periodic",
                        "measurand": "Energy.Active.Import.Register",
                        "unitOfMeasure": {"unit": "Wh"},
                    }
                ],
            }
        ],
    }


async def wait(predicate: Any, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark condition not reached")
        await asyncio.sleep(0.001)


async def drain(count: int, folder: Path) -> float:
    """Messages per second from reconnect to an empty queue, for ``count`` queued messages."""
    csms = await LocalCSMS().start()
    config = config_from_dict(
        {
            "station": {
                "id": "BENCH",
                "csms_url": csms.url,
                "data_dir": str(folder / f"n{count}"),
                "password": "bench-password-0123456",
            },
            "evse": [{"id": 1, "connectors": [1]}],
            "hal": {"backend": "sim", "tick": 0.5},
            "device_model": {
                "OCPPCommCtrlr.RetryBackOffWaitMinimum": 0,
                "OCPPCommCtrlr.RetryBackOffRandomRange": 0,
                "AlignedDataCtrlr.Interval": 0,
            },
        },
        source="bench",
    )
    station = Station(config)
    await station.start()
    try:
        await wait(lambda: station.online)
        await csms.stop()
        await wait(lambda: not station.connected)
        t0 = station.now()
        station.queue.push_batch(
            [("TransactionEvent", meter_event(seq, t0 + seq)) for seq in range(count)], t0
        )
        await csms.start()  # the same port
        await wait(lambda: station.online)
        start = time.perf_counter()
        await wait(lambda: len(station.queue) == 0)
        elapsed = time.perf_counter() - start
        received = csms.received("TransactionEvent")
        assert [e["seqNo"] for e in received] == list(range(count)), "out of order or lost"
        return count / elapsed
    finally:
        await station.stop()
        await csms.stop()


async def main(sizes: list[int]) -> None:
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="ocsb") as tmp:
        for count in sizes:
            rate = await drain(count, Path(tmp))
            print(f"{count:6d} queued TransactionEvents drained at {rate:7.0f} msg/s")


if __name__ == "__main__":
    asyncio.run(main([int(a) for a in sys.argv[1:]] or [500, 2000]))
