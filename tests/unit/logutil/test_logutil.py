"""RateLimitedLog and RedactingLogger: a peer cannot flood the log, no secret reaches it."""

from __future__ import annotations

import logging

import pytest
from websockets.frames import Frame, Opcode

from ocpp_station.logutil import REDACTED, RateLimitedLog, RedactingLogger


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_passes_then_repeats_are_counted_and_reported_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    log = RateLimitedLog(logging.getLogger("t.rl"), clock, burst=3, window=60)
    with caplog.at_level(logging.WARNING, "t.rl"):
        passed = [log.warning("bad frame", "bad frame %d", n) for n in range(1000)]
        assert passed.count(True) == 3
        assert log.held("bad frame") == 997
        log.warning("other", "another kind goes through")  # kinds are counted apart
        clock.now += 61
        assert log.warning("bad frame", "bad frame again")
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "bad frame 0",
        "bad frame 1",
        "bad frame 2",
        "another kind goes through",
        "997 more similar message(s) (bad frame) held back in the last 61 s",
        "bad frame again",
    ]


def test_a_disabled_level_costs_nothing_and_counts_nothing() -> None:
    log = RateLimitedLog(logging.getLogger("t.rl.off"), Clock(), burst=1)
    logging.getLogger("t.rl.off").setLevel(logging.ERROR)
    assert not log.warning("k", "not logged")
    assert log.held("k") == 0


def test_the_authorization_header_and_frame_text_never_reach_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = RedactingLogger(logging.getLogger("t.ws"))
    frame = Frame(Opcode.TEXT, b'[2,"1","SetVariables",{"attributeValue":"secret-pass"}]')
    with caplog.at_level(logging.DEBUG, "t.ws"):
        log.debug("> %s: %s", "Authorization", "Basic Q1MwMDE6c2VjcmV0LXBhc3M=")
        log.debug("> %s: %s", "Host", "127.0.0.1")
        log.debug("< %s", frame)
        log.debug("> GET %s HTTP/1.1", "/ocpp/CS001")
    text = caplog.text
    assert "Q1MwMDE6" not in text and "secret-pass" not in text
    assert f"> Authorization: {REDACTED}" in text
    assert "> Host: 127.0.0.1" in text
    assert "< TEXT [" in text
    assert "> GET /ocpp/CS001 HTTP/1.1" in text
