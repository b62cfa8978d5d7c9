"""``python -m bench [NAME ...] [--quick] [--results DIR] [sizes]`` (``./run bench``).

Runs the named benchmarks (all by default, in the order below), prints each one's table and
writes its JSON to ``bench/results/<name>.json``.  See docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
import traceback
from pathlib import Path

from bench.common import RESULTS, Options, Result, machine

BENCHMARKS = {
    "latency": "bench.latency",
    "startup": "bench.startup",
    "fleet": "bench.fleet_scale",
    "workers": "bench.fleet_workers",
    "queue": "bench.queue_drain",
    "validation": "bench.validation_cost",
    "profile": "bench.profiling",
}


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None
    if not sizes or any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError(f"sizes must be positive integers, got {text!r}")
    return sizes


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"benchmarks to run: {', '.join(BENCHMARKS)} (default: all)",
    )
    p.add_argument("--quick", action="store_true", help="tiny sizes (seconds in total)")
    p.add_argument("--results", type=Path, default=RESULTS, help="folder for the JSON results")
    p.add_argument("--calls", type=_positive, help="round trips per call type and station")
    p.add_argument("--fleet-sizes", type=_sizes, help="e.g. 1000,5000,10000 (the default)")
    p.add_argument("--fleet-window", type=float, help="seconds measured per fleet size")
    p.add_argument(
        "--fleet-warm",
        action="store_true",
        help="fleet: also a warm storm (the same stations again on their data directories)",
    )
    p.add_argument("--queue-messages", type=_positive, help="messages queued before reconnect")
    p.add_argument("--iterations", type=_positive, help="validations per message and validator")
    return p


def options_from(args: argparse.Namespace) -> Options:
    opts = Options.quick_mode(args.results) if args.quick else Options(results_dir=args.results)
    if args.calls is not None:
        opts.calls = args.calls
        opts.profile_calls = args.calls
    if args.fleet_sizes is not None:
        opts.fleet_sizes = args.fleet_sizes
    if args.fleet_window is not None:
        if not args.fleet_window > 0:
            raise ValueError(f"--fleet-window must be > 0 seconds, got {args.fleet_window}")
        opts.fleet_window = args.fleet_window
    opts.fleet_warm = args.fleet_warm
    if args.queue_messages is not None:
        opts.queue_messages = args.queue_messages
    if args.iterations is not None:
        opts.validation_iterations = args.iterations
    return opts


def run_one(name: str, opts: Options) -> Result:
    module = importlib.import_module(BENCHMARKS[name])
    result: Result = asyncio.run(module.run(opts))
    return result


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        print(
            f"python -m bench: unknown benchmark(s) {', '.join(unknown)}; "
            f"known: {', '.join(BENCHMARKS)}",
            file=sys.stderr,
        )
        return 2
    try:
        opts = options_from(args)
    except ValueError as exc:
        print(f"python -m bench: {exc}", file=sys.stderr)
        return 2
    info = machine()
    print(
        f"# ocpp-station benchmarks{' (quick)' if opts.quick else ''}: "
        f"{info['nproc']} CPU(s) {info['cpu']}, Python {info['python']}\n",
        flush=True,
    )
    failed = []
    for name in args.names or list(BENCHMARKS):
        try:
            result = run_one(name, opts)
        except Exception as exc:
            traceback.print_exc()
            print(f"benchmark {name} failed: {type(exc).__name__}: {exc}\n", file=sys.stderr)
            failed.append(name)
            continue
        path = result.save(opts)
        print(result.render(), flush=True)
        print(f"(written to {path})\n", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
