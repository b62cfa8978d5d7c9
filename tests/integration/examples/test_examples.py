"""Every example under examples/ runs: the configs load and boot, the embedding example runs
against the CSMS.  (The custom HAL backend example drives a station over a real pty:
``tests/wire/test_custom_hal_example.py``.)"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import tomllib
from pathlib import Path
from typing import Any

from pki import make_pki
from support import EXAMPLES, to_toml

from ocpp_station.config import config_from_dict, load_config
from ocpp_station.control.server import call
from ocpp_station.csms import LocalCSMS

sys.path.insert(0, str(EXAMPLES))

from embed import run as run_embedded


def _example(name: str) -> dict[str, Any]:
    return tomllib.loads((EXAMPLES / name).read_text())


def test_every_example_config_is_valid(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki")
    sim = load_config(EXAMPLES / "sim_station.toml")
    assert sim.hal_backend == "sim" and len(sim.evses) == 2
    for name, backend in (("serial_station.toml", "serial"), ("can_station.toml", "can")):
        data = _example(name)
        for key, path in (
            ("ca_file", pki.ca_cert),
            ("cert_file", pki.client_cert),
            ("key_file", pki.client_key),
        ):
            if key in data["station"]:
                data["station"][key] = str(path)
        config = config_from_dict(data, source=name, base=EXAMPLES)
        assert config.hal_backend == backend


async def test_sim_example_runs_as_a_process(csms: LocalCSMS, short_tmp: Path) -> None:
    """`ocpp-station run --config` boots against a CSMS on loopback, serves `ctl`, and stops
    cleanly on SIGTERM (closing the websocket)."""
    data = _example("sim_station.toml")
    data["station"]["csms_url"] = csms.url
    data["station"]["data_dir"] = str(short_tmp / "data")
    data["control"]["socket"] = str(short_tmp / "c.sock")
    config_file = short_tmp / "station.toml"
    config_file.write_text(to_toml(data))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ocpp_station.cli", "run", "--config", str(config_file),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await csms.wait_received("StatusNotification", count=2, station="CS001", timeout=20)
        status = await call(short_tmp / "c.sock", "status")
        assert status["registration"] == "Accepted" and status["connected"] is True
        ctl = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "ocpp_station.cli", "ctl", "--config", str(config_file),
            "sim.plug_in", json.dumps({"evse": 1, "connector": 1}),
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, _ = await ctl.communicate()
        assert ctl.returncode == 0 and json.loads(out) == {"ok": True}
        await csms.wait_for(
            lambda: any(
                s["connectorStatus"] == "Occupied" for s in csms.received("StatusNotification")
            )
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, err.decode()
    await csms.wait_for(lambda: "CS001" not in csms.links)


async def test_embedding_example(csms: LocalCSMS, short_tmp: Path) -> None:
    published = await run_embedded(csms.url, short_tmp / "embedded", seconds=0.3)
    assert "boot_notification_response" in published
    assert "is_connected" in published
    assert csms.received("BootNotification", "EMBEDDED-1")
