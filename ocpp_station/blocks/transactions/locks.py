"""The cable lock of one EVSE: when it is locked, who may open it, and what the lock reports.

The cable is locked while :meth:`~ocpp_station.blocks.transactions.state.EvseState.lock_wanted`
says so.  Beyond the authorization, a *hold* keeps it locked for the token of the session that
ended without its driver (``EvseState.lock_owner``):

* an invalid idToken in a TransactionEventResponse ended the authorization: the cable stays
  locked until the owner presents his identifier (E05.FR.11);
* the EV side was unplugged with StopTxOnEVSideDisconnect true and UnlockOnEVSideDisconnect
  false: the cable is unlocked only after the driver's authorization (E09.FR.03).

The hold ends when that token is presented, when the cable is unplugged at the station, or on
UnlockConnector (F05).  Pure, no I/O: the functions change ``s`` and return lock commands.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ocpp_station.blocks.transactions.state import EvseState
from ocpp_station.blocks.transactions.types import Output, SetLock, TxConfig


def lock_outputs(s: EvseState, cfg: TxConfig) -> list[Output]:
    """The lock commands that bring the cable lock to :meth:`EvseState.lock_wanted`."""
    wanted = s.lock_wanted(cfg)
    if wanted == s.locked_connector:
        return []
    out: list[Output] = []
    if s.locked_connector is not None:
        out.append(SetLock(s.locked_connector, False))
    if wanted is not None:
        out.append(SetLock(wanted, True))
    s.locked_connector = wanted
    return out


def hold_for_owner(s: EvseState) -> None:
    """Keep the locked cable locked for the current token after its authorization ends."""
    if s.locked_connector is not None and s.id_token is not None:
        s.lock_owner = dict(s.id_token)


def is_owner(s: EvseState, token: Mapping[str, Any]) -> bool:
    """Whether ``token`` is the one a hold waits for (same idToken, case-insensitive, and type)."""
    owner = s.lock_owner
    return (
        owner is not None
        and str(owner.get("idToken", "")).lower() == str(token.get("idToken", "")).lower()
        and owner.get("type") == token.get("type")
    )


def release(s: EvseState, cfg: TxConfig) -> list[Output]:
    """The owner showed his token: the hold ends (the cable opens unless still in use)."""
    s.lock_owner = None
    return lock_outputs(s, cfg)


def unlock_command(s: EvseState, connector: int) -> None:
    """UnlockConnector (F05) opened ``connector``: no hold is left and it counts as unlocked."""
    if s.connector == connector:
        s.lock_owner = None
    if s.locked_connector == connector:
        s.locked_connector = None


def lock_reported(s: EvseState, connector: int, locked: bool, cfg: TxConfig) -> list[Output]:
    """The HAL reports a lock position.  A lock found closed that was not commanded (e.g. left
    so before a restart) is taken over, so it opens unless wanted; a lock found open is not
    commanded again (a lock failure must not make the station retry at every input)."""
    if locked and s.locked_connector is None:
        s.locked_connector = connector
        return lock_outputs(s, cfg)
    return []
