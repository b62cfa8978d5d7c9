"""A presented token (E07, C01–C16 at the transaction's edge): the same token again ends the
authorization, a Master Pass stops every transaction, a token restricted to other EVSEs is
refused here, a reserved EVSE admits only its reservation's token or group (H03) and a used
reservation's id goes into the transaction (H01.FR.15), a cable held for its owner opens; with
authorization off a plugged EV charges without one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from hal.types import IdTokenPresented
from ocpp_station.blocks.authorization.decision import NO_AUTHORIZATION, allowed_on_evse
from ocpp_station.blocks.transactions import rules
from ocpp_station.blocks.transactions.engine import TxConfig
from ocpp_station.context import Context
from ocpp_station.redact import token_text

if TYPE_CHECKING:  # typing only: the block owns this helper and passes itself
    from ocpp_station.blocks.transactions.block import TransactionsBlock
    from ocpp_station.blocks.transactions.ports import Authorizer, EvseAvailability


class Admission(Protocol):
    @property
    def allowed(self) -> bool: ...

    @property
    def reservation_id(self) -> int | None: ...


class Reservations(Protocol):
    """What the transactions block asks of the reservation block."""

    def admission(
        self, evse: int, id_token: Mapping[str, Any], group: Mapping[str, Any] | None
    ) -> Admission: ...

    async def consume(self, reservation_id: int) -> None: ...


@dataclass(frozen=True)
class Admitted:
    allowed: bool = True
    reservation_id: int | None = None


class NoReservations:
    """A station without reservations: every EVSE admits every token."""

    def admission(
        self, evse: int, id_token: Mapping[str, Any], group: Mapping[str, Any] | None
    ) -> Admission:
        return Admitted()

    async def consume(self, reservation_id: int) -> None:
        return None


class Tokens:
    def __init__(
        self,
        ctx: Context,
        block: TransactionsBlock,
        authorization: Authorizer,
        availability: EvseAvailability,
        reservations: Reservations,
    ) -> None:
        self.ctx = ctx
        self._block = block
        self._auth = authorization
        self._availability = availability
        self._reservations = reservations

    async def presented(self, event: IdTokenPresented) -> None:
        id_token = {"idToken": event.id_token, "type": event.type}
        evse = event.evse or rules.evse_for_token(
            self._block.engines, self._availability.plugged, id_token
        )
        engine = self._block.engines.get(evse)
        if engine is None:
            self.ctx.log.warning("token presented on unknown EVSE %s", event.evse)
            return
        current = engine.id_token
        if current is None and not self._block.may_start():
            # TxBeforeAcceptedEnabled false and not Accepted yet: no charging service, so no
            # token is authorized either (Part 2, B 1.1: users cannot be authenticated).
            self.ctx.log.info("token on EVSE %s refused: registration not Accepted yet", evse)
            return
        if rules.same_token_again(current, id_token):
            # E07: the same token again ends the authorization, without asking anyone.
            self._block.apply(
                evse, engine.authorized(id_token, self.ctx.now(), self._block.config())
            )
            return
        info = await self._auth.authorize(id_token)
        shown = token_text(id_token)  # C04.FR.04: a PIN never reaches the log
        if info.get("status") != "Accepted":
            self.ctx.log.info("%s on EVSE %s not accepted: %s", shown, evse, info.get("status"))
            return
        if self._auth.master_pass(info):
            self._master_pass(id_token)  # C12.FR.09 / C16.FR.03: it starts nothing
            return
        if current is not None and info.get("groupIdToken") is None:
            return  # another driver's token: only one of the same group may stop (E07.FR.01)
        if current is None and not allowed_on_evse(info, evse):
            # C01.FR.21: Accepted only for other EVSEs is not authorized here
            self.ctx.log.info("%s not allowed on EVSE %s (evseId %s)", shown, evse, info["evseId"])
            return
        admission = self._reservations.admission(evse, id_token, info.get("groupIdToken"))
        if current is None and not admission.allowed:  # H03: the EVSE is reserved for another
            self.ctx.log.info("%s refused on EVSE %s: it is reserved", shown, evse)
            return
        reservation = admission.reservation_id if current is None else None
        self._block.apply(
            evse,
            engine.authorized(
                id_token,
                self.ctx.now(),
                self._block.config(),
                group_id_token=info.get("groupIdToken"),
                reservation_id=reservation,
            ),
        )
        if reservation is not None:
            await self._reservations.consume(reservation)  # H03.FR.09

    def release_lock(self, event: IdTokenPresented, cfg: TxConfig) -> bool:
        """A cable held locked for its owner (E05.FR.11, E09.FR.03) opens for the owner's token,
        which does nothing else; False when no hold waits for this token."""
        id_token = {"idToken": event.id_token, "type": event.type}
        for evse, engine in self._block.engines.items():
            if event.evse in (0, evse):
                outputs = engine.release_lock(id_token, cfg)
                if outputs is not None:
                    self._block.apply(evse, outputs)
                    return True
        return False

    def _master_pass(self, id_token: dict[str, Any]) -> None:
        """C16.FR.02/07: a Master Pass (the station has no UI to choose) stops every ongoing
        transaction as in E07, stoppedReason MasterPass, the pass in the Ended event."""
        now, cfg = self.ctx.now(), self._block.config()
        for evse, engine in self._block.engines.items():
            if engine.active():
                outputs = engine.stop("MasterPass", now, cfg, "StopAuthorized", id_token)
                self._block.apply(evse, outputs)

    def without_authorization(self, evse: int) -> None:
        """AuthCtrlr.Enabled false: a plugged EV charges without a token, the session carrying
        idToken "" of type NoAuthorization (C02.FR.01) - no Authorize, no waiting."""
        engine = self._block.engines[evse]
        if self._auth.required() or engine.id_token is not None:
            return
        if not self._availability.usable(evse):
            return
        if not self._reservations.admission(evse, NO_AUTHORIZATION, None).allowed:
            return  # a reserved EVSE waits for its reservation's token
        self._block.apply(
            evse, engine.authorized(NO_AUTHORIZATION, self.ctx.now(), self._block.config())
        )
