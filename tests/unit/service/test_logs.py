"""The log of ``run`` and ``fleet``: JSON lines, the journal, no secrets, repeats summarized."""

from __future__ import annotations

import io
import json
import logging
import os
import time
from collections.abc import Iterator

import pytest

from ocpp_station.service.logs import (
    JsonFormatter,
    RepeatSummary,
    StationTag,
    TextFormatter,
    component_of,
    setup_logging,
    under_journal,
)
from ocpp_station.service.redact import basic_token, redact

PASSWORD = "s3cret-password-0123"


def record(
    msg: str, *args: object, level: int = logging.INFO, **extra: object
) -> logging.LogRecord:
    rec = logging.LogRecord(
        "ocpp_station.CS001",
        level,
        "/x/site-packages/ocpp_station/blocks/transactions/block.py",
        10,
        msg,
        args,
        None,
    )
    rec.__dict__.update(extra)
    return rec


def test_component_of_the_module_that_logged() -> None:
    assert component_of("/a/ocpp_station/blocks/transactions/block.py", "x") == "transactions"
    assert component_of("/a/ocpp_station/transport.py", "x") == "transport"
    assert component_of("/a/ocpp_station/rpc/endpoint.py", "x") == "rpc"
    assert component_of("/a/hal/backends/sim.py", "x") == "hal"
    assert component_of("/a/device_model/model.py", "x") == "device_model"
    assert component_of("/usr/lib/python3/websockets/client.py", "websockets.client") == (
        "websockets"
    )


def test_json_line_has_station_component_and_message_id() -> None:
    rec = record("sent %s", "TransactionEvent", message_id="m-42", station="CS001")
    entry = json.loads(JsonFormatter().format(rec))
    assert entry["station"] == "CS001"
    assert entry["component"] == "transactions"
    assert entry["message_id"] == "m-42"
    assert entry["message"] == "sent TransactionEvent"
    assert entry["level"] == "INFO"
    assert entry["ts"].endswith("Z")
    bare = json.loads(JsonFormatter().format(record("no id here")))
    assert "message_id" not in bare and "station" not in bare


def test_station_tag_marks_the_station_loggers_records() -> None:
    rec = record("x")
    assert StationTag("CS-7").filter(rec) and rec.station == "CS-7"  # type: ignore[attr-defined]


def test_json_carries_the_traceback() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        rec = record("failed", level=logging.ERROR)
        rec.exc_info = __import__("sys").exc_info()
    entry = json.loads(JsonFormatter().format(rec))
    assert "ValueError: boom" in entry["exc"]


@pytest.mark.parametrize("formatter", [TextFormatter, JsonFormatter])
@pytest.mark.parametrize(
    "message",
    [
        # websockets' DEBUG dump of the handshake
        "> Authorization: Basic " + basic_token("CS001", PASSWORD),
        "headers {'Authorization': 'Basic " + basic_token("CS001", "other-password-x") + "'}",
        # a CSMS setting a new password (A01), at any level
        '[2,"1","SetVariables",{"setVariableData":[{"attributeValue":"new-password-0123456",'
        '"component":{"name":"SecurityCtrlr"},"variable":{"name":"BasicAuthPassword"}}]}]',
        f"connecting with {PASSWORD}",
    ],
)
def test_no_secret_at_any_level(formatter: type[logging.Formatter], message: str) -> None:
    fmt = formatter(secrets=(PASSWORD, basic_token("CS001", PASSWORD)))  # type: ignore[call-arg]
    line = fmt.format(record("%s", message, level=logging.DEBUG))
    for secret in (
        PASSWORD,
        "new-password-0123456",
        basic_token("CS001", PASSWORD),
        basic_token("CS001", "other-password-x"),
    ):
        assert secret not in line
    assert "***" in line


def test_redact_leaves_other_text_alone() -> None:
    frame = '[2,"1","SetVariables",{"setVariableData":[{"attributeValue":"300"}]}]'
    assert redact(frame) == frame
    assert redact("Authorization: Bearer abc.def") == "Authorization: Bearer ***"


def test_under_journal_matches_our_stderr(tmp_path: pytest.TempPathFactory) -> None:
    with open(os.devnull, "w") as stream:
        st = os.fstat(stream.fileno())
        assert under_journal({"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}, stream)
        assert not under_journal({"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino + 1}"}, stream)
        assert not under_journal({}, stream)
    assert not under_journal({"JOURNAL_STREAM": "1:2"}, io.StringIO())  # no descriptor


def test_journal_lines_have_priority_and_no_timestamp() -> None:
    text = TextFormatter(journal=True).format(record("lost", level=logging.WARNING))
    assert text == "<4>WARNING ocpp_station.CS001: lost"
    entry = TextFormatter(journal=False).format(record("lost", level=logging.WARNING))
    assert entry[:4].isdigit()  # "<time> WARNING ..."
    line = JsonFormatter(journal=True).format(record("lost", level=logging.ERROR))
    assert line.startswith("<3>{") and "ts" not in json.loads(line[3:])


def test_repeat_summary_holds_back_repeats_in_the_window() -> None:
    rule = RepeatSummary(window=60)
    key = ("transport", 30, "connecting to %s failed: %s")
    assert rule.admit(key, 0) == (True, 0)
    assert [rule.admit(key, t) for t in (1, 2, 59)] == [(False, 0)] * 3
    assert rule.admit(("other",), 3) == (True, 0)  # another message is its own
    assert rule.admit(key, 61) == (True, 3)  # the next after the window says how many
    assert rule.admit(key, 200) == (True, 0)


def test_repeat_summary_forgets_quiet_keys() -> None:
    rule = RepeatSummary(window=10, max_keys=4)
    for i in range(5):
        rule.admit((i,), 0)
    assert rule.admit(("new",), 20) == (True, 0)  # over the limit: the quiet ones go
    assert rule.admit((0,), 21) == (True, 0)  # forgotten, so nothing held is reported


@pytest.fixture
def root_restored() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)


def test_setup_logging_replaces_only_its_own_handler(root_restored: None) -> None:
    other = logging.NullHandler()
    logging.getLogger().addHandler(other)
    first = setup_logging("INFO", stream=io.StringIO(), env={})
    second = setup_logging("DEBUG", "json", stream=io.StringIO(), env={})
    handlers = logging.getLogger().handlers
    assert other in handlers and second in handlers and first not in handlers
    assert logging.getLogger().level == logging.DEBUG


def test_setup_logging_summarizes_repeated_warnings(root_restored: None) -> None:
    stream = io.StringIO()
    setup_logging("INFO", "json", stream=stream, env={}, repeat_window=0.2)
    log = logging.getLogger("ocpp_station.test-repeats")
    log.addFilter(StationTag("CS9"))

    def fail() -> None:
        log.warning("connecting to %s failed: %s", "ws://x", "refused")

    for _ in range(50):
        fail()
    log.info("an info line is never held back")
    log.info("an info line is never held back")
    time.sleep(0.25)  # the window ends (records carry the wall-clock time they were made)
    fail()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [e["level"] for e in lines] == ["WARNING", "INFO", "INFO", "WARNING"]
    assert lines[0]["station"] == "CS9"
    assert lines[3]["message"] == (
        "connecting to ws://x failed: refused (and 49 more like it in the last 0.2 s)"
    )
