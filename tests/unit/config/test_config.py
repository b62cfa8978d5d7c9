"""Loading a station config: every problem is reported at once, named by its place."""

from __future__ import annotations

import pytest

from ocpp_station.config import ConfigError, config_from_dict


def test_config_errors_all_reported_at_once() -> None:
    with pytest.raises(ConfigError) as info:
        config_from_dict(
            {
                "station": {"id": "bad id!", "csms_url": "http://x", "security_profile": 5},
                "evse": [{"id": 1, "connectors": []}],
                "unknown": 1,
            },
            source="station.toml",
        )
    errors = info.value.errors
    assert len(errors) >= 4, errors
    text = "\n".join(errors)
    for fragment in ("station.id", "station.csms_url", "security_profile", "connectors", "unknown"):
        assert fragment in text, (fragment, text)
    assert all(e.startswith("station.toml: ") for e in errors)
