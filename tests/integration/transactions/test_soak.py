"""Soak: many charging sessions while the CSMS cuts the connection at random moments.

Whatever happens to the connection, the CSMS must receive every seqNo of every transaction, in
order, without a gap; a message may arrive twice only right after itself (its answer was lost with
the connection, E11/E12).  The default run is bounded (20 sessions, well under 30 s);
``OCPP_STATION_SOAK=full`` runs the long one (marked ``slow``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
from typing import Any

import pytest
from support import StationFactory, queued, sim

from ocpp_station import Station
from ocpp_station.csms import Frame, LocalCSMS

SEED = int(os.environ.get("OCPP_STATION_SOAK_SEED", "20260101"))


def transaction(station: Station) -> dict[str, Any] | None:
    tx: dict[str, Any] | None = station.status()["evses"][0]["transaction"]
    return tx


async def cutter(csms: LocalCSMS, rng: random.Random, cuts: list[str]) -> None:
    """Drop the station's websocket every 0.02-0.4 s (it reconnects at once), and also right as
    a TransactionEvent arrives, one time in six: before or after the CSMS answers it."""
    loop = asyncio.get_running_loop()
    pending: set[asyncio.Task[None]] = set()

    def on_frame(frame: Frame) -> None:
        if frame.direction == "in" and frame.action == "TransactionEvent" and frame.kind == 2:
            if rng.random() < 1 / 6:
                cuts.append("on-receipt")
                task = loop.create_task(csms.drop("CS001"))
                pending.add(task)
                task.add_done_callback(pending.discard)

    csms.on_frame = on_frame
    try:
        while True:
            await asyncio.sleep(rng.uniform(0.02, 0.4))
            if "CS001" in csms.links:
                cuts.append("timed")
                await csms.drop("CS001")
    finally:
        csms.on_frame = None


async def session(csms: LocalCSMS, station: Station, rng: random.Random) -> None:
    """Plug, token, suspend and resume, unplug: 4-6 TransactionEvents."""
    hal = sim(station)
    hal.plug_in(1, 1)
    await asyncio.sleep(rng.uniform(0, 0.03))
    hal.present_id_token(1, "SOAK", "ISO14443")
    await csms.wait_for(lambda: (tx := transaction(station)) and tx["charging_state"] == "Charging")
    hal.ev_state(1, "B")
    await asyncio.sleep(rng.uniform(0, 0.1))
    hal.ev_state(1, "C")
    await asyncio.sleep(rng.uniform(0, 0.1))
    hal.unplug(1)
    await csms.wait_for(lambda: transaction(station) is None)


def check_delivery(events: list[dict[str, Any]], sessions: int) -> int:
    """Every transaction complete, in order, no gap; returns how many messages came twice."""
    ids: list[str] = []
    by_id: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        tx_id = event["transactionInfo"]["transactionId"]
        if tx_id not in by_id:
            ids.append(tx_id)
            by_id[tx_id] = []
        elif ids[-1] != tx_id:
            raise AssertionError(f"transaction {tx_id} continues after {ids[-1]} began")
        by_id[tx_id].append(event)
    assert len(ids) == sessions
    repeats = 0
    for tx_id in ids:
        seq = [e["seqNo"] for e in by_id[tx_id]]
        for prev, cur, event in zip(seq, seq[1:], by_id[tx_id][1:], strict=False):
            if cur == prev:
                repeats += 1  # a resend: the same message, flagged offline (E11.FR.07)
                assert event["offline"] is True, event
            else:
                assert cur == prev + 1, (tx_id, seq)
        assert seq[0] == 0, (tx_id, seq)
        assert by_id[tx_id][0]["eventType"] == "Started"
        assert by_id[tx_id][-1]["eventType"] == "Ended"
        assert by_id[tx_id][-1]["transactionInfo"]["stoppedReason"] == "EVDisconnected"
    return repeats


async def soak(csms: LocalCSMS, make_station: StationFactory, sessions: int) -> None:
    rng = random.Random(SEED)
    station = await make_station(
        device_model={
            "SampledDataCtrlr.TxUpdatedInterval": 0,
            "AlignedDataCtrlr.Interval": 0,
            "OCPPCommCtrlr.RetryBackOffWaitMinimum": 0,  # reconnect at once
            "OCPPCommCtrlr.RetryBackOffRepeatTimes": 0,
            "AuthCtrlr.OfflineTxForUnknownIdEnabled": True,  # a cut never refuses the driver
        }
    )
    await csms.wait_for(lambda: station.online)
    cuts: list[str] = []
    task = asyncio.ensure_future(cutter(csms, rng, cuts))
    try:
        for _ in range(sessions):
            await session(csms, station, rng)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await csms.wait_for(lambda: station.online and queued(station) == 0, timeout=30)
    events = csms.received("TransactionEvent")
    repeats = check_delivery(events, sessions)
    assert len(cuts) >= sessions // 2, "the connection was hardly ever cut"
    offline = sum(1 for e in events if e.get("offline"))
    print(f"soak: {sessions} sessions, {len(events)} events, {len(cuts)} cuts, "
          f"{offline} offline, {repeats} repeated")  # fmt: skip


async def test_soak_bounded(csms: LocalCSMS, make_station: StationFactory) -> None:
    await soak(csms, make_station, sessions=20)


@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.skipif(
    os.environ.get("OCPP_STATION_SOAK") != "full", reason="set OCPP_STATION_SOAK=full"
)
async def test_soak_long(csms: LocalCSMS, make_station: StationFactory) -> None:
    await soak(csms, make_station, sessions=500)
