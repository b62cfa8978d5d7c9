"""C03.FR.01 / C05.FR.01: a RequestStartTransaction with an idToken of type Central is never
sent in an AuthorizeRequest, even with AuthCtrlr.AuthorizeRemoteStart true, and its IdTokenInfo is
never cached (C03.FR.02 / C05.FR.02)."""

from __future__ import annotations

from support import StationFactory, queued, sim, variable

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
    sim(station).plug_in(1, 1)
    await csms.wait_for(lambda: sim(station).model.status()["evses"][0]["power_w"] > 0)
    await csms.wait_for(lambda: queued(station) == 0)  # the CSMS answered with idTokenInfo
    assert csms.received("TransactionEvent")[0]["idToken"] == CENTRAL
    assert csms.received("Authorize") == []
    # the cache holds no byte: the Central token's IdTokenInfo was not kept
    assert await variable(csms, "CS001", "AuthCacheCtrlr", "Storage") == "0"

    # an ordinary token is still authorized first (F01.FR.01)
    csms.policy.token_status["CARD"] = "Blocked"
    refused = await csms.send(
        "CS001",
        "RequestStartTransaction",
        {"evseId": 2, "remoteStartId": 4, "idToken": {"idToken": "CARD", "type": "ISO14443"}},
    )
    assert refused["statusInfo"]["reasonCode"] == "InvalidIdToken"
    assert [a["idToken"]["idToken"] for a in csms.received("Authorize")] == ["CARD"]
