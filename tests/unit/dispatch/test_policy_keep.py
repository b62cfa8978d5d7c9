"""The send policy's ``keep`` input: a NotifyEvent whose monitor severity is at most
OfflineQueuingSeverity is queued while the station may not send (N07.FR.04)."""

from __future__ import annotations

from ocpp_station.dispatch.policy import LinkState, Route, route


def test_keep_queues_only_what_may_not_go_now() -> None:
    offline = LinkState(connected=False, registration="Accepted")
    online = LinkState(connected=True, registration="Accepted")
    pending = LinkState(connected=True, registration="Pending")
    assert route("NotifyEvent", offline, queue_all=False, keep=True) is Route.QUEUE
    assert route("NotifyEvent", pending, queue_all=False, keep=True) is Route.QUEUE
    assert route("NotifyEvent", offline, queue_all=False) is Route.NOT_NOW
    assert route("NotifyEvent", online, queue_all=False, keep=True) is Route.NOW
    assert route("NotifyEvent", offline, queue_all=True) is Route.QUEUE  # QueueAllMessages
