"""Display messages (O01-O06): SetDisplayMessage, GetDisplayMessages → NotifyDisplayMessages,
ClearDisplayMessage; and the screen: the messages in force plus the lines other blocks put up
(the tariff and cost, :meth:`DisplayBlock.put`), handed to the display interface and published
on the bus (topic ``display_messages``) whenever they change.

The messages persist in the state records (key ``display_messages``); a message bound to a
transaction is dropped when the transaction ends (O02), one past its endDateTime when that time
comes.  ``DisplayMessageCtrlr.DisplayMessages`` holds how many are configured.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from ocpp_station.blocks.base import Block
from ocpp_station.blocks.display.interface import Display
from ocpp_station.clock import Wake, sleep_or_wake
from ocpp_station.context import Context
from ocpp_station.ocpp_types import status_info
from ocpp_station.rpc.endpoint import Reply
from ocpp_station.tasks import OnDemand

if TYPE_CHECKING:
    from ocpp_station.blocks.display.messages import Capabilities, MessageBook

CTRLR = "DisplayMessageCtrlr"
STATE_KEY = "display_messages"
IDLE = 3600.0  # seconds the window loop sleeps when no validity window is pending


class RunningTransactions(Protocol):
    def transactions(self) -> dict[int, str]: ...

    def add_finished_listener(self, listener: Callable[[int], Awaitable[None]]) -> None: ...


class DisplayBlock(Block):
    def __init__(self, ctx: Context, sessions: RunningTransactions, display: Display) -> None:
        super().__init__(ctx)
        self._sessions = sessions
        self._display = display
        # built (its rules loaded) with the first message: most stations never get one
        self._book: MessageBook | None = None
        self._others: dict[str, list[dict[str, Any]]] = {}
        self.shown: list[dict[str, Any]] = []
        self._wake = Wake()
        # the validity windows' loop runs once there are messages (started by the first one)
        self._windows = OnDemand(ctx.spawn, self._window_loop, "display.windows", self._wake)
        self._unsubscribe: Any = None
        sessions.add_finished_listener(self._transaction_finished)
        ctx.handlers.register("SetDisplayMessage", self.on_set)
        ctx.handlers.register("GetDisplayMessages", self.on_get)
        ctx.handlers.register("ClearDisplayMessage", self.on_clear)

    # -- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        record = self.ctx.state.load(STATE_KEY) or {}
        self._book = None
        if record.get("messages"):
            from ocpp_station.blocks.display.messages import MessageBook  # lazy: see book

            self._book = MessageBook(record["messages"])
        self._unsubscribe = self.ctx.bus.subscribe(
            self._on_publication, topics=("ocpp_transaction_event",)
        )
        await self._changed(save=False)

    async def stop(self) -> None:
        self._windows.stop()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    @property
    def book(self) -> MessageBook:
        """The messages configured (O01-O06), built at the first use."""
        if self._book is None:
            from ocpp_station.blocks.display.messages import MessageBook  # lazy: first message

            self._book = MessageBook()
        return self._book

    def _count(self) -> int:
        return len(self._book) if self._book is not None else 0

    def describe(self, state: dict[str, Any]) -> None:
        state["display"] = list(self.shown)

    # -- the screen ------------------------------------------------------------------------------
    async def put(self, source: str, lines: list[dict[str, Any]]) -> None:
        """Show ``lines`` for ``source`` (replacing what ``source`` showed before)."""
        self._others[source] = lines
        await self._refresh()

    def _caps(self) -> Capabilities:
        from ocpp_station.blocks.display.messages import Capabilities  # lazy: first message

        dm = self.ctx.dm
        return Capabilities(
            enabled=dm.get_bool(CTRLR, "Enabled", default=True),
            formats=dm.get_list(CTRLR, "SupportedFormats"),
            priorities=dm.get_list(CTRLR, "SupportedPriorities"),
        )

    def _running(self) -> set[str]:
        return set(self._sessions.transactions().values())

    async def _changed(self, save: bool = True) -> None:
        if save:
            self.ctx.state.save(STATE_KEY, {"messages": list(self.book.messages.values())})
        self.ctx.dm.set(CTRLR, "DisplayMessages", self._count())
        if self._count():
            self._windows.wake()
        else:
            self._wake.set()  # (a running loop looks again; none is started for no message)
        await self._refresh()

    async def _refresh(self) -> None:
        others = [line for group in self._others.values() for line in group]
        lines = others
        if self._count() or len(others) > 1:  # (else nothing to sort: the rules stay unloaded)
            from ocpp_station.blocks.display import messages  # lazy: the first message

            charging = bool(self._sessions.transactions())
            lines = [messages.line(m) for m in self.book.visible(self.ctx.now(), charging)]
            lines += others
            lines.sort(key=lambda x: messages.PRIORITIES.index(x["priority"]))
        if lines == self.shown:
            return
        self.shown = lines
        try:
            self._display.show(list(lines))
        except Exception:  # a faulty display must not stop the station
            self.ctx.log.exception("the display failed to show %d line(s)", len(lines))
        await self.ctx.publish("display_messages", {"lines": list(lines)})

    async def _on_publication(self, topic: str, data: Any) -> None:
        if topic != "ocpp_transaction_event":
            return
        if data.get("eventType") == "Ended":  # O02: a transaction's messages end with it
            tx = data["transactionInfo"]["transactionId"]
            if self._count() and self.book.end_transaction(tx):
                await self._changed()
                return
        await self._refresh()  # Charging / Idle may have changed

    async def _transaction_finished(self, evse: int) -> None:
        await self._refresh()  # no longer Charging

    async def _window_loop(self) -> None:
        while True:
            now = self.ctx.now()
            if self.book.expire(now):
                await self._changed()
            else:
                await self._refresh()
            self._wake.clear()
            nxt = self.book.next_change(self.ctx.now())
            wait = IDLE if nxt is None else max(0.0, nxt - self.ctx.now())
            await sleep_or_wake(self.ctx.clock, wait, self._wake)

    # -- CSMS → station --------------------------------------------------------------------------
    async def on_set(self, payload: dict[str, Any]) -> dict[str, Any]:
        message = payload["message"]
        from ocpp_station.blocks.display import messages  # lazy: the first message

        verdict = messages.check(message, self._caps(), self.book.messages, self._running())
        if verdict.status != "Accepted":
            return {
                "status": verdict.status,
                "statusInfo": status_info(verdict.reason, verdict.info),
            }
        self.book.put(message)
        await self._changed()
        return {"status": "Accepted"}

    async def on_get(self, payload: dict[str, Any]) -> dict[str, Any] | Reply:
        chosen = self.book.select(
            payload.get("id") or (), payload.get("priority"), payload.get("state")
        )
        if not chosen:  # O03/O04: nothing configured or matching
            return {"status": "Unknown"}
        from ocpp_station.blocks.display import messages  # lazy: the first message

        parts = messages.parts(chosen, payload["requestId"])
        return Reply({"status": "Accepted"}, then=lambda: self._send_parts(parts))

    async def _send_parts(self, parts: list[dict[str, Any]]) -> None:
        for part in parts:
            answer = await self.ctx.dispatcher.send("NotifyDisplayMessages", part, reply=True)
            if answer is None:
                self.ctx.log.warning("NotifyDisplayMessages part of %s not sent", part["requestId"])
                return

    async def on_clear(self, payload: dict[str, Any]) -> dict[str, Any]:
        if not self.book.clear(payload["id"]):
            return {"status": "Unknown"}  # O05
        await self._changed()
        return {"status": "Accepted"}
