"""The send policy: how each station→CSMS message goes, from the link state and the kind of
message (B01–B03 registration rules, F06 triggered messages, E04/E11 transaction messages
through the persistent queue, A04 critical security events, QueueAllMessages)."""

from __future__ import annotations

import pytest

from ocpp_station.dispatch.policy import LinkState, Route, may_send_now, route

OFFLINE = LinkState(connected=False, registration="Accepted")
UNKNOWN = LinkState(connected=True, registration="Unknown")
PENDING = LinkState(connected=True, registration="Pending")
REJECTED = LinkState(connected=True, registration="Rejected")
ACCEPTED = LinkState(connected=True, registration="Accepted")


@pytest.mark.parametrize(
    ("action", "link", "flags", "expected"),
    [
        # B01: the boot goes whenever the websocket is up, whatever the registration
        ("BootNotification", UNKNOWN, {}, Route.NOW),
        ("BootNotification", REJECTED, {}, Route.NOW),
        ("BootNotification", OFFLINE, {}, Route.NOT_NOW),
        # Accepted: everything goes
        ("StatusNotification", ACCEPTED, {}, Route.NOW),
        ("Heartbeat", ACCEPTED, {}, Route.NOW),
        # Pending (B02) or not answered yet: only what the CSMS asked for
        ("StatusNotification", PENDING, {}, Route.NOT_NOW),
        ("StatusNotification", PENDING, {"triggered": True}, Route.NOW),
        ("NotifyReport", PENDING, {"reply": True}, Route.NOW),
        ("Heartbeat", UNKNOWN, {"triggered": True}, Route.NOW),
        # Rejected (B03.FR.04): nothing of the station's own, triggered or not
        ("StatusNotification", REJECTED, {"triggered": True}, Route.NOT_NOW),
        ("NotifyReport", REJECTED, {"reply": True}, Route.NOT_NOW),
        # transaction messages and security events: always the persistent queue
        ("TransactionEvent", ACCEPTED, {}, Route.QUEUE),
        ("TransactionEvent", OFFLINE, {}, Route.QUEUE),
        ("SecurityEventNotification", PENDING, {}, Route.QUEUE),
        # QueueAllMessages: meter values and events wait instead of being dropped
        ("MeterValues", OFFLINE, {}, Route.NOT_NOW),
        ("MeterValues", OFFLINE, {"queue_all": True}, Route.QUEUE),
        ("MeterValues", ACCEPTED, {"queue_all": True}, Route.QUEUE),
        ("Heartbeat", OFFLINE, {"queue_all": True}, Route.NOT_NOW),
    ],
)
def test_route(action: str, link: LinkState, flags: dict[str, bool], expected: Route) -> None:
    queue_all = flags.pop("queue_all", False)
    assert route(action, link, queue_all=queue_all, **flags) is expected


def test_may_send_now_follows_the_same_rules() -> None:
    assert may_send_now("Authorize", ACCEPTED)
    assert not may_send_now("Authorize", PENDING)
    assert not may_send_now("Authorize", OFFLINE)
    assert ACCEPTED.online and not PENDING.online and OFFLINE.offline
