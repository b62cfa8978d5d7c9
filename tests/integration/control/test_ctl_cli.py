"""``ocpp-station ctl`` as a subprocess against a running station's control socket:
prints the JSON result and exits 0, or exits non-zero with the error message on stderr."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from support import StationFactory, variable

from ocpp_station.csms import LocalCSMS

SCRIPT = Path(sys.executable).with_name("ocpp-station")
HEARTBEAT = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}


async def ctl(*args: str) -> tuple[int, str, str]:
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "ocpp_station.cli"]
    proc = await asyncio.create_subprocess_exec(
        *command,
        "ctl",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_ctl_prints_results_and_reports_errors(
    csms: LocalCSMS, make_station: StationFactory, short_tmp: Path
) -> None:
    sock = short_tmp / "c.sock"
    station = await make_station(control=sock)
    await csms.wait_received("StatusNotification")
    s = str(sock)

    def params(obj: Any) -> str:
        return json.dumps(obj)

    (
        (set_rc, set_out, _),
        (status_rc, status_out, _),
        (unknown_rc, unknown_out, unknown_err),
        (bad_rc, _, bad_err),
        (json_rc, _, json_err),
        (gone_rc, _, gone_err),
    ) = await asyncio.gather(
        ctl(
            "--socket",
            s,
            "set_variables",
            params(
                {"source": "ctl", "requests": [{"component_variable": HEARTBEAT, "value": "90"}]}
            ),
        ),
        ctl("--socket", s, "status"),
        ctl("--socket", s, "launch_rocket"),
        ctl(
            "--socket",
            s,
            "get_variables",
            params({"requests": [{"component_variable": HEARTBEAT, "attribute_type": "Biggest"}]}),
        ),
        ctl("--socket", s, "status", "{not json"),
        ctl("--socket", str(short_tmp / "nobody.sock"), "status"),
    )
    assert set_rc == 0
    assert json.loads(set_out)[0]["status"] == "Accepted"
    assert await variable(csms, station.config.id, "OCPPCommCtrlr", "HeartbeatInterval") == "90"
    assert status_rc == 0
    status = json.loads(status_out)
    assert status["connected"] is True and status["registration"] == "Accepted"
    assert status["evses"][0]["connectors"][0]["status"] == "Available"

    assert unknown_rc != 0 and unknown_out == ""
    assert "UnknownMethod" in unknown_err and "launch_rocket" in unknown_err
    assert bad_rc != 0
    assert "InvalidParams" in bad_err
    assert "params.requests[0].attribute_type: 'Biggest' is not one of" in bad_err
    assert json_rc != 0 and "params are not valid JSON" in json_err
    assert gone_rc != 0 and "cannot reach" in gone_err

    rc, out, _ = await ctl(
        "--socket", s, "get_variables", params({"requests": [{"component_variable": HEARTBEAT}]})
    )
    assert rc == 0
    (result,) = json.loads(out)
    assert result == {
        "status": "Accepted",
        "component_variable": HEARTBEAT,
        "attribute_type": "Actual",
        "value": "90",
    }
