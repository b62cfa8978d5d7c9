"""``controller-sim`` as its own process: prints its pty path first, a SerialBackend talks to it,
its control socket drives the simulated EV, SIGTERM stops it with status 0."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import sys
from pathlib import Path

import pytest
from hal_rig import FAST, Collector

import hal
from hal.types import IdTokenPresented, PlugChanged
from ocpp_station.control.server import ControlError, call
from ocpp_station.controller_sim import main


async def test_pty_controller_sim_end_to_end(tmp_path: Path) -> None:
    control = tmp_path / "sim.sock"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ocpp_station.controller_sim",
        "--pty",
        "--evses",
        "2",
        "--connectors",
        "2",
        "--control",
        str(control),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    try:
        first = await asyncio.wait_for(proc.stdout.readline(), timeout=20)
        path = first.decode().strip()
        assert path.startswith("/dev/pts/"), first
        assert stat.S_IMODE(os.stat(control).st_mode) == 0o600
        backend = hal.open("serial", port=path, evses={1: [1, 2], 2: [1, 2]}, **FAST)
        await backend.open()
        events = Collector(backend)
        await events.wait_for(lambda ev: PlugChanged(2, 2, False) in ev)  # state report
        mark = events.mark()
        assert await call(control, "sim.plug_in", {"evse": 2, "connector": 2}) == {"ok": True}
        await events.wait_for(lambda ev: PlugChanged(2, 2, True) in ev[mark:])
        await call(control, "sim.present_id_token", {"evse": 1, "id_token": "DEADBEEF"})
        await events.wait_for(lambda ev: IdTokenPresented(1, "DEADBEEF") in ev)
        await backend.allow_power(2, True)
        status = await call(control, "sim.status")
        assert status["evses"][1]["power_allowed"] is True
        assert status["evses"][1]["plugged_connector"] == 2
        with pytest.raises(ControlError, match="unknown evse 7"):
            await call(control, "sim.plug_in", {"evse": 7})
        with pytest.raises(ControlError, match="missing parameter 'state'"):
            await call(control, "sim.ev_state", {"evse": 1})
        await events.close()
        await backend.close()
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), timeout=10)
    assert code == 0
    assert not control.exists()


def test_bad_can_spec_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--can", "virtual", "--control", str(tmp_path / "s.sock")]) == 1
    assert "--can needs INTERFACE:CHANNEL" in capsys.readouterr().err


def test_line_is_required(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--control", str(tmp_path / "s.sock")])
    assert info.value.code == 2


def test_evse_count_is_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--pty", "--evses", "0", "--control", str(tmp_path / "s.sock")]) == 2
    assert "--evses and --connectors must be 1..255" in capsys.readouterr().err
