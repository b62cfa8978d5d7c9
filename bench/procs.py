"""Station processes under test: ours (``ocpp-station run --config``), the ``ocpp``-package peer and
the echo floor, each a subprocess talking to a CSMS in the benchmark process."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import python, rss_kib, subprocess_env

KINDS = ("ours", "peer", "echo")
PASSWORD = "bench-password-0123456"


def station_toml(
    station_id: str,
    csms_url: str,
    data_dir: Path,
    *,
    evses: int = 2,
    device_model: dict[str, object] | None = None,
    tick: float = 1.0,
) -> str:
    """A station config file for ``ocpp-station run``."""
    lines = [
        "[station]",
        f"id = {_toml_value(station_id)}",
        f"csms_url = {_toml_value(csms_url)}",
        f"data_dir = {_toml_value(str(data_dir))}",
        'vendor = "bench"',
        'model = "bench"',
        f'password = "{PASSWORD}"',
        'log_level = "WARNING"',
        "",
    ]
    for evse in range(1, evses + 1):
        lines += ["[[evse]]", f"id = {evse}", "connectors = [1]", ""]
    lines += ["[hal]", 'backend = "sim"', f"tick = {tick}", ""]
    lines += ["[device_model]"]
    for key, value in (device_model or {}).items():
        lines.append(f'"{key}" = {_toml_value(value)}')
    return "\n".join(lines) + "\n"


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


@dataclass
class Target:
    """One running station process; ``t_spawn`` is perf_counter just before it was started."""

    kind: str
    station_id: str
    proc: subprocess.Popen[bytes]
    t_spawn: float
    workdir: Path | None = None
    stderr_path: Path | None = None
    own_workdir: bool = False
    exit_code: int | None = field(default=None)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss(self) -> dict[str, int]:
        return rss_kib(self.proc.pid)

    def stderr(self) -> str:
        if self.stderr_path is None or not self.stderr_path.exists():
            return ""
        return self.stderr_path.read_text(errors="replace")[-2000:]

    async def stop(self, timeout: float = 10.0) -> float:
        """SIGTERM, wait for a clean exit; returns the seconds it took (kills on timeout)."""
        t0 = time.perf_counter()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self.proc.wait, timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                await asyncio.to_thread(self.proc.wait)
        self.exit_code = self.proc.returncode
        elapsed = time.perf_counter() - t0
        if self.own_workdir and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
        return elapsed


def spawn(
    kind: str,
    station_id: str,
    csms_url: str,
    *,
    workdir: Path | None = None,
    evses: int = 2,
    device_model: dict[str, object] | None = None,
) -> Target:
    """Start one station process of ``kind`` (``ours``, ``peer``, ``echo``).  ``workdir`` keeps
    ours's data (pass the same one again for a warm start); a fresh one is made otherwise."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    own = workdir is None
    work = workdir or Path(tempfile.mkdtemp(prefix="ocpp-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    err_path = work / f"{station_id}.stderr"
    if kind == "ours":
        config = work / f"{station_id}.toml"
        config.write_text(
            station_toml(
                station_id, csms_url, work / station_id, evses=evses, device_model=device_model
            )
        )
        script = Path(python()).parent / "ocpp-station"
        argv = ([str(script)] if script.exists() else [python(), "-m", "ocpp_station.cli"]) + [
            "run",
            "--config",
            str(config),
        ]
    else:
        argv = [python(), "-m", "bench.targets", kind, "--url", csms_url, "--id", station_id]
    with open(err_path, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=subprocess_env(),
            cwd=work,
        )
    return Target(kind, station_id, proc, t0, work, err_path, own)


async def stop_all(targets: list[Target]) -> None:
    for target in targets:
        with contextlib.suppress(ProcessLookupError):
            await target.stop()
