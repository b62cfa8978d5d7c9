"""The persisted record of one EVSE's transaction state (format version 1).

Stations store this record (as JSON) after every change and load it after a restart, so the
format is fixed: the keys, their order and their JSON types must stay exactly as they are, or
records written by earlier releases no longer load.  A new field needs a new version number and a
conversion of version 1 records.

Optional keys extend version 1 without changing it: ``lock_owner`` (a cable held locked for its
owner's token), ``pending_reservation_id`` (a used reservation not reported yet) and, in ``tx``,
``ended_samples`` with ``last_ended`` (the TxEndedInterval samples for the Ended event) are
written only when set, so a record without them is byte for byte what
earlier releases wrote, and those releases read a record with them (ignoring the keys).

Not stored: the energy offer (the hardware comes up with it off), whether a meter reading
arrived since the contactor closed, the commanded cable lock (the HAL reports its position when it
opens), whether the EVSE is usable (the availability block says), the next clock-aligned
TxEnded instant (computed again) and the numberOfPhasesUsed last sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hal.types import MeterReading
from ocpp_station.blocks.transactions.meter import check_reading
from ocpp_station.blocks.transactions.state import EvseState, RunningTx
from ocpp_station.blocks.transactions.types import TX_POINTS, check_id_token

VERSION = 1


def reading_to_json(r: MeterReading | None) -> dict[str, Any] | None:
    if r is None:
        return None
    return {"evse": r.evse, "energy_wh": r.energy_wh, "power_w": r.power_w,
            "current_a": list(r.current_a), "voltage_v": list(r.voltage_v)}  # fmt: skip


def reading_from_json(d: Any) -> MeterReading | None:
    if d is None:
        return None
    c = [float(x) for x in d["current_a"]]
    v = [float(x) for x in d["voltage_v"]]
    if len(c) != 3 or len(v) != 3:
        raise ValueError("a persisted meter reading needs 3 currents and 3 voltages")
    reading = MeterReading(
        int(d["evse"]), float(d["energy_wh"]), float(d["power_w"]), (c[0], c[1], c[2]),
        (v[0], v[1], v[2]),
    )  # fmt: skip
    check_reading(reading)
    return reading


def to_record(s: EvseState) -> dict[str, Any]:
    """The JSON-able record of ``s``."""
    tx = s.tx
    record: dict[str, Any] = {
        "version": VERSION,
        "evse_id": s.evse_id,
        "seq_no": s.seq_no,
        "charging_state": s.charging_state,
        "connector": s.connector,
        "pilot": s.pilot,
        "ev_seen": s.ev_seen,
        "ev_side_lost": s.ev_side_lost,
        "contactor": s.contactor,
        "flowing": s.flowing,
        "reading": reading_to_json(s.reading),
        "faulted": s.faulted,
        "id_token": s.id_token,
        "group": s.group,
        "token_reported": s.token_reported,
        "auth_deadline": s.auth_deadline,
        "pending_trigger": s.pending_trigger,
        "pending_remote_id": s.pending_remote_id,
        "invalid_suspended": s.invalid_suspended,
        "invalid_energy_limit": s.invalid_energy_limit,
        "ev_requested": s.ev_requested,
        "armed": sorted(s.armed),
        "tx": None
        if tx is None
        else {
            "transaction_id": tx.transaction_id,
            "started_at": tx.started_at,
            "start_reading": reading_to_json(tx.start_reading),
            "held": sorted(tx.held),
            "pending_stop": tx.pending_stop,
            "connector_reported": tx.connector_reported,
            "last_periodic": tx.last_periodic,
        },
    }
    if tx is not None and tx.ended_samples:
        tx_record: dict[str, Any] = record["tx"]
        tx_record["ended_samples"] = [dict(mv) for mv in tx.ended_samples]
        tx_record["last_ended"] = tx.last_ended
    if s.lock_owner is not None:
        record["lock_owner"] = dict(s.lock_owner)
    if s.pending_reservation_id is not None:
        record["pending_reservation_id"] = s.pending_reservation_id
    return record


def from_record(evse_id: int, d: Mapping[str, Any]) -> EvseState:
    """The state stored in record ``d`` of EVSE ``evse_id``; :class:`ValueError` if unusable."""
    s = EvseState(evse_id)
    try:
        if d.get("version") != VERSION or d.get("evse_id") != evse_id:
            raise ValueError("version or evse_id does not match")
        s.seq_no = int(d["seq_no"])
        s.charging_state = d["charging_state"]
        s.connector = d["connector"]
        s.pilot = str(d["pilot"])
        s.ev_seen, s.ev_side_lost = bool(d["ev_seen"]), bool(d["ev_side_lost"])
        s.contactor, s.flowing = bool(d["contactor"]), bool(d["flowing"])
        s.reading = reading_from_json(d["reading"])
        s.faulted = bool(d["faulted"])
        s.id_token = check_id_token(d["id_token"]) if d["id_token"] else None
        s.group = check_id_token(d["group"]) if d["group"] else None
        s.token_reported = bool(d["token_reported"])
        s.auth_deadline = d["auth_deadline"]
        s.pending_trigger = d["pending_trigger"]
        s.pending_remote_id = d["pending_remote_id"]
        s.invalid_suspended = bool(d["invalid_suspended"])
        s.invalid_energy_limit = d["invalid_energy_limit"]
        s.ev_requested = bool(d["ev_requested"])
        s.armed = set(d["armed"]) & TX_POINTS
        t = d["tx"]
        if t is not None:
            s.tx = RunningTx(
                str(t["transaction_id"]), float(t["started_at"]),
                reading_from_json(t["start_reading"]), set(t["held"]) & TX_POINTS,
                t["pending_stop"], bool(t["connector_reported"]), float(t["last_periodic"]),
            )  # fmt: skip
            samples = t.get("ended_samples", [])
            if not isinstance(samples, list) or not all(isinstance(m, dict) for m in samples):
                raise ValueError("tx.ended_samples must be a list of MeterValue objects")
            s.tx.ended_samples = [dict(m) for m in samples]
            last = t.get("last_ended")
            s.tx.last_ended = None if last is None else float(last)
        reservation = d.get("pending_reservation_id")
        s.pending_reservation_id = None if reservation is None else int(reservation)
        owner = d.get("lock_owner")
        s.lock_owner = check_id_token(owner, "lock_owner") if owner else None
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"persisted state of EVSE {evse_id} is unusable: {exc}") from exc
    return s
