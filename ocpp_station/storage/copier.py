"""A fleet's helper process that makes the files of new stores (issue 19: the boot storm).

A cold fleet makes a new ``station.db`` per station: a directory, a copy of the store image
synced, an empty ``-wal``.  Done in worker threads (:mod:`.offload`), each of those system calls
hands the GIL over and back, and in a boot storm those hand-overs kept the event loop's thread
off its CPU a tenth of the time.  :class:`StoreCopier` runs that work in a process of its own
(:mod:`.newfiles` run as a script, standard library only): the loop thread writes a line per
new store to its pipe and reads a line back, and no other thread of the fleet's process wakes.

It makes only what it can make whole: a directory that was not there, with its store.  Anything
else (a directory that exists: a warm start, a 0.1.0 import, a check that fails; the helper
gone) answers "not made", and the station prepares its store in a worker thread as a single
station does (:meth:`.store.StationStore.prepare`), with every check and error message of that
path.  Either way the store is the same file: a copy of this process's image for its rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from device_model.addressing import RowKey
from ocpp_station import files
from ocpp_station.storage import newfiles
from ocpp_station.storage.image import store_image

LOG = logging.getLogger("ocpp_station.storage")

READY_TIMEOUT = 5.0  # seconds the helper may take to start
# The helper: newfiles.py run as a script, with ocpp_station importable (for ocpp_station.files:
# ``-I -S`` puts neither the script's folder nor site-packages on its path).
_HELPER = (
    "import runpy, sys; sys.path.insert(0, sys.argv[1]); "
    "runpy.run_path(sys.argv[2], run_name='__main__')"
)
_PACKAGE_ROOT = str(Path(files.__file__).resolve().parents[1])
Rows = Sequence[tuple[RowKey, str | None]]
Image = tuple[dict[RowKey, str | None], Path]  # the rows an image holds, its file


class StoreCopier:
    """The helper process; make it with :meth:`start`, end it with :meth:`close`.  Used from
    the event-loop thread only."""

    def __init__(self, process: asyncio.subprocess.Process, scratch: Path) -> None:
        self._process = process
        self._pending: dict[int, asyncio.Future[bool]] = {}
        self._ids = itertools.count()
        self._images: dict[tuple[RowKey, ...], asyncio.Future[Image]] = {}
        self._last: tuple[Rows, asyncio.Future[Image]] | None = None  # the last rows' image
        self._scratch = scratch  # (private: the image files)
        self._reader = asyncio.get_running_loop().create_task(self._read())
        self._closing = False
        self.made = 0  # stores the helper made

    @classmethod
    async def start(cls) -> StoreCopier | None:
        """Start the helper; None (logged) when it cannot start: the stations then prepare every
        store in worker threads."""
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-I",
                "-S",
                "-c",
                _HELPER,
                _PACKAGE_ROOT,
                newfiles.__file__,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
        except (OSError, ValueError, TypeError) as exc:  # (TypeError: no sys.executable)
            LOG.warning("no store helper process (%s): stores are made in threads", exc)
            return None
        assert process.stdout is not None
        try:
            line = await asyncio.wait_for(process.stdout.readline(), READY_TIMEOUT)
            ready = json.loads(line).get("ready") is True
        except (TimeoutError, ValueError, AttributeError):
            ready = False
        scratch = None
        if ready:
            with contextlib.suppress(OSError):
                scratch = Path(tempfile.mkdtemp(prefix="ocpp-station-images-"))
        if scratch is None:
            LOG.warning("the store helper process did not start: stores are made in threads")
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            return None
        return cls(process, scratch)

    @property
    def running(self) -> bool:
        return not self._closing and not self._reader.done()

    async def new_store(
        self, directory: Path, store: Path, rows: Rows
    ) -> dict[RowKey, str | None] | None:
        """Make ``directory`` with ``store`` in it as a copy of the image of ``rows``; the rows
        the copy holds (see :func:`.image.store_image`), or None when the helper did not make it
        (the caller prepares the store itself)."""
        try:
            held, image = await self._image(rows)
        except Exception:  # (the image or its file could not be made: the thread path will say)
            LOG.exception("no store image for the helper process")
            return None
        if not self.running:  # (checked after the await: an answer is then always coming)
            return None
        ident = next(self._ids)
        answer = asyncio.get_running_loop().create_future()
        self._pending[ident] = answer
        try:
            stdin = self._process.stdin
            assert stdin is not None
            stdin.write(_request(ident, directory, store, image))
            await stdin.drain()
            made = await answer
        except (ConnectionError, RuntimeError):  # (the helper is gone: its pipe is closed)
            return None
        finally:
            self._pending.pop(ident, None)
        if not made:
            return None
        self.made += 1
        return held

    async def _image(self, rows: Rows) -> Image:
        """This process's image for ``rows`` (built in a worker thread, once per layout) and a
        file of it for the helper to read."""
        last = self._last  # a fleet's stations share their rows tuple: no keys to work out
        made = last[1] if last is not None and last[0] is rows else None
        if made is None or _failed(made):
            keys = tuple(key for key, _value in rows)
            made = self._images.get(keys)
            if made is None or _failed(made):
                made = self._images[keys] = asyncio.ensure_future(
                    asyncio.to_thread(self._image_file, rows, len(self._images))
                )
            if isinstance(rows, tuple):  # (not a list: it may change)
                self._last = (rows, made)
        return await asyncio.shield(made)

    def _image_file(self, rows: Rows, number: int) -> Image:  # in a worker thread
        held, image = store_image(rows)
        path = self._scratch / f"image-{number}.db"
        files.write_synced(path, image, newfiles.STORE_MODE)
        return held, path

    async def _read(self) -> None:
        stdout = self._process.stdout
        assert stdout is not None
        try:
            while line := await stdout.readline():
                try:
                    answer = json.loads(line)
                    waiting = self._pending.get(answer["id"])
                    made = answer["made"] is True
                except (ValueError, KeyError, TypeError):
                    LOG.warning("the store helper answered %r", line[:200])
                    continue
                if waiting is not None and not waiting.done():
                    waiting.set_result(made)
        finally:
            if not self._closing:
                LOG.warning("the store helper process ended: stores are made in threads")
            for waiting in self._pending.values():
                if not waiting.done():
                    waiting.set_result(False)

    async def close(self) -> None:
        """End the helper (at the end of its input) and remove the image files."""
        self._closing = True
        stdin = self._process.stdin
        if stdin is not None:
            stdin.close()
        try:
            await asyncio.wait_for(self._process.wait(), 5.0)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()
            await self._process.wait()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        shutil.rmtree(self._scratch, ignore_errors=True)


def _request(ident: int, directory: Path, store: Path, image: Path) -> bytes:
    """One request line (absolute paths: the helper's working directory need not be ours)."""
    paths = {"dir": directory, "store": store, "image": image}
    request = {"id": ident} | {name: os.path.abspath(path) for name, path in paths.items()}
    return json.dumps(request).encode() + b"\n"


def _failed(made: asyncio.Future[Image]) -> bool:
    return made.done() and (made.cancelled() or made.exception() is not None)
