"""A new ``station.db`` is a copy of an image of its layout (issue 19: a fleet's boot storm).

The image is the file the migrations make of a new store, in WAL mode, with the device model's
rows for one set of row keys (a station layout), checkpointed: built once per process and layout
(:func:`store_image`).  :func:`create_from_image` writes a copy under its name (a temporary name,
synced, then linked: never over an existing file) and makes its empty ``-wal``; the device
model's first write then changes the rows whose values differ (``device_model.store``).
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

from device_model.addressing import RowKey
from device_model.store import ImageRows, fill_image
from ocpp_station.storage.connection import STORE_FILE, StorageError, connect
from ocpp_station.storage.migrations import migrate
from ocpp_station.storage.newfiles import copy_image

_IMAGE_LOCK = threading.Lock()
# The images of this process by the keys of their device-model rows (one per station layout):
# the rows they hold and their bytes.  A fleet of one template needs one; a few are kept.
_images: dict[tuple[RowKey, ...], tuple[dict[RowKey, str | None], bytes]] = {}
_MAX_IMAGES = 8


def store_image(
    rows: Sequence[tuple[RowKey, str | None]] = (),
) -> tuple[dict[RowKey, str | None], bytes]:
    """The device-model rows and the bytes of a new ``station.db`` at
    :data:`~.migrations.SCHEMA_VERSION`, already in WAL mode, with no ``-wal`` file: what
    :func:`connect` plus :func:`migrate` make of a new file, then the device model's tables with
    rows with the keys of ``rows`` (:func:`device_model.store.fill_image`), checkpointed.

    Built once per set of row keys in the process, in the first caller's thread (normally an
    opener thread), in a private temporary directory, by that very code, with the first
    caller's values; a station whose values differ changes those rows at its first write."""
    keys = tuple(key for key, _value in rows)
    with _IMAGE_LOCK:
        made = _images.get(keys)
        if made is None:
            if len(_images) >= _MAX_IMAGES:
                del _images[next(iter(_images))]
            made = _images[keys] = (ImageRows(rows), _build_image(rows))
        return made


def _build_image(rows: Sequence[tuple[RowKey, str | None]]) -> bytes:
    scratch = tempfile.mkdtemp(prefix="ocpp-station-image-")
    try:
        path = Path(scratch) / STORE_FILE
        conn = connect(path)
        try:
            conn.execute("PRAGMA synchronous=OFF")  # a scratch file: nothing to keep
            migrate(conn, STORE_FILE)
            if rows:
                fill_image(conn, rows)
        finally:
            conn.close()  # checkpoints the WAL into the file and removes it
        return path.read_bytes()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def create_from_image(
    path: Path, rows: Sequence[tuple[RowKey, str | None]]
) -> dict[RowKey, str | None] | None:
    """Create ``station.db`` 0600 as a copy of :func:`store_image` for ``rows`` (a temporary
    name, written, synced once, then linked to its name, and an empty ``-wal``:
    :func:`.newfiles.copy_image`): no journal-mode switch (a rollback journal and four syncs on
    a new file), no migrations and no seed of ``rows``.  SQLite gives its ``-wal`` and ``-shm``
    files the mode of the database file.  No umask is changed: stores are opened in worker
    threads, and the umask belongs to the whole process.  The rows the copy holds when this
    call created it; None when a ``station.db`` is there (an existing one is never replaced)."""
    held, image = store_image(rows)
    try:
        made = copy_image(path, image)
    except OSError as exc:
        raise StorageError(
            f"data directory {path.parent}: cannot create {path.name}: {exc.strerror}"
        ) from None
    return held if made else None
