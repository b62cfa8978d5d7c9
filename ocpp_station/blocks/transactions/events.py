"""TransactionEventRequest payloads of one EVSE, built from its :class:`EvseState`.

Pure, no I/O.  :func:`transaction_event` also records in the state what it reported (seqNo,
chargingState, idToken, evse.connectorId, remoteStartId, reservationId, a pending trigger), so
that each is sent exactly when the rules below ask for it.  ``numberOfPhasesUsed`` is sent, in
the next event, whenever the number of phases carrying current (from the meter's per-phase
currents while energy flows) differs from the last one sent (E02.FR.18/19).
"""

from __future__ import annotations

import math
from typing import Any

from ocpp_station.blocks.transactions.meter import meter_value, next_aligned
from ocpp_station.blocks.transactions.state import EvseState, RunningTx
from ocpp_station.blocks.transactions.types import SendTransactionEvent, TxConfig
from ocpp_station.clock import iso

MAX_ENDED_SAMPLES = 96  # TxEndedInterval samples kept for one Ended event (E06.FR.12)


def meter_values(
    s: EvseState, measurands: tuple[str, ...], context: str, now: float, cfg: TxConfig
) -> list[dict[str, Any]]:
    """The ``meterValue`` list of the latest reading (empty without sampling or a reading)."""
    if not cfg.sampled_data_enabled or s.reading is None or not measurands:
        return []
    mv = meter_value(s.reading, measurands, context, now)
    return [mv] if mv else []


def ended_meter_values(
    s: EvseState, tx: RunningTx, now: float, cfg: TxConfig
) -> list[dict[str, Any]]:
    """The ``meterValue`` list of an Ended event: the reading at the start, the samples taken
    every TxEndedInterval during the transaction (J02, section 2.1 of J) and the latest one."""
    if not (cfg.sampled_data_enabled and cfg.tx_ended_measurands):  # E06.FR.11
        return list(tx.ended_samples)  # only clock-aligned samples, if any
    meter: list[dict[str, Any]] = []
    begin = tx.start_reading
    if begin is not None:
        mv = meter_value(begin, cfg.tx_ended_measurands, "Transaction.Begin", tx.started_at)
        meter += [mv] if mv else []
    meter += tx.ended_samples
    meter += meter_values(s, cfg.tx_ended_measurands, "Transaction.End", now, cfg)
    return meter


def add_ended_sample(tx: RunningTx, sample: dict[str, Any] | None) -> None:
    """Keep ``sample`` for the Ended event; beyond MAX_ENDED_SAMPLES drop every other one,
    the 1st, 3rd, 5th... first (E06.FR.12/13, J02.FR.20)."""
    if sample is None:
        return
    tx.ended_samples.append(sample)
    if len(tx.ended_samples) > MAX_ENDED_SAMPLES:
        tx.ended_samples[:] = tx.ended_samples[1::2]


def sample_for_ended(s: EvseState, cfg: TxConfig, now: float) -> None:
    """Take the TxEndedMeasurands samples that are due for the Ended event: every
    SampledDataCtrlr.TxEndedInterval seconds from the start of the transaction (context
    Sample.Periodic) and at every AlignedDataCtrlr.TxEndedInterval instant after midnight
    (AlignedDataCtrlr.TxEndedMeasurands, context Sample.Clock)."""
    tx = s.tx
    if tx is None:
        return
    interval = cfg.tx_ended_interval
    if interval > 0 and cfg.sampled_data_enabled:
        last = tx.started_at if tx.last_ended is None else tx.last_ended
        if now >= last + interval:
            tx.last_ended = last + interval * math.floor((now - last) / interval)
            values = meter_values(s, cfg.tx_ended_measurands, "Sample.Periodic", now, cfg)
            add_ended_sample(tx, values[0] if values else None)
    aligned = cfg.aligned_tx_ended_interval
    if aligned <= 0:
        tx.next_aligned_end = None
    elif tx.next_aligned_end is None:
        tx.next_aligned_end = next_aligned(now, aligned)
    elif now >= tx.next_aligned_end:
        instant, tx.next_aligned_end = tx.next_aligned_end, next_aligned(now, aligned)
        if s.reading is not None:  # stamped with the aligned instant (J01)
            mv = meter_value(s.reading, cfg.aligned_tx_ended_measurands, "Sample.Clock", instant)
            add_ended_sample(tx, mv)


def transaction_event(
    s: EvseState, cfg: TxConfig, event_type: str, trigger: str, now: float, *,
    id_token: dict[str, Any] | None = None, stopped: str | None = None,
    meter: list[dict[str, Any]] | None = None,
) -> SendTransactionEvent:  # fmt: skip
    """The next TransactionEventRequest of the running transaction ``s.tx``."""
    tx = s.tx
    assert tx is not None
    if s.pending_trigger is not None and event_type == "Started":
        trigger = s.pending_trigger  # an authorization not reported yet (F02.FR.21)
    s.pending_trigger = None
    info: dict[str, Any] = {"transactionId": tx.transaction_id}
    state = s.actual_charging_state(cfg)
    # E01.FR.18; a triggered event always says it (F06.FR.07)
    if state != s.charging_state or trigger in ("ChargingStateChanged", "Trigger"):
        info["chargingState"] = state
        s.charging_state = state
    if stopped is not None:
        info["stoppedReason"] = stopped
    if s.pending_remote_id is not None:
        info["remoteStartId"] = s.pending_remote_id
        s.pending_remote_id = None
    payload: dict[str, Any] = {
        "eventType": event_type,
        "timestamp": iso(now),
        "triggerReason": trigger,
        "seqNo": s.seq_no,
        "transactionInfo": info,
    }
    s.seq_no += 1
    if s.pending_reservation_id is not None:  # H01.FR.15: the reservation this session used
        payload["reservationId"] = s.pending_reservation_id
        s.pending_reservation_id = None
    if event_type == "Started" or (s.connector is not None and not tx.connector_reported):
        evse: dict[str, Any] = {"id": s.evse_id}
        if s.connector is not None:  # E01.FR.16
            evse["connectorId"] = s.connector
            tx.connector_reported = True
        payload["evse"] = evse
    if id_token is not None:  # E07.FR.02: the token that stopped the authorization
        payload["idToken"] = dict(id_token)
    elif s.id_token is not None and not s.token_reported:  # E03.FR.01
        payload["idToken"] = dict(s.id_token)
        s.token_reported = True
    phases = s.phases_used()
    if phases is not None and phases != tx.phases_reported:  # E02.FR.18/19, E03.FR.13/14
        payload["numberOfPhasesUsed"] = phases
        tx.phases_reported = phases
    if meter:
        payload["meterValue"] = meter
    return SendTransactionEvent(payload)
