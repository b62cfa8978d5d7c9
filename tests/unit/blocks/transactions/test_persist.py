"""The persisted record of an EVSE's transaction state keeps format version 1 byte for byte.

``tx_records_v1.jsonl`` holds records written by the engine before it was split into modules
(commit 323dcc0), one per line, as the message queue stores them (compact JSON).  The scenarios
below made them; the 0.1.0 data directory in ``tests/fixtures`` holds records of a real station.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from support import FIXTURES

from hal.types import MeterReading
from ocpp_station.blocks.transactions.engine import (
    EvseTransaction,
    SendTransactionEvent,
    TransactionFinished,
    TxConfig,
)

T0 = 1_767_225_600.0
RECORDS = (Path(__file__).parent / "tx_records_v1.jsonl").read_text().splitlines()
DATA_DIR_0_1_0 = FIXTURES / "data_dir_0_1_0"
T1 = {"idToken": "T1", "type": "ISO14443"}


def dump(record: dict[str, object]) -> str:
    """The text the message queue stores for a state record."""
    return json.dumps(record, separators=(",", ":"), allow_nan=False)


def reading(energy: float, power: float = 0.0) -> MeterReading:
    amps = power / 3 / 230
    return MeterReading(2, energy, power, (amps, amps, amps), (230.0, 231.0, 229.5))


def new_evse() -> EvseTransaction:
    counter = itertools.count(1)
    return EvseTransaction(2, new_transaction_id=lambda: f"tx-{next(counter)}")


def remote_start_before_plug() -> list[str]:
    """Pending remote start: auth deadline, remoteStartId, trigger and additionalInfo kept."""
    c = TxConfig(
        frozenset({"PowerPathClosed"}), frozenset({"EVConnected"}), ev_connection_timeout=30.5
    )
    e = new_evse()
    e.meter(reading(1234.5), T0, c)
    info = [{"additionalIdToken": "x", "type": "y"}]
    e.remote_start({"idToken": "ABC", "type": "Central", "additionalInfo": info}, 42, T0 + 1, c)
    return [dump(e.to_persist())]


def invalid_id_energy_limit_then_ev_side_disconnect() -> list[str]:
    """Running transaction with a group token, MaxEnergyOnInvalidId and periodic values; then
    the EV leaves on its side and the transaction ends."""
    c = TxConfig(
        frozenset({"EVConnected"}), frozenset({"EVConnected", "Authorized"}),
        stop_tx_on_invalid_id=False, max_energy_on_invalid_id=500, tx_updated_interval=7.0,
    )  # fmt: skip
    e = new_evse()
    e.meter(reading(1000.25), T0, c)
    e.plug(1, True, T0 + 1, c)
    e.pilot("C", T0 + 2, c)
    e.authorized(T1, T0 + 3, c, group_id_token={"idToken": "G", "type": "Central"})
    e.contactor(True, T0 + 4, c)
    e.meter(reading(1100.0, 7000.0), T0 + 5, c)
    e.tx_response({"idTokenInfo": {"status": "Invalid"}}, T0 + 6, c)
    e.tick(T0 + 20, c)
    out = [dump(e.to_persist())]
    e.pilot("A", T0 + 21, c)
    return [*out, dump(e.to_persist())]


def suspended_faulted_then_remote_stop_pending() -> list[str]:
    """Suspended for an invalid id and faulted; then a remote stop whose reason waits for the
    EnergyTransfer stop point."""
    c = TxConfig(
        frozenset({"EVConnected"}), frozenset({"EnergyTransfer"}), stop_tx_on_invalid_id=False
    )
    e = new_evse()
    e.plug(2, True, T0 + 1, c)
    e.authorized(T1, T0 + 3, c)
    e.pilot("C", T0 + 4, c)
    e.contactor(True, T0 + 5, c)
    e.meter(reading(10.0, 3000.0), T0 + 6, c)
    e.tx_response({"idTokenInfo": {"status": "Blocked"}}, T0 + 7, c)
    e.fault(True, T0 + 8, c)
    out = [dump(e.to_persist())]
    e.fault(False, T0 + 9, c)
    e.remote_stop(T0 + 10, c)
    return [*out, dump(e.to_persist())]


SCENARIOS: list[Callable[[], list[str]]] = [
    remote_start_before_plug,
    invalid_id_energy_limit_then_ev_side_disconnect,
    suspended_faulted_then_remote_stop_pending,
]


def test_scenarios_write_the_version_1_records() -> None:
    written = [record for scenario in SCENARIOS for record in scenario()]
    assert written == RECORDS


@pytest.mark.parametrize("text", RECORDS)
def test_version_1_record_loads_and_is_written_back_unchanged(text: str) -> None:
    restored = EvseTransaction(2, persisted=json.loads(text))
    assert dump(restored.to_persist()) == text


def test_records_of_a_0_1_0_data_directory_load_and_resume() -> None:
    manifest = json.loads((DATA_DIR_0_1_0 / "MANIFEST.json").read_text())
    uri = f"file:{DATA_DIR_0_1_0 / 'queue.db'}?mode=ro&immutable=1"  # leave the folder as it is
    with closing(sqlite3.connect(uri, uri=True)) as db:
        rows = dict(db.execute("SELECT key, value FROM state WHERE key LIKE 'tx.%'").fetchall())
    assert sorted(rows) == ["tx.1", "tx.2"]
    engines = {}
    for key, text in rows.items():
        evse = int(key.removeprefix("tx."))
        engines[evse] = EvseTransaction(evse, persisted=json.loads(text))
        assert dump(engines[evse].to_persist()) == text
    assert engines[1].transaction_id == manifest["transaction_id"]
    assert engines[2].transaction_id is None
    c = TxConfig(frozenset({"EVConnected", "Authorized"}), frozenset({"EVConnected"}))
    outs = engines[1].resume_after_power_loss(T0, c, still_charging=False)
    ended = [o.payload for o in outs if isinstance(o, SendTransactionEvent)]
    assert [(p["eventType"], p["seqNo"], p["triggerReason"]) for p in ended] == [
        ("Ended", 7, "AbnormalCondition")
    ]
    assert TransactionFinished(manifest["transaction_id"], "PowerLoss") in outs
