"""Durable private files: what the station writes outside SQLite (certificates, keys, an
imported data directory) is written so that a power loss leaves the old file or the new one,
never a part of one, and only the station's user can read it."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) with mode 0700, and narrow it if it was wider."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    if path.stat().st_mode & 0o777 != DIR_MODE:
        path.chmod(DIR_MODE)


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Make a rename or removal in ``path`` durable; a file system that cannot sync a directory
    (or a platform that cannot open one) is left as it is."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fsync_file(path)


def write_synced(path: Path, data: bytes, mode: int = FILE_MODE) -> None:
    """Write all of ``data`` to ``path`` (created or truncated, ``mode`` from the start, also
    when an older file had other bits) and fsync it; the caller renames or links it into place."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, mode: int = FILE_MODE) -> None:
    """Write ``data`` to ``path``: a temp file in the same folder, synced, renamed over the
    target, then the folder synced."""
    tmp = path.with_name(f".{path.name}.tmp")
    write_synced(tmp, data, mode)
    os.replace(tmp, path)
    fsync_dir(path.parent)
