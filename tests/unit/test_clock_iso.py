"""``clock.iso`` formats each second once; its text is exactly datetime's, rounding included."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from ocpp_station.clock import iso


def reference(ts: float) -> str:
    dt = datetime.fromtimestamp(ts, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


@given(st.floats(min_value=0, max_value=4_102_444_800, allow_nan=False))
def test_the_same_text_as_datetime(ts: float) -> None:
    assert iso(ts) == reference(ts)


def test_edges() -> None:
    for ts in (0.0, 1.0, 1_767_225_599.9999995, 1_767_225_600.0004999, 1_767_225_600.9995):
        assert iso(ts) == reference(ts)
    assert iso(1_767_225_600.5) == "2026-01-01T00:00:00.500Z"
    assert iso(1_767_225_601.25) == "2026-01-01T00:00:01.250Z"  # the next second, formatted anew
