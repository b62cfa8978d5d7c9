"""hal.canbus: the CAN identifiers, fragmentation and reassembly (pure); the worked examples of
hal/PROTOCOL.md section 5; random frames never raise."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hal.canbus import MAX_BODY, CanAddressing, CanReceiver, encode_can
from hal.codec import encode
from hal.framing import TO_MCU, TO_STATION
from hal.types import IdTokenPresented, MeterReading


def test_identifiers_per_type_direction_and_node() -> None:
    default = CanAddressing()
    assert default.can_id(TO_MCU, 0x03) == 0x403  # SET_CURRENT_LIMIT to the MCU
    assert default.can_id(TO_STATION, 0x23) == 0x463  # METER from the MCU
    assert CanAddressing(node=2).can_id(TO_STATION, 0x10) == 0x550
    assert default.parse(0x463) == (TO_STATION, 0x23)
    assert default.parse(0x503) is None  # node 1's
    assert default.parse(0x400) is None  # type 0 is never used
    with pytest.raises(ValueError, match="outside the 11-bit range"):
        CanAddressing(node=8)
    with pytest.raises(ValueError, match="multiple of 0x80"):
        CanAddressing(id_base=0x410)


def test_worked_examples_of_protocol_md() -> None:
    addr = CanAddressing()
    assert encode_can(0x2A, bytes.fromhex("0301064003"), TO_MCU, addr) == [
        (0x403, bytes.fromhex("002a01064003"))
    ]
    reading = MeterReading(1, 12345.0, 6900.0, (10.0, 10.0, 10.0), (230.0, 230.0, 230.0))
    frames = encode_can(5, encode(reading), TO_STATION, addr)
    assert [(hex(i), d.hex()) for i, d in frames] == [
        ("0x463", "1005190100000000"),
        ("0x463", "2105000030390000"),
        ("0x463", "22051af403e803e8"),
        ("0x463", "230503e808fc08fc"),
        ("0x463", "240508fc"),
    ]
    receiver = CanReceiver(TO_STATION, addr)
    results = [receiver.feed(i, d) for i, d in frames]
    assert results[:-1] == [None] * 4
    assert results[-1] == (5, encode(reading))


@given(
    st.integers(0, 255),
    st.integers(1, 0x3F),
    st.binary(max_size=MAX_BODY),
    st.integers(0, 7),
)
def test_split_and_reassemble_any_message(seq: int, msg_type: int, body: bytes, node: int) -> None:
    addr = CanAddressing(node=node)
    frames = encode_can(seq, bytes([msg_type]) + body, TO_MCU, addr)
    assert all(len(d) <= 8 for _, d in frames)
    assert len(frames) == (1 if len(body) <= 6 else 1 + -(-(len(body) - 5) // 6))
    receiver = CanReceiver(TO_MCU, addr)
    out = [receiver.feed(i, d) for i, d in frames]
    assert out[-1] == (seq, bytes([msg_type]) + body)
    assert receiver.stats["messages"] == 1


@given(st.lists(st.tuples(st.integers(0, 0x7FF), st.binary(max_size=8)), max_size=60))
def test_random_frames_never_raise(frames: list[tuple[int, bytes]]) -> None:
    receiver = CanReceiver(TO_STATION, CanAddressing())
    for can_id, data in frames:
        result = receiver.feed(can_id, data)
        assert result is None or (0 <= result[0] <= 255 and len(result[1]) >= 1)


def test_out_of_order_missing_and_interrupted_sequences_are_dropped_and_counted() -> None:
    addr = CanAddressing()
    token = encode(IdTokenPresented(1, "0123456789ABCDEF", "ISO14443"))
    frames = encode_can(9, token, TO_STATION, addr)
    assert len(frames) == 4
    rx = CanReceiver(TO_STATION, addr)
    assert [rx.feed(*f) for f in (frames[0], frames[2])] == [None, None]  # frame 1 lost
    assert rx.stats["out_of_order"] == 1
    assert rx.feed(*frames[3]) is None
    assert rx.stats["unexpected"] == 1  # nothing in progress any more
    rx.feed(*frames[0])
    rx.feed(*frames[1])
    assert rx.feed(*encode_can(10, token, TO_STATION, addr)[0]) is None  # restarted
    assert rx.stats["incomplete"] == 1
    again = encode_can(10, token, TO_STATION, addr)
    assert [rx.feed(*f) for f in again[1:]][-1] == (10, token)
    assert rx.feed(0x023, b"\x00\x01") is None and rx.stats["foreign"] == 1
    assert rx.feed(frames[0][0], b"\x00") is None and rx.stats["malformed"] == 1
