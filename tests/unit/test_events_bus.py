"""The station's publication bus: every-topic and per-topic listeners, ``listening``."""

from __future__ import annotations

from typing import Any

from ocpp_station.events import EventBus


async def test_a_listener_with_topics_hears_those_only() -> None:
    bus = EventBus()
    every: list[str] = []
    some: list[str] = []
    bus.subscribe(lambda topic, _data: every.append(topic))
    bus.subscribe(lambda topic, _data: some.append(topic), topics=("security_event",))

    await bus.publish("security_event", {})
    await bus.publish("charging_schedules", [])

    assert every == ["security_event", "charging_schedules"]
    assert some == ["security_event"]


async def test_async_listeners_are_awaited_and_a_failing_one_stops_nobody() -> None:
    bus = EventBus()
    heard: list[Any] = []

    async def slow(topic: str, data: Any) -> None:
        heard.append((topic, data))

    def broken(_topic: str, _data: Any) -> None:
        raise RuntimeError("listener bug")

    bus.subscribe(broken)
    bus.subscribe(slow, topics=["is_connected"])
    await bus.publish("is_connected", True)
    assert heard == [("is_connected", True)]


def test_listening_follows_subscriptions() -> None:
    bus = EventBus()
    assert not bus.listening("charging_schedules")
    off = bus.subscribe(lambda _t, _d: None, topics=("boot_notification_response",))
    assert bus.listening("boot_notification_response")
    assert not bus.listening("charging_schedules")
    off_all = bus.subscribe(lambda _t, _d: None)
    assert bus.listening("charging_schedules")
    off_all()
    assert not bus.listening("charging_schedules")
    off()
    assert not bus.listening("boot_notification_response")


def test_the_same_listener_twice_is_unsubscribed_once_per_subscription() -> None:
    bus = EventBus()

    def listener(_topic: str, _data: Any) -> None:
        return None

    first = bus.subscribe(listener, topics=("security_event",))
    bus.subscribe(listener)
    first()
    assert bus.listening("charging_schedules")  # the every-topic subscription stays
