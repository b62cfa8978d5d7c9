"""TransactionEventRequest payloads of one EVSE, built from its :class:`EvseState`.

Pure, no I/O.  :func:`transaction_event` also records in the state what it reported (seqNo,
chargingState, idToken, evse.connectorId, remoteStartId, a pending trigger), so that each is sent
exactly when the rules below ask for it.
"""

from __future__ import annotations

from typing import Any

from ocpp_station.blocks.transactions.meter import meter_value
from ocpp_station.blocks.transactions.state import EvseState, RunningTx
from ocpp_station.blocks.transactions.types import SendTransactionEvent, TxConfig
from ocpp_station.clock import iso


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
    """The ``meterValue`` list of an Ended event: the reading at the start and the latest one."""
    meter: list[dict[str, Any]] = []
    if cfg.sampled_data_enabled and cfg.tx_ended_measurands:  # E06.FR.11
        begin = tx.start_reading
        if begin is not None:
            mv = meter_value(begin, cfg.tx_ended_measurands, "Transaction.Begin", tx.started_at)
            meter += [mv] if mv else []
        meter += meter_values(s, cfg.tx_ended_measurands, "Transaction.End", now, cfg)
    return meter


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
    if state != s.charging_state or trigger == "ChargingStateChanged":  # E01.FR.18
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
    if meter:
        payload["meterValue"] = meter
    return SendTransactionEvent(payload)
