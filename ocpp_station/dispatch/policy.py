"""The send policy: one pure function decides how each station→CSMS message goes.

Inputs are the link state (connected, registration), what kind of message it is and
``OCPPCommCtrlr.QueueAllMessages``; the answer is one of :class:`Route`:

- ``BootNotification`` goes whenever the websocket is up: it is how registration happens (B01).
- Registration ``Rejected``: nothing else goes (B03.FR.02/B03.FR.04); queued messages wait.
- Registration ``Pending`` (or not answered yet): only messages the CSMS asked for go — those
  triggered by TriggerMessage (F06, B02.FR.03) and those that are part of answering a CSMS request
  (NotifyReport after GetBaseReport, B02.FR.01/B07.FR.03; ReportChargingProfiles, K09).
- ``Accepted``: every message goes.
- Transaction-related messages (TransactionEvent, E04.FR.01/E11.FR.01) and security events
  (A04.FR.02: critical events must reach the CSMS) always go through the persistent queue, which
  delivers them in order once the station may send; with ``QueueAllMessages`` true the messages
  of :data:`QUEUE_ALL_ELIGIBLE` do too.  A message the caller asks to ``keep`` goes through the
  queue when it may not be sent now (a NotifyEvent of a monitor whose severity number is at most
  ``MonitoringCtrlr.OfflineQueuingSeverity``, N07.FR.04/N08.FR.03).  Any other message the
  station may not send now is not sent at all (the caller learns so: ``NotReady`` from ``call``,
  ``None`` from ``send``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

BOOT = "BootNotification"
ALWAYS_QUEUED = frozenset({"TransactionEvent", "SecurityEventNotification"})
# Messages that carry data the CSMS would miss (the rest — Heartbeat, StatusNotification — are
# re-derived at the reconnect).
QUEUE_ALL_ELIGIBLE = frozenset({"MeterValues", "NotifyEvent"})


class Route(enum.Enum):
    NOW = "now"  # send on the websocket now
    QUEUE = "queue"  # store in the persistent queue; the queue sender delivers it
    NOT_NOW = "not_now"  # the station may not send it now, and it is not kept


@dataclass
class LinkState:
    """The one owner of "connected", "registration" and "offline"."""

    connected: bool = False
    registration: str = "Unknown"  # RegistrationStatusEnumType once a BootNotification answered
    down_since: float | None = None  # when the link went down (None: up, or never up yet)
    last_outage: float = 0.0  # seconds the last outage lasted, known once the link is back (B04)

    def went_down(self, now: float) -> None:
        """The websocket closed at ``now`` (seconds on a clock that does not jump)."""
        if self.connected:
            self.down_since = now
        self.connected = False

    def came_up(self, now: float) -> None:
        """The websocket is open again at ``now``: the outage that ended is ``last_outage``."""
        self.last_outage = 0.0 if self.down_since is None else max(0.0, now - self.down_since)
        self.down_since = None
        self.connected = True

    @property
    def online(self) -> bool:
        """Connected and registered: the station may send its own messages."""
        return self.connected and self.registration == "Accepted"

    @property
    def offline(self) -> bool:
        """The station cannot reach the CSMS now (E04.FR.03: events carry ``offline``)."""
        return not self.online


def is_queued(action: str, *, queue_all: bool) -> bool:
    """Does this message go through the persistent queue?"""
    return action in ALWAYS_QUEUED or (queue_all and action in QUEUE_ALL_ELIGIBLE)


def may_send_now(
    action: str, link: LinkState, *, triggered: bool = False, reply: bool = False
) -> bool:
    """May a CALL of ``action`` go on the websocket right now?"""
    if not link.connected:
        return False
    if action == BOOT:
        return True
    if link.registration == "Accepted":
        return True
    if link.registration == "Rejected":
        return False
    return triggered or reply  # Pending / not answered yet: only what the CSMS asked for


def route(
    action: str,
    link: LinkState,
    *,
    queue_all: bool,
    triggered: bool = False,
    reply: bool = False,
    keep: bool = False,
) -> Route:
    """How a new message goes (see the module docstring)."""
    if is_queued(action, queue_all=queue_all):
        return Route.QUEUE
    if may_send_now(action, link, triggered=triggered, reply=reply):
        return Route.NOW
    return Route.QUEUE if keep else Route.NOT_NOW
