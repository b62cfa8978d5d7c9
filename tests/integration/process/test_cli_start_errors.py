"""``ocpp-station run`` ends a start it cannot complete with one line and exit code 1, also now
that the control server and the status page are loaded only when configured (a lean start: the
CLI catches their errors without importing them up front)."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

from support import PASSWORD, REPO

TOML = """[station]
id = "ERR-1"
csms_url = "ws://127.0.0.1:9/ocpp"
data_dir = "{data}"
password = "{password}"
log_level = "WARNING"
[[evse]]
id = 1
connectors = [1]
[hal]
backend = "sim"
{extra}
"""


async def run_cli(config: Path) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ocpp_station.cli",
        "run",
        "--config",
        str(config),
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, err = await asyncio.wait_for(proc.communicate(), 60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return proc.returncode, err.decode()


async def test_a_control_socket_path_that_is_a_directory(short_tmp: Path) -> None:
    taken = short_tmp / "ctl"
    taken.mkdir()
    config = short_tmp / "station.toml"
    extra = f'[control]\nsocket = "{taken}"\n'
    config.write_text(TOML.format(data=short_tmp / "data", password=PASSWORD, extra=extra))
    code, err = await run_cli(config)
    assert code == 1, err
    assert any(
        line.startswith(f"ocpp-station: control socket {taken}: ") for line in err.splitlines()
    ), err
    assert "Traceback" not in err


async def test_a_status_page_address_in_use(short_tmp: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        config = short_tmp / "station.toml"
        extra = f'[http]\nlisten = "127.0.0.1:{port}"\n'
        config.write_text(TOML.format(data=short_tmp / "data", password=PASSWORD, extra=extra))
        code, err = await run_cli(config)
    assert code == 1, err
    lines = err.splitlines()
    assert any(line.startswith(f"ocpp-station: {config}: [http] listen: ") for line in lines), err
    assert "Traceback" not in err
