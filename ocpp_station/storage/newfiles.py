"""The files of a new station store: its directory, the copy of the image, the empty ``-wal``.

Used in-process (:meth:`.store.StationStore.prepare`, :func:`.image.create_from_image`) and, in
a fleet's boot storm, by a helper process that runs this very file as a script
(:mod:`.copier`).  So it imports the standard library and :mod:`ocpp_station.files` (standard
library only) and nothing else: the helper (``python -I -S``) starts in milliseconds.

The helper reads one JSON request per line on its standard input and answers one line each on
its standard output, in order, after a first ``{"ready": true}``::

    {"id": 7, "dir": "/data/ST-0007", "store": "/data/ST-0007/station.db", "image": "/tmp/i.db"}
    {"id": 7, "made": true}

``made`` is true when it created the directory and the store in it, as a copy of the image
file's bytes (read once per image path); false for anything else (the directory was there, an
error): the caller then prepares that store itself, whose checks report any error in full.  It
ends at the end of its input.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
from pathlib import Path
from typing import IO

from ocpp_station.files import write_synced

STORE_MODE = 0o600  # station.db and -wal: the Basic-auth password is in there


def make_directory(directory: Path) -> bool:
    """Create ``directory`` 0700 (and its missing parents).  True when this call created it and
    the process can write there (then it is empty); False when it exists, or was made but is
    not writable (the caller's checks say why).  Any other failure raises ``OSError``."""
    try:
        directory.mkdir(mode=0o700, parents=True)
    except FileExistsError:
        return False
    # A directory the process could create it can write (a fleet creates thousands, each
    # check a few system calls), unless the umask says otherwise.
    return os.access(directory, os.W_OK)


def copy_image(path: Path, image: bytes) -> bool:
    """Create ``path`` 0600 with the bytes ``image``: written to a temporary name, synced once,
    then linked to its name (never over an existing file), and its empty ``-wal`` beside it.
    False when a file is at ``path`` already (it is left alone); ``OSError`` on a failure (no
    temporary file is left)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        write_synced(tmp, image, STORE_MODE)
        try:
            os.link(tmp, path)  # never over an existing file (O_EXCL's rule)
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links: a rename, unless one is there now
            if path.exists():
                return False
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    empty_wal(path)
    return True


def empty_wal(path: Path) -> None:
    """The ``-wal`` file of a new copy, empty and 0600, made now rather than by SQLite at its
    first write: SQLite takes a zero-length WAL as one without frames, so the connection creates
    no file.  One that is there already is left alone; one that cannot be made is SQLite's to
    make, as ever."""
    try:
        fd = os.open(
            path.with_name(path.name + "-wal"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, STORE_MODE
        )
    except OSError:
        return
    os.close(fd)


def make_store(directory: Path, store: Path, image: bytes) -> bool:
    """A new ``directory`` holding ``store`` as a copy of ``image``; False when the directory
    was there (nothing is touched) or is not writable."""
    return make_directory(directory) and copy_image(store, image)


def serve(requests: IO[str], answers: IO[str]) -> None:
    """The helper's loop (see the module's docstring)."""
    images: dict[str, bytes] = {}
    answers.write('{"ready": true}\n')
    answers.flush()
    for line in requests:
        try:
            request = json.loads(line)
            ident = request["id"]
        except (ValueError, KeyError, TypeError):
            print(
                f"ocpp-station store helper: a bad request: {line.strip()[:200]!r}", file=sys.stderr
            )
            continue
        try:
            image = images.get(request["image"])
            if image is None:
                image = images[request["image"]] = Path(request["image"]).read_bytes()
            made = make_store(Path(request["dir"]), Path(request["store"]), image)
        except (OSError, KeyError, TypeError, ValueError):
            made = False  # the station's own prepare meets the same error and reports it
        answers.write(json.dumps({"id": ident, "made": made}) + "\n")
        answers.flush()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt, BrokenPipeError):
        serve(sys.stdin, sys.stdout)
