"""The timed rules of one EVSE's transaction engine, run by its periodic ``tick``.

* EVConnectionTimeOut: an authorization without a cable ends (E03.FR.05, F02.FR.07); with
  ParkingBayOccupancy as a stop point the transaction waits for it (E03.FR.15).
* TxEndedInterval: samples for the Ended event (J02, see
  :func:`~ocpp_station.blocks.transactions.events.sample_for_ended`).
* TxUpdatedInterval: an Updated event with the TxUpdatedMeasurands (J02.FR.11).

Pure, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ocpp_station.blocks.transactions.events import (
    meter_values,
    sample_for_ended,
    transaction_event,
)
from ocpp_station.blocks.transactions.lifecycle import clear_auth, step
from ocpp_station.blocks.transactions.state import EvseState
from ocpp_station.blocks.transactions.types import Output, TxConfig


def tick(s: EvseState, cfg: TxConfig, now: float, new_id: Callable[[], str]) -> list[Output]:
    out: list[Output] = []
    deadline = s.auth_deadline
    if deadline is not None and now >= deadline and s.connector is None:
        s.auth_deadline = None
        clear_auth(s)
        if s.tx is not None and "ParkingBayOccupancy" in cfg.stop_points:
            s.tx.pending_stop = s.tx.pending_stop or "Timeout"  # E03.FR.15
            out += step(s, cfg, now, "EVConnectTimeout", new_id, force=True)
        else:  # E03.FR.05 / F02.FR.07 (without a transaction: only the authorization ends)
            out += step(
                s, cfg, now, "EVConnectTimeout", new_id, stopped_reason="Timeout",
                end_now=s.tx is not None,
            )  # fmt: skip
    sample_for_ended(s, cfg, now)
    tx, interval = s.tx, cfg.tx_updated_interval
    if tx is not None and interval > 0 and now >= tx.last_periodic + interval:
        tx.last_periodic += interval * math.floor((now - tx.last_periodic) / interval)
        values = meter_values(s, cfg.tx_updated_measurands, "Sample.Periodic", now, cfg)
        if values:  # E02.FR.10: nothing to send without measurands
            event = transaction_event(s, cfg, "Updated", "MeterValuePeriodic", now, meter=values)
            out.append(event)
    return out
