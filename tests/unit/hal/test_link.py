"""hal.link and hal.liveness over an in-memory line on the ManualClock: a lost ACK is repeated
and not executed twice, no answer after every attempt, liveness lost and restored, malformed and
unknown messages NACKed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from hal.link import Link, LinkOptions, NoAcknowledge
from hal.messages import AckResult, Enable, Reset
from ocpp_station.clock import ManualClock


class MemoryLine:
    """Two transports delivering to each other at once; ``drop`` decides per message."""

    def __init__(self) -> None:
        self.drop: Callable[[str, int, bytes], bool] = lambda side, seq, data: False
        self.ends = [self._End(self, "a"), self._End(self, "b")]

    class _End:
        def __init__(self, line: MemoryLine, side: str) -> None:
            self.line, self.side = line, side
            self.deliver: Callable[[int, bytes], None] | None = None
            self.stats: dict[str, int] = {}

        def start(self, deliver: Callable[[int, bytes], None]) -> None:
            self.deliver = deliver

        def send(self, seq: int, message: bytes) -> None:
            peer = self.line.ends[1] if self is self.line.ends[0] else self.line.ends[0]
            if not self.line.drop(self.side, seq, message) and peer.deliver is not None:
                peer.deliver(seq, message)

        def close(self) -> None:
            self.deliver = None


async def settle() -> None:
    """Let started tasks run up to their first wait on the ManualClock."""
    for _ in range(10):
        await asyncio.sleep(0)


async def test_lost_ack_is_repeated_and_not_executed_twice() -> None:
    clock = ManualClock()
    line = MemoryLine()
    dropped: list[bytes] = []

    def drop_first_ack(side: str, seq: int, data: bytes) -> bool:
        if side == "b" and data[:1] == b"\x10" and not dropped:
            dropped.append(data)
            return True
        return False

    line.drop = drop_first_ack
    executed: list[Any] = []
    a = Link(line.ends[0], executed.append, LinkOptions(clock=clock))
    b = Link(line.ends[1], executed.append, LinkOptions(clock=clock))
    a.start()
    b.start()
    task = asyncio.create_task(a.request(Enable(1, True)))
    await settle()
    assert executed == [Enable(1, True)] and dropped == [b"\x10\x00"]
    await clock.advance(0.1)  # ack timeout: the same seq and bytes again
    assert await asyncio.wait_for(task, 5) == AckResult.DUPLICATE
    assert executed == [Enable(1, True)]
    assert a.stats["retransmissions"] == 1 and b.stats["duplicates"] == 1
    assert await a.request(Enable(1, True)) == AckResult.OK  # same bytes, new seq: executed
    assert executed == [Enable(1, True)] * 2


async def test_no_answer_after_every_attempt() -> None:
    clock = ManualClock()
    line = MemoryLine()
    line.drop = lambda side, seq, data: True
    a = Link(line.ends[0], lambda m: None, LinkOptions(clock=clock, attempts=3))
    a.start()
    task = asyncio.create_task(a.request(Reset()))
    for _ in range(3):
        await settle()
        await clock.advance(0.1)
    with pytest.raises(NoAcknowledge, match="after 3 attempt"):
        await task
    assert a.stats["retransmissions"] == 2 and a.stats["send_failures"] == 1


async def test_liveness_with_a_manual_clock() -> None:
    clock = ManualClock()
    line = MemoryLine()
    log: list[str] = []
    options = LinkOptions(clock=clock, ping_interval=0.5, liveness_timeout=1.5)
    station = Link(
        line.ends[0],
        lambda m: None,
        options,
        ping=True,
        on_lost=lambda: log.append("lost"),
        on_restored=lambda: log.append("restored"),
    )
    mcu = Link(line.ends[1], lambda m: None, LinkOptions(clock=clock))
    station.start()
    mcu.start()
    await settle()
    await clock.advance(3.0)
    assert log == [] and station.stats["pings_sent"] == 6  # PONGs keep it alive
    mcu.muted = True
    await clock.advance(1.5)
    assert log == []
    await clock.advance(0.5)  # 2.0 s without a frame > 1.5 s
    assert log == ["lost"] and not station.liveness.alive
    await clock.advance(5.0)
    assert log == ["lost"]  # reported once
    mcu.muted = False
    await clock.advance(0.5)
    assert log == ["lost", "restored"] and station.liveness.alive
    await station.close()


async def test_malformed_and_unknown_messages_are_nacked() -> None:
    line = MemoryLine()
    got: list[bytes] = []
    b = Link(line.ends[1], lambda m: None, LinkOptions())
    b.start()
    line.ends[0].deliver = lambda seq, data: got.append(bytes([seq]) + data)
    line.ends[0].send(3, b"\x01\x01\x07")  # ENABLE with a bool of 7
    line.ends[0].send(4, b"\x3e")  # no such type
    line.ends[0].send(5, b"\x10\x00\x00")  # a malformed ACK: never answered
    assert got == [b"\x03\x11\x01", b"\x04\x11\x02"]
    assert b.stats["decode_errors"] == 2 and b.stats["unknown_types"] == 1
