"""DataTransfer (functional block P): vendor-specific messages in both directions.

P01: a DataTransfer from the CSMS is answered by the handler the integrator registered for its
vendor id (and message id), or ``UnknownVendorId``/``UnknownMessageId`` (the rules are in
:mod:`~ocpp_station.blocks.data_transfer.handlers`).  A handler that raises or answers something
invalid gives ``Rejected`` with a statusInfo: the CSMS never gets a CALLERROR for a well-formed
DataTransfer, and the station never stops over a handler.

P02: :meth:`DataTransferBlock.send` sends a DataTransfer to the CSMS and returns its
DataTransferResponse.  It goes now or not at all (a vendor message is not kept for later): while
the station is offline or not registered it raises ``NotReady``.
"""

from __future__ import annotations

import inspect
from typing import Any

from ocpp_station.blocks.base import Block
from ocpp_station.blocks.data_transfer.handlers import (
    ACTION,
    Answer,
    DataTransferRegistry,
    checked_answer,
    handler_failed,
    request_payload,
)
from ocpp_station.context import Context


class DataTransferBlock(Block):
    def __init__(self, ctx: Context, registry: DataTransferRegistry) -> None:
        super().__init__(ctx)
        self.registry = registry
        ctx.handlers.register(ACTION, self.on_data_transfer)

    async def on_data_transfer(self, payload: dict[str, Any]) -> Answer:
        """P01: answer a DataTransferRequest of the CSMS."""
        vendor, message = payload["vendorId"], payload.get("messageId")
        target = self.registry.resolve(vendor, message)
        if isinstance(target, dict):
            status = target["status"]
            self.ctx.log.info("DataTransfer %s/%s from the CSMS: %s", vendor, message, status)
            return target
        try:
            answer = target(payload)
            if inspect.isawaitable(answer):
                answer = await answer
        except Exception as exc:
            self.ctx.log.exception("DataTransfer handler for %s/%s failed", vendor, message)
            return handler_failed(exc)
        checked = checked_answer(answer)
        if checked is not answer:
            info = checked["statusInfo"].get("additionalInfo")
            self.ctx.log.error("DataTransfer handler for %s/%s: %s", vendor, message, info)
        return checked

    async def send(
        self,
        vendor_id: str,
        message_id: str | None = None,
        data: Any = None,
        *,
        custom_data: dict[str, Any] | None = None,
    ) -> Answer:
        """P02: send a DataTransfer to the CSMS now; its DataTransferResponse payload.

        Raises ``ValueError`` (ids or data a DataTransfer cannot carry; nothing is sent),
        ``NotReady`` (offline or not registered), ``ConnectionLost``, ``CallTimeout``, or
        ``OCPPError`` (the CSMS answered with a CALLERROR, or with an invalid response).
        """
        payload = request_payload(vendor_id, message_id, data, custom_data)
        return await self.ctx.dispatcher.call(ACTION, payload)
