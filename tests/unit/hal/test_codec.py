"""hal.codec: every message of hal.messages round-trips; malformed input raises CodecError and
nothing else."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hal.codec import (
    FAULT_CODE_MAX,
    ID_TOKEN_MAX,
    ID_TOKEN_TYPES,
    CodecError,
    UnknownMessageType,
    decode,
    encode,
)
from hal.messages import (
    Ack,
    AllowPower,
    Enable,
    Lock,
    Message,
    Nack,
    Ping,
    Pong,
    Reset,
    SetCurrentLimit,
    StateEnd,
    StateRequest,
    is_reliable,
)
from hal.types import (
    ContactorChanged,
    FaultChanged,
    IdTokenPresented,
    LockChanged,
    MeterReading,
    PilotState,
    PilotStateChanged,
    PlugChanged,
)

u8 = st.integers(0, 255)
flag = st.booleans()


def _utf8(low: int, high: int) -> st.SearchStrategy[str]:
    return st.text(max_size=high).filter(lambda s: low <= len(s.encode()) <= high)


meter = st.builds(
    MeterReading,
    u8,
    st.integers(0, 2**53).map(float),
    st.integers(-(2**31), 2**31 - 1).map(float),
    st.tuples(*[st.integers(0, 0xFFFF).map(lambda x: x / 100)] * 3),
    st.tuples(*[st.integers(0, 0xFFFF).map(lambda x: x / 10)] * 3),
)

messages: st.SearchStrategy[Message] = st.one_of(
    st.builds(Enable, u8, flag),
    st.builds(AllowPower, u8, flag),
    st.builds(
        SetCurrentLimit, u8, st.integers(0, 0xFFFF).map(lambda x: x / 100), st.integers(1, 3)
    ),
    st.builds(Lock, u8, u8, flag),
    st.just(Reset()),
    st.just(StateRequest()),
    st.builds(Ack, u8),
    st.builds(Nack, u8),
    st.just(Ping()),
    st.just(Pong()),
    st.builds(PilotStateChanged, u8, st.sampled_from(list(PilotState))),
    st.builds(PlugChanged, u8, u8, flag),
    st.builds(IdTokenPresented, u8, _utf8(0, ID_TOKEN_MAX), st.sampled_from(ID_TOKEN_TYPES)),
    meter,
    st.builds(ContactorChanged, u8, flag),
    st.builds(FaultChanged, u8, _utf8(1, FAULT_CODE_MAX), flag),
    st.builds(LockChanged, u8, u8, flag),
    st.just(StateEnd()),
)


@given(messages)
def test_every_message_round_trips(msg: Message) -> None:
    data = encode(msg)
    assert decode(data) == msg
    assert len(data) <= 1 + 3 + FAULT_CODE_MAX


@given(st.binary(max_size=80))
def test_noise_never_raises_anything_but_codec_error(data: bytes) -> None:
    try:
        msg = decode(data)
    except CodecError:
        return
    assert encode(msg) == data  # whatever decodes is canonical


@given(messages, st.binary(min_size=1, max_size=4))
def test_trailing_bytes_are_rejected_for_fixed_layouts(msg: Message, extra: bytes) -> None:
    if isinstance(msg, IdTokenPresented | FaultChanged):
        return  # length-prefixed: covered below
    with pytest.raises(CodecError, match="body must be"):
        decode(encode(msg) + extra)


def test_worked_examples_of_protocol_md() -> None:
    assert encode(SetCurrentLimit(1, 16.0, 3)).hex() == "0301064003"
    assert encode(Enable(1, True)).hex() == "010101"
    assert encode(Ack()).hex() == "1000"
    assert encode(PlugChanged(1, 1, True)).hex() == "21010101"
    token = IdTokenPresented(1, "04A1B2C3", "ISO14443")
    assert encode(token).hex() == "220100083034413142324333"
    reading = MeterReading(1, 12345.0, 6900.0, (10.0, 10.0, 10.0), (230.0, 230.0, 230.0))
    assert encode(reading).hex() == (
        "23" + "01" + "0000000000003039" + "00001af4" + "03e8" * 3 + "08fc" * 3
    )


def test_decoded_values_are_scaled() -> None:
    msg = decode(bytes.fromhex("0301064003"))
    assert msg == SetCurrentLimit(1, 16.0, 3)
    fault = decode(b"\x25\x00\x01\x11CommunicationLost")
    assert fault == FaultChanged(0, "CommunicationLost", True)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", "empty message"),
        (b"\x01\x01", "ENABLE body must be 2 bytes"),
        (b"\x01\x01\x02", "must be 0 or 1"),
        (b"\x03\x01\x06\x40\x04", "phases must be 1, 2 or 3"),
        (b"\x20\x01G", "pilot state must be ASCII A..F"),
        (b"\x22\x01\x09\x00", "unknown id token type code 9"),
        (b"\x22\x01\x00\x05abc", "id token length 5 does not match"),
        (b"\x22\x01\x00\x02\xff\xfe", "not valid UTF-8"),
        (b"\x25\x01\x01\x00", "fault code length 0"),
        (b"\x23\x01", "METER body must be 25 bytes"),
    ],
)
def test_malformed_messages_name_the_problem(data: bytes, match: str) -> None:
    with pytest.raises(CodecError, match=match):
        decode(data)


def test_unknown_type_has_its_own_error() -> None:
    with pytest.raises(UnknownMessageType, match="unknown message type 0x7f"):
        decode(b"\x7f")


@pytest.mark.parametrize(
    ("msg", "match"),
    [
        (Enable(256, True), "evse must be an integer 0..255"),
        (Enable(1, 1), "enabled must be a bool"),  # type: ignore[arg-type]
        (SetCurrentLimit(1, -1.0), "amps must be within 0..655.35"),
        (SetCurrentLimit(1, 700.0), "amps must be within"),
        (SetCurrentLimit(1, math.nan), "amps must be a finite number"),
        (SetCurrentLimit(1, 6.0, 4), "phases must be 1, 2 or 3"),
        (IdTokenPresented(1, "x" * 37), "id_token must be 0..36 UTF-8 bytes"),
        (IdTokenPresented(1, "abc", "Badge"), "id token type must be one of"),
        (FaultChanged(1, "", True), "fault code must be 1..50"),
        (MeterReading(1, -1.0, 0.0, (0, 0, 0), (0, 0, 0)), "energy_wh must be within"),
        (MeterReading(1, 0.0, 0.0, (0, 0, 700), (0, 0, 0)), r"current_a\[2\] must be within"),
    ],
)
def test_unencodable_values_name_the_field(msg: Message, match: str) -> None:
    with pytest.raises(CodecError, match=match):
        encode(msg)


def test_encode_rejects_non_messages() -> None:
    with pytest.raises(CodecError, match="str is not a HAL protocol message"):
        encode("hello")  # type: ignore[arg-type]


def test_reliable_classification() -> None:
    assert is_reliable(Enable(1, True)) and is_reliable(StateEnd())
    assert is_reliable(PlugChanged(1, 1, True))
    assert not any(is_reliable(m) for m in (Ack(), Nack(1), Ping(), Pong()))
