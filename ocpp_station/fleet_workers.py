"""``ocpp-station fleet`` over every core: ``--workers N`` processes, ``--shard I/N`` of many hosts.

The parent (this module's :func:`fleet_command`) works out which stations this host runs
(:mod:`ocpp_station.fleet_shard`), splits them into one contiguous slice per worker and starts each
worker as ``python -m ocpp_station.cli fleet ... --worker-slice A:B --report-fd FD``: a fleet of
its own (``ocpp_station.fleet.run_fleet``) whose live snapshots and final report come back over a
pipe as JSON lines (``ocpp_station.fleet_stats.to_json(wire=True)``).  The parent merges them into
the one summary of the fleet, forwards SIGINT/SIGTERM to the workers, reports a worker that ended
on its own, and exits non-zero when any worker failed.  A worker whose parent is gone stops itself
(its pipe breaks, or its parent process id changes).  With one worker the fleet runs in the
parent's own process, as before the workers existed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ocpp_station.config import StationConfig
from ocpp_station.fleet import run_fleet
from ocpp_station.fleet_config import FleetError, fleet_configs
from ocpp_station.fleet_live import Emit, Monitor, json_emitter, line_emitter, pipe_emitter
from ocpp_station.fleet_shard import ShardError, parse_shard, shard_indices, split
from ocpp_station.fleet_stats import Snapshot, from_json, merge

__all__ = ["fleet_command", "parse_slice", "run_workers", "worker_argv"]

STOP_GRACE = 60.0  # seconds the workers get to stop cleanly after a signal before SIGKILL


def parse_slice(text: str) -> range:
    """``"A:B"`` -> ``range(A, B)`` (the stations a worker runs; 1-based, B exclusive)."""
    start, sep, stop = text.partition(":")
    if not sep or not start.isdigit() or not stop.isdigit() or int(start) >= int(stop):
        raise ValueError(f"expected A:B with A < B, got {text!r}")
    return range(int(start), int(stop))


def worker_argv(args: argparse.Namespace, indices: range, report_fd: int) -> list[str]:
    """The command line of the worker that runs ``indices``."""
    argv = [
        sys.executable, "-m", "ocpp_station.cli", "fleet",
        "--config", str(args.config), "--count", str(args.count),
        "--worker-slice", f"{indices.start}:{indices.stop}", "--report-fd", str(report_fd),
        "--stats-interval", repr(float(args.stats_interval)),
    ]  # fmt: skip
    if args.log_level:
        argv += ["--log-level", args.log_level]
    if getattr(args, "store_pool", None) is not None:
        argv += ["--store-pool", str(args.store_pool)]
    return argv


def cores() -> int:
    """The cores this process may run on (``os.cpu_count()`` narrowed by the CPU affinity mask,
    e.g. ``taskset`` or a container's cpuset)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def _fail(message: str, code: int = 2) -> int:
    print(f"ocpp-station fleet: {message}", file=sys.stderr)
    return code


def fleet_command(args: argparse.Namespace, config: StationConfig) -> int:
    """``ocpp-station fleet``: check the options, then run the fleet in this process (one
    worker) or supervise worker processes."""
    if not args.stats_interval >= 0 or args.stats_interval > 86_400:
        return _fail(f"--stats-interval must be 0..86400 seconds, got {args.stats_interval}")
    if args.worker_slice is not None:  # this process is a worker of a parent fleet
        try:
            indices = parse_slice(args.worker_slice)
        except ValueError as exc:
            return _fail(f"--worker-slice: {exc}")
        if args.report_fd is None:
            return _fail("--worker-slice needs --report-fd")
        emit = pipe_emitter(args.report_fd)
        monitor = Monitor(emit, args.stats_interval, parent_pid=os.getppid())
        pool = getattr(args, "store_pool", None)
        return asyncio.run(
            run_fleet(config, args.count, indices=indices, monitor=monitor, store_pool=pool)
        )
    try:
        shard = None if args.shard is None else parse_shard(args.shard, os.environ)
    except ShardError as exc:
        return _fail(f"--shard: {exc}")
    try:
        fleet_configs(config, args.count, range(1, 2))  # the template and count, checked once
    except FleetError as exc:
        return _fail(str(exc))
    indices = shard_indices(args.count, shard)
    if not indices:
        print(
            f"ocpp-station fleet: shard {shard} of {args.count} stations is empty; nothing to run",
            file=sys.stderr,
        )
        return 0
    http = args.http or config.http_listen
    workers = args.workers
    if workers is None:  # one process per core, but a status page needs them all in one
        workers = 1 if http else cores()
    if workers < 1:
        return _fail(f"--workers must be >= 1, got {workers}")
    if workers > 1 and http:
        return _fail("--http (or [http] listen) serves one process's stations: use --workers 1")
    workers = min(workers, len(indices))
    emit = json_emitter() if args.json else line_emitter()
    if workers == 1:
        monitor = Monitor(emit, args.stats_interval)
        return asyncio.run(
            run_fleet(
                config,
                args.count,
                http=args.http,
                indices=indices,
                monitor=monitor,
                store_pool=getattr(args, "store_pool", None),
            )
        )
    slices = split(indices, workers)
    return asyncio.run(
        run_workers(lambda sl, fd: worker_argv(args, sl, fd), slices, emit, args.stats_interval)
    )


@dataclass
class Worker:
    number: int
    indices: range
    proc: asyncio.subprocess.Process
    reader: asyncio.StreamReader  # the report pipe
    latest: Snapshot | None = None
    final: Snapshot | None = None
    bad_lines: int = 0  # lines on the pipe that were not snapshots
    returncode: int | None = None

    def name(self) -> str:
        return f"worker {self.number} (stations {self.indices.start}..{self.indices.stop - 1})"


async def _spawn(number: int, indices: range, argv: Callable[[range, int], list[str]]) -> Worker:
    read_fd, write_fd = os.pipe()
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv(indices, write_fd), pass_fds=(write_fd,), stdin=asyncio.subprocess.DEVNULL
        )
    except BaseException:
        os.close(read_fd)
        raise
    finally:
        os.close(write_fd)
    return Worker(number, indices, proc, await _reader(read_fd))


async def _reader(fd: int) -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=16 * 1024 * 1024, loop=loop)
    pipe = os.fdopen(fd, "rb", buffering=0)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader, loop=loop), pipe)
    return reader


async def _follow(worker: Worker, stopping: asyncio.Event) -> None:
    """Read the worker's snapshots until its pipe closes, then wait for it to end."""
    while line := await worker.reader.readline():
        try:
            snapshot = from_json(json.loads(line))
        except ValueError:
            worker.bad_lines += 1
            continue
        if snapshot.kind == "final":
            worker.final = snapshot
        else:
            worker.latest = snapshot
    worker.returncode = await worker.proc.wait()
    if worker.bad_lines:
        print(
            f"ocpp-station fleet: {worker.name()} sent {worker.bad_lines} line(s) that were not "
            "summaries (ignored)",
            file=sys.stderr,
        )
    if worker.returncode != 0:
        how = (
            f"was killed by signal {-worker.returncode}"
            if worker.returncode < 0
            else f"exited with code {worker.returncode}"
        )
        when = "while stopping" if stopping.is_set() else "while the fleet ran"
        print(f"ocpp-station fleet: {worker.name()} {how} {when}", file=sys.stderr, flush=True)


def _merged(workers: Sequence[Worker], kind: str) -> Snapshot | None:
    parts = [w.final if kind == "final" else w.latest for w in workers]
    present = [p for p in parts if p is not None]
    if not present:
        return None
    out = merge(present, kind)
    out.stations = sum(len(w.indices) for w in workers)
    out.workers = len(workers)
    out.dead_workers = sum(1 for w in workers if w.returncode not in (None, 0))
    return out


async def run_workers(
    argv: Callable[[range, int], list[str]],
    slices: Sequence[range],
    emit: Emit,
    interval: float,
    stop: asyncio.Event | None = None,
) -> int:
    """Run one worker process per slice (``argv(slice, report_fd)`` is its command line) until
    SIGINT/SIGTERM (or ``stop``), emitting the merged summary every ``interval`` seconds (none
    for 0) and the merged final report at the end.  0 when every worker ended with 0, else 1."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    received: list[int] = []

    def on_signal(sig: int) -> None:
        received.append(sig)
        stop.set()

    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, on_signal, sig)
            installed.append(sig)
    workers: list[Worker] = []
    follows: list[asyncio.Task[None]] = []
    stopping = asyncio.Event()
    killer: asyncio.TimerHandle | None = None
    try:
        for number, indices in enumerate(slices):
            worker = await _spawn(number, indices, argv)
            workers.append(worker)
            follows.append(asyncio.create_task(_follow(worker, stopping)))
        everyone = asyncio.ensure_future(asyncio.gather(*follows))
        stopper = asyncio.ensure_future(stop.wait())
        waiting: set[asyncio.Future[Any]] = {everyone, stopper}
        while not everyone.done():
            timeout = interval if interval > 0 else None
            done, _ = await asyncio.wait(
                waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            if stopper in done:
                stopping.set()
                waiting = {everyone}
                forward = received[-1] if received else signal.SIGTERM
                for w in workers:
                    if w.proc.returncode is None:
                        with contextlib.suppress(ProcessLookupError):
                            w.proc.send_signal(forward)
                killer = loop.call_later(STOP_GRACE, _kill_all, workers)
            elif interval > 0 and not everyone.done() and not stopping.is_set():
                live = _merged(workers, "live")
                if live is not None:
                    _emit(emit, live)
        stopper.cancel()
    finally:
        if killer is not None:
            killer.cancel()
        for w in workers:
            if w.proc.returncode is None:  # an error in the parent: leave no worker behind
                with contextlib.suppress(ProcessLookupError):
                    w.proc.kill()
        if follows:
            await asyncio.gather(*follows, return_exceptions=True)
        for sig in installed:
            loop.remove_signal_handler(sig)
    final = _merged(workers, "final")
    if final is not None:
        _emit(emit, final)
    return 0 if all(w.returncode == 0 for w in workers) else 1


def _kill_all(workers: Sequence[Worker]) -> None:
    for w in workers:
        if w.proc.returncode is None:
            print(f"ocpp-station fleet: {w.name()} did not stop; killing it", file=sys.stderr)
            with contextlib.suppress(ProcessLookupError):
                w.proc.kill()


def _emit(emit: Emit, snapshot: Snapshot) -> None:
    with contextlib.suppress(BrokenPipeError):
        emit(snapshot)
