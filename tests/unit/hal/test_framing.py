"""hal.framing: COBS + CRC-16 serial frames; the deframer drops and counts bad frames, never
raises, and resynchronises at the next delimiter."""

from __future__ import annotations

import random
import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import hal
from hal.codec import decode
from hal.framing import (
    MAX_ENCODED,
    MAX_MESSAGE,
    TO_MCU,
    TO_STATION,
    Deframer,
    Frame,
    cobs_decode,
    cobs_encode,
    crc16,
    encode_frame,
)

payloads = st.binary(min_size=1, max_size=MAX_MESSAGE)


def test_crc_test_vector() -> None:
    assert crc16(b"123456789") == 0x29B1  # CRC-16/CCITT-FALSE check value
    assert crc16(b"") == 0xFFFF


def test_worked_example_of_protocol_md() -> None:
    # SET_CURRENT_LIMIT evse 1, 16.00 A, 3 phases, seq 0x2a, station -> MCU
    frame = encode_frame(0x2A, bytes.fromhex("0301064003"), TO_MCU)
    assert frame.hex() == "000a102a030106400362d600"
    raw = bytes.fromhex("102a0301064003")
    assert frame == b"\x00" + cobs_encode(raw + crc16(raw).to_bytes(2, "big")) + b"\x00"
    assert Deframer(TO_MCU).feed(frame) == [Frame(TO_MCU, 0x2A, bytes.fromhex("0301064003"))]


@given(st.binary(max_size=700))
def test_cobs_round_trip_has_no_zero(data: bytes) -> None:
    encoded = cobs_encode(data)
    assert 0 not in encoded
    assert cobs_decode(encoded) == data


@given(
    st.lists(st.tuples(st.integers(0, 255), payloads, st.sampled_from([0, 1])), max_size=8),
    st.data(),
)
def test_frames_survive_any_chunking(
    items: list[tuple[int, bytes, int]], data: st.DataObject
) -> None:
    stream = b"".join(encode_frame(seq, p, d) for seq, p, d in items)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    deframer = Deframer()
    got: list[Frame] = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)]):
        got += deframer.feed(stream[start:end])
    assert got == [Frame(d, seq, p) for seq, p, d in items]
    assert deframer.stats["frames"] == len(items)
    assert sum(v for k, v in deframer.stats.items() if k != "frames") == 0


@given(st.binary(max_size=2000))
def test_noise_never_raises_and_a_following_frame_is_found(noise: bytes) -> None:
    deframer = Deframer()
    deframer.feed(noise)  # must not raise, whatever it returns
    good = encode_frame(7, b"\x12", TO_STATION)
    assert deframer.feed(good)[-1:] == [Frame(TO_STATION, 7, b"\x12")]


def test_corrupted_frame_is_dropped_and_counted_next_one_survives() -> None:
    rng = random.Random(5)
    deframer = Deframer()
    dropped = 0
    for i in range(200):
        frame = bytearray(encode_frame(i % 256, bytes([0x21, 1, 1, 1]), TO_STATION))
        pos = rng.randrange(1, len(frame) - 1)
        frame[pos] ^= rng.randrange(1, 256)
        got = deframer.feed(bytes(frame))
        dropped += not got
        assert all(f.payload == bytes([0x21, 1, 1, 1]) for f in got)  # never a wrong payload
    errors = sum(deframer.stats[k] for k in ("crc_errors", "cobs_errors", "runts"))
    assert dropped == 200 - deframer.stats["frames"]
    assert errors >= dropped - deframer.stats["wrong_direction"] - deframer.stats["unknown_version"]
    assert dropped > 150  # a flipped byte is nearly always caught (a zero splits the frame)
    assert deframer.feed(encode_frame(1, b"\x12", TO_STATION)) == [Frame(TO_STATION, 1, b"\x12")]


def test_truncated_frame_then_good_frame() -> None:
    deframer = Deframer()
    good = encode_frame(3, b"\x01\x01\x01", TO_MCU)
    cut = good[:-4]  # the line dropped the end of the frame (and its delimiter)
    assert deframer.feed(cut + good) == [Frame(TO_MCU, 3, b"\x01\x01\x01")]
    assert deframer.stats["crc_errors"] + deframer.stats["cobs_errors"] == 1


def test_runts_and_oversize_are_counted() -> None:
    deframer = Deframer()
    assert deframer.feed(b"\x00\x02\x10\x00") == []  # valid COBS, too short
    assert deframer.stats["runts"] == 1
    assert deframer.feed(b"\x01" * (MAX_ENCODED + 10) + b"\x00") == []
    assert deframer.stats["oversize"] == 1
    assert deframer.feed(encode_frame(9, b"\x12", TO_MCU)) == [Frame(TO_MCU, 9, b"\x12")]


def test_direction_and_version_filters() -> None:
    station_side = Deframer(rx_direction=TO_STATION)
    assert station_side.feed(encode_frame(1, b"\x12", TO_MCU)) == []  # our own echo
    assert station_side.stats["wrong_direction"] == 1
    raw = bytes([0x20, 1, 0x12])  # version 2
    frame = b"\x00" + cobs_encode(raw + crc16(raw).to_bytes(2, "big")) + b"\x00"
    assert station_side.feed(frame) == []
    assert station_side.stats["unknown_version"] == 1


def test_encode_frame_rejects_bad_arguments() -> None:
    for args, text in [
        ((256, b"\x12", 0), "sequence number"),
        ((1, b"", 0), "message must be"),
        ((1, b"\x12", 2), "direction"),
    ]:
        try:
            encode_frame(*args)
        except ValueError as exc:
            assert text in str(exc)
        else:
            raise AssertionError(f"no error for {args}")


def test_every_serial_example_in_protocol_md_is_a_valid_frame() -> None:
    text = (Path(hal.__file__).parent / "PROTOCOL.md").read_text()
    serial_part = text[text.index("## 4. Serial") : text.index("## 5. CAN")]
    examples = re.findall(r"(?:`|-> MCU +|-> station +)(00(?: [0-9a-f]{2})+ 00)\b", serial_part)
    assert len(examples) >= 10
    for example in examples:
        frames = Deframer().feed(bytes.fromhex(example))
        assert len(frames) == 1, example
        decode(frames[0].payload)  # and the message inside is well-formed
