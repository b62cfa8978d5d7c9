"""Liveness of the peer on a HAL link (``hal/PROTOCOL.md`` section 3.4).

The station sends a PING every ``ping_interval``; any frame from the MCU (a PONG, an ACK, an
event) shows it is alive.  When nothing has arrived for ``liveness_timeout`` the peer is declared
lost, once; the next frame from it restores it.  The owner reacts through ``on_lost`` and
``on_restored`` (the station reports ``CommunicationLost`` and re-reads the MCU's state).
"""

from __future__ import annotations

from collections.abc import Callable

from hal.clock import Clock


class Liveness:
    """Silence detection for one link end.  :meth:`heard` is called for every frame received;
    :meth:`run` (station side only) sends the PINGs and declares the peer lost after
    ``timeout`` seconds of silence.  ``stats`` is the link's counter dict: ``pings_sent`` and
    ``comm_lost`` are counted into it."""

    def __init__(
        self,
        clock: Clock,
        *,
        ping_interval: float,
        timeout: float,
        send_ping: Callable[[int], None],
        stats: dict[str, int],
        on_lost: Callable[[], None] | None = None,
        on_restored: Callable[[], None] | None = None,
    ) -> None:
        self.clock = clock
        self.ping_interval = ping_interval
        self.timeout = timeout
        self.send_ping = send_ping
        self.stats = stats
        self.on_lost = on_lost
        self.on_restored = on_restored
        self.alive = True
        self.last_rx = clock.time()
        self._ping_seq = 0

    def heard(self) -> None:
        """A frame arrived from the peer: it is alive (again)."""
        self.last_rx = self.clock.time()
        if not self.alive:
            self.alive = True
            if self.on_restored is not None:
                self.on_restored()

    def declare_lost(self) -> None:
        """Mark the peer as silent (once) and tell ``on_lost``."""
        if self.alive:
            self.alive = False
            self.stats["comm_lost"] += 1
            if self.on_lost is not None:
                self.on_lost()

    async def run(self) -> None:
        """PING every ``ping_interval``; declare the peer lost after ``timeout`` of silence."""
        while True:
            await self.clock.sleep(self.ping_interval)
            self._ping_seq = (self._ping_seq + 1) & 0xFF
            self.stats["pings_sent"] += 1
            self.send_ping(self._ping_seq)
            if self.clock.time() - self.last_rx > self.timeout:
                self.declare_lost()
