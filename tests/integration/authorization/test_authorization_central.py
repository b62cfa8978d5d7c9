"""C03.FR.01 / C05.FR.01: a RequestStartTransaction with an idToken of type Central is never
sent in an AuthorizeRequest, even with AuthCtrlr.AuthorizeRemoteStart true, and its IdTokenInfo is
never cached (C03.FR.02 / C05.FR.02)."""

from __future__ import annotations

from support import StationFactory

from hal.backends.sim import SimBackend
from ocpp_station.csms import LocalCSMS

CENTRAL = {"idToken": "APP-7F3A", "type": "Central"}


async def test_central_token_is_not_authorized_nor_cached(
    csms: LocalCSMS, make_station: StationFactory
) -> None:
    station = await make_station(
        evses=[{"id": 1, "connectors": [1]}, {"id": 2, "connectors": [1]}],
        device_model={
            "AuthCtrlr.AuthorizeRemoteStart": True,
            "SampledDataCtrlr.TxUpdatedInterval": 0,
            "AlignedDataCtrlr.Interval": 0,
        },
    )
    await csms.wait_for(lambda: station.online)
    result = await csms.send(
        "CS001",
        "RequestStartTransaction",
        {"evseId": 1, "remoteStartId": 3, "idToken": CENTRAL},
    )
    assert result == {"status": "Accepted"}
    assert isinstance(station.hal, SimBackend)
    station.hal.plug_in(1, 1)
    await csms.wait_for(lambda: station.hal.model.status()["evses"][0]["power_w"] > 0)
    await csms.wait_for(lambda: len(station.queue) == 0)  # the CSMS answered with idTokenInfo
    assert csms.received("TransactionEvent")[0]["idToken"] == CENTRAL
    assert csms.received("Authorize") == []
    assert station.blocks.authorization.cached(CENTRAL) is None
    assert station.dm.get("AuthCacheCtrlr", "Storage") == "0"

    # an ordinary token is still authorized first (F01.FR.01)
    csms.policy.token_status["CARD"] = "Blocked"
    refused = await csms.send(
        "CS001",
        "RequestStartTransaction",
        {"evseId": 2, "remoteStartId": 4, "idToken": {"idToken": "CARD", "type": "ISO14443"}},
    )
    assert refused["statusInfo"]["reasonCode"] == "InvalidIdToken"
    assert [a["idToken"]["idToken"] for a in csms.received("Authorize")] == ["CARD"]
