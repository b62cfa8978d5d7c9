"""A00.FR.316/419 note: a security event only once for repeated failed connection attempts."""

from __future__ import annotations

from ocpp_station.blocks.security.series import FailureSeries


def test_repeated_failures_raise_once() -> None:
    series = FailureSeries()
    assert series.failed("InvalidCsmsCertificate") is True
    assert [series.failed("InvalidCsmsCertificate") for _ in range(5)] == [False] * 5
    assert series.suppressed == 5


def test_another_kind_in_the_same_series_is_raised_once_too() -> None:
    series = FailureSeries()
    assert series.failed("InvalidCsmsCertificate")
    assert series.failed("InvalidTLSVersion")  # the CSMS changed: news
    assert not series.failed("InvalidCsmsCertificate")
    assert not series.failed("InvalidTLSVersion")
    assert series.raised == {"InvalidCsmsCertificate", "InvalidTLSVersion"}


def test_a_connection_ends_the_series() -> None:
    series = FailureSeries()
    assert series.failed("FailedToAuthenticateAtCsms")
    assert not series.failed("FailedToAuthenticateAtCsms")
    series.connected()
    assert series.raised == frozenset() and series.suppressed == 0
    assert series.failed("FailedToAuthenticateAtCsms")  # a new series: raised again
