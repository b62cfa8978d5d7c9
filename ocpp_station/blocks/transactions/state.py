"""The state of one EVSE as the transaction engine sees it, and what follows from it.

:class:`EvseState` holds every flag the engine keeps (what the hardware reports, the
authorization, the running transaction, what was reported to the CSMS).  Its methods only read:
which TxStartPoint/TxStopPoint conditions hold, whether energy may be offered and which
chargingState the EVSE is in.  The engine changes the flags; the persisted record is a copy of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hal.types import MeterReading
from ocpp_station.blocks.transactions.types import TX_POINTS, TxConfig

PHASE_CURRENT_A = 1.0  # a phase with at least this current is in use (numberOfPhasesUsed)


@dataclass
class RunningTx:
    """The running transaction."""

    transaction_id: str
    started_at: float
    start_reading: MeterReading | None
    held: set[str] = field(default_factory=set)  # stop points that held during the transaction
    pending_stop: str | None = None  # stoppedReason for the later Ended event
    connector_reported: bool = False  # evse.connectorId sent (E01.FR.16)
    last_periodic: float = 0.0
    # J02: TxEndedMeasurands samples for the Ended event (SampledDataCtrlr.TxEndedInterval,
    # AlignedDataCtrlr.TxEndedInterval), oldest first
    ended_samples: list[dict[str, Any]] = field(default_factory=list)
    last_ended: float | None = None  # the last TxEndedInterval sample time (None: the start)
    next_aligned_end: float | None = None  # the next AlignedDataCtrlr.TxEndedInterval instant
    phases_reported: int | None = None  # numberOfPhasesUsed last sent (E02.FR.18/19)


@dataclass
class EvseState:
    """Everything the engine knows about one EVSE."""

    evse_id: int
    # what the hardware reports
    connector: int | None = None
    pilot: str = "A"
    ev_seen: bool = False  # pilot B/C/D seen since plug-in
    ev_side_lost: bool = False  # pilot back to A while plugged (E09/E10)
    contactor: bool = False
    reading_since_close: bool = False
    flowing: bool = False
    reading: MeterReading | None = None
    faulted: bool = False
    # authorization
    id_token: dict[str, Any] | None = None
    group: dict[str, Any] | None = None
    token_reported: bool = False
    auth_deadline: float | None = None  # EVConnectionTimeOut
    pending_trigger: str | None = None  # Authorized / RemoteStart not yet reported
    pending_remote_id: int | None = None
    pending_reservation_id: int | None = None  # the reservation the token used (H01.FR.15)
    invalid_suspended: bool = False
    invalid_energy_limit: float | None = None
    # energy offer
    power_on: bool = False
    ev_requested: bool = False
    # transaction
    tx: RunningTx | None = None
    seq_no: int = 0
    charging_state: str | None = None  # the chargingState last reported
    armed: set[str] = field(default_factory=lambda: set(TX_POINTS))
    # may a transaction start here (the EVSE is not Inoperative or Faulted; told by the caller)
    usable: bool = True
    # the cable lock
    locked_connector: int | None = None  # the connector whose lock was commanded closed
    lock_owner: dict[str, Any] | None = None  # keeps the cable locked until shown (E09.FR.03)

    def conditions(self) -> dict[str, bool]:
        """Which TxStartPoint/TxStopPoint conditions hold (E01.FR.01-06): EVConnected = cable
        plugged, Authorized = a token accepted, PowerPathClosed = authorized AND connected
        (E01.FR.05), EnergyTransfer = the meter shows power flowing.  ParkingBayOccupancy and
        DataSigned have no source in the HAL and never hold."""
        connected = self.connector is not None and not self.ev_side_lost
        auth = self.id_token is not None
        return {
            "ParkingBayOccupancy": False,
            "EVConnected": connected,
            "Authorized": auth,
            "DataSigned": False,
            "PowerPathClosed": auth and connected,
            "EnergyTransfer": self.flowing,
        }

    def power_allowed(self, cfg: TxConfig) -> bool:
        """Energy is offered while authorized, connected, not faulted, not suspended for an
        invalid id, and a transaction runs (or EnergyTransfer is a start point, which needs
        energy first)."""
        if (
            self.id_token is None
            or (self.tx is None and not self.usable)
            or self.connector is None
            or self.ev_side_lost
            or self.faulted
            or self.invalid_suspended
        ):
            return False
        return self.tx is not None or "EnergyTransfer" in cfg.start_points

    def actual_charging_state(self, cfg: TxConfig) -> str:
        """The chargingState now: Idle (no EV), EVConnected (EV, no energy offered, not
        authorized), SuspendedEVSE (authorized but the EVSE withholds energy: invalid id
        E05.FR.02, fault), Charging (energy flows, or the EV asks (pilot C/D) with the contactor
        closed and no meter reading since), SuspendedEV (energy offered, the EV asked for it
        before but takes none now), else EVConnected."""
        if self.connector is None or self.ev_side_lost:
            return "Idle"
        if not self.power_allowed(cfg):
            blocked = self.id_token is not None and (self.faulted or self.invalid_suspended)
            return "SuspendedEVSE" if blocked else "EVConnected"
        if self.flowing:
            return "Charging"
        if self.pilot in "CD":  # the EV asks for energy
            if self.contactor:  # no power although the path is closed: the EV takes none
                return "SuspendedEV" if self.reading_since_close else "Charging"
            # the contactor is about to close: keep the state, so it does not flap
            current = self.charging_state
            return current if current in ("Charging", "SuspendedEV") else "EVConnected"
        # pilot B (or E/F) while energy is offered: suspended by the EV if it asked before
        return "SuspendedEV" if self.ev_requested else "EVConnected"

    def lock_wanted(self, cfg: TxConfig) -> int | None:
        """The connector whose cable must be locked now, or None.

        The cable in use is locked while an authorization is in force (the energy may flow:
        E05 postcondition, F05.FR.02) or while it waits for its owner's token (E05.FR.11,
        E09.FR.03, E10.FR.01); it is unlocked when the authorization ends (E06.FR.10, E07.FR.07,
        E08.FR.03) and, with UnlockOnEVSideDisconnect, when the EV side is unplugged (E09.FR.02).
        """
        if self.connector is None:
            return None
        if self.ev_side_lost and cfg.unlock_on_ev_side_disconnect:
            return None
        if self.id_token is None and self.lock_owner is None:
            return None
        return self.connector

    def phases_used(self) -> int | None:
        """How many phases carry current while energy flows (from the meter's per-phase
        currents), None when no energy flows or there is no reading."""
        if not self.flowing or self.reading is None:
            return None
        used = sum(1 for amps in self.reading.current_a if abs(amps) >= PHASE_CURRENT_A)
        return used or None

    def next_deadline(self, cfg: TxConfig | None) -> float | None:
        """When the engine's tick must run next (None: nothing timed is pending); ``cfg`` is the
        configuration of the last input (None before the first)."""
        times: list[float] = []
        if self.auth_deadline is not None and self.connector is None:
            times.append(self.auth_deadline)
        tx = self.tx
        if tx is not None and cfg is not None:
            if cfg.tx_updated_interval > 0:
                times.append(tx.last_periodic + cfg.tx_updated_interval)
            if cfg.tx_ended_interval > 0 and cfg.sampled_data_enabled:
                last = tx.started_at if tx.last_ended is None else tx.last_ended
                times.append(last + cfg.tx_ended_interval)
            if tx.next_aligned_end is not None and cfg.aligned_tx_ended_interval > 0:
                times.append(tx.next_aligned_end)
        return min(times) if times else None

    def same_token(self, token: dict[str, Any], group: dict[str, Any] | None) -> bool:
        """Whether ``token`` (with group id ``group``) is the authorized one, or of its group
        (E07.FR.01), so that presenting it ends the authorization."""
        current = self.id_token
        assert current is not None
        if (
            token["idToken"].lower() == current["idToken"].lower()
            and token["type"] == current["type"]
        ):
            return True
        return (
            group is not None
            and self.group is not None
            and group["idToken"].lower() == self.group["idToken"].lower()
        )

    def delivered_wh(self) -> float:
        """Energy delivered in the running transaction (0 without one or without readings)."""
        start = self.tx.start_reading if self.tx else None
        if start is None or self.reading is None:
            return 0.0
        return self.reading.energy_wh - start.energy_wh
