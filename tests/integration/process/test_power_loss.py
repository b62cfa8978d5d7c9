"""Power loss: ``ocpp-station run`` killed with SIGKILL mid-session, then started again.

The station runs as its own process against the ``ocpp``-package CSMS of the test; the test drives
the simulated EV through the control socket.  Whatever the station had written before the kill is
delivered after the restart, in order; the interrupted transaction ends with stoppedReason
PowerLoss and its seqNo continues without a gap (only the message whose answer the kill swallowed
may arrive twice).
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from support import PASSWORD, to_toml

from ocpp_station.control.server import call
from ocpp_station.csms import LocalCSMS


def config(csms: LocalCSMS, folder: Path) -> Path:
    data: dict[str, Any] = {
        "station": {
            "id": "CS001",
            "csms_url": csms.url,
            "data_dir": str(folder / "data"),
            "vendor": "TestVendor",
            "model": "TestModel",
            "password": PASSWORD,
        },
        "evse": [{"id": 1, "connectors": [1]}],
        "hal": {"backend": "sim", "tick": 0.05},
        "control": {"socket": str(folder / "c.sock")},
        "device_model": {
            "SampledDataCtrlr.TxUpdatedInterval": 1,
            "AlignedDataCtrlr.Interval": 0,
            "OCPPCommCtrlr.RetryBackOffWaitMinimum": 1,
            "OCPPCommCtrlr.RetryBackOffRandomRange": 0,
            "OCPPCommCtrlr.RetryBackOffRepeatTimes": 0,
        },
    }
    path = folder / "station.toml"
    path.write_text(to_toml(data))
    return path


async def run_station(config_file: Path, log: Path) -> asyncio.subprocess.Process:
    """``ocpp-station run``; its log goes to a file (a full pipe would block the station)."""
    with log.open("wb") as err:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "ocpp_station.cli", "run", "--config", str(config_file),
            stdout=asyncio.subprocess.DEVNULL, stderr=err,
        )  # fmt: skip


def log_text(path: Path) -> str:
    return path.read_text(errors="replace")


async def wait_booted(csms: LocalCSMS, proc: asyncio.subprocess.Process, log: Path) -> None:
    """Until the station process registered; its error output if it ended instead."""
    boots = len(csms.received("BootNotification"))
    ended = asyncio.ensure_future(proc.wait())
    booted = asyncio.ensure_future(csms.wait_received("BootNotification", boots + 1, timeout=20))
    await asyncio.wait({ended, booted}, return_when=asyncio.FIRST_COMPLETED)
    if ended.done():
        booted.cancel()
        error = log_text(log)
        raise AssertionError(f"the station process ended ({proc.returncode}): {error}")
    ended.cancel()
    booted.result()


async def wait_status(
    sock: Path, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0
) -> dict[str, Any]:
    """Poll the control API's ``status`` until ``predicate`` holds; return that status."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        state: dict[str, Any] = await call(sock, "status")
        if predicate(state) or loop.time() > deadline:
            return state
        await asyncio.sleep(0.05)


async def test_sigkill_mid_session_then_restart(csms: LocalCSMS, short_tmp: Path) -> None:
    config_file = config(csms, short_tmp)
    sock = short_tmp / "c.sock"
    first = await run_station(config_file, short_tmp / "first.log")
    try:
        await wait_booted(csms, first, short_tmp / "first.log")
        await call(sock, "sim.plug_in", {"evse": 1, "connector": 1})
        await call(sock, "sim.present_id_token", {"evse": 1, "id_token": "TOK", "type": "Local"})
        await csms.wait_received("TransactionEvent", 3, timeout=10)  # Started, Charging, meter
        # From now on the CSMS keeps its answers: what follows stays in the station's queue.
        csms.policy.silent.add("TransactionEvent")
        sent = len(csms.received("TransactionEvent"))
        await csms.wait_received("TransactionEvent", sent + 1)
        before = await wait_status(sock, lambda s: s["queued_messages"] >= 3)
        assert before["queued_messages"] >= 3
        assert before["evses"][0]["transaction"]["charging_state"] == "Charging"
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()
    assert first.returncode == -signal.SIGKILL
    await csms.wait_for(lambda: "CS001" not in csms.links)
    csms.policy.silent.clear()

    second = await run_station(config_file, short_tmp / "second.log")
    try:
        await wait_booted(csms, second, short_tmp / "second.log")
        await csms.wait_for(
            lambda: any(e["eventType"] == "Ended" for e in csms.received("TransactionEvent")),
            timeout=20,
        )
        after = await wait_status(sock, lambda s: s["queued_messages"] == 0)
    finally:
        second.send_signal(signal.SIGTERM)
        await asyncio.wait_for(second.wait(), 20)
    assert second.returncode == 0, log_text(short_tmp / "second.log")
    assert after["queued_messages"] == 0
    assert after["evses"][0]["transaction"] is None

    events = csms.received("TransactionEvent")
    assert len({e["transactionInfo"]["transactionId"] for e in events}) == 1
    seq = [e["seqNo"] for e in events]
    # in order; the one message in flight at the kill may come twice (its answer was lost)
    assert seq == sorted(seq)
    repeats = [s for i, s in enumerate(seq[1:]) if s == seq[i]]
    assert len(repeats) <= 1, seq
    assert sorted(set(seq)) == list(range(seq[-1] + 1)), seq  # nothing lost, no gap
    assert before["evses"][0]["transaction"]["seq_no"] <= seq[-1]
    ended = events[-1]
    assert ended["eventType"] == "Ended"
    assert ended["triggerReason"] == "AbnormalCondition"
    assert ended["transactionInfo"]["stoppedReason"] == "PowerLoss"
    assert ended["offline"] is True  # it happened before the station was back online
    ended_meter = [sv["context"] for mv in ended["meterValue"] for sv in mv["sampledValue"]]
    assert ended_meter == ["Transaction.Begin", "Transaction.End"]
    boots = csms.received("BootNotification")
    assert len(boots) == 2
    print("power loss:", [(e["eventType"], e["triggerReason"], e["seqNo"]) for e in events])
