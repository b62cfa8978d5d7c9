"""DataTransfer on the local control API (EVerest's DataTransfer types, seed 004), next to the
independent CSMS.

``data_transfer`` sends one to the CSMS (P02) and answers EVerest's DataTransferResponse: the
CSMS's answer, ``Offline`` when the CSMS could not be asked, ``Rejected`` for a CALLERROR.
``register_data_transfer`` lets control-API clients answer the CSMS's DataTransfers (P01): each is
published on ``data_transfer_incoming`` and answered by ``data_transfer_reply``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path
from typing import Any

from support import StationFactory

from ocpp_station import Station
from ocpp_station.control.schema import validate_publication, validate_result
from ocpp_station.control.server import ControlError, call
from ocpp_station.csms import LocalCSMS


class Client:
    """A raw JSON-lines client that keeps publications apart from replies."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.publications: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._ids = itertools.count(1)
        self._task = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def open(cls, path: Path) -> Client:
        return cls(*await asyncio.open_unix_connection(str(path)))

    async def _read(self) -> None:
        while line := await self.reader.readline():
            message = json.loads(line)
            await (self.publications if "topic" in message else self.replies).put(message)

    async def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        req_id = next(self._ids)
        line = json.dumps({"id": req_id, "method": method, "params": params}) + "\n"
        self.writer.write(line.encode())
        await self.writer.drain()
        reply = await asyncio.wait_for(self.replies.get(), 5)
        assert reply["id"] == req_id
        return reply

    async def publication(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.publications.get(), 5)

    async def close(self) -> None:
        self._task.cancel()
        self.writer.close()


async def ctl_station(
    csms: LocalCSMS, make_station: StationFactory, short_tmp: Path
) -> tuple[Station, Path]:
    sock = short_tmp / "c.sock"
    station = await make_station(control=sock)
    await csms.wait_for(lambda: station.online and station.config.id in csms.links)
    return station, sock


def valid(method: str, result: Any) -> Any:
    assert validate_result(method, result) == []
    return result


async def test_data_transfer_to_the_csms_p02(
    csms: LocalCSMS, make_station: StationFactory, short_tmp: Path
) -> None:
    csms.policy.data_transfer["com.csms"] = {
        "status": "Rejected",
        "data": {"why": "quota"},
        "statusInfo": {"reasonCode": "InvalidValue"},
    }
    _, sock = await ctl_station(csms, make_station, short_tmp)
    request = {"vendor_id": "com.csms", "message_id": "quota", "data": '{"kwh": 12.5}'}
    result = valid("data_transfer", await call(sock, "data_transfer", {"request": request}))
    assert result == {
        "status": "Rejected",
        "data": json.dumps({"why": "quota"}),
        "status_info": {"reason_code": "InvalidValue"},
    }
    assert csms.received("DataTransfer")[-1] == {
        "vendorId": "com.csms",
        "messageId": "quota",
        "data": {"kwh": 12.5},
    }
    # P02.FR.06: the CSMS does not know the vendor
    result = await call(sock, "data_transfer", {"request": {"vendor_id": "com.other"}})
    assert valid("data_transfer", result) == {"status": "UnknownVendorId"}


async def test_data_transfer_callerror_and_offline(
    csms: LocalCSMS, make_station: StationFactory, short_tmp: Path
) -> None:
    station, sock = await ctl_station(csms, make_station, short_tmp)
    csms.policy.errors["DataTransfer"] = "NotSupported"
    result = await call(sock, "data_transfer", {"request": {"vendor_id": "com.csms"}})
    assert valid("data_transfer", result)["status"] == "Rejected"
    assert result["status_info"]["reason_code"] == "NotSupported"
    await call(sock, "stop")
    await csms.wait_for(lambda: not station.connected)
    result = await call(sock, "data_transfer", {"request": {"vendor_id": "com.csms"}})
    assert valid("data_transfer", result)["status"] == "Offline"
    assert result["status_info"]["reason_code"] == "NotConnected"
    assert len(csms.received("DataTransfer")) == 1  # the offline one was not sent, nor kept


async def test_data_transfer_params_are_checked(
    csms: LocalCSMS, make_station: StationFactory, short_tmp: Path
) -> None:
    _, sock = await ctl_station(csms, make_station, short_tmp)
    for params, fragment in [
        ({"request": {}}, "'vendor_id' is a required property"),
        ({"request": {"vendor_id": "v", "data": "not json"}}, "request.data must be JSON text"),
        ({"request": {"vendor_id": "v" * 256}}, "params.request.vendor_id"),
        ({"request": {"vendor_id": "v", "vendorId": "v"}}, "Additional properties"),
    ]:
        try:
            await call(sock, "data_transfer", params)
        except ControlError as exc:
            assert exc.code == "InvalidParams" and fragment in exc.message, exc.message
        else:
            raise AssertionError(f"{params} was accepted")
    assert csms.received("DataTransfer") == []


async def test_control_client_answers_the_csms_data_transfer_p01(
    csms: LocalCSMS, make_station: StationFactory, short_tmp: Path
) -> None:
    station, sock = await ctl_station(csms, make_station, short_tmp)
    sid = station.config.id
    client = await Client.open(sock)
    try:
        await client.request("subscribe", {"topics": ["data_transfer_incoming"]})
        reply = await client.request(
            "register_data_transfer", {"vendor_id": "com.hmi", "message_id": "display"}
        )
        assert reply == {"id": 2, "result": None}
        asked = asyncio.create_task(
            csms.send(
                sid,
                "DataTransfer",
                {"vendorId": "com.hmi", "messageId": "display", "data": {"text": "hi"}},
            )
        )
        published = await client.publication()
        assert published["topic"] == "data_transfer_incoming"
        assert validate_publication("data_transfer_incoming", published["data"]) == []
        request_id = published["data"]["id"]
        assert published["data"]["request"] == {
            "vendor_id": "com.hmi",
            "message_id": "display",
            "data": json.dumps({"text": "hi"}),
        }
        reply = await client.request(
            "data_transfer_reply",
            {"id": request_id, "response": {"status": "Accepted", "data": '{"shown": true}'}},
        )
        assert reply["result"] is None
        assert await asked == {"status": "Accepted", "data": {"shown": True}}
        # answered once: a second reply is refused
        reply = await client.request(
            "data_transfer_reply", {"id": request_id, "response": {"status": "Accepted"}}
        )
        assert reply["error"]["code"] == "InvalidParams"
        # the vendor is known, this message id is not (P01.FR.06)
        answer = await csms.send(sid, "DataTransfer", {"vendorId": "com.hmi", "messageId": "x"})
        assert answer == {"status": "UnknownMessageId"}
    finally:
        await client.close()


async def test_control_handler_without_reply_gives_rejected(
    csms: LocalCSMS, make_station: StationFactory, short_tmp: Path
) -> None:
    station, sock = await ctl_station(csms, make_station, short_tmp)
    await call(sock, "register_data_transfer", {"vendor_id": "com.hmi", "timeout": 0.2})
    answer = await csms.send(station.config.id, "DataTransfer", {"vendorId": "com.hmi"})
    assert answer["status"] == "Rejected"
    assert "no local DataTransfer handler answered" in answer["statusInfo"]["additionalInfo"]
