"""The station's websocket connection class: the library's client connection, reading its socket
in 64 KiB reads instead of asyncio's 256 KiB.

asyncio's socket transport reads with ``recv(max_size)``, 256 KiB.  CPython allocates a bytes
object of that size for every read and shrinks it to what arrived; glibc serves an allocation
that large with ``mmap`` and shrinks and frees it with ``mremap`` and ``munmap``: three system
calls and a page fault for each frame received.  On this project's test machine a 300-byte read
took 15 µs that way and 2 µs with a 64 KiB buffer, which the heap serves.  An OCPP frame is a
few hundred bytes; a larger one simply arrives over several reads.  (A TLS connection reads into
a buffer of its own: its transport has no such size.)
"""

from __future__ import annotations

import asyncio

from websockets.asyncio.client import ClientConnection

READ_SIZE = 64 * 1024  # bytes per recv(): below glibc's default mmap threshold (128 KiB)


class StationConnection(ClientConnection):
    """:class:`ClientConnection` whose plain-TCP transport reads at most :data:`READ_SIZE`."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        small_reads(transport)
        super().connection_made(transport)


def small_reads(transport: asyncio.BaseTransport) -> None:
    """Make ``transport`` read at most :data:`READ_SIZE` bytes a call, if it reads a socket with
    a size of its own (asyncio's selector transports: ``max_size``); any other is left alone."""
    size = getattr(transport, "max_size", None)
    if isinstance(size, int) and size > READ_SIZE:
        transport.max_size = READ_SIZE  # type: ignore[attr-defined]
