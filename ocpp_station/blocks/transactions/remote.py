"""Remote control (F01–F03, F05): RequestStartTransaction, RequestStopTransaction, UnlockConnector,
GetTransactionStatus (E14).  A remote start on a reserved EVSE needs the reservation's token (or,
with AuthorizeRemoteStart, its group) and uses the reservation up (H03.FR.09)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from ocpp_station.blocks.transactions import rules
from ocpp_station.blocks.transactions.engine import TxStateError
from ocpp_station.blocks.transactions.tokens import Reservations
from ocpp_station.context import Context
from ocpp_station.ocpp_types import status_info

if TYPE_CHECKING:  # typing only: the block owns this helper and passes itself
    from ocpp_station.blocks.transactions.block import TransactionsBlock
    from ocpp_station.blocks.transactions.ports import Authorizer, EvseAvailability, QueueDepth


class SmartChargingHooks(Protocol):
    """What the transactions block asks of smart charging."""

    def check_remote_start_profile(
        self, evse: int, profile: dict[str, Any]
    ) -> dict[str, Any] | None: ...

    def hold_tx_profile(self, evse: int, profile: dict[str, Any]) -> None: ...

    async def install_tx_profile(
        self, evse: int, transaction_id: str, profile: dict[str, Any]
    ) -> None: ...

    async def transaction_ended(self, evse: int, transaction_id: str) -> None: ...

    def wake(self) -> None: ...


class RemoteControl:
    def __init__(
        self,
        ctx: Context,
        block: TransactionsBlock,
        authorization: Authorizer,
        availability: EvseAvailability,
        smart_charging: SmartChargingHooks,
        queue: QueueDepth,
        reservations: Reservations,
    ) -> None:
        self.ctx = ctx
        self._block = block
        self._auth = authorization
        self._availability = availability
        self._smart = smart_charging
        self._queue = queue
        self._reservations = reservations
        handlers = ctx.handlers
        handlers.register("RequestStartTransaction", self.on_request_start)
        handlers.register("RequestStopTransaction", self.on_request_stop)
        handlers.register("UnlockConnector", self.on_unlock_connector)
        handlers.register("GetTransactionStatus", self.on_get_transaction_status)

    async def on_request_start(self, payload: dict[str, Any]) -> dict[str, Any]:
        refusal = self._not_registered()
        if refusal is not None:
            return refusal
        block = self._block
        id_token = payload["idToken"]
        evse = payload.get("evseId")
        if evse is None:
            evse = rules.evse_for_remote_start(
                block.engines, self._availability.usable, self._availability.plugged
            )
            if evse is None:
                return _rejected("NoFreeEvse", "every EVSE busy")
        engine = block.engines.get(evse)
        if engine is None:
            return _rejected("UnknownEvse", f"no EVSE {evse}")
        refusal = rules.remote_start_refusal(engine)
        if refusal is not None:
            return {"status": "Rejected", "statusInfo": refusal}
        if not self._availability.usable(evse):
            return {"status": "Rejected", "statusInfo": status_info("Unavailable")}
        profile = payload.get("chargingProfile")
        if profile is not None:
            problem = self._smart.check_remote_start_profile(evse, profile)
            if problem is not None:
                return {"status": "Rejected", "statusInfo": problem}
        group = None
        if self.ctx.dm.get_bool("AuthCtrlr", "AuthorizeRemoteStart", default=False):
            # F02 (TC_F_02_CS): AuthorizeRemoteStart true: Authorize first, like a local swipe.
            info = await self._auth.authorize(id_token)
            if info.get("status") != "Accepted":
                return {"status": "Rejected", "statusInfo": status_info("InvalidIdToken")}
            group = info.get("groupIdToken")
        admission = self._reservations.admission(evse, id_token, group)
        if not admission.allowed:
            return _rejected("InvalidIdToken", f"EVSE {evse} is reserved for another idToken")
        tx_before = engine.transaction_id
        try:
            outputs = engine.remote_start(
                id_token, payload["remoteStartId"], self.ctx.now(), block.config(),
                reservation_id=admission.reservation_id,
            )  # fmt: skip
        except TxStateError as exc:
            return _rejected("TxInProgress", str(exc))
        block.apply(evse, outputs)
        if admission.reservation_id is not None:
            await self._reservations.consume(admission.reservation_id)  # H03.FR.09
        if profile is not None and engine.transaction_id is not None:
            await self._smart.install_tx_profile(evse, engine.transaction_id, profile)
        elif profile is not None:
            self._smart.hold_tx_profile(evse, profile)
        response: dict[str, Any] = {"status": "Accepted"}
        if tx_before is not None:
            # F01 (cable first): a transaction already running (EVConnected start) is named.
            response["transactionId"] = tx_before
        return response

    async def on_request_stop(self, payload: dict[str, Any]) -> dict[str, Any]:
        refusal = self._not_registered()
        if refusal is not None:
            return refusal
        block = self._block
        tx_id = payload["transactionId"]
        for evse, engine in block.engines.items():
            if engine.active() and engine.transaction_id == tx_id:
                try:
                    outputs = engine.remote_stop(self.ctx.now(), block.config())
                except TxStateError as exc:
                    return _rejected("TxNotFound", str(exc))
                block.apply(evse, outputs)
                return {"status": "Accepted"}
        return {"status": "Rejected", "statusInfo": status_info("TxNotFound")}

    def _not_registered(self) -> dict[str, Any] | None:
        """B02.FR.05: while the registration is Pending (or not answered yet), remote start and
        stop are Rejected.  (Rejected itself never gets here: B03.FR.02, SecurityError.)"""
        if self.ctx.link.registration != "Accepted":
            return _rejected("CSNotAccepted", "the CSMS has not accepted this station yet")
        return None

    async def on_unlock_connector(self, payload: dict[str, Any]) -> dict[str, Any]:
        evse, connector = payload["evseId"], payload["connectorId"]
        if not self.ctx.layout.has(evse, connector):
            return {"status": "UnknownConnector"}
        engine = self._block.engines[evse]
        if engine.active() and engine.id_token is not None:
            # F05.FR.02: an authorized transaction keeps its cable locked.
            return {"status": "OngoingAuthorizedTransaction"}
        try:
            await self.ctx.hal.lock(evse, connector, False)
        except Exception as exc:
            return {"status": "UnlockFailed", "statusInfo": status_info("HardwareError", str(exc))}
        engine.unlock_command(connector)  # no hold is left on this cable
        return {"status": "Unlocked"}

    async def on_get_transaction_status(self, payload: dict[str, Any]) -> dict[str, Any]:
        tx_id = payload.get("transactionId")
        queue = self._queue
        if tx_id is None:  # E14.FR.07/08: only transaction-related messages count
            queued = queue.has_transaction_messages()
        else:  # E14.FR.04/05
            queued = queue.has_messages_for(tx_id)
        response: dict[str, Any] = {"messagesInQueue": queued}
        if tx_id is not None:
            response["ongoingIndicator"] = any(
                e.active() and e.transaction_id == tx_id for e in self._block.engines.values()
            )
        return response


def _rejected(reason: str, text: str) -> dict[str, Any]:
    return {"status": "Rejected", "statusInfo": status_info(reason, text)}
