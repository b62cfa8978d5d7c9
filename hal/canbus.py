"""CAN mapping of HAL messages: 11-bit identifiers and fragmentation into 8-byte frames.

Pure (no I/O).  The identifier carries the message type and the direction::

    can_id = id_base + node * 0x80 + direction * 0x40 + type      (type < 0x40)

so every controller on a bus (``node`` 0..7 with the default ``id_base`` 0x400) has its own 128
identifiers.  The data bytes carry a protocol-control byte (PCI), the sequence number and the body
of the message (its bytes after the type byte)::

    single       : 0x00 | seq | body (0..6 bytes)
    first        : 0x10 | seq | total body length (7..95) | first 5 body bytes
    consecutive  : 0x2i | seq | next 6 body bytes (the last may be shorter), i = 1..15

:class:`CanReceiver` reassembles and never raises: malformed, unexpected, out-of-order and
incomplete sequences are counted in :attr:`CanReceiver.stats` and dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

from hal.framing import TO_MCU, TO_STATION

SINGLE, FIRST, CONSECUTIVE = 0x0, 0x1, 0x2
SINGLE_MAX = 6
FIRST_DATA = 5
CONSECUTIVE_DATA = 6
MAX_BODY = FIRST_DATA + 15 * CONSECUTIVE_DATA  # 95

STAT_KEYS = (
    "messages",  # complete messages returned
    "malformed",  # bad PCI or length
    "foreign",  # identifier not ours (other node, other direction, not in our range)
    "unexpected",  # a consecutive frame with no sequence in progress
    "out_of_order",  # wrong fragment index or sequence number: partial message dropped
    "incomplete",  # a new first/single frame while a message was partial: partial dropped
)


@dataclass(frozen=True, slots=True)
class CanAddressing:
    id_base: int = 0x400
    node: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.id_base, bool) or not isinstance(self.id_base, int):
            raise ValueError(f"id_base must be an integer, got {self.id_base!r}")
        if isinstance(self.node, bool) or not isinstance(self.node, int) or self.node < 0:
            raise ValueError(f"node must be an integer >= 0, got {self.node!r}")
        if self.id_base % 0x80:
            raise ValueError(f"id_base must be a multiple of 0x80, got 0x{self.id_base:x}")
        low = self.id_base + self.node * 0x80
        if self.id_base < 0 or low + 0x7F > 0x7FF:
            raise ValueError(
                f"id_base 0x{self.id_base:x} with node {self.node} needs identifiers "
                f"0x{low:x}..0x{low + 0x7F:x}, outside the 11-bit range 0..0x7ff"
            )

    def can_id(self, direction: int, msg_type: int) -> int:
        if direction not in (TO_MCU, TO_STATION):
            raise ValueError(f"direction must be {TO_MCU} or {TO_STATION}, got {direction}")
        if not 0 < msg_type < 0x40:
            raise ValueError(f"message type must be 0x01..0x3f, got 0x{msg_type:x}")
        return self.id_base + self.node * 0x80 + direction * 0x40 + msg_type

    def parse(self, can_id: int) -> tuple[int, int] | None:
        """``(direction, type)`` of one of our identifiers, ``None`` for anyone else's."""
        offset = can_id - self.id_base - self.node * 0x80
        if not 0 <= offset < 0x80 or offset & 0x3F == 0:
            return None
        return offset >> 6, offset & 0x3F


def encode_can(
    seq: int, message: bytes, direction: int, addressing: CanAddressing
) -> list[tuple[int, bytes]]:
    """``(can_id, data)`` frames carrying one message (type byte + body)."""
    if not 0 <= seq <= 255:
        raise ValueError(f"sequence number must be 0..255, got {seq}")
    if not message:
        raise ValueError("empty message: no type byte")
    can_id = addressing.can_id(direction, message[0])
    body = message[1:]
    if len(body) <= SINGLE_MAX:
        return [(can_id, bytes([SINGLE << 4, seq]) + body)]
    if len(body) > MAX_BODY:
        raise ValueError(f"message body of {len(body)} bytes exceeds the CAN maximum {MAX_BODY}")
    frames = [(can_id, bytes([FIRST << 4, seq, len(body)]) + body[:FIRST_DATA])]
    rest = body[FIRST_DATA:]
    for index, start in enumerate(range(0, len(rest), CONSECUTIVE_DATA), start=1):
        chunk = rest[start : start + CONSECUTIVE_DATA]
        frames.append((can_id, bytes([CONSECUTIVE << 4 | index, seq]) + chunk))
    return frames


@dataclass(slots=True)
class _Partial:
    seq: int
    total: int
    next_index: int
    body: bytearray


class CanReceiver:
    """Reassembles the messages arriving for one side (``rx_direction``) of one node."""

    def __init__(self, rx_direction: int, addressing: CanAddressing) -> None:
        self.rx_direction = rx_direction
        self.addressing = addressing
        self.stats: dict[str, int] = dict.fromkeys(STAT_KEYS, 0)
        self._partial: dict[int, _Partial] = {}  # by message type

    def feed(self, can_id: int, data: bytes) -> tuple[int, bytes] | None:
        """One received frame; ``(seq, message)`` when it completes a message."""
        parsed = self.addressing.parse(can_id)
        if parsed is None or parsed[0] != self.rx_direction:
            self.stats["foreign"] += 1
            return None
        msg_type = parsed[1]
        data = bytes(data)
        if len(data) < 2:
            self.stats["malformed"] += 1
            return None
        kind, index, seq, chunk = data[0] >> 4, data[0] & 0x0F, data[1], data[2:]
        if kind in (SINGLE, FIRST) and self._partial.pop(msg_type, None) is not None:
            self.stats["incomplete"] += 1
        if kind == SINGLE and index == 0:
            return self._done(seq, msg_type, chunk)
        if kind == FIRST and index == 0 and len(chunk) >= 1:
            total, first = chunk[0], chunk[1:]
            if not SINGLE_MAX < total <= MAX_BODY or len(first) != FIRST_DATA:
                self.stats["malformed"] += 1
                return None
            self._partial[msg_type] = _Partial(seq, total, 1, bytearray(first))
            return None
        if kind != CONSECUTIVE or index == 0:
            self.stats["malformed"] += 1
            return None
        partial = self._partial.get(msg_type)
        if partial is None:
            self.stats["unexpected"] += 1
            return None
        remaining = partial.total - len(partial.body)
        if index != partial.next_index or seq != partial.seq:
            del self._partial[msg_type]
            self.stats["out_of_order"] += 1
            return None
        if len(chunk) != min(CONSECUTIVE_DATA, remaining):
            del self._partial[msg_type]
            self.stats["malformed"] += 1
            return None
        partial.body += chunk
        partial.next_index += 1
        if len(partial.body) < partial.total:
            return None
        del self._partial[msg_type]
        return self._done(seq, msg_type, bytes(partial.body))

    def _done(self, seq: int, msg_type: int, body: bytes) -> tuple[int, bytes]:
        self.stats["messages"] += 1
        return seq, bytes([msg_type]) + body
