"""What the two status pages show: one station (``[http] listen``) or a fleet (``fleet --http``).

Each is a :class:`~ocpp_station.http.server.PageSource`: ``status()`` is ``/status.json`` and
``snapshot(query)`` what the page receives over its websocket.

- Station: ``status`` is exactly the control API's ``status`` result; the snapshot adds the last
  OCPP frames in and out (secrets masked) and the time.
- Fleet: ``status`` is the fleet summary plus every station's ``status``; the snapshot is the
  summary (stations by connection, registration and connector state, charging sessions, messages
  per second, round-trip percentiles) and the table rows of the stations that match the query
  (every word of it must appear in the row; at most :data:`MAX_ROWS` rows).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from ocpp_station.clock import iso
from ocpp_station.http.frames import FrameStats, RecentFrames

__all__ = ["MAX_ROWS", "FleetPage", "StationPage", "station_row"]

MAX_ROWS = 500


class StationView(Protocol):
    def status(self) -> dict[str, Any]: ...


class FleetMember(Protocol):
    @property
    def started(self) -> bool: ...

    def status(self) -> dict[str, Any]: ...


class StationPage:
    page = "station.html"

    def __init__(
        self, station: StationView, frames: RecentFrames, now: Callable[[], float]
    ) -> None:
        self.station = station
        self.frames = frames
        self.now = now

    def status(self) -> dict[str, Any]:
        return self.station.status()

    def snapshot(self, query: str) -> dict[str, Any]:
        return {
            "kind": "station",
            "time": iso(self.now()),
            "status": self.station.status(),
            "frames": self.frames.list(),
        }


def station_row(status: dict[str, Any]) -> dict[str, Any]:
    """One line of the fleet table from a station's ``status``."""
    evses = status.get("evses", [])
    connectors = [c.get("status", "?") for e in evses for c in e.get("connectors", [])]
    transactions = [e["transaction"] for e in evses if e.get("transaction")]
    meters = [e.get("meter") or {} for e in evses]
    return {
        "id": status.get("id"),
        "connected": bool(status.get("connected")),
        "registration": status.get("registration"),
        "connectors": connectors,
        "transactions": [t.get("id") for t in transactions],
        "charging_states": [t.get("charging_state") for t in transactions],
        "power_w": sum(float(m.get("power_w") or 0) for m in meters),
        "energy_wh": sum(float(m.get("energy_wh") or 0) for m in meters),
        "queued": status.get("queued_messages", 0),
    }


def _matches(row: dict[str, Any], words: list[str]) -> bool:
    if not words:
        return True
    text = " ".join(
        [
            str(row["id"]),
            "connected" if row["connected"] else "disconnected",
            str(row["registration"]),
            *row["connectors"],
            *(str(t) for t in row["transactions"]),
            *(str(s) for s in row["charging_states"]),
        ]
    ).lower()
    return all(word in text for word in words)


class FleetPage:
    page = "fleet.html"

    def __init__(
        self,
        stations: Callable[[], Sequence[FleetMember]],
        stats: FrameStats,
        now: Callable[[], float],
        count: int,
    ) -> None:
        self.stations = stations
        self.stats = stats
        self.now = now
        self.count = count

    def _statuses(self) -> list[dict[str, Any]]:
        return [s.status() for s in self.stations() if s.started]

    def summary(self, statuses: list[dict[str, Any]]) -> dict[str, Any]:
        connectors: Counter[str] = Counter()
        charging_states: Counter[str] = Counter()
        for st in statuses:
            for evse in st.get("evses", []):
                connectors.update(c.get("status", "?") for c in evse.get("connectors", []))
                tx = evse.get("transaction")
                if tx:
                    charging_states[str(tx.get("charging_state"))] += 1
        return {
            "count": self.count,
            "running": len(statuses),
            "connected": sum(1 for st in statuses if st.get("connected")),
            "registration": dict(Counter(str(st.get("registration")) for st in statuses)),
            "connectors": dict(connectors),
            "transactions": dict(charging_states),
            **self.stats.snapshot(self.now()),
        }

    def status(self) -> dict[str, Any]:
        statuses = self._statuses()
        return {"fleet": self.summary(statuses), "stations": statuses}

    def snapshot(self, query: str) -> dict[str, Any]:
        statuses = self._statuses()
        words = query.lower().split()
        rows = [row for row in map(station_row, statuses) if _matches(row, words)]
        return {
            "kind": "fleet",
            "time": iso(self.now()),
            "fleet": self.summary(statuses),
            "query": query,
            "matched": len(rows),
            "rows": rows[:MAX_ROWS],
        }
