"""The control API's pure parts: its schema covers every method and topic, params are checked
against it with the offending field named, and monitor keys match the right components."""

from __future__ import annotations

from typing import Any

import pytest

from ocpp_station.blocks.monitoring.monitors import Address
from ocpp_station.blocks.monitoring.watch import matches
from ocpp_station.control.api import CONTROL_TOPICS, _watch_key
from ocpp_station.control.schema import check_params, control_schema
from ocpp_station.control.server import ControlError
from ocpp_station.events import TOPICS


def cv(component: str, variable: str, evse: dict[str, int] | None = None) -> dict[str, Any]:
    """An EVerest ComponentVariable (snake_case)."""
    comp: dict[str, Any] = {"name": component}
    if evse is not None:
        comp["evse"] = evse
    return {"component": comp, "variable": {"name": variable}}


def get_req(component: str, variable: str, **extra: Any) -> dict[str, Any]:
    evse = extra.pop("evse", None)
    return {"component_variable": cv(component, variable, evse), **extra}


def set_req(component: str, variable: str, value: str, **extra: Any) -> dict[str, Any]:
    return {**get_req(component, variable, **extra), "value": value}


def test_schema_covers_every_method_and_topic() -> None:
    schema = control_schema()
    methods = set(schema["methods"])
    assert {"get_variables", "set_variables", "monitor_variables", "change_availability"} <= methods
    assert {"security_event", "stop", "restart", "status", "subscribe"} <= methods
    assert {f"sim.{n}" for n in ("plug_in", "unplug", "present_id_token")} <= methods
    assert set(schema["topics"]) == set(CONTROL_TOPICS)
    assert set(TOPICS) <= set(CONTROL_TOPICS)


@pytest.mark.parametrize(
    ("method", "params", "fragment"),
    [
        ("get_variables", {}, "params: 'requests' is a required property"),
        ("get_variables", {"requests": []}, "params.requests: [] should be non-empty"),
        (
            "get_variables",
            {"requests": [{"component_variable": {"component": {"name": "A"}}}]},
            "params.requests[0].component_variable: 'variable' is a required property",
        ),
        (
            "get_variables",
            {"requests": [{**get_req("A", "B"), "attribute_type": "Maximum"}]},
            "params.requests[0].attribute_type: 'Maximum' is not one of",
        ),
        (
            "get_variables",
            {"requests": [get_req("A", "B", evse={"id": 1, "connectorId": 1})]},
            "'connectorId' was unexpected",  # EVerest spells it connector_id
        ),
        (
            "set_variables",
            {"requests": [set_req("A", "B", "1")]},
            "params: 'source' is a required property",
        ),
        (
            "set_variables",
            {"requests": [{**get_req("A", "B"), "value": 5}], "source": "t"},
            "params.requests[0].value: 5 is not of type 'string'",
        ),
        ("sim.ev_state", {"evse": 1, "state": "G"}, "params.state: 'G' is not one of"),
        ("status", {"verbose": True}, "'verbose' was unexpected"),
    ],
)
def test_params_are_checked_against_the_schema(
    method: str, params: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(ControlError) as info:
        check_params(method, params)
    assert info.value.code == "InvalidParams"
    assert info.value.message.startswith(f"{method}: ")
    assert fragment in info.value.message


def test_monitor_key_matches_evse_and_connector() -> None:
    def change(evse: dict[str, int] | None) -> Address:
        comp: dict[str, Any] = {"name": "Connector"}
        if evse is not None:
            comp["evse"] = evse
        return Address.of(comp, {"name": "Enabled"})

    any_connector = _watch_key(cv("Connector", "Enabled"))
    on_evse_2 = _watch_key(cv("Connector", "Enabled", {"id": 2}))
    exact = _watch_key(cv("Connector", "Enabled", {"id": 2, "connector_id": 1}))
    c21 = change({"id": 2, "connectorId": 1})
    c12 = change({"id": 1, "connectorId": 2})
    assert matches(any_connector, c21) and matches(any_connector, c12)
    assert matches(on_evse_2, c21) and not matches(on_evse_2, c12)
    assert matches(exact, c21) and not matches(exact, change({"id": 2, "connectorId": 2}))
    assert not matches(_watch_key(cv("Connector", "Other")), c21)
