"""The ``ocpp-station`` command: run, demo, ctl, controller-sim, fleet."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from ocpp_station.config import ConfigError, StationConfig, load_config
from ocpp_station.service import ServiceManager, setup_logging
from ocpp_station.service.redact import basic_token

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ocpp-station", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run one station until SIGINT/SIGTERM")
    run.add_argument("--config", required=True, type=Path, help="station TOML file")
    run.add_argument(
        "--log-level", choices=LOG_LEVELS, help="overrides the file's station.log_level"
    )

    demo = sub.add_parser("demo", help="local CSMS + simulated station, printed as a timeline")
    demo.add_argument("--fast", action="store_true", help="shorter pauses (used by the tests)")

    ctl = sub.add_parser("ctl", help="call the local control API")
    ctl.add_argument("--socket", type=Path, help="control socket (default: from --config)")
    ctl.add_argument("--config", type=Path, help="station TOML file to find the socket in")
    ctl.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the reply")
    ctl.add_argument("method")
    ctl.add_argument("params", nargs="?", default="{}", help="JSON object")

    sub.add_parser(
        "controller-sim",
        help="simulated charge controller + EV on a serial line or CAN bus "
        "(ocpp-station controller-sim --help)",
        add_help=False,
    )

    fleet = sub.add_parser("fleet", help="run N simulated stations in one process")
    fleet.add_argument("--config", required=True, type=Path, help="template station TOML file")
    fleet.add_argument("--count", required=True, type=int)
    fleet.add_argument(
        "--log-level", choices=LOG_LEVELS, help="overrides the file's station.log_level"
    )
    fleet.add_argument(
        "--http",
        metavar="HOST:PORT",
        help="serve the fleet's live status page (default: the template's [http] listen)",
    )
    fleet.add_argument(
        "--store-pool",
        type=int,
        metavar="N",
        help="at most N station databases open at a time (default: an eighth of --count, 8-1024)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["controller-sim"]:
        # Its options (--pty, --control...) are its own: hand them over untouched.
        from ocpp_station.controller_sim import (
            main as controller_sim_main,
        )  # lazy: loaded by this subcommand only

        return controller_sim_main(argv[1:])
    args = _parser().parse_args(argv)
    if args.command == "demo":
        from ocpp_station.demo import (
            main as demo_main,
        )  # lazy: loaded by this subcommand only

        return demo_main(fast=args.fast)
    if args.command == "ctl":
        return _ctl(args)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"ocpp-station: {exc}", file=sys.stderr)
        return 2
    if args.command == "fleet" and args.http is not None:
        from ocpp_station.http.server import parse_listen  # lazy: this subcommand only

        try:
            parse_listen(args.http)
        except ValueError as exc:
            print(f"ocpp-station fleet: --http: {exc}", file=sys.stderr)
            return 2
    secrets = (config.password, basic_token(config.id, config.password)) if config.password else ()
    setup_logging(args.log_level or config.log_level, config.log_format, secrets=secrets)
    if args.command == "run":
        return asyncio.run(_run(config))
    from ocpp_station.fleet import run_fleet  # lazy: this subcommand only

    return asyncio.run(run_fleet(config, args.count, http=args.http, store_pool=args.store_pool))


async def _run(config: StationConfig) -> int:
    from device_model import DeviceModelConfigError  # lazy: this subcommand only
    from ocpp_station import Station  # lazy: this subcommand only
    from ocpp_station.control.server import SocketPathError  # lazy: this subcommand only
    from ocpp_station.http.server import ListenError  # lazy: this subcommand only
    from ocpp_station.storage import StorageError  # lazy: this subcommand only

    station = Station(config)
    # Started by systemd as Type=notify: READY, the watchdog, STATUS= (ocpp_station.service).
    station.service = ServiceManager.from_environment(logger=logging.getLogger("ocpp_station"))
    try:
        await station.start()
    except DeviceModelConfigError as exc:
        print(f"ocpp-station: {config.source}: [device_model]: {exc}", file=sys.stderr)
        return 2
    except (StorageError, SocketPathError) as exc:
        # one line naming the path and what is wrong: a read-only or unwritable data
        # directory, a control socket path taken by a file, a directory or a live station
        print(f"ocpp-station: {exc}", file=sys.stderr)
        return 1
    except ListenError as exc:
        print(f"ocpp-station: {config.source}: [http] listen: {exc.strerror}", file=sys.stderr)
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    stopped = asyncio.ensure_future(station.wait_stopped())
    waiter = asyncio.ensure_future(stop.wait())
    await asyncio.wait({stopped, waiter}, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    await station.stop()
    return 0


def _ctl(args: argparse.Namespace) -> int:
    from ocpp_station.control.server import (
        ControlError,
        call,
    )  # lazy: loaded by this subcommand only

    socket = args.socket
    if socket is None and args.config is not None:
        try:
            socket = load_config(args.config).control_socket
        except ConfigError as exc:
            print(f"ocpp-station ctl: {exc}", file=sys.stderr)
            return 2
    if socket is None:
        print("ocpp-station ctl: give --socket PATH (or --config FILE)", file=sys.stderr)
        return 2
    try:
        params: Any = json.loads(args.params)
    except json.JSONDecodeError as exc:
        print(f"ocpp-station ctl: params are not valid JSON: {exc}", file=sys.stderr)
        return 2
    if not isinstance(params, dict):
        print("ocpp-station ctl: params must be a JSON object", file=sys.stderr)
        return 2
    try:
        result = asyncio.run(asyncio.wait_for(call(socket, args.method, params), args.timeout))
    except ControlError as exc:
        print(f"ocpp-station ctl: {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"ocpp-station ctl: cannot reach {socket}: {exc}", file=sys.stderr)
        return 1
    except TimeoutError:
        print(f"ocpp-station ctl: no reply from {socket} in {args.timeout} s", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
