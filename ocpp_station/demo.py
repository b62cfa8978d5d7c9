"""``ocpp-station demo``: the local CSMS (``ocpp`` package) and one simulated station, with the
OCPP exchange printed as a readable timeline.

The scenario: boot and StatusNotification, a heartbeat, a charging session (plug, RFID, Authorize,
TransactionEvent Started, periodic meter values), the CSMS lowering the session's power with a
charging profile and the meter following, the CSMS taking the EVSE out of service during the session
(``Scheduled``), the car leaving (Ended, then Unavailable), and the EVSE coming back (Operative).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ocpp_station import Station
from ocpp_station.config import config_from_dict
from ocpp_station.csms import Frame, LocalCSMS

STATION_ID = "DEMO-CS001"
WIDTH = 140


class Timeline:
    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.calls: dict[str, str] = {}

    def note(self, text: str) -> None:
        print(f"{self._t()}  ── {text}", flush=True)

    def _t(self) -> str:
        return f"{time.monotonic() - self.t0:7.2f}s"

    def frame(self, f: Frame) -> None:
        arrow = "station → CSMS" if f.direction == "in" else "CSMS → station"
        if f.kind == 2:
            label = f"{f.action}"
            body = _summary(f.action or "", f.payload)
        elif f.kind == 3:
            label = f"  ↳ {f.action} result"
            body = _summary("", f.payload)
        elif f.kind == 4:
            label = f"  ↳ {f.action} CALLERROR"
            body = " ".join(str(x) for x in f.payload[:2]) if isinstance(f.payload, list) else ""
        else:
            label, body = "(unparsable frame)", str(f.payload)
        line = f"{self._t()}  {arrow}  {label:<32} {body}"
        print(line if len(line) <= WIDTH else line[: WIDTH - 1] + "…", flush=True)


def _summary(action: str, payload: Any) -> str:
    if not isinstance(payload, dict):
        return str(payload)
    p = payload
    if action == "TransactionEvent":
        info = p.get("transactionInfo", {})
        parts = [
            f"{p.get('eventType')}",
            f"seq={p.get('seqNo')}",
            f"trigger={p.get('triggerReason')}",
        ]
        if "chargingState" in info:
            parts.append(f"state={info['chargingState']}")
        if "stoppedReason" in info:
            parts.append(f"stopped={info['stoppedReason']}")
        short = {"Energy.Active.Import.Register": "energy", "Power.Active.Import": "power"}
        for mv in p.get("meterValue", []):
            for sv in mv.get("sampledValue", []):
                label = short.get(sv.get("measurand", "Energy.Active.Import.Register"))
                if label is not None:
                    unit = sv.get("unitOfMeasure", {}).get("unit", "Wh")
                    parts.append(f"{label}={sv['value']:.0f}{unit}")
        if p.get("offline"):
            parts.append("offline")
        return " ".join(parts)
    if action == "StatusNotification":
        return f"evse {p.get('evseId')}/{p.get('connectorId')} {p.get('connectorStatus')}"
    compact = json.dumps(p, separators=(",", ":"))
    return compact


async def _scenario(fast: bool) -> None:
    pause = 0.5 if fast else 2.0
    sample = 1 if fast else 3
    tl = Timeline()
    data_dir = Path(tempfile.mkdtemp(prefix="ocpp-station-demo-"))
    csms = LocalCSMS(on_frame=tl.frame)
    await csms.start()
    tl.note(f"local CSMS (python ocpp package) listening on {csms.url}")
    config = config_from_dict(
        {
            "station": {
                "id": STATION_ID,
                "csms_url": csms.url,
                "data_dir": str(data_dir),
                "vendor": "ocpp-station",
                "model": "demo",
                "serial_number": "DEMO-0001",
                "password": "demo-password-0123",
            },
            "evse": [{"id": 1, "connectors": [1], "max_current_a": 32}],
            "hal": {"backend": "sim", "tick": 0.2, "ev_max_current_a": 16},
            "device_model": {
                "SampledDataCtrlr.TxUpdatedInterval": sample,
                "SampledDataCtrlr.TxUpdatedMeasurands": "Energy.Active.Import.Register,"
                "Power.Active.Import",
            },
        },
        source="demo",
    )
    csms.policy.boot = [("Accepted", 2 if fast else 5)]
    station = Station(config)
    sim: Any = None
    try:
        tl.note(f"station {STATION_ID} starting: sim charge controller, data in {data_dir}")
        await station.start()
        sim = station.hal
        await csms.wait_received("StatusNotification", station=STATION_ID)
        await csms.wait_received("Heartbeat", station=STATION_ID, timeout=15)

        tl.note("driver plugs in the car and swipes RFID card DEMO-CARD")
        sim.plug_in(1, 1)
        await asyncio.sleep(pause / 2)
        sim.present_id_token(1, "DEMO-CARD", "ISO14443")
        started = await _wait_event(csms, "Started")
        tx_id = started["transactionInfo"]["transactionId"]
        await _wait_updates(csms, 2)

        tl.note("CSMS lowers this session to 8 A with a TxProfile (SetChargingProfile)")
        await csms.send(
            STATION_ID,
            "SetChargingProfile",
            {
                "evseId": 1,
                "chargingProfile": {
                    "id": 1,
                    "stackLevel": 0,
                    "chargingProfilePurpose": "TxProfile",
                    "chargingProfileKind": "Relative",
                    "transactionId": tx_id,
                    "chargingSchedule": [
                        {
                            "id": 1,
                            "chargingRateUnit": "A",
                            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 8.0}],
                        }
                    ],
                },
            },
        )
        await _wait_updates(csms, 2)

        tl.note("CSMS takes EVSE 1 out of service during the session (ChangeAvailability)")
        await csms.send(
            STATION_ID,
            "ChangeAvailability",
            {"operationalStatus": "Inoperative", "evse": {"id": 1}},
        )
        await asyncio.sleep(pause)
        tl.note("the car leaves: the session ends, then the scheduled change applies")
        sim.unplug(1)
        await _wait_event(csms, "Ended")
        await csms.wait_for(
            lambda: (
                csms.received("StatusNotification", STATION_ID)[-1]["connectorStatus"]
                == "Unavailable"
            )
        )
        tl.note("CSMS brings EVSE 1 back (Operative)")
        await csms.send(
            STATION_ID, "ChangeAvailability", {"operationalStatus": "Operative", "evse": {"id": 1}}
        )
        await csms.wait_for(
            lambda: (
                csms.received("StatusNotification", STATION_ID)[-1]["connectorStatus"]
                == "Available"
            )
        )
        await asyncio.sleep(pause / 2)
        tl.note("demo done")
    finally:
        await station.stop()
        await csms.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


async def _wait_event(csms: LocalCSMS, event_type: str) -> dict[str, Any]:
    found = await csms.wait_for(
        lambda: [
            e for e in csms.received("TransactionEvent", STATION_ID) if e["eventType"] == event_type
        ],
        timeout=20,
    )
    result: dict[str, Any] = found[-1]
    return result


async def _wait_updates(csms: LocalCSMS, count: int) -> None:
    def periodic() -> int:
        return sum(
            1
            for e in csms.received("TransactionEvent", STATION_ID)
            if e["triggerReason"] == "MeterValuePeriodic"
        )

    target = periodic() + count
    await csms.wait_for(lambda: periodic() >= target, timeout=30)


def main(fast: bool = False) -> int:
    try:
        asyncio.run(_scenario(fast))
    except AssertionError as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    return 0
