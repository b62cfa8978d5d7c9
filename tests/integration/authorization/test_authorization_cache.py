"""The authorization cache as a CSMS configures it: AuthCacheCtrlr.DisablePostAuthorize
(C10.FR.03 / C12.FR.05), Storage (bytes used, bounded by maxLimit and the MaxSet attribute),
Policy (eviction when full, C10.FR.07), LifeTime (C10.FR.10) and ClearCache (C11).

The tokens here are refused by the CSMS, so no session starts and every swipe is a pure cache
question; with DisablePostAuthorize a cached refusal is answered from the cache, so whether an
AuthorizeRequest goes out tells whether the token was still cached.  The Storage variable, read
with GetVariables, tells how many bytes the cache holds."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from support import StationFactory, sim

from ocpp_station import Station
from ocpp_station.csms import LocalCSMS

CACHE = "AuthCacheCtrlr"


async def online_station(
    csms: LocalCSMS, make_station: StationFactory, *, data_dir: Path | None = None,
    station_id: str | None = None, **device_model: Any,
) -> Station:  # fmt: skip
    for name in ("A", "B", "C", "D"):
        csms.policy.token_status[name] = "Invalid"
    where: dict[str, Any] = {"data_dir": data_dir} if data_dir else {}
    if station_id:
        where["station_id"] = station_id
    station = await make_station(
        device_model={"SampledDataCtrlr.TxUpdatedInterval": 0, "AlignedDataCtrlr.Interval": 0}
        | device_model,
        **where,
    )
    await csms.wait_for(lambda: station.online)
    return station


async def set_var(csms: LocalCSMS, variable: str, value: Any, attribute: str = "Actual") -> str:
    result = await csms.send(
        "CS001",
        "SetVariables",
        {
            "setVariableData": [
                {
                    "component": {"name": CACHE},
                    "variable": {"name": variable},
                    "attributeType": attribute,
                    "attributeValue": str(value),
                }
            ]
        },
    )
    return str(result["setVariableResult"][0]["attributeStatus"])


async def get_var(csms: LocalCSMS, variable: str, attribute: str = "Actual") -> str:
    result = await csms.send(
        "CS001",
        "GetVariables",
        {
            "getVariableData": [
                {
                    "component": {"name": CACHE},
                    "variable": {"name": variable},
                    "attributeType": attribute,
                }
            ]
        },
    )
    item = result["getVariableResult"][0]
    assert item["attributeStatus"] == "Accepted", item
    return str(item["attributeValue"])


def swipe(station: Station, name: str) -> None:
    sim(station).present_id_token(1, name)


def connector_statuses(csms: LocalCSMS) -> list[str]:
    return [s["connectorStatus"] for s in csms.received("StatusNotification", "CS001")]


async def handled(csms: LocalCSMS, station: Station) -> None:
    """Every token presented so far is decided and the CSMS's answer to its AuthorizeRequest is
    in the cache or not: the station takes the controller's events one at a time, so once a
    plug-in after the swipes shows at the CSMS (StatusNotification Occupied) the swipes before
    it are done.  The EV is unplugged again (Available)."""
    seen = len(connector_statuses(csms))
    sim(station).plug_in(1, 1)
    await csms.wait_for(lambda: "Occupied" in connector_statuses(csms)[seen:])
    seen = len(connector_statuses(csms))
    sim(station).unplug(1)
    await csms.wait_for(lambda: "Available" in connector_statuses(csms)[seen:])


async def storage(csms: LocalCSMS) -> int:
    """The bytes the cache uses (AuthCacheCtrlr.Storage, Actual) once every swipe is handled."""
    return int(await get_var(csms, "Storage"))


async def authorized(csms: LocalCSMS, count: int) -> list[str]:
    """The idTokens of the AuthorizeRequests once there are ``count`` of them."""
    requests = await csms.wait_received("Authorize", count)
    return [r["idToken"]["idToken"] for r in requests]


async def test_disable_post_authorize(csms: LocalCSMS, make_station: StationFactory) -> None:
    """C10.FR.03 / C12.FR.05: online, a token cached as not Accepted is authorized again;
    AuthCacheCtrlr.DisablePostAuthorize true keeps the cached refusal without asking."""
    station = await online_station(csms, make_station)
    swipe(station, "A")
    assert await authorized(csms, 1) == ["A"]
    swipe(station, "A")
    assert await authorized(csms, 2) == ["A", "A"]  # asked again: the status may have changed

    assert await set_var(csms, "DisablePostAuthorize", "true") == "Accepted"
    swipe(station, "A")  # refused from the cache
    swipe(station, "B")  # not cached: asked
    assert await authorized(csms, 3) == ["A", "A", "B"]
    assert csms.received("TransactionEvent") == []

    assert await set_var(csms, "DisablePostAuthorize", "false") == "Accepted"
    swipe(station, "A")
    assert await authorized(csms, 4) == ["A", "A", "B", "A"]


@pytest.mark.parametrize(("policy", "kept", "evicted"), [("LRU", "A", "B"), ("FIFO", "B", "A")])
async def test_storage_bound_and_policy(
    csms: LocalCSMS, make_station: StationFactory, policy: str, kept: str, evicted: str
) -> None:
    """C10.FR.07: a full cache takes a new entry by deleting an older one, as Policy says; the
    Storage variable reports the bytes used, never more than its MaxSet."""
    station = await online_station(csms, make_station, **{f"{CACHE}.DisablePostAuthorize": True})
    assert await get_var(csms, "Storage") == "0"
    assert await set_var(csms, "Policy", policy) == "Accepted"
    swipe(station, "A")
    await authorized(csms, 1)
    await handled(csms, station)
    one = await storage(csms)
    assert one > 0
    bound = 2 * one + 10  # room for two entries, not three
    assert await set_var(csms, "Storage", bound, attribute="MaxSet") == "Accepted"
    assert int(await get_var(csms, "Storage", attribute="MaxSet")) == bound

    swipe(station, "B")
    await authorized(csms, 2)
    swipe(station, "A")  # a cache hit: A is now the most recently used (LRU), still first in
    swipe(station, "C")
    assert await authorized(csms, 3) == ["A", "B", "C"]  # A was answered from the cache
    used = int(await get_var(csms, "Storage"))
    assert one < used <= bound

    swipe(station, kept)  # still cached: no AuthorizeRequest
    swipe(station, evicted)  # evicted by the policy: asked again
    assert await authorized(csms, 4) == ["A", "B", "C", evicted]


async def test_lower_bound_clear_cache_and_lifetime(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    """A MaxSet below the bytes used evicts at once; ClearCache (C11.FR.03) empties the cache;
    an entry expires LifeTime seconds after it was stored (C10.FR.10)."""
    station = await online_station(csms, make_station, **{f"{CACHE}.DisablePostAuthorize": True})
    swipe(station, "A")
    await authorized(csms, 1)
    await handled(csms, station)
    one = await storage(csms)
    swipe(station, "B")
    await authorized(csms, 2)
    await handled(csms, station)
    assert 0 < one < await storage(csms)  # A and B are cached
    assert await set_var(csms, "Storage", 1, attribute="MaxSet") == "Accepted"
    assert await get_var(csms, "Storage") == "0"
    swipe(station, "A")
    assert await authorized(csms, 3) == ["A", "B", "A"]  # not cached any more: asked
    # the answer about A is handled (and not kept) before the bound goes up again
    await handled(csms, station)
    assert await get_var(csms, "Storage") == "0"
    assert await set_var(csms, "Storage", 100_000, attribute="MaxSet") == "Accepted"

    swipe(station, "C")
    await authorized(csms, 4)
    await handled(csms, station)
    assert await storage(csms) > 0  # C is cached
    assert await csms.send("CS001", "ClearCache", {}) == {"status": "Accepted"}
    assert await get_var(csms, "Storage") == "0"
    swipe(station, "C")
    assert await authorized(csms, 5) == ["A", "B", "A", "C", "C"]

    assert await set_var(csms, "LifeTime", 1) == "Accepted"
    swipe(station, "C")  # cached a moment ago: refused from the cache
    swipe(station, "D")
    assert (await authorized(csms, 6))[-1] == "D"
    await asyncio.sleep(1.2)  # the LifeTime passes
    swipe(station, "C")
    assert (await authorized(csms, 7))[-1] == "C"


async def test_cache_survives_a_restart(
    csms: LocalCSMS, make_station: StationFactory, short_tmp: Path
) -> None:
    """C10.FR.02: cache values persist across reboots (the station's SQLite file)."""
    settings = {f"{CACHE}.DisablePostAuthorize": True}
    data_dir = short_tmp / "kept"
    station = await online_station(csms, make_station, data_dir=data_dir, **settings)
    swipe(station, "A")
    await authorized(csms, 1)
    await handled(csms, station)
    used = await get_var(csms, "Storage")
    assert used != "0"
    await station.stop()

    again = await online_station(
        csms, make_station, data_dir=data_dir, station_id="CS001", **settings
    )
    assert await get_var(csms, "Storage") == used  # reported again after the start
    swipe(again, "A")  # refused from the kept cache
    swipe(again, "B")
    assert await authorized(csms, 2) == ["A", "B"]
