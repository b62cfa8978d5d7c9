"""When a transaction of one EVSE starts and ends, and when energy is offered.

:func:`step` re-evaluates an :class:`EvseState` after an input changed it (OCPP 2.0.1 part 2,
E01-E07, F03):

* A transaction starts when a configured TxStartPoint is reached (E01.FR.01-06, the conditions
  are :meth:`EvseState.conditions`).  After a transaction ended, a start point that still holds
  must first drop (or a new authorization arrive) before it starts another one.
* It ends when a TxStopPoint that held during the transaction stops holding (E06.FR.02-07), or
  when authorization ends and the stop points contain Authorized/PowerPathClosed (E07, F03.FR.03,
  E05.FR.10, see :func:`end_authorization`).  Otherwise the end of authorization is reported as an
  Updated event and the reason (Local, Remote, DeAuthorized) is kept for the later Ended event
  (E07 diagram, F03.FR.02).
* No transaction starts while the EVSE is not usable (Inoperative or Faulted, G03/G04): a start
  point that holds then must first drop once the EVSE is usable again.
* The cable is locked and unlocked as :meth:`EvseState.lock_wanted` says, locked before energy is
  offered and unlocked after it is withdrawn.
* Energy is offered as :meth:`EvseState.power_allowed` says.

Pure, no I/O; the functions change ``s`` and return the outputs for the caller to carry out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ocpp_station.blocks.transactions.events import (
    ended_meter_values,
    meter_values,
    transaction_event,
)
from ocpp_station.blocks.transactions.locks import hold_for_owner, lock_outputs
from ocpp_station.blocks.transactions.meter import next_aligned
from ocpp_station.blocks.transactions.state import EvseState, RunningTx
from ocpp_station.blocks.transactions.types import (
    TX_POINTS,
    Output,
    SendTransactionEvent,
    SetPower,
    TransactionFinished,
    TxConfig,
)

AUTH_END_POINTS = frozenset({"Authorized", "PowerPathClosed"})
# an invalid id ends the transaction with these stop points (E05.FR.09 / E05.FR.10 / E06.FR.04)
INVALID_ID_END_POINTS = frozenset({"Authorized", "PowerPathClosed", "EnergyTransfer"})


def step(
    s: EvseState, cfg: TxConfig, now: float, trigger: str, new_id: Callable[[], str], *,
    force: bool = False, stopped_reason: str | None = None,
    id_token: dict[str, Any] | None = None, end_now: bool = False,
) -> list[Output]:  # fmt: skip
    """Re-evaluate after an input changed the flags: power, stop points, start points.

    ``force`` reports an Updated event even if the chargingState did not change; ``end_now``
    ends the running transaction with ``stopped_reason``; ``new_id`` names a new transaction."""
    out: list[Output] = []
    if s.power_on and not s.power_allowed(cfg):
        out.append(set_power(s, False))
    cond = s.conditions()
    s.armed.update(p for p, holds in cond.items() if not holds)
    if not s.usable and s.tx is None:  # no start on an Inoperative or Faulted EVSE (G03, G04)
        s.armed.difference_update(p for p, holds in cond.items() if holds)
    tx = s.tx
    if tx is not None:
        tx.held.update(p for p in cfg.stop_points if cond[p])
        dropped = [p for p in cfg.stop_points if p in tx.held and not cond[p]]
        if dropped or end_now:
            reason = stopped_reason if end_now else None
            reason = reason or tx.pending_stop or _default_reason(s, dropped)
            out += _finish(s, cfg, now, trigger, reason, id_token)
        elif force or s.actual_charging_state(cfg) != s.charging_state:
            out.append(transaction_event(s, cfg, "Updated", trigger, now, id_token=id_token))
    elif any(cond[p] and p in s.armed for p in cfg.start_points):
        out.append(_start(s, cfg, now, trigger, new_id))
    out += lock_outputs(s, cfg)
    if not s.power_on and s.power_allowed(cfg):
        out.append(set_power(s, True))
    return out


def clear_auth(s: EvseState) -> None:
    """Forget the authorization and everything that waits on it."""
    s.id_token = s.group = None
    s.auth_deadline = None
    s.pending_trigger = s.pending_remote_id = None
    s.invalid_suspended, s.invalid_energy_limit = False, None


def end_authorization(
    s: EvseState, cfg: TxConfig, now: float, trigger: str, reason: str,
    new_id: Callable[[], str], id_token: dict[str, Any] | None = None,
    end_points: frozenset[str] = AUTH_END_POINTS,
) -> list[Output]:  # fmt: skip
    """The authorization ended: the transaction ends now if a stop point in ``end_points`` is
    configured, else ``reason`` waits for the Ended event."""
    clear_auth(s)
    tx = s.tx
    if tx is None:
        return step(s, cfg, now, trigger, new_id)
    end_now = bool(cfg.stop_points & end_points)
    if not end_now:
        tx.pending_stop = tx.pending_stop or reason
    return step(
        s, cfg, now, trigger, new_id, force=True, stopped_reason=reason, id_token=id_token,
        end_now=end_now,
    )  # fmt: skip


def ev_side_disconnect(
    s: EvseState, cfg: TxConfig, now: float, new_id: Callable[[], str]
) -> list[Output]:
    """The cable was unplugged at the EV (pilot back to A while plugged at the station)."""
    s.ev_side_lost, s.flowing = True, False
    if cfg.stop_tx_on_ev_side_disconnect:  # E09.FR.01: deauthorize
        if not cfg.unlock_on_ev_side_disconnect:
            hold_for_owner(s)  # E09.FR.03: unlocked only for the driver's token
        clear_auth(s)
        if s.tx is not None:
            s.tx.pending_stop = s.tx.pending_stop or "EVDisconnected"
    # E10: without StopTxOnEVSideDisconnect only the energy offer stops (E10.FR.01: the cable
    # stays locked for the authorization unless UnlockOnEVSideDisconnect)
    return step(s, cfg, now, "EVCommunicationLost", new_id, force=s.tx is not None)


def resume(
    s: EvseState, cfg: TxConfig, now: float, new_id: Callable[[], str], still_charging: bool
) -> list[Output]:
    """After a restart from persisted state: end the interrupted transaction (PowerLoss) or
    continue it when the hardware shows the EV still plugged and charging."""
    s.power_on = False  # the hardware came up with the energy offer off
    if s.tx is not None and still_charging and s.connector is not None:
        return step(s, cfg, now, "ChargingStateChanged", new_id)
    had_tx = s.tx is not None
    clear_auth(s)
    s.connector, s.pilot, s.contactor = None, "A", False
    s.flowing = s.ev_seen = s.ev_side_lost = s.faulted = False
    out = step(s, cfg, now, "AbnormalCondition", new_id, stopped_reason="PowerLoss", end_now=had_tx)
    s.armed = set(TX_POINTS)
    return out


def set_power(s: EvseState, allowed: bool) -> SetPower:
    s.power_on = allowed
    s.ev_requested = allowed and (s.pilot in "CD" or s.flowing)
    return SetPower(allowed)


def _default_reason(s: EvseState, dropped: list[str]) -> str:
    if s.connector is None or s.ev_side_lost:
        return "EVDisconnected"
    if "EnergyTransfer" in dropped and s.power_on:
        return "StoppedByEV"
    return "Other"


def _start(
    s: EvseState, cfg: TxConfig, now: float, trigger: str, new_id: Callable[[], str]
) -> SendTransactionEvent:
    tid = new_id()
    if not isinstance(tid, str) or not 0 < len(tid) <= 36:
        raise ValueError(f"new transaction id {tid!r} must be a string of 1..36 characters")
    s.tx = RunningTx(tid, now, s.reading, last_periodic=now)
    if cfg.aligned_tx_ended_interval > 0:
        s.tx.next_aligned_end = next_aligned(now, cfg.aligned_tx_ended_interval)
    cond = s.conditions()
    s.tx.held.update(p for p in cfg.stop_points if cond[p])
    s.seq_no = 0  # section 1.3.2.1: seqNo starts at 0 for every transaction
    s.charging_state = None
    meter = meter_values(s, cfg.tx_started_measurands, "Transaction.Begin", now, cfg)
    return transaction_event(s, cfg, "Started", trigger, now, meter=meter)


def _finish(
    s: EvseState, cfg: TxConfig, now: float, trigger: str, reason: str,
    id_token: dict[str, Any] | None,
) -> list[Output]:  # fmt: skip
    tx = s.tx
    assert tx is not None
    clear_auth(s)
    out: list[Output] = []
    if s.power_on:
        out.append(set_power(s, False))
    meter = ended_meter_values(s, tx, now, cfg)
    event = transaction_event(
        s, cfg, "Ended", trigger, now, id_token=id_token, stopped=reason, meter=meter
    )
    out += [event, TransactionFinished(tx.transaction_id, reason)]
    s.tx = None
    s.charging_state = None
    s.armed = {p for p, holds in s.conditions().items() if not holds}
    return out
