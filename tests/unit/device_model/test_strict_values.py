"""Strict input, pure: a device-model value is an OCPP primitive (Part 2) in ASCII digits, and a
lone surrogate (Part 4 section 4.1.2) is an invalid value, never an internal error."""

from __future__ import annotations

import pytest

from device_model import load_definitions
from device_model.values import InvalidValue, check_value


@pytest.mark.parametrize("text", ["٣", "５", " 7 ", "+7", "7 ", "\t7", "1_000", "0x10", "7\n"])
def test_an_integer_is_ascii_digits_with_an_optional_minus_only(text: str) -> None:
    var = load_definitions().by_key[("OCPPCommCtrlr", None, "HeartbeatInterval", None)]
    with pytest.raises(InvalidValue) as err:
        check_value(var, text)
    assert err.value.reason == "InvalidValue"
    assert check_value(var, "70") == "70"


@pytest.mark.parametrize("text", ["٣.5", " 2.5", "+2.5", "2.5 ", "1e999"])
def test_a_decimal_is_ascii_too(text: str) -> None:
    var = load_definitions().by_key[("SmartChargingCtrlr", None, "LimitChangeSignificance", None)]
    with pytest.raises(InvalidValue):
        check_value(var, text)


def test_a_lone_surrogate_in_a_value_is_an_invalid_value_not_an_internal_error() -> None:
    defs = load_definitions()
    for key in (
        ("OCPPCommCtrlr", None, "HeartbeatInterval", None),
        ("SecurityCtrlr", None, "BasicAuthPassword", None),
    ):
        var = defs.by_key.get(key)
        if var is None:
            continue
        with pytest.raises(InvalidValue, match="UTF-8") as err:
            check_value(var, "ab\ud800cd")
        assert err.value.reason == "InvalidValue"
