"""Reservation (use cases H01-H04): ReserveNow, CancelReservation, expiry, and the reserved
EVSE's admission of tokens.

The rules are the pure :mod:`.rules`; this block holds the reservations, persists them in the
station's state records (``reservations``: they survive a reset or a power loss, B11/B12), sets
the availability block's Reserved flags (StatusNotification Reserved, H01.FR.20/23) and tells
the CSMS of a reservation that ended unused: ``ReservationStatusUpdate`` Expired when its
``expiryDateTime`` passed (H04.FR.01-03) and Removed when its EVSE became Faulted or Unavailable
(H01.FR.16/17).  An update that cannot be sent now is kept (persisted) until the station is
online again.  A cancelled reservation gets no update (H02 remark); a used one neither: its id
goes into the TransactionEvent (H01.FR.15).

The transactions block asks :meth:`ReservationBlock.admission` before a token starts charging and
calls :meth:`ReservationBlock.consume` when the token used a reservation (H03.FR.09/10).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from ocpp_station.blocks.availability.state import StatusChange
from ocpp_station.blocks.base import Block
from ocpp_station.clock import Wake, sleep_or_wake
from ocpp_station.context import Context
from ocpp_station.ocpp_types import status_info
from ocpp_station.rpc.endpoint import Reply
from ocpp_station.storage import StorageUnavailable
from ocpp_station.tasks import OnDemand

if TYPE_CHECKING:
    from ocpp_station.blocks.reservation import rules

STATE_KEY = "reservations"
COMPONENT = "ReservationCtrlr"
IDLE_WAKE = 60.0  # seconds between checks when no reservation is held


class ReservableEvses(Protocol):
    """What reservations need of the availability block."""

    def evse_condition(self, evse: int) -> str: ...

    async def reserve(self, reserved: set[int]) -> None: ...

    def add_status_listener(
        self, listener: Callable[[list[StatusChange]], Awaitable[None]]
    ) -> None: ...


class ReservationBlock(Block):
    def __init__(self, ctx: Context, availability: ReservableEvses) -> None:
        super().__init__(ctx)
        self._availability = availability
        self.held: list[rules.Reservation] = []
        self._pending: list[dict[str, Any]] = []  # ReservationStatusUpdates not sent yet
        self._wake = Wake()
        # the expiry loop runs while a reservation is held (started by the first one)
        self._expiry = OnDemand(ctx.spawn, self._expiry_loop, "reservations", self._wake)
        ctx.handlers.register("ReserveNow", self.on_reserve_now)
        ctx.handlers.register("CancelReservation", self.on_cancel_reservation)
        availability.add_status_listener(self._status_changed)

    async def start(self) -> None:
        record = self.ctx.state.load(STATE_KEY)
        if record:  # a station that never held a reservation does not load the rules
            from ocpp_station.blocks.reservation import rules  # lazy: the first reservation

            self.held, self._pending = rules.from_record(record)
        self.held = [r for r in self.held if r.evse is None or self.ctx.layout.has(r.evse)]
        self._expire()  # those that ran out while the station was down
        await self._apply_flags()
        if self.held:
            self._expiry.wake()

    async def stop(self) -> None:
        self._expiry.stop()

    async def online(self, first: bool) -> None:
        await self._send_pending()

    # -- settings and the view of the EVSEs ----------------------------------------------------
    def enabled(self) -> bool:
        return self.ctx.dm.get_bool(COMPONENT, "Enabled", default=True)

    def non_evse_specific(self) -> bool:
        return self.ctx.dm.get_bool(COMPONENT, "NonEvseSpecific", default=False)

    def _evses(self) -> rules.Evses:
        from ocpp_station.blocks.reservation import rules  # lazy: the first reservation

        dm, layout = self.ctx.dm, self.ctx.layout
        return rules.Evses(
            conditions={e: self._availability.evse_condition(e) for e in layout.ids()},
            connector_types={
                e: frozenset(
                    str(dm.get("Connector", "ConnectorType", evse=e, connector=c) or "")
                    for c in layout.connectors(e)
                )
                for e in layout.ids()
            },
        )

    # -- the view of the transactions block ----------------------------------------------------
    def admission(
        self, evse: int, id_token: Mapping[str, Any], group: Mapping[str, Any] | None
    ) -> rules.Admission:
        """May ``id_token`` (of group ``group``) start charging on ``evse`` now?"""
        from ocpp_station.blocks.reservation import rules  # lazy: the first reservation

        return rules.admission(self.held, evse, id_token, group, self._evses())

    async def consume(self, reservation_id: int) -> None:
        """The reservation was used (H03.FR.09): it ends, its EVSE no longer reports Reserved
        (H03.FR.10: Available, or Occupied with the cable in)."""
        if self._drop(reservation_id) is not None:
            self._save()
            await self._apply_flags()

    # -- CSMS ----------------------------------------------------------------------------------
    async def on_reserve_now(self, payload: dict[str, Any]) -> Reply:
        from ocpp_station.blocks.reservation import rules  # lazy: the first reservation

        answer = rules.decide(
            payload,
            self.held,
            self._evses(),
            enabled=self.enabled(),
            non_evse_specific=self.non_evse_specific(),
            now=self.ctx.now(),
        )
        response: dict[str, Any] = {"status": answer.status}
        if answer.reason or answer.info:
            response["statusInfo"] = status_info(answer.reason or "NoError", answer.info)
        if answer.reservation is None:
            return Reply(response)
        old = self._drop(answer.reservation.id)  # H01.FR.02: replaced
        self.held.append(answer.reservation)
        if not self._save():
            self.held.remove(answer.reservation)
            if old is not None:
                self.held.append(old)
            return Reply({"status": "Rejected", "statusInfo": status_info("OutOfStorage")})
        self._expiry.wake()
        return Reply(response, then=self._apply_flags)

    async def on_cancel_reservation(self, payload: dict[str, Any]) -> Reply:
        if self._drop(payload["reservationId"]) is None:
            return Reply({"status": "Rejected"})  # H02.FR.01
        self._save()
        return Reply({"status": "Accepted"}, then=self._apply_flags)  # H02.FR.02-06

    # -- ending unused -------------------------------------------------------------------------
    async def _status_changed(self, changes: list[StatusChange]) -> None:
        """H01.FR.16/17: a reserved EVSE that became Faulted or Unavailable ends its reservation
        (ReservationStatusUpdate Removed).  Every change may move the Reserved flags of the
        reservations without an EVSE."""
        lost = {c.evse for c in changes if c.status in ("Faulted", "Unavailable")}
        gone = [r for r in self.held if r.evse in lost]
        for r in gone:
            self._end(r, "Removed")
        if gone:
            self._save()
        if gone or any(r.evse is None for r in self.held):
            # H01.FR.20: with reservations without an EVSE, which EVSEs report Reserved depends
            # on how many others are free
            await self._apply_flags()
        await self._send_pending()

    def _expire(self) -> bool:
        """H04.FR.01: reservations past their expiryDateTime end (Expired); True if any did."""
        if not self.held:
            return False
        from ocpp_station.blocks.reservation import rules  # lazy: the first reservation

        ended = rules.due(self.held, self.ctx.now())
        for r in ended:
            self._end(r, "Expired")
        if ended:
            self._save()
        return bool(ended)

    async def _expiry_loop(self) -> None:
        from ocpp_station.blocks.reservation import rules  # lazy: the first reservation

        while True:
            if self._expire():
                await self._apply_flags()  # H04.FR.02/03: Available again
                await self._send_pending()
            due = rules.next_expiry(self.held)
            delay = IDLE_WAKE if due is None else min(IDLE_WAKE, due - self.ctx.now())
            self._wake.clear()
            await sleep_or_wake(self.ctx.clock, max(0.05, delay), self._wake)

    def _end(self, r: rules.Reservation, status: str) -> None:
        self._drop(r.id)
        self._pending.append({"reservationId": r.id, "reservationUpdateStatus": status})
        self.ctx.log.info("reservation %s ended: %s", r.id, status)

    async def _send_pending(self) -> None:
        while self._pending and self.ctx.link.online:
            update = self._pending[0]
            if await self.ctx.dispatcher.send("ReservationStatusUpdate", update) is None:
                return  # not delivered: tried again when the station is online again
            self._pending.pop(0)
            self._save()

    # -- state ---------------------------------------------------------------------------------
    def _drop(self, reservation_id: int) -> rules.Reservation | None:
        for r in self.held:
            if r.id == reservation_id:
                self.held.remove(r)
                return r
        return None

    async def _apply_flags(self) -> None:
        # (no reservation held, none reserved: the EVSEs' conditions are not looked at)
        held: set[int] = set()
        if self.held:
            from ocpp_station.blocks.reservation import rules  # lazy: the first reservation

            held = rules.reserved_evses(self.held, self._evses())
        await self._availability.reserve(held)

    def _save(self) -> bool:
        from ocpp_station.blocks.reservation import rules  # lazy: the first reservation

        try:
            self.ctx.state.save(STATE_KEY, rules.to_record(self.held, self._pending))
        except StorageUnavailable:
            return False  # the store logged why; the reservations are kept in memory
        return True
