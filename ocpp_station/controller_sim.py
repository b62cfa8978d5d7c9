"""``ocpp-station controller-sim``: the simulated charge controller and EV of the ``sim`` backend,
running as its own process on the MCU side of a serial line or CAN bus.

    ocpp-station controller-sim (--pty | --serial PATH | --can INTERFACE:CHANNEL)
        [--evses N] [--connectors M] --control PATH
        [--baudrate B] [--bitrate B] [--node K] [--meter-interval S]

The first line of standard output names the line the station should open: the pseudo-terminal's
path with ``--pty``, else the ``--serial`` path or the ``--can`` spec.  It is printed once the
line and the control socket are served.  The control socket (mode 0600) speaks the JSON lines of
the station's control API and takes ``sim.plug_in``, ``sim.unplug``, ``sim.present_id_token``,
``sim.ev_state``, ``sim.fault``, ``sim.clear_fault`` and ``sim.status``.  SIGTERM or SIGINT stop it
(exit status 0).  The MCU side itself (line, model, protocol) is :mod:`hal.controller_sim`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from hal.controller_sim import Line, new_mcu, open_line
from hal.mcu import McuSimulator
from hal.sim_model import SimError
from ocpp_station.control.server import ControlError, ControlServer, require

Method = Callable[[dict[str, Any]], Awaitable[Any]]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ocpp-station controller-sim",
        description="Simulated charge controller + EV speaking the HAL wire protocol "
        "(hal/PROTOCOL.md in the hal package).",
    )
    line = parser.add_mutually_exclusive_group(required=True)
    line.add_argument("--pty", action="store_true", help="open a pseudo-terminal, print its path")
    line.add_argument("--serial", metavar="PATH", help="serve a serial port")
    line.add_argument("--can", metavar="INTERFACE:CHANNEL", help="serve a python-can bus")
    parser.add_argument("--evses", type=int, default=1, metavar="N")
    parser.add_argument("--connectors", type=int, default=1, metavar="M", help="per EVSE")
    parser.add_argument("--control", required=True, metavar="PATH", help="control socket path")
    parser.add_argument("--baudrate", type=int, default=115200, help="with --serial")
    parser.add_argument("--bitrate", type=int, default=None, help="with --can")
    parser.add_argument("--node", type=int, default=0, help="CAN node number")
    parser.add_argument("--meter-interval", type=float, default=1.0, metavar="S")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not 1 <= args.evses <= 255 or not 1 <= args.connectors <= 255:
        print("controller-sim: --evses and --connectors must be 1..255", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_serve(args))
    except KeyboardInterrupt:  # a second Ctrl-C during shutdown
        return 0


def sim_methods(mcu: McuSimulator) -> dict[str, Method]:
    """The ``sim.*`` control methods acting on the MCU's model."""
    model = mcu.model

    def wrap(name: str, call: Callable[[dict[str, Any]], Any]) -> Method:
        async def method(params: dict[str, Any]) -> Any:
            try:
                result = call(params)
            except SimError as exc:
                raise ControlError("InvalidParams", f"sim.{name}: {exc}") from None
            mcu.pump()  # the events leave at once, not at the next tick
            return {"ok": True} if result is None else result

        return method

    def optional_int(params: dict[str, Any], key: str, default: int) -> int:
        return int(require(params, key, int)) if key in params else default

    return {
        "sim.plug_in": wrap(
            "plug_in",
            lambda p: model.plug_in(require(p, "evse", int), optional_int(p, "connector", 1)),
        ),
        "sim.unplug": wrap("unplug", lambda p: model.unplug(require(p, "evse", int))),
        "sim.present_id_token": wrap(
            "present_id_token",
            lambda p: model.present_id_token(
                require(p, "evse", int),
                require(p, "id_token", str),
                require(p, "type", str) if "type" in p else "ISO14443",
            ),
        ),
        "sim.ev_state": wrap(
            "ev_state", lambda p: model.ev_state(require(p, "evse", int), require(p, "state", str))
        ),
        "sim.fault": wrap(
            "fault", lambda p: model.fault(require(p, "evse", int), require(p, "code", str))
        ),
        "sim.clear_fault": wrap(
            "clear_fault", lambda p: model.clear_fault(require(p, "evse", int))
        ),
        "sim.status": wrap("status", lambda p: mcu.status()),
    }


def _open(args: argparse.Namespace) -> Line:
    return open_line(
        pty=args.pty,
        serial_path=args.serial,
        can_spec=args.can,
        baudrate=args.baudrate,
        bitrate=args.bitrate,
        node=args.node,
    )


async def _serve(args: argparse.Namespace) -> int:
    try:
        line = _open(args)
    except Exception as exc:  # serial/CAN open errors come in many types
        print(f"controller-sim: cannot open the line: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    mcu = new_mcu(line, args.evses, args.connectors, meter_interval=args.meter_interval)
    server = ControlServer(args.control, sim_methods(mcu))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await server.start()
        await mcu.start()
        print(line.name, flush=True)
        await stop.wait()
    except OSError as exc:
        print(f"controller-sim: {exc}", file=sys.stderr)
        return 1
    finally:
        await mcu.stop()
        await server.close()
        with contextlib.suppress(Exception):
            line.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
