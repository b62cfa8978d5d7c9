"""Serial framing of HAL messages: COBS with 0x00 delimiters and a CRC-16/CCITT-FALSE.

Pure (no I/O).  A frame on the line is ``00 | COBS(header | message | crc) | 00`` where the
header is ``version/direction`` (one byte: ``0x10`` station -> MCU, ``0x11`` MCU -> station) and a
sequence number (one byte), and the CRC (big-endian) covers header and message.  See
``hal/PROTOCOL.md``.  :class:`Deframer` never raises: noise, truncated, corrupt and unknown frames
are counted in :attr:`Deframer.stats` and dropped, and it resynchronises at the next 0x00.
"""

from __future__ import annotations

from typing import NamedTuple

VERSION = 1
TO_MCU = 0  # station -> MCU
TO_STATION = 1  # MCU -> station
MAX_MESSAGE = 250  # bytes of message (type + body) in one frame
HEADER = 2
CRC_SIZE = 2
_MAX_RAW = HEADER + MAX_MESSAGE + CRC_SIZE
MAX_ENCODED = _MAX_RAW + _MAX_RAW // 254 + 1  # COBS overhead

STAT_KEYS = (
    "frames",  # good frames returned
    "crc_errors",  # CRC mismatch (corruption, truncation)
    "cobs_errors",  # not valid COBS (corruption)
    "runts",  # shorter than header + type + CRC
    "oversize",  # longer than MAX_ENCODED before a delimiter
    "unknown_version",  # header version is not ours
    "wrong_direction",  # a frame meant for the other side (echo, loopback)
)


def _make_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return table


_TABLE = _make_table()


def crc16(data: bytes, crc: int = 0xFFFF) -> int:
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, not reflected, no final xor.
    ``crc16(b"123456789") == 0x29B1``."""
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _TABLE[((crc >> 8) ^ byte) & 0xFF]
    return crc


def cobs_encode(data: bytes) -> bytes:
    """Consistent Overhead Byte Stuffing: the result contains no 0x00."""
    out = bytearray()
    block = bytearray()
    for byte in data:
        if byte == 0:
            out.append(len(block) + 1)
            out += block
            block.clear()
        else:
            block.append(byte)
            if len(block) == 254:
                out.append(255)
                out += block
                block.clear()
    out.append(len(block) + 1)
    out += block
    return bytes(out)


def cobs_decode(data: bytes) -> bytes | None:
    """The decoded bytes, or ``None`` when ``data`` is not valid COBS."""
    out = bytearray()
    i = 0
    n = len(data)
    while i < n:
        code = data[i]
        end = i + code
        if code == 0 or end > n:
            return None
        block = data[i + 1 : end]
        if 0 in block:
            return None
        out += block
        i = end
        if code != 255 and i < n:
            out.append(0)
    return bytes(out)


class Frame(NamedTuple):
    direction: int  # TO_MCU or TO_STATION
    seq: int  # 0..255
    payload: bytes  # one codec message (type byte + body)


def encode_frame(seq: int, payload: bytes, direction: int) -> bytes:
    """The bytes to write for one message, delimiters included."""
    if not 0 <= seq <= 255:
        raise ValueError(f"sequence number must be 0..255, got {seq}")
    if direction not in (TO_MCU, TO_STATION):
        raise ValueError(f"direction must be {TO_MCU} or {TO_STATION}, got {direction}")
    if not 1 <= len(payload) <= MAX_MESSAGE:
        raise ValueError(f"message must be 1..{MAX_MESSAGE} bytes, got {len(payload)}")
    raw = bytes([VERSION << 4 | direction, seq]) + payload
    raw += crc16(raw).to_bytes(2, "big")
    return b"\x00" + cobs_encode(raw) + b"\x00"


class Deframer:
    """Splits a received byte stream into frames.

    ``rx_direction`` (``TO_MCU`` on the MCU, ``TO_STATION`` on the station; ``None`` accepts
    both) drops frames meant for the other side, such as a line's echo of our own output.
    """

    def __init__(self, rx_direction: int | None = None) -> None:
        self.rx_direction = rx_direction
        self.stats: dict[str, int] = dict.fromkeys(STAT_KEYS, 0)
        self._buf = bytearray()
        self._overflow = False  # discarding until the next delimiter

    def feed(self, data: bytes) -> list[Frame]:
        """Consume received bytes; return the complete valid frames they finish."""
        frames: list[Frame] = []
        for chunk_end, piece in _split_keep(bytes(data)):
            if not self._overflow:
                self._buf += piece
                if len(self._buf) > MAX_ENCODED:
                    self.stats["oversize"] += 1
                    self._buf.clear()
                    self._overflow = True
            if chunk_end:
                if not self._overflow and self._buf:
                    frame = self._check(bytes(self._buf))
                    if frame is not None:
                        frames.append(frame)
                self._buf.clear()
                self._overflow = False
        return frames

    def _check(self, encoded: bytes) -> Frame | None:
        raw = cobs_decode(encoded)
        if raw is None:
            self.stats["cobs_errors"] += 1
            return None
        if len(raw) < HEADER + 1 + CRC_SIZE:
            self.stats["runts"] += 1
            return None
        if crc16(raw[:-CRC_SIZE]) != int.from_bytes(raw[-CRC_SIZE:], "big"):
            self.stats["crc_errors"] += 1
            return None
        head, seq = raw[0], raw[1]
        if head >> 4 != VERSION or head & 0x0E:
            self.stats["unknown_version"] += 1
            return None
        direction = head & 1
        if self.rx_direction is not None and direction != self.rx_direction:
            self.stats["wrong_direction"] += 1
            return None
        self.stats["frames"] += 1
        return Frame(direction, seq, raw[HEADER:-CRC_SIZE])


def _split_keep(data: bytes) -> list[tuple[bool, bytes]]:
    """``data`` cut at each 0x00: (ends_with_delimiter, bytes before it) pieces."""
    parts = data.split(b"\x00")
    out = [(True, part) for part in parts[:-1]]
    if parts[-1]:
        out.append((False, parts[-1]))
    return out
