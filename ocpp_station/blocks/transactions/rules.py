"""Pure rules of the transactions block that are not the per-EVSE engine's: which EVSE a token
or a remote start goes to, when a presented token is the session's own again, and when a
RequestStartTransaction is refused before the engine sees it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from ocpp_station.ocpp_types import status_info


class EngineView(Protocol):
    """What these rules read of an :class:`~.engine.EvseTransaction`."""

    @property
    def id_token(self) -> dict[str, Any] | None: ...

    def active(self) -> bool: ...

    def accepts_remote_start(self) -> bool: ...


def same_token_again(current: Mapping[str, Any] | None, presented: Mapping[str, Any]) -> bool:
    """E07: the session's own token presented again ends the authorization without asking
    anyone.  The same idToken (case-insensitive, E07.FR.01 leaves case open) and the same type;
    a token of the same *group* is decided only after authorization (it needs the group id)."""
    if current is None:
        return False
    return str(current.get("idToken", "")).lower() == str(
        presented.get("idToken", "")
    ).lower() and current.get("type") == presented.get("type")


def remote_start_refusal(engine: EngineView) -> dict[str, Any] | None:
    """F01/F02: an EVSE already in an authorized session refuses a second remote start
    (statusInfo reasonCode ``TxInProgress``); None when the start may go on."""
    if engine.active() and engine.id_token is not None:
        return status_info("TxInProgress")
    return None


def evse_for_token(
    engines: Mapping[int, EngineView],
    plugged: Callable[[int], bool],
    id_token: Mapping[str, Any],
) -> int:
    """A station-wide reader: the EVSE whose session the token owns, else a plugged idle EVSE,
    else the first idle one, else the first EVSE."""
    for evse, engine in engines.items():
        if engine.active() and same_token_again(engine.id_token, id_token):
            return evse
    for evse, engine in engines.items():
        if plugged(evse) and not engine.active():
            return evse
    for evse, engine in engines.items():
        if not engine.active():
            return evse
    return next(iter(engines))


def evse_for_remote_start(
    engines: Mapping[int, EngineView],
    usable: Callable[[int], bool],
    plugged: Callable[[int], bool],
) -> int | None:
    """Without an evseId the station picks (F01): an EVSE whose cable is in or whose
    transaction waits for an authorization first, else a free one; None if all are busy."""
    free = [e for e, eng in engines.items() if eng.accepts_remote_start() and usable(e)]
    waiting = [e for e in free if engines[e].active() or plugged(e)]
    return next(iter(waiting or free), None)
